"""Read KorNLI (Ham et al., 2020), the Korean NLI corpus, into (premises, hypotheses, labels).

KorNLI's four files are tab-separated with the header ``sentence1 sentence2 gold_label``:
two machine-translated training files (SNLI's and MultiNLI's training pairs, 942,854
together) and XNLI's development and test pairs translated by people (2,490 and 5,010).
Its sentences contain double quotes (``그가 말했다, "엄마, 저 왔어요."``), so a row is
one line split on tabs, never a CSV record: a reader that honours quotes glues lines
together and silently loses rows. Every row must have exactly three fields and a known
label; an error names the file and the line. Labels use SNLI's ids (``snli.LABELS``).

Source: github.com/kakaobrain/kor-nlu-datasets (formerly KorNLUDatasets), CC BY-SA 4.0.
``FILES`` pins the revision and each file's hash: the git blob id at that revision (the
sha1 of ``b"blob <size>\\0" + content``), which the hub (``hub.FILE_SETS["kornli"]``, the one
place they are written) checks on download; for the dev and test files also the plain sha1.

In the corpus table (``bertnli.data.corpora``) KorNLI answers to ``kornli`` (the hub's
download; train = SNLI-ko + MNLI-ko), ``kornli-snli`` (train = SNLI-ko only) and
``kornli-sample`` (the embedded Korean stand-in, ``sample/data/KorNLI/``), and a folder or zip
holding its file names is read the same way.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bertnli import hub
from bertnli.data.snli import LABELS

REPOSITORY = "kakaobrain/kor-nlu-datasets"
REVISION = hub.FILE_SETS["kornli"].revision
_HUB = hub.FILE_SETS["kornli"]
HEADER = ("sentence1", "sentence2", "gold_label")
LICENSE = "CC BY-SA 4.0"


@dataclass(frozen=True)
class KorNLIFile:
    name: str  # the file's name in the repository's KorNLI/ folder
    rows: (
        int | None
    )  # pairs in it, as KorNLI's README counts them (None: stated only for both together)
    sha1: str | None = None  # of the file's bytes, where it was at hand to compute
    git_blob: str | None = None  # the git blob id at REVISION


FILES = {
    "snli_train": KorNLIFile(
        "snli_1.0_train.ko.tsv", None, git_blob=_HUB.blob("snli_1.0_train.ko.tsv")
    ),
    "mnli_train": KorNLIFile(
        "multinli.train.ko.tsv", None, git_blob=_HUB.blob("multinli.train.ko.tsv")
    ),
    "dev": KorNLIFile(
        "xnli.dev.ko.tsv",
        2_490,
        sha1="3908417bb8df4722463ba2185f570f125bd0c250",
        git_blob=_HUB.blob("xnli.dev.ko.tsv"),
    ),
    "test": KorNLIFile(
        "xnli.test.ko.tsv",
        5_010,
        sha1="3b24b254fc105c78bf48c1519b60faf6e88acdd4",
        git_blob=_HUB.blob("xnli.test.ko.tsv"),
    ),
}
# Which files make a split. "train" is both translated training sets; a corpus name may select one
# ("kornli-snli": SNLI's pairs only), as chapter 6's exercise (c) compares.
SPLITS = {"train": ("snli_train", "mnli_train"), "dev": ("dev",), "test": ("test",)}
TRAIN_SUBSETS = {
    "snli": ("snli_train",),
    "mnli": ("mnli_train",),
    "both": ("snli_train", "mnli_train"),
}

_LABEL_IDS = {name: i for i, name in enumerate(LABELS)}


def git_blob_id(data: bytes) -> str:
    """The id git gives a file's content: how a training file is checked against ``FILES``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def read_kornli_file(file: Path | zipfile.Path) -> tuple[list[str], list[str], list[int]]:
    """One KorNLI file (on disk or in a zip) as ``(premises, hypotheses, labels)``; a malformed row
    names file and line. A row is one line split on tabs, so the rows read are the file's lines
    less the header, by construction (a quote-honouring CSV reader would glue lines)."""
    premises: list[str] = []
    hypotheses: list[str] = []
    labels: list[int] = []
    file = file if isinstance(file, zipfile.Path) else Path(file)
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(
            f"{file}, line {line}: byte {err.start} (0x{raw[err.start]:02x}) is not UTF-8 text; "
            "KorNLI's files are UTF-8: download it again"
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last row
    if not lines or tuple(lines[0].rstrip("\r").split("\t")) != HEADER:
        found = lines[0][:80] if lines else "an empty file"
        raise ValueError(
            f"{file}, line 1: expected the header {' / '.join(HEADER)} (tab-separated), found "
            f"{found!r}; is this a KorNLI file?"
        )
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t")
        if len(fields) != len(HEADER):
            raise ValueError(
                f"{file}, line {lineno}: expected {len(HEADER)} tab-separated fields "
                f"({', '.join(HEADER)}), found {len(fields)}"
            )
        premise, hypothesis, gold = fields
        label = _LABEL_IDS.get(gold)
        if label is None:
            raise ValueError(
                f"{file}, line {lineno}: unknown gold_label {gold!r}; expected one of {LABELS}"
            )
        if not premise.strip() or not hypothesis.strip():
            side = "sentence1" if not premise.strip() else "sentence2"
            raise ValueError(f"{file}, line {lineno}: {side} is empty")
        premises.append(premise)
        hypotheses.append(hypothesis)
        labels.append(label)
    return premises, hypotheses, labels


def kornli_files(folder: str | Path, split: str, train: str = "both") -> list[Path]:
    """The files of ``split`` in ``folder`` (KorNLI's ``KorNLI/`` folder, or one holding its files)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
    if train not in TRAIN_SUBSETS:
        raise ValueError(f"train must be one of {tuple(TRAIN_SUBSETS)}, got {train!r}")
    folder = Path(folder).expanduser()
    if (folder / "KorNLI").is_dir():
        folder = folder / "KorNLI"
    keys = TRAIN_SUBSETS[train] if split == "train" else SPLITS[split]
    files = [folder / FILES[key].name for key in keys]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} has no {' or '.join(missing)}; KorNLI's {split} split needs "
            f"{', '.join(f.name for f in files)} (github.com/{REPOSITORY}, KorNLI/)"
        )
    return files


def read_kornli(
    folder: str | Path, split: str, train: str = "both"
) -> tuple[list[str], list[str], list[int]]:
    """Read one KorNLI split as ``(premises, hypotheses, labels)``; ``train`` chooses the training
    files (``both``, ``snli`` or ``mnli``), in that order when both."""
    premises: list[str] = []
    hypotheses: list[str] = []
    labels: list[int] = []
    for file in kornli_files(folder, split, train):
        p, h, y = read_kornli_file(file)
        premises += p
        hypotheses += h
        labels += y
    return premises, hypotheses, labels


class KorNLICorpus:
    """KorNLI in the corpus table (``bertnli.data.corpora``): its four tab-separated files."""

    name = "kornli"
    language = "ko"
    split_files = {
        "train": (FILES["snli_train"].name, FILES["mnli_train"].name),
        "dev": (FILES["dev"].name,),
        "test": (FILES["test"].name,),
    }
    format_note = "tab-separated, header sentence1 sentence2 gold_label, quotes kept as text"
    names = {
        "kornli": "KorNLI, downloaded once; train = SNLI-ko + MNLI-ko",
        "kornli-snli": "KorNLI with SNLI-ko alone as its training split",
        "kornli-sample": "the embedded Korean stand-in in KorNLI's format, offline",
    }

    def source(self, name: str) -> tuple[Path, tuple[str, ...] | None]:
        """The folder ``name`` stands for, and the training files it selects (None: all)."""
        if name == "kornli-sample":
            from bertnli import sample

            sample.korean_notice()  # the Korean stand-in's notice, not the SNLI sample's
            return sample.kornli_dir(), None
        train = (FILES["snli_train"].name,) if name == "kornli-snli" else None
        return hub.fetch("kornli"), train

    def read_file(self, file: Path | zipfile.Path) -> tuple[list[str], list[str], list[int]]:
        return read_kornli_file(file)


CORPUS = KorNLICorpus()
