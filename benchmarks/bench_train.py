"""Training throughput: the reference loop, bertnli's, and transformers' BERT on the same batches.

    python benchmarks/bench_train.py                 # bert.small-shaped, on this machine's CPU
    python benchmarks/bench_train.py --device cuda --model bert.small bert.base --amp both --compile \
        --data STANDINS/snli_1.0                      # what benchmarks/gpu_check.sh runs

Rows, each measured in its own subprocess (so its peak memory is its own):

- reference: d2l 1.0.3's ``BERTModel`` (masked-softmax attention), every pair padded to
  ``--max-len`` (d2l's layout), Adam, fp32 (AMP rows: the same under autocast). Skipped
  without d2l.
- bertnli: ``BERTClassifier`` on bertnli's ``BERTModel``, batches from ``make_loader`` as
  ``fine_tune`` gets them (dynamic padding, length buckets, a multiple of 8 on CUDA), Adam
  as ``fine_tune`` builds it, under ``hardware.fast_kernels`` as in ``fine_tune``.
- transformers: ``BertForSequenceClassification`` of the same sizes (SDPA attention, ReLU
  feed-forward like d2l's), fed the *identical* batches (``attention_mask`` from the valid
  lengths), the same optimizer, kernels and precision. Skipped without transformers.

``--compile`` adds bertnli and transformers rows under ``torch.compile`` at the precision
``fine_tune`` picks by default for that model (``hardware.amp_dtype``); the table says how
many graphs each compiled run built (a recompile is a new graph).

The corpus is read, tokenized and packed once, by this parent process, into a temporary
``.npz`` (no pickle) that every worker loads: a worker only trains. Weights are random
(speed does not depend on their values), so nothing is downloaded; the vocabulary is
padded to ``costs.DEFAULT_VOCAB_SIZE`` tokens, the checkpoints' size. Pairs: ``--data`` (a
folder with ``snli_1.0_train.txt``, e.g. ``standins.py``'s), else the real SNLI train split
when it is cached, else the embedded sample corpus. Throughput is the median of several
timed windows after warm-up steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

SIDES = {
    "reference": "reference (d2l model, pad to {max_len})",
    "bertnli": "bertnli (SDPA, buckets)",
    "transformers": "transformers BertForSequenceClassification",
}


# ----------------------------------------------------------------------------- the corpus, once


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


def _vocab_tokens(data) -> list[str]:
    from bertnli import tokenize
    from bertnli.run.costs import DEFAULT_VOCAB_SIZE

    words = sorted({w for side in data[:2] for s in tokenize(side) for w in s})
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *words]
    return tokens + [f"<unused{i}>" for i in range(DEFAULT_VOCAB_SIZE - len(tokens))]


def prepare(args, folder: Path) -> Path:
    """Read and pack the corpus once; the workers load the result."""
    import numpy as np

    from bertnli import SNLIBERTDataset, Vocab

    start = time.perf_counter()
    data, source = _pairs(args.data)
    tokens = _vocab_tokens(data)
    dataset = SNLIBERTDataset(data, Vocab(tokens), max_len=args.max_len, cache=False)
    path = folder / "packed.npz"
    np.savez(
        path,
        token_ids=dataset.token_ids,
        lengths=dataset.lengths,
        premise_lens=dataset.premise_lens,
        labels=dataset.labels,
    )
    (folder / "meta.json").write_text(
        json.dumps({"vocab": tokens, "source": source, "max_len": args.max_len})
    )
    print(
        f"  corpus packed once: {len(dataset):,} pairs in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return folder


def load_prepared(folder: Path):
    """``(dataset, vocab, source)`` from ``prepare``'s files, without re-reading the corpus."""
    import numpy as np

    from bertnli import SNLIBERTDataset, Vocab

    meta = json.loads((folder / "meta.json").read_text())
    arrays = np.load(folder / "packed.npz", allow_pickle=False)
    vocab = Vocab(meta["vocab"])
    dataset = SNLIBERTDataset.from_arrays(
        arrays["token_ids"],
        arrays["lengths"],
        arrays["premise_lens"],
        arrays["labels"],
        vocab,
        max_len=meta["max_len"],
    )
    return dataset, vocab, meta["source"]


# ----------------------------------------------------------------------------- one row


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _graphs_built() -> int | None:
    """How many graphs torch.compile built in this process (a recompile is one more)."""
    try:
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])
    except (ImportError, KeyError, TypeError):
        return None


def _reference_model(cfg):
    import torch
    from helpers.d2l_compat import d2l_torch
    from torch import nn

    d2l = d2l_torch()

    class D2LClassifier(nn.Module):  # the reference's head: encoder, pooler, a 3-way linear layer
        def __init__(self, bert):
            super().__init__()
            self.encoder, self.hidden, self.output = (
                bert.encoder,
                bert.hidden,
                nn.Linear(cfg["num_hiddens"], 3),
            )

        def forward(self, tokens, segments, valid_lens):
            return self.output(self.hidden(self.encoder(tokens, segments, valid_lens)[:, 0, :]))

    bert = d2l.BERTModel(**cfg)
    t = torch.zeros(1, 4, dtype=torch.long)
    bert(t, t, torch.tensor([4]), torch.zeros(1, 1, dtype=torch.long))  # materialise lazy layers
    return D2LClassifier(bert)


def _transformers_model(cfg):
    import torch
    from torch import nn
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["num_hiddens"],
        num_hidden_layers=cfg["num_blks"],
        num_attention_heads=cfg["num_heads"],
        intermediate_size=cfg["ffn_num_hiddens"],
        hidden_act="relu",
        max_position_embeddings=cfg["max_len"],
        type_vocab_size=2,
        num_labels=3,
        hidden_dropout_prob=cfg["dropout"],
        attention_probs_dropout_prob=cfg["dropout"],
        attn_implementation="sdpa",
    )
    bert = BertForSequenceClassification(config)

    class Adapter(nn.Module):  # bertnli's call signature: (tokens, segments, valid_lens) -> logits
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, tokens, segments, valid_lens):
            mask = (
                torch.arange(tokens.shape[1], device=tokens.device)[None, :] < valid_lens[:, None]
            )
            return self.bert(
                input_ids=tokens, token_type_ids=segments, attention_mask=mask.long()
            ).logits

    return Adapter()


def worker(side: str, args) -> dict:
    import torch
    from torch import nn

    from bertnli import KNOWN_CONFIGS, BERTClassifier, BERTModel, hardware, make_loader
    from bertnli.distributed import DistInfo
    from bertnli.run.train import make_optimizer

    row = {"side": side, "model": args.model, "compiled": args.compile}
    torch.manual_seed(0)
    device = hardware.resolve_device(args.device)
    hardware.use_device(device)
    cfg = KNOWN_CONFIGS[args.model]
    width = cfg["num_hiddens"]
    amp = {"on": True, "off": False, "default": None}[args.amp]
    dtype = hardware.amp_dtype(device, amp, width)
    row["amp"] = {None: "off", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]
    if side == "reference":
        import importlib.util

        if importlib.util.find_spec("d2l") is None:
            return {**row, "skipped": "d2l is not installed"}
    if side == "transformers":
        import importlib.util

        if importlib.util.find_spec("transformers") is None:
            return {**row, "skipped": "transformers is not installed"}

    dataset, vocab, source = load_prepared(Path(args.prepared))
    cfg = dict(cfg, vocab_size=len(vocab), dropout=0.1)
    if side == "reference":
        model = _reference_model(cfg)
        tokens, segments, valid_lens, labels = dataset.padded_tensors()
        order = torch.randperm(len(labels))

        def batches():
            for a in range(0, len(order) - args.batch_size + 1, args.batch_size):
                idx = order[a : a + args.batch_size]
                yield (tokens[idx], segments[idx], valid_lens[idx]), labels[idx]

        optimizer_for = lambda m: torch.optim.Adam(m.parameters(), lr=1e-4)  # noqa: E731
        kernels = None
    else:
        model = BERTClassifier(BERTModel(**cfg)) if side == "bertnli" else _transformers_model(cfg)
        loader = make_loader(
            dataset, args.batch_size, shuffle=True, drop_last=True, dist=DistInfo(device)
        )

        def batches():
            yield from loader

        optimizer_for = lambda m: make_optimizer(m, 1e-4, device)  # noqa: E731
        kernels = dtype

    model = model.to(device)
    optimizer = optimizer_for(model)
    step_model = torch.compile(model) if args.compile else model
    loss_fn = nn.CrossEntropyLoss()
    hardware.reset_peak_memory(device)

    windows, stream = [], batches()
    steps_needed = args.warmup + args.windows * args.steps_per_window
    padded_tokens = real_tokens = 0
    from contextlib import nullcontext

    with hardware.fast_kernels(device, kernels) if side != "reference" else nullcontext():
        for step in range(steps_needed):
            if step >= args.warmup and (step - args.warmup) % args.steps_per_window == 0:
                hardware.synchronize(device)
                start, examples = time.perf_counter(), 0
            try:
                X, y = next(stream)
            except StopIteration:
                stream = batches()
                X, y = next(stream)
            X, y = [x.to(device, non_blocking=True) for x in X], y.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = loss_fn(step_model(*X).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            padded_tokens += X[0].numel()
            real_tokens += int(X[2].sum())
            if step >= args.warmup:
                examples += len(y)
                if (step - args.warmup) % args.steps_per_window == args.steps_per_window - 1:
                    hardware.synchronize(device)
                    windows.append(examples / (time.perf_counter() - start))
    peak = hardware.peak_memory_mib(device)
    return {
        **row,
        "examples_per_sec": statistics.median(windows),
        "windows": windows,
        "peak_mb": peak if peak is not None else _peak_rss_mb(),
        "padding_share": 1 - real_tokens / padded_tokens,
        "source": source,
        "graphs": _graphs_built() if args.compile else None,
        "device": hardware.device_name(device)
        if hardware.is_cuda(device)
        else f"CPU, {torch.get_num_threads()} threads",
    }


# ----------------------------------------------------------------------------- the table


def plan(args) -> list[tuple[str, str, str, bool]]:
    """``(model, side, amp, compiled)`` for every row, in table order."""
    amps = ["off", "on"] if args.amp == "both" else [args.amp]
    runs = []
    for model in args.model:
        for amp in amps:
            runs += [(model, side, amp, False) for side in SIDES]
        if args.compile:  # compiled rows at the precision fine_tune picks by default
            runs += [(model, side, "default", True) for side in ("bertnli", "transformers")]
    return runs


def _format(r: dict, rows: list[dict], max_len: int) -> str:
    base = f"| {r['model']} | {SIDES[r['side']].format(max_len=max_len)} | {r['amp']} | {'yes' if r['compiled'] else 'no'} |"
    if "skipped" in r:
        return base + f" {r['skipped']} | | | | | |"

    def ratio(side: str) -> str:
        other = next(
            (
                o
                for o in rows
                if o["side"] == side
                and o["model"] == r["model"]
                and o["amp"] == r["amp"]
                and o["compiled"] == r["compiled"]
                and "skipped" not in o
            ),
            None,
        )
        return (
            f"{r['examples_per_sec'] / other['examples_per_sec']:.2f}x"
            if other and other is not r
            else ""
        )

    graphs = "" if r["graphs"] is None else str(r["graphs"])
    return (
        base + f" {r['examples_per_sec']:,.1f} | {ratio('reference')} | {ratio('transformers')} | "
        f"{r['peak_mb']:,.0f} | {r['padding_share']:.1%} | {graphs} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", nargs="+", default=["bert.small"], choices=["bert.small", "bert.base"]
    )
    parser.add_argument(
        "--data", help="folder with snli_1.0_train.txt (default: cached SNLI, else the sample)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument(
        "--max-len", type=int, default=128, help="pairs are trimmed to this many tokens"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps-per-window", type=int, default=2)
    parser.add_argument(
        "--amp",
        choices=["off", "on", "both", "default"],
        default="off",
        help="mixed precision for the eager rows (default: as fine_tune picks for the model)",
    )
    parser.add_argument(
        "--compile", action="store_true", help="add torch.compile rows (bertnli, transformers)"
    )
    parser.add_argument(
        "--json", help="also write every row as JSON to this file (gpu_check's report reads it)"
    )
    parser.add_argument("--worker", choices=list(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--prepared", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from bertnli import KNOWN_CONFIGS

    longest = min(KNOWN_CONFIGS[m]["max_len"] for m in args.model)
    if not 4 <= args.max_len <= longest:
        parser.error(
            f"argument --max-len: must be between 4 and the checkpoints' max_len {longest}, got {args.max_len}"
        )
    if args.worker:
        args.model = args.model[0]
        print(json.dumps(worker(args.worker, args)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_train-") as tmp:
        prepare(args, Path(tmp))
        for model, side, amp, compiled in plan(args):
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                side,
                "--amp",
                amp,
                "--model",
                model,
                "--prepared",
                tmp,
                "--device",
                args.device,
                "--batch-size",
                str(args.batch_size),
                "--warmup",
                str(args.warmup),
                "--windows",
                str(args.windows),
                "--steps-per-window",
                str(args.steps_per_window),
            ]
            cmd += ["--compile"] if compiled else []
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["?"])[-1][:200]
                rows.append(
                    {
                        "side": side,
                        "model": model,
                        "amp": amp,
                        "compiled": compiled,
                        "skipped": "failed: " + reason,
                        "failed": True,
                    }
                )
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(
                f"  {model} {side} (amp {r['amp']}{', compiled' if compiled else ''}): "
                + (r["skipped"] if "skipped" in r else f"{r['examples_per_sec']:,.1f} examples/s"),
                file=sys.stderr,
                flush=True,
            )
    measured = [r for r in rows if "skipped" not in r]
    if measured:
        r = measured[0]
        print(
            f"\nbatch {args.batch_size}, max_len {args.max_len}, {r['device']}, pairs: {r['source']}; median of "
            f"{args.windows} windows x {args.steps_per_window} steps after {args.warmup} warm-up steps\n"
        )
    print(
        "| model | loop | AMP | compiled | examples/s | vs reference | vs transformers | peak memory (MB) "
        "| padded-token share | graphs |"
    )
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(_format(r, rows, args.max_len))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    failed = [r for r in rows if r.get("failed")]
    return 1 if failed or not measured else 0


if __name__ == "__main__":
    sys.exit(main())
