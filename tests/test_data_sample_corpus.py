"""The embedded SNLI sample corpus: what the generator writes, in SNLI 1.0's exact format."""

from __future__ import annotations

import collections
import importlib.util
import re
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tools" / "make_sample_corpus.py"
DATA = ROOT / "src" / "bertnli" / "sample" / "data" / "snli_1.0"
SPLITS = {"train": 4002, "dev": 600, "test": 600}  # three labelled pairs per premise
LABELS = ("entailment", "contradiction", "neutral")
HEADER = [
    "gold_label",
    "sentence1_binary_parse",
    "sentence2_binary_parse",
    "sentence1_parse",
    "sentence2_parse",
    "sentence1",
    "sentence2",
    "captionID",
    "pairID",
    "label1",
    "label2",
    "label3",
    "label4",
    "label5",
]


def load_generator():
    spec = importlib.util.spec_from_file_location("make_sample_corpus", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def read(split: str) -> list[list[str]]:
    lines = (DATA / f"snli_1.0_{split}.txt").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "file must end with a newline"
    assert lines[0].split("\t") == HEADER
    return [line.split("\t") for line in lines[1:-1]]


def from_binary_parse(parse: str) -> list[str]:
    """What d2l's reader does: drop the brackets, collapse whitespace, split."""
    return re.sub(r"\s{2,}", " ", parse.replace("(", "").replace(")", "")).strip().split(" ")


def tokenize(sentence: str) -> list[str]:
    """SNLI tokenization of the plain text: '.' and ',' are tokens of their own."""
    return re.sub(r"([.,])", r" \1 ", sentence).split()


@pytest.fixture(scope="module")
def rows() -> dict[str, list[list[str]]]:
    return {split: read(split) for split in SPLITS}


def labelled(split_rows):
    return [r for r in split_rows if r[0] != "-"]


def test_files_are_exactly_what_the_generator_writes(tmp_path):
    load_generator().write_corpus(tmp_path)
    for split in SPLITS:
        name = f"snli_1.0_{split}.txt"
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), (
            f"{name} is stale: run python tools/make_sample_corpus.py"
        )


def test_sizes_columns_and_ids(rows):
    pair_ids = set()
    for split, expected in SPLITS.items():
        assert all(len(r) == 14 for r in rows[split]), split
        assert len(labelled(rows[split])) == expected
        for r in rows[split]:
            assert r[0] in LABELS + ("-",)
            assert re.fullmatch(r"\d{10}\.jpg#[0-4]", r[7]), r[7]
            assert re.fullmatch(r"\d{10}\.jpg#[0-4]r[ecn-]", r[8]) and r[8].startswith(r[7]), r[8]
            assert r[8] not in pair_ids
            pair_ids.add(r[8])
    total = sum((DATA / f"snli_1.0_{s}.txt").stat().st_size for s in SPLITS)
    assert total < 6_000_000


def test_labels_are_balanced_and_agree_with_the_annotators(rows):
    for split, split_rows in rows.items():
        counts = collections.Counter(r[0] for r in labelled(split_rows))
        for label in LABELS:
            assert abs(counts[label] / SPLITS[split] - 1 / 3) <= 0.05, (split, counts)
        for r in split_rows:
            votes = collections.Counter(r[9:14])
            assert set(votes) <= set(LABELS) and sum(votes.values()) == 5
            top, n = votes.most_common(1)[0]
            if r[0] == "-":
                assert n < 3, r  # no consensus
            else:
                assert r[9] == r[0] and top == r[0] and n >= 3, r


def test_each_split_has_no_consensus_rows(rows):
    for split, split_rows in rows.items():
        odd = [r for r in split_rows if r[0] == "-"]
        assert 0 < len(odd) <= 0.02 * len(split_rows), split


def test_binary_parses_give_back_the_sentences(rows):
    for split_rows in rows.values():
        for r in split_rows:
            for binary, full, text in ((r[1], r[3], r[5]), (r[2], r[4], r[6])):
                assert from_binary_parse(binary) == tokenize(text), (binary, text)
                for parse in (binary, full):
                    depth = 0
                    for ch in parse:
                        depth += {"(": 1, ")": -1}.get(ch, 0)
                        assert depth >= 0
                    assert depth == 0, parse
                assert full.startswith("(ROOT (S ")
                assert text[0].isupper() and text.endswith(".")


def test_length_spread_makes_truncation_matter(rows):
    for split, split_rows in rows.items():
        lengths = [
            len(from_binary_parse(r[1])) + len(from_binary_parse(r[2]))
            for r in labelled(split_rows)
        ]
        assert 20 <= statistics.mean(lengths) <= 30, split
        assert sum(n >= 40 for n in lengths) >= 0.05 * len(lengths), split
        assert sum(n >= 64 for n in lengths) >= 0.01 * len(lengths), split


def test_no_pair_or_premise_is_shared_between_splits(rows):
    owner: dict[str, str] = {}
    for split, split_rows in rows.items():
        for premise in {r[5] for r in split_rows}:
            assert owner.setdefault(premise, split) == split, (premise, owner[premise], split)
    pairs = [(r[5], r[6]) for split_rows in rows.values() for r in split_rows]
    assert len(pairs) == len(set(pairs))


def test_vocabulary_is_small_and_shared(rows):
    words = {
        split: {w.lower() for r in split_rows for col in (1, 2) for w in from_binary_parse(r[col])}
        for split, split_rows in rows.items()
    }
    assert 80 <= len(set().union(*words.values())) <= 600
    for split in ("dev", "test"):
        assert len(words[split] - words["train"]) <= 3, split
