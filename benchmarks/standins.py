"""Stand-ins laid out like the real downloads, built locally (no network, no d2l, no pooch).

- ``write_checkpoint``: a d2l-format checkpoint folder (``vocab.json`` + ``pretrained.params``)
  of any published shape, random weights: ``bert.small``'s shape by default.
- ``write_corpus``: ``snli_1.0_{train,dev,test}.txt`` in SNLI 1.0's tab-separated format,
  with SNLI's split sizes by default and sentence lengths close to SNLI's (premises about
  13 words, hypotheses about 7, plus the full stop), a few no-consensus ``-`` rows, and a
  weak word-label signal so that a model can learn something.

Speed and memory depend on shapes and lengths, not on the weights' values or the words'
meaning, so these stand-ins measure what the real files would: the laptop profile's size
(``laptop_size.py``), the GPU check (``gpu_check.sh``) and the chapters' test with overrides.

    python benchmarks/standins.py OUT_FOLDER [--train N --dev N --test N --vocab-size V]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPECIALS = ["<unk>", "<pad>", "<mask>", "<cls>", "<sep>"]
SNLI_SIZES = {
    "train": 550_152,
    "dev": 10_000,
    "test": 10_000,
}  # rows in SNLI 1.0's files, "-" rows included
# Vocabulary size used when the real one is not at hand: see bertnli.run.costs.DEFAULT_VOCAB_SIZE.
LABEL_WORDS = {"entailment": "someone", "contradiction": "nobody", "neutral": "because"}


def vocabulary(size: int) -> list[str]:
    """``size`` tokens: the five specials, the label cue words, then ``w5``, ``w6``, ..."""
    cues = list(LABEL_WORDS.values()) + ["."]
    return SPECIALS + cues + [f"w{i}" for i in range(len(SPECIALS) + len(cues), size)]


def write_checkpoint(
    folder: Path, *, vocab_size: int | None = None, shape: str = "bert.small", seed: int = 0
) -> Path:
    """A d2l-format checkpoint with random weights and ``shape``'s sizes."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from bertnli.model.bert import BERTModel
    from bertnli.model.pretrained import KNOWN_CONFIGS
    from bertnli.run.costs import DEFAULT_VOCAB_SIZE

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = vocabulary(vocab_size or DEFAULT_VOCAB_SIZE)
    torch.manual_seed(seed)
    model = BERTModel(len(tokens), dropout=0.1, **KNOWN_CONFIGS[shape])
    (folder / "vocab.json").write_text(json.dumps(tokens), encoding="utf-8")
    torch.save(model.state_dict(), folder / "pretrained.params")
    return folder


def _sentences(
    rng: np.random.Generator, n: int, mean_words: float, vocab_words: int
) -> list[list[str]]:
    lengths = np.clip(rng.lognormal(np.log(mean_words), 0.45, n).round().astype(int), 1, 80)
    ids = rng.zipf(1.2, int(lengths.sum())) % vocab_words  # Zipf-like word frequencies
    words, out, start = [f"w{i + 10}" for i in range(vocab_words)], [], 0
    for length in lengths:
        out.append([words[i] for i in ids[start : start + length]])
        start += length
    return out


def _parse(words: list[str]) -> str:
    return "( " + " ( ".join(words) + " )" * len(words) if words else ""


def write_corpus(
    folder: Path,
    sizes: dict[str, int] | None = None,
    *,
    vocab_size: int | None = None,
    seed: int = 0,
) -> Path:
    """``snli_1.0_{split}.txt`` files in ``folder`` (14 columns, the first three filled as SNLI's)."""
    sys.path.insert(0, str(ROOT / "src"))
    from bertnli.run.costs import DEFAULT_VOCAB_SIZE

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab_words = (vocab_size or DEFAULT_VOCAB_SIZE) - len(SPECIALS) - 10
    header = (
        "gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
        "sentence1\tsentence2\tcaptionID\tpairID\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5"
    )
    labels = list(LABEL_WORDS)
    for k, (split, n) in enumerate((sizes or SNLI_SIZES).items()):
        rng = np.random.default_rng(seed * 10 + k)
        premises = _sentences(rng, (n + 2) // 3, 13.0, vocab_words)
        hypotheses = _sentences(rng, n, 6.5, vocab_words)
        gold = rng.integers(0, 3, n)
        lines = [header]
        for i in range(n):
            p, h = premises[i // 3] + ["."], hypotheses[i] + ["."]
            label = labels[gold[i]]
            if rng.random() < 0.6:  # a cue word: learnable, but not every time
                h.insert(int(rng.integers(0, len(h))), LABEL_WORDS[label])
            if rng.random() < 0.0015:
                label = "-"  # SNLI's no-consensus rows
            lines.append(
                "\t".join(
                    [
                        label,
                        _parse(p),
                        _parse(h),
                        "",
                        "",
                        " ".join(p),
                        " ".join(h),
                        f"{i // 3}.jpg#0",
                        f"{i // 3}.jpg#0r{i % 3}",
                        label,
                        "",
                        "",
                        "",
                        "",
                    ]
                )
            )
        (folder / f"snli_1.0_{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--train", type=int, default=SNLI_SIZES["train"])
    parser.add_argument("--dev", type=int, default=SNLI_SIZES["dev"])
    parser.add_argument("--test", type=int, default=SNLI_SIZES["test"])
    parser.add_argument("--vocab-size", type=int, default=None)
    parser.add_argument("--shape", default="bert.small", choices=["bert.small", "bert.base"])
    args = parser.parse_args()
    out = Path(args.out)
    write_checkpoint(out / args.shape, vocab_size=args.vocab_size, shape=args.shape)
    write_corpus(
        out / "snli_1.0",
        {"train": args.train, "dev": args.dev, "test": args.test},
        vocab_size=args.vocab_size,
    )
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
