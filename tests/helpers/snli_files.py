"""Write small corpora in SNLI 1.0's 14-column text format for the data tests."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
    "sentence1\tsentence2\tcaptionID\tpairID\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5"
)

# (gold label, premise, hypothesis): cases, punctuation, non-ASCII, a no-break space inside
# a token, long sentences (truncated at small max_len), an empty hypothesis, '-' rows.
ROWS = [
    ("entailment", "A man is playing a guitar on stage .", "A man plays music ."),
    ("contradiction", "A man is playing a guitar on stage .", "The man is asleep in BED ."),
    ("-", "A man is playing a guitar on stage .", "He is famous ."),
    ("neutral", "Two women drink café au lait near the Seine .", "The women are friends ."),
    (
        "entailment",
        "A chef adds 1\u00a01/2 cups of flour to a very large bowl of dough .",
        "Someone is cooking .",
    ),
    (
        "neutral",
        "An old man with a long white beard and a red hat sits on a bench in a park while pigeons "
        "gather around his feet and children run past him laughing loudly",
        "A grandfather is feeding the birds in the park because he comes here every single morning",
    ),
    ("contradiction", "Kids splash in a fountain .", ""),
    ("-", "A dog runs .", "A cat sleeps ."),
    ("entailment", "A dog runs through tall grass .", "An animal is outside ."),
    ("neutral", "A DOG runs through tall grass .", "The dog chases a ball ."),
]


def binary_parse(sentence: str) -> str:
    """A right-branching parse with SNLI's spacing: ``( w1 ( w2 ( w3 ) ) )``."""
    words = sentence.split(" ") if sentence else []
    if not words:
        return ""
    return "( " + " ( ".join(words) + " )" * len(words)


def row_line(label: str, premise: str, hypothesis: str, i: int = 0) -> str:
    p, h = binary_parse(premise), binary_parse(hypothesis)
    cols = [
        label,
        p,
        h,
        f"(ROOT {p})",
        f"(ROOT {h})",
        premise,
        hypothesis,
        f"{i}.jpg#0",
        f"{i}.jpg#0r1e",
        label,
    ]
    return "\t".join(cols + [""] * 4)


def write_snli(folder: Path, split: str, rows=ROWS, newline: str = "\n") -> Path:
    """Write ``snli_1.0_{split}.txt`` under ``folder``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"snli_1.0_{split}.txt"
    lines = [HEADER] + [row_line(*row, i) for i, row in enumerate(rows)]
    file.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return file


def write_corpus(folder: Path, rows=ROWS) -> Path:
    for split in ("train", "dev", "test"):
        write_snli(folder, split, rows if split == "train" else rows[::-1])
    return folder
