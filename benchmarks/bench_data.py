"""Benchmark the SNLI dataset build: the reference (d2l's way) against bertnli's.

Run by hand, not in CI (several minutes):

    .venv/bin/python benchmarks/bench_data.py [--runs 3] [--pairs 549367]

The reference is d2l's ``SNLIBERTDataset`` re-implemented step for step
(tests/helpers/snli_reference.py: ``multiprocessing.Pool(4)``, every pair padded to 128).
Each build runs in a fresh subprocess so its peak memory can be measured, children
included (psutil, sampled every 20 ms). Data: the real SNLI train split when the hub
has it cached, else the embedded sample corpus replicated to 549,367 pairs. The
replicated corpus repeats every sentence ~137 times, which flatters bertnli's
"encode each distinct sentence once" step (real SNLI repeats each premise about 3
times), so a second corpus appends a per-replica word to every sentence to make
them all distinct: bertnli's worst case.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

SNLI_TRAIN_PAIRS = 549_367
MAX_LEN, BATCH = 128, 512


# --------------------------------------------------------------------------- inputs


def load_corpus(pairs: int):
    """The pairs, what they are, and the size of one replica (None for real SNLI)."""
    from bertnli import sample
    from bertnli.data.snli import read_snli

    try:
        from bertnli import hub

        if hub.is_cached("snli"):
            data = read_snli(hub.fetch("snli"), "train")
            return data, f"real SNLI 1.0 train split ({len(data[0]):,} pairs)", None
    except Exception as err:  # no hub, or a broken cache: fall back to the sample
        print(f"(hub unavailable: {err})", file=sys.stderr)
    p, h, y = read_snli(sample.snli_dir(), "train")
    reps = -(-pairs // len(p))
    data = ((p * reps)[:pairs], (h * reps)[:pairs], (y * reps)[:pairs])
    return (
        data,
        f"embedded sample corpus ({len(p):,} train pairs) replicated to {pairs:,} pairs",
        len(p),
    )


def make_distinct(data, replica_size: int):
    """Append the replica's number as a word to each sentence, so that no sentence repeats."""
    p, h, y = data
    tags = [f" r{i // replica_size}" for i in range(len(p))]
    return [a + t for a, t in zip(p, tags)], [b + t for b, t in zip(h, tags)], y


def load_vocab_tokens(data) -> tuple[list[str], str]:
    from bertnli import sample
    from bertnli.model.vocab import SPECIAL_TOKENS

    try:
        from bertnli import hub

        if hub.is_cached("bert.small"):
            folder = hub.fetch("bert.small")
            return json.loads(
                next(folder.rglob("vocab.json")).read_text(encoding="utf-8")
            ), "bert.small's vocab.json"
    except Exception as err:
        print(f"(hub unavailable: {err})", file=sys.stderr)
    zip_path = sample.checkpoint_path()
    if zip_path.is_file():
        with zipfile.ZipFile(zip_path) as zf:
            name = next((n for n in zf.namelist() if n.endswith("vocab.json")), None)
            if name:
                return json.loads(zf.read(name)), "the sample checkpoint's vocab.json"
    words = sorted({w for side in data[:2] for s in side for w in s.lower().split()})
    return list(SPECIAL_TOKENS) + words, "built from the corpus words"


# --------------------------------------------------------------------------- one measurement (subprocess)


def worker(side: str, corpus_file: str, vocab_file: str) -> dict:
    import gc

    import numpy as np
    import psutil

    from bertnli.model.vocab import Vocab

    with open(corpus_file, "rb") as f:
        data = pickle.load(f)
    vocab = Vocab(json.loads(Path(vocab_file).read_text(encoding="utf-8")))
    gc.collect()
    out = {"baseline_rss": psutil.Process().memory_info().rss}
    if side == "reference":
        from helpers.snli_reference import ReferenceSNLIBERTDataset

        t = time.perf_counter()
        ref = ReferenceSNLIBERTDataset(data, MAX_LEN, vocab)
        out["build_s"] = time.perf_counter() - t
        out["pad_share"] = 1 - ref.valid_lens.sum().item() / ref.all_token_ids.numel()
    elif side == "ours":
        from bertnli.data.dataset import SNLIBERTDataset
        from bertnli.data.loader import BucketBatchSampler

        t = time.perf_counter()
        ds = SNLIBERTDataset(data, vocab, MAX_LEN, cache=False)
        out["build_s"] = time.perf_counter() - t
        for bucket in (True, False):
            sampler = BucketBatchSampler(ds.lengths, BATCH, shuffle=True, bucket=bucket)
            real = padded = 0
            for batch in sampler:
                lens = ds.lengths[batch]
                real, padded = real + int(lens.sum()), padded + int(lens.max()) * len(lens)
            out["pad_share_bucket" if bucket else "pad_share_dynamic"] = 1 - real / padded
        out["mean_len"] = float(np.mean(ds.lengths))
    elif side == "ours-warm":
        from bertnli.data.dataset import SNLIBERTDataset

        SNLIBERTDataset(
            data, vocab, MAX_LEN, cache=True
        )  # fills the cache (os.environ points to a temp folder)
        t = time.perf_counter()
        ds = SNLIBERTDataset(data, vocab, MAX_LEN, cache=True)
        out["warm_s"] = time.perf_counter() - t
        out["cache_bytes"] = ds.cache_path.stat().st_size
    return out


def measure(side: str, corpus_file: str, vocab_file: str, cache: str) -> dict:
    """Run ``worker`` in a fresh interpreter; add the peak RSS of its process tree."""
    import psutil

    env = dict(os.environ, BERTNLI_CACHE=cache)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", side, corpus_file, vocab_file],
        stdout=subprocess.PIPE,
        env=env,
    )
    ps, peak, peak_main = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            main = ps.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak, peak_main = max(peak, tree), max(peak_main, main)
        except psutil.Error:
            pass
        time.sleep(0.02)
    result = json.loads(proc.stdout.read())
    result.update(peak_tree=peak, peak_main=peak_main)
    return result


# --------------------------------------------------------------------------- report


def gib(x: float) -> str:
    return f"{x / 2**30:.2f} GiB"


def table(name: str, ref: list[dict], ours: list[dict], warm: list[dict]) -> str:
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    rb, ob = med(ref, "build_s"), med(ours, "build_s")
    rows = [
        f"**{name}**",
        "",
        "| | reference (d2l: Pool(4), pad to 128) | bertnli | ratio |",
        "|---|---|---|---|",
        f"| build time (median of {len(ref)}) | {rb:.1f} s | {ob:.2f} s | {rb / ob:.1f}x faster |",
        f"| peak RSS, process + children | {gib(med(ref, 'peak_tree'))} | {gib(med(ours, 'peak_tree'))} "
        f"| {med(ref, 'peak_tree') / med(ours, 'peak_tree'):.1f}x less |",
        f"| peak RSS, main process | {gib(med(ref, 'peak_main'))} | {gib(med(ours, 'peak_main'))} "
        f"| {med(ref, 'peak_main') / med(ours, 'peak_main'):.1f}x less |",
        f"| (RSS before the build: corpus + interpreter) | {gib(med(ref, 'baseline_rss'))} "
        f"| {gib(med(ours, 'baseline_rss'))} | |",
        f"| padded-token share, batch {BATCH} | {med(ref, 'pad_share'):.1%} (all pairs at 128) "
        f"| {med(ours, 'pad_share_bucket'):.2%} bucketed ({med(ours, 'pad_share_dynamic'):.1%} without buckets) | |",
        f"| warm cache load (median of {len(warm)}) | n/a | {med(warm, 'warm_s'):.2f} s "
        f"({med(warm, 'cache_bytes') / 2**20:.0f} MiB file) | |",
        f"| mean pair length | | {ours[0]['mean_len']:.1f} tokens | |",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=SNLI_TRAIN_PAIRS)
    parser.add_argument("--no-distinct", action="store_true", help="skip the all-distinct corpus")
    args = parser.parse_args()

    data, what, replica_size = load_corpus(args.pairs)
    tokens, vocab_what = load_vocab_tokens(data)
    corpora = [(what, data)]
    if replica_size and not args.no_distinct:
        corpora.append(
            (
                "the same, every sentence made distinct (bertnli's worst case)",
                make_distinct(data, replica_size),
            )
        )
    print(
        f"vocabulary: {vocab_what} ({len(tokens):,} tokens); max_len {MAX_LEN}; {os.cpu_count()} CPUs\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.json"
        vocab_file.write_text(json.dumps(tokens), encoding="utf-8")
        for name, corpus in corpora:
            corpus_file = Path(tmp) / "corpus.pkl"
            corpus_file.write_bytes(pickle.dumps(corpus, protocol=pickle.HIGHEST_PROTOCOL))
            runs = {side: [] for side in ("reference", "ours", "ours-warm")}
            for i in range(args.runs):
                for side in runs:
                    with tempfile.TemporaryDirectory(dir=tmp) as cache:
                        runs[side].append(measure(side, str(corpus_file), str(vocab_file), cache))
                    print(
                        f"  {name[:40]}... run {i + 1} {side}: {runs[side][-1].get('build_s', runs[side][-1].get('warm_s')):.2f} s",
                        file=sys.stderr,
                    )
            print(table(name, runs["reference"], runs["ours"], runs["ours-warm"]), "\n", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(*sys.argv[2:5])))
    else:
        main()
