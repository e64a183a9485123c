"""How many KorNLI training pairs fit chapter 6's laptop profile into ~10 minutes: measure, then derive.

    PYTHONPATH=src python benchmarks/laptop_size_korean.py [--threads 1 2] [--pairs 1024]

A koelectra-small-shaped encoder (random weights: hidden 256, 12 layers, 4 heads, ffn
1024, embeddings 128 projected up, vocabulary 35,000; KoELECTRA-Small v3's published
shape) and KorNLI-shaped pairs (WordPiece lengths drawn around ``--mean-len`` pieces per
pair, the laptop profile's ``max_len``) are timed with the book's own loop: one training
epoch (examples/s at the profile's batch size) and evaluation (examples/s). Chapter 6's
time is then train_pairs / train_rate + evaluated pairs / eval_rate, the evaluated pairs
being the dev and test subsets of the profile.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

KOELECTRA_SMALL = dict(
    vocab_size=35_000,
    num_hiddens=256,
    ffn_num_hiddens=1024,
    num_heads=4,
    num_blks=12,
    dropout=0.1,
    max_len=512,
    activation="gelu",
    embedding_norm=True,
    layer_norm_eps=1e-12,
    embedding_size=128,
)

# For calibration: bert.small's shape, whose SNLI laptop profile was sized at ~345 pairs/s on one thread
# of this machine (profiles.py). The ratio of the two rates measured side by side cancels the load of a
# shared machine: koelectra-small's uncontended rate ~ 345 * (its rate / bert.small's rate).
BERT_SMALL = dict(
    vocab_size=60_005,
    num_hiddens=256,
    ffn_num_hiddens=512,
    num_heads=4,
    num_blks=2,
    dropout=0.1,
    max_len=512,
)
SHAPES = {"koelectra-small": KOELECTRA_SMALL, "bert.small": BERT_SMALL}


def dataset(
    n: int,
    mean_len: float,
    max_len: int,
    seed: int,
    vocab_size: int = KOELECTRA_SMALL["vocab_size"],
):
    """``n`` random pairs whose lengths look like KorNLI's in WordPiece pieces."""
    from bertnli.data.dataset import SNLIBERTDataset
    from bertnli.model.vocab import Vocab

    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(mean_len, mean_len / 3, n).round(), 8, max_len).astype(np.int32)
    premise = ((lengths - 3) * 0.62).astype(np.int32)
    ids = rng.integers(5, vocab_size, int(lengths.sum())).astype(np.int32)
    vocab = Vocab(["<unk>", "<pad>", "<cls>", "<sep>", "<mask>"])
    vocab.idx_to_token += [f"w{i}" for i in range(vocab_size - 5)]
    labels = rng.integers(0, 3, n)
    return SNLIBERTDataset.from_arrays(ids, lengths, premise, labels, vocab, max_len)


def measure(
    threads: int,
    pairs: int,
    batch: int,
    max_len: int,
    mean_len: float,
    shape: str = "koelectra-small",
) -> dict:
    import torch

    from bertnli import evaluate, make_loader
    from bertnli.model.bert import BERTConfig, BERTModel
    from bertnli.model.classifier import BERTClassifier
    from bertnli.run.train import fine_tune

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = SHAPES[shape]
    model = BERTClassifier(BERTModel.from_config(BERTConfig(**config)))
    train = dataset(pairs, mean_len, max_len, 0, config["vocab_size"])
    history = fine_tune(
        model,
        make_loader(train, batch, shuffle=True),
        None,
        epochs=1,
        lr=1e-4,
        device="cpu",
        progress=False,
    )
    test = dataset(pairs, mean_len, max_len, 1, config["vocab_size"])
    start = time.perf_counter()
    evaluate(model, make_loader(test, batch, shuffle=False))
    return {
        "shape": shape,
        "threads": threads,
        "mean_len": mean_len,
        "train_examples_per_sec": history.epochs[0].examples_per_sec,
        "eval_examples_per_sec": len(test) / (time.perf_counter() - start),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pairs", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--mean-len", type=float, default=40.0)
    parser.add_argument(
        "--calibrate", action="store_true", help="also time bert.small's shape, side by side"
    )
    args = parser.parse_args()
    for threads in args.threads:
        print(
            json.dumps(measure(threads, args.pairs, args.batch, args.max_len, args.mean_len)),
            flush=True,
        )
        if (
            args.calibrate
        ):  # bert.small on SNLI-length pairs (~28 tokens at the SNLI laptop profile's max_len 64)
            print(
                json.dumps(measure(threads, args.pairs, args.batch, 64, 28.0, "bert.small")),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
