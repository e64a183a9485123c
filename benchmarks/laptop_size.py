"""How many SNLI training pairs fit chapter 3 into ~10 minutes: measure, then derive.

    python benchmarks/laptop_size.py [--threads 1 2] [--pairs 3000]

Builds a bert.small-shaped checkpoint (random weights, d2l format) and an SNLI-shaped
corpus with ``standins.py``, then times the laptop profile's steps on this CPU: one
training epoch on ``--pairs`` pairs (examples/s with the profile's batch size and
``max_len``) and evaluation (examples/s). Chapter 3's time is then

    train_pairs * epochs / train_rate + evaluated pairs / eval_rate + fixed costs,

where the evaluated pairs are the dev subset every epoch, the test subset once at the
end, and three more passes over it in the chapter (confusion matrix, confident mistakes,
and the test set once more via ``evaluate``), and the fixed costs are reading SNLI's
550k-line training file and loading the checkpoint (measured too).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def measure(threads: int, pairs: int, work: Path) -> dict:
    import torch

    from bertnli import evaluate, make_loader
    from bertnli.data.snli import read_snli
    from bertnli.run.profiles import PROFILES
    from bertnli.run.recipe import finetune_job, load_datasets

    torch.set_num_threads(threads)
    profile = PROFILES["laptop"].with_overrides(
        model=str(work / "bert.small"),
        data=str(work / "snli_1.0"),
        train_pairs=pairs,
        test_pairs=1000,
        epochs=1,
    )
    start = time.perf_counter()
    read_snli(profile.data_path(), "train")
    read_seconds = time.perf_counter() - start
    model, vocab, history = finetune_job(profile, device="cpu", progress=False)
    train_rate = history.epochs[0].examples_per_sec
    test = load_datasets(profile, vocab, splits=("test",))["test"]
    loader = make_loader(test, profile.batch_size, shuffle=False)
    start = time.perf_counter()
    evaluate(model, loader)
    eval_rate = len(test) / (time.perf_counter() - start)
    return {
        "threads": threads,
        "train_examples_per_sec": train_rate,
        "eval_examples_per_sec": eval_rate,
        "read_train_file_seconds": read_seconds,
    }


SNLI_DEV, SNLI_TEST = 9_842, 9_824  # pairs with a gold label in SNLI 1.0's dev and test files


def evaluated_pairs(profile) -> int:
    """Dev after every epoch; test once in fine_tune, then three passes in the chapter."""
    dev, test = (min(profile.test_pairs or n, n) for n in (SNLI_DEV, SNLI_TEST))
    return dev * profile.epochs + test * 4


def chapter3_seconds(profile, train_rate: float, eval_rate: float, fixed: float) -> float:
    return (
        profile.train_pairs * profile.epochs / train_rate
        + evaluated_pairs(profile) / eval_rate
        + fixed
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--budget-minutes", type=float, default=10.0)
    parser.add_argument(
        "--laptop-speedup",
        type=float,
        nargs="+",
        default=[1.5, 2.0],
        help="assumed 4-core laptop speed relative to ONE thread here",
    )
    args = parser.parse_args()
    from standins import write_checkpoint, write_corpus

    from bertnli.run.profiles import PROFILES

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_checkpoint(work / "bert.small")
        write_corpus(
            work / "snli_1.0"
        )  # SNLI's real sizes: reading the train file is part of the cost
        import os

        os.environ["BERTNLI_CACHE"] = str(work / "cache")
        rows = [measure(t, args.pairs, work) for t in args.threads]
    for row in rows:
        print(json.dumps(row))
    one = (
        next(r for r in rows if r["threads"] == 1)
        if any(r["threads"] == 1 for r in rows)
        else rows[0]
    )
    fixed = one["read_train_file_seconds"] + 20  # + checkpoint load, dataset build, imports, plots
    laptop = PROFILES["laptop"]
    for speedup in args.laptop_speedup:
        train_rate = one["train_examples_per_sec"] * speedup
        eval_rate = one["eval_examples_per_sec"] * speedup
        minutes = chapter3_seconds(laptop, train_rate, eval_rate, fixed) / 60
        budget_pairs = int(
            (args.budget_minutes * 60 - fixed - evaluated_pairs(laptop) / eval_rate)
            * train_rate
            / laptop.epochs
        )
        print(
            f"laptop = {speedup}x one thread here (train {train_rate:,.0f} ex/s, eval {eval_rate:,.0f} ex/s): "
            f"the laptop profile (train_pairs {laptop.train_pairs:,}, epochs {laptop.epochs}) makes chapter 3 "
            f"~{minutes:.1f} min; {args.budget_minutes:g} min would allow ~{budget_pairs:,} training pairs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
