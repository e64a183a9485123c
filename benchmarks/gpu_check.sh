#!/usr/bin/env bash
# The GPU numbers in one call (under 8 minutes on one recent GPU), with nothing to download:
#   1. stand-ins built here (benchmarks/standins.py): a bert.small-shaped d2l checkpoint and an
#      SNLI-shaped corpus with SNLI's split sizes;
#   2. benchmarks/bench_train.py: reference loop vs ours, bert.small and bert.base sizes, AMP off/on
#      (examples/s, peak GPU memory, padded-token share);
#   3. one full-profile epoch (python -m bertnli finetune --profile full) on the stand-ins;
#   4. with two or more GPUs, the same under torchrun on 2 GPUs (on a subset: the step, not the speed).
# Needs Python with PyTorch, numpy and tqdm; no network, pooch or d2l (without d2l the reference
# rows are marked skipped; put d2l's package folder on D2L_PATH to measure them).
#
#   bash benchmarks/gpu_check.sh                     # on the GPU machine; results in $OUT (or a temp folder)
#   DEVICE=cpu TRAIN_ROWS=300 EVAL_ROWS=60 VOCAB=300 BENCH="--batch-size 8 --warmup 1 --windows 1 \
#     --steps-per-window 1" bash benchmarks/gpu_check.sh   # the CPU path, tiny sizes (tests/test_realrun.py)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-$(mktemp -d)}
RESULTS=$OUT/gpu_check
mkdir -p "$RESULTS"
export PYTHONPATH="$PWD/src:$PWD/tests${D2L_PATH:+:$D2L_PATH}${PYTHONPATH:+:$PYTHONPATH}"
export BERTNLI_CACHE=$RESULTS/cache TQDM_DISABLE=1
START=$SECONDS
stamp() { echo "== [$((SECONDS - START))s] $*"; }

stamp "machine"
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true; fi
"$PY" -c "import sys, torch; print('python', sys.version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, '| GPUs', torch.cuda.device_count())"

stamp "stand-ins"
STANDINS=$RESULTS/standins
timeout 150 "$PY" benchmarks/standins.py "$STANDINS" ${TRAIN_ROWS:+--train "$TRAIN_ROWS"} \
    ${EVAL_ROWS:+--dev "$EVAL_ROWS" --test "$EVAL_ROWS"} ${VOCAB:+--vocab-size "$VOCAB"}

stamp "benchmark: reference loop vs ours"
# shellcheck disable=SC2086
timeout 270 "$PY" benchmarks/bench_train.py --device "$DEVICE" --model bert.small bert.base --amp both \
    --data "$STANDINS/snli_1.0" ${BENCH:-} | tee "$RESULTS/bench_train.md"

stamp "one full-profile epoch on the stand-ins"
timeout 180 "$PY" -m bertnli finetune --profile full --model "$STANDINS/bert.small" --data "$STANDINS/snli_1.0" \
    --epochs 1 --device "$DEVICE" --out "$RESULTS/full" --no-progress ${FULL_ARGS:-} | tee "$RESULTS/full.log"

GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
if [ "$DEVICE" = cuda ] && [ "$GPUS" -ge 2 ]; then
    stamp "2 GPUs under torchrun (100k pairs)"
    timeout 150 "$PY" -m torch.distributed.run --standalone --nproc-per-node=2 -m bertnli finetune --profile full \
        --model "$STANDINS/bert.small" --data "$STANDINS/snli_1.0" --epochs 1 --train-pairs 100000 \
        --out "$RESULTS/ddp" --no-progress | tee "$RESULTS/ddp.log"
else
    stamp "torchrun step skipped: $GPUS GPU(s) on $DEVICE"
fi
rm -rf "$STANDINS" "$RESULTS/cache"  # keep the results small
stamp "done; results in $RESULTS"
