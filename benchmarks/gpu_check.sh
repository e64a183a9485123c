#!/usr/bin/env bash
# The one GPU check: every GPU number the book quotes, in one device call of at most 6 minutes,
# with nothing to download. Steps (each with its own time limit; the first that fails stops the
# check with a non-zero exit and names itself):
#   1. machine   the GPU, Python, PyTorch, CUDA and transformers versions;
#   2. standins  benchmarks/standins.py: bert.small- and bert.base-shaped d2l checkpoints and an
#                SNLI-shaped corpus (TRAIN_ROWS pairs, 200,000 by default);
#   3. bench     benchmarks/bench_train.py: bertnli against transformers' BertForSequenceClassification
#                on identical batches, AMP off and on, then both compiled at the default precision
#                (the corpus is packed once for all of its worker processes);
#   4. small     `python -m bertnli finetune --device cuda`, bert.small, 2 epochs (speed, epoch 1 vs 2);
#   5. base      the same with the bert.base-shaped checkpoint, 1 epoch on 100,000 pairs;
#   6. compile   step 4 with --compile (TORCH_LOGS=recompiles counts the recompiles);
#   7. ddp       with two or more GPUs, 1 epoch under torchrun on 2 GPUs.
# The command-line runs share one dataset cache, so the corpus is tokenized once for them too.
# Results: $OUT/gpu_check/gpu_check.md, one markdown table (benchmarks/gpu_report.py) with the
# machine, the versions and every row, written even when a step fails. Keep it in
# benchmarks/results/<gpu>-<date>.md.
#
#   bash benchmarks/gpu_check.sh                 # on the GPU machine; results in $OUT (or a temp folder)
#   DEVICE=cpu TRAIN_ROWS=300 EVAL_ROWS=60 VOCAB=300 SHAPES=bert.small \
#     BENCH="--batch-size 8 --warmup 1 --windows 1 --steps-per-window 1" \
#     CLI="--batch-size 8" bash benchmarks/gpu_check.sh   # the CPU path, tiny sizes (tests/test_benchmarks_gpu_check.py)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
TRAIN_ROWS=${TRAIN_ROWS:-200000}
SHAPES=${SHAPES:-bert.small bert.base}
OUT=${OUT:-$(mktemp -d)}
RESULTS=$OUT/gpu_check
mkdir -p "$RESULTS"
export PYTHONPATH="$PWD/src:$PWD/tests${D2L_PATH:+:$D2L_PATH}${PYTHONPATH:+:$PYTHONPATH}"
export BERTNLI_CACHE=$RESULTS/cache TQDM_DISABLE=1 PYTHONUNBUFFERED=1
STANDINS=$RESULTS/standins
START=$SECONDS

finish() {  # the report, whatever happened; then clean up the big files
    "$PY" benchmarks/gpu_report.py "$RESULTS" > "$RESULTS/gpu_check.md" || echo "gpu_check: the report failed"
    cat "$RESULTS/gpu_check.md"
    rm -rf "$STANDINS" "$RESULTS/cache" "$RESULTS"/run-*
}
trap finish EXIT

# step NAME SECONDS COMMAND...: run one step under its time limit; stop the check if it fails.
step() {
    local name=$1 limit=$2
    shift 2
    echo "== [$((SECONDS - START))s] $name"
    timeout "$limit" bash -c '"$@"' "$name" "$@"  # bash -c: a step may be one of the functions below
    local code=$?
    if [ $code -ne 0 ]; then
        local why="exit $code"
        [ $code -eq 124 ] && why="over its ${limit}s limit"
        echo "failed at step '$name' ($why)" > "$RESULTS/status.txt"
        echo "gpu_check: step '$name' failed ($why)" >&2
        exit 1
    fi
}

cli() {  # cli NAME ARGS...: one command-line fine-tuning run, its output in cli-NAME.log
    set -o pipefail
    local name=$1
    shift
    "$PY" -m bertnli finetune --profile full --data "$STANDINS/snli_1.0" --device "$DEVICE" --no-progress \
        --out "$RESULTS/run-$name" ${CLI:-} "$@" 2>&1 | tee "$RESULTS/cli-$name.log"
}

echo "running" > "$RESULTS/status.txt"
step machine 60 "$PY" benchmarks/gpu_report.py --machine "$RESULTS/machine.json"
cat "$RESULTS/machine.json"

standins() {
    local shape
    for shape in $SHAPES; do
        "$PY" benchmarks/standins.py "$STANDINS" --shape "$shape" --train "$TRAIN_ROWS" \
            ${EVAL_ROWS:+--dev "$EVAL_ROWS" --test "$EVAL_ROWS"} ${VOCAB:+--vocab-size "$VOCAB"} || return 1
    done
}
export PY DEVICE TRAIN_ROWS SHAPES RESULTS STANDINS
export -f cli standins
step standins 90 standins

# shellcheck disable=SC2086
step bench 200 "$PY" benchmarks/bench_train.py --device "$DEVICE" --model $SHAPES --amp both --compile \
    --warmup 4 --windows 3 --steps-per-window 2 --data "$STANDINS/snli_1.0" --json "$RESULTS/bench_train.json" \
    ${BENCH:-}

step small 60 cli small --model "$STANDINS/bert.small" --epochs 2
if [[ " $SHAPES " == *" bert.base "* ]]; then
    step base 60 cli base --model "$STANDINS/bert.base" --epochs 1 --train-pairs 100000
fi
export TORCH_LOGS=recompiles
step compile 90 cli small-compile --model "$STANDINS/bert.small" --epochs 2 --compile
unset TORCH_LOGS

GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
if [ "$DEVICE" = cuda ] && [ "$GPUS" -ge 2 ]; then
    step ddp 90 "$PY" -m torch.distributed.run --standalone --nproc-per-node=2 -m bertnli finetune --profile full \
        --model "$STANDINS/bert.small" --data "$STANDINS/snli_1.0" --epochs 1 --device cuda --out "$RESULTS/run-ddp" \
        --no-progress
else
    echo "== torchrun step skipped: $GPUS GPU(s) on $DEVICE"
fi
echo "passed in $((SECONDS - START)) s" > "$RESULTS/status.txt"
echo "== [$((SECONDS - START))s] done; results in $RESULTS"
