"""Training throughput: the reference loop against bertnli's, same architecture, same pairs.

    python benchmarks/bench_train.py                 # bert.small-shaped, on this machine's CPU
    python benchmarks/bench_train.py --device cuda --model bert.small bert.base --amp both \
        --data STANDINS/snli_1.0                      # what benchmarks/gpu_check.sh runs

Reference: d2l 1.0.3's ``BERTModel`` (its masked-softmax attention), every pair padded to
``max_len`` (``--max-len``, default 128: d2l's SNLIBERTDataset layout), batch 512, Adam, fp32. Ours:
``BERTClassifier`` on bertnli's ``BERTModel`` (SDPA attention), batches from
``make_loader`` (dynamic padding, length buckets), same batch size, Adam as
``fine_tune`` builds it (fused where PyTorch supports it).

Weights are random (speed does not depend on their values), so no download is needed;
the vocabulary is padded to ``costs.DEFAULT_VOCAB_SIZE`` tokens, the checkpoints' size.
Pairs: ``--data`` (a folder with ``snli_1.0_train.txt``, e.g. ``standins.py``'s), else the
real SNLI train split when it is in the cache, else the embedded sample corpus. Each run
(loop x model x AMP) is its own subprocess, so its peak memory is its own. Throughput is
the median of several timed windows after warm-up steps. Without d2l (the GPU machine
has none unless its folder is on PYTHONPATH) the reference rows say so and are skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def _pairs(folder: str | None):
    from bertnli import read_snli
    if folder:
        return read_snli(folder, "train"), f"{folder} (train split)"
    try:
        from bertnli import hub
        if hub.is_cached("snli"):
            return read_snli(None, "train"), "real SNLI train split"
    except ImportError:  # no pooch: no hub
        pass
    return read_snli("sample", "train"), "embedded sample corpus (train split)"


def _vocab(data):
    from bertnli import Vocab, tokenize
    from bertnli.costs import DEFAULT_VOCAB_SIZE
    words = sorted({w for side in data[:2] for s in tokenize(side) for w in s})
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *words]
    return Vocab(tokens + [f"<unused{i}>" for i in range(DEFAULT_VOCAB_SIZE - len(tokens))])


def _peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(side: str, args) -> dict:
    import torch
    from torch import nn

    from bertnli import BERTClassifier, BERTModel, KNOWN_CONFIGS, SNLIBERTDataset, make_loader

    torch.manual_seed(0)
    device = torch.device(args.device)
    data, source = _pairs(args.data)
    vocab = _vocab(data)
    cfg = dict(KNOWN_CONFIGS[args.model], vocab_size=len(vocab), dropout=0.1)
    dataset = SNLIBERTDataset(data, vocab, max_len=args.max_len, cache=False)
    amp_dtype = torch.bfloat16 if args.amp and (device.type != "cuda" or torch.cuda.is_bf16_supported()) else (
        torch.float16 if args.amp else None)

    if side == "reference":
        import importlib.util
        if importlib.util.find_spec("d2l") is None:
            return {"side": side, "skipped": "d2l is not installed (reference loop not measured)",
                    "model": args.model, "amp": bool(args.amp)}
        from d2l_compat import d2l_torch
        d2l = d2l_torch()

        class D2LClassifier(nn.Module):  # the reference's head: encoder, pooler, a 3-way linear layer
            def __init__(self, bert):
                super().__init__()
                self.encoder, self.hidden, self.output = bert.encoder, bert.hidden, nn.Linear(cfg["num_hiddens"], 3)

            def forward(self, tokens, segments, valid_lens):
                return self.output(self.hidden(self.encoder(tokens, segments, valid_lens)[:, 0, :]))

        bert = d2l.BERTModel(**cfg)
        t = torch.zeros(1, 4, dtype=torch.long)
        bert(t, t, torch.tensor([4]), torch.zeros(1, 1, dtype=torch.long))  # materialise lazy layers
        model = D2LClassifier(bert)
        tokens, segments, valid_lens, labels = dataset.padded_tensors()
        order = torch.randperm(len(labels))

        def batches():
            for a in range(0, len(order) - args.batch_size + 1, args.batch_size):
                idx = order[a:a + args.batch_size]
                yield (tokens[idx], segments[idx], valid_lens[idx]), labels[idx]
    else:
        model = BERTClassifier(BERTModel(**cfg))
        loader = make_loader(dataset, args.batch_size, shuffle=True, drop_last=True)

        def batches():
            yield from loader

    model = model.to(device)
    if side == "reference":
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    else:
        from bertnli.train import make_optimizer
        optimizer = make_optimizer(model, 1e-4, device)
    loss_fn = nn.CrossEntropyLoss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    windows, stream = [], batches()
    steps_needed = args.warmup + args.windows * args.steps_per_window
    padded_tokens = real_tokens = 0
    for step in range(steps_needed):
        if step >= args.warmup and (step - args.warmup) % args.steps_per_window == 0:
            sync()
            start, examples = time.perf_counter(), 0
        try:
            X, y = next(stream)
        except StopIteration:
            stream = batches()
            X, y = next(stream)
        X, y = [x.to(device) for x in X], y.to(device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = loss_fn(model(*X).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        padded_tokens += X[0].numel()
        real_tokens += int(X[2].sum())
        if step >= args.warmup:
            examples += len(y)
            if (step - args.warmup) % args.steps_per_window == args.steps_per_window - 1:
                sync()
                windows.append(examples / (time.perf_counter() - start))
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else _peak_rss_mb()
    return {"side": side, "model": args.model, "examples_per_sec": statistics.median(windows), "windows": windows,
            "peak_mb": peak, "padding_share": 1 - real_tokens / padded_tokens, "source": source,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else
            f"CPU, {torch.get_num_threads()} threads", "amp": bool(args.amp)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["bert.small"], choices=["bert.small", "bert.base"])
    parser.add_argument("--data", help="folder with snli_1.0_train.txt (default: cached SNLI, else the sample)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--max-len", type=int, default=128,
                        help="pairs are cut to this many tokens; the reference pads every pair to it (default: 128, "
                             "d2l's; the laptop profile uses 64)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps-per-window", type=int, default=2)
    parser.add_argument("--amp", choices=["off", "on", "both"], default="off")
    parser.add_argument("--worker", choices=["reference", "bertnli"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    from bertnli.pretrained import KNOWN_CONFIGS

    longest = min(KNOWN_CONFIGS[m]["max_len"] for m in args.model)
    if not 4 <= args.max_len <= longest:
        parser.error(f"argument --max-len: must be between 4 and the checkpoints' max_len {longest}, got {args.max_len}")
    if args.worker:
        args.amp = args.amp == "on"
        args.model = args.model[0]
        print(json.dumps(worker(args.worker, args)))
        return 0
    rows = []
    for model in args.model:
        for amp in (["off", "on"] if args.amp == "both" else [args.amp]):
            for side in ("reference", "bertnli"):
                cmd = [sys.executable, __file__, "--worker", side, "--amp", amp, "--model", model] + [
                    f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                    if k not in ("worker", "amp", "model") and v is not None]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    rows.append({"side": side, "model": model, "amp": amp == "on",
                                 "skipped": "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]})
                else:
                    rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                r = rows[-1]
                print(f"  {model} {side} (amp {amp}): " + (r["skipped"] if "skipped" in r else
                      f"{r['examples_per_sec']:.1f} examples/s"), file=sys.stderr, flush=True)
    measured = [r for r in rows if "skipped" not in r]
    if measured:
        r = measured[0]
        print(f"\nbatch {args.batch_size}, {r['device']}, pairs: {r['source']}; median of {args.windows} "
              f"windows x {args.steps_per_window} steps after {args.warmup} warm-up steps\n")
    print("| model | loop | AMP | examples/s | speed-up | peak memory (MB) | padded-token share |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for i, r in enumerate(rows):
        name = f"reference (d2l model, pad to {args.max_len})" if r["side"] == "reference" else "bertnli (SDPA, buckets)"
        amp = "on" if r["amp"] else "off"
        if "skipped" in r:
            print(f"| {r['model']} | {name} | {amp} | {r['skipped']} | | | |")
            continue
        ref = rows[i - i % 2]
        speedup = f"{r['examples_per_sec'] / ref['examples_per_sec']:.2f}x" if "skipped" not in ref else "n/a"
        print(f"| {r['model']} | {name} | {amp} | {r['examples_per_sec']:,.1f} | {speedup} | {r['peak_mb']:,.0f} | "
              f"{r['padding_share']:.1%} |")
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
