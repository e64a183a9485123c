"""Read the SNLI 1.0 text files into (premises, hypotheses, labels).

The sentences come from the two binary-parse columns with the parentheses removed
and runs of whitespace collapsed, which is the tokenization every SNLI tutorial
(d2l included) uses; on the real files we yield exactly d2l 1.0.3's pairs, in order.
Unlike d2l we read UTF-8 explicitly (not the locale's encoding), also read ``dev``,
and stop with the file and line number on a malformed row instead of an IndexError
or a silent drop.

SNLI ships each split twice, as ``snli_1.0_{split}.txt`` and ``snli_1.0_{split}.jsonl``;
the ``.txt`` is the one read, and the ``.jsonl`` beside it is ignored. A folder may hold
the files directly or in a subfolder (an unpacked ``snli_1.0.zip``); two ``.txt`` files
for one split (say, a second copy in a subfolder, or a zip holding one twice) are refused
with both paths, never chosen between.

In the corpus table (``bertnli.data.corpora``) SNLI is ``CORPUS``: ``--data snli`` (the hub's
download), ``sample`` (the embedded stand-in) or a folder/zip holding ``snli_1.0_*.txt``.
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bertnli.files import TooManyFiles, one_in_folder, one_in_zip

LABELS = ("entailment", "contradiction", "neutral")
SPLITS = ("train", "dev", "test")
NO_CONSENSUS = "-"  # gold label of pairs whose five annotators did not agree

_LABEL_IDS = {name: i for i, name in enumerate(LABELS)}
# Two or more whitespace characters; a single one is left alone, as d2l does.
_RUNS = re.compile(r"\s{2,}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadStats:
    """What ``read_snli_with_stats`` saw: the file, pairs kept, and no-consensus rows dropped."""

    file: Path | zipfile.Path
    pairs: int
    dropped_no_consensus: int


def snli_file(path: str | Path | None, split: str) -> Path | zipfile.Path:
    """The ``snli_1.0_{split}.txt`` file; ``path`` None (or "snli") means the hub, "sample" the embedded corpus,
    a zip (e.g. your own copy of ``snli_1.0.zip``) is read in place."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if path is None or (isinstance(path, str) and path == "snli"):
        from bertnli import hub

        path = hub.fetch("snli")
    elif isinstance(path, str) and path == "sample":
        from bertnli import sample

        sample.notice()
        path = sample.snli_dir()
    path = Path(path).expanduser()
    if path.is_file() and zipfile.is_zipfile(path):
        return _zip_member(path, split)
    return _folder_file(path, split)


def _folder_file(folder: Path, split: str) -> Path:
    """``snli_1.0_{split}.txt`` in ``folder`` or in a subfolder (an unpacked snli_1.0.zip); two are refused."""
    want = f"snli_1.0_{split}.txt"
    advice = (
        f"the data must be a folder or a zip holding {want} (like SNLI's snli_1.0.zip), "
        "or snli / sample"
    )
    if folder.is_file():
        hint = (
            f"give the folder that holds it: {folder.parent}"
            if folder.name.startswith("snli_1.0_")
            else advice
        )
        raise ValueError(f"{folder} is a file, not a folder or a zip; {hint}")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder / want} does not exist; {advice}")
    try:
        file = one_in_folder(folder, want, f"SNLI {split} file")
    except TooManyFiles as err:
        raise ValueError(f"{folder} is not an SNLI folder: {err}; {advice}") from None
    if file is None:
        raise FileNotFoundError(
            f"{folder / want} does not exist{_only_jsonl(folder, split)}; {advice}"
        )
    return file


def _only_jsonl(folder: Path, split: str) -> str:
    """A note when SNLI's JSON-lines copy is there without the text file bertnli reads."""
    jsonl = f"snli_1.0_{split}.jsonl"
    try:
        has = one_in_folder(folder, jsonl, f"SNLI {split} file") is not None
    except ValueError:
        has = True
    return (
        f" (only {jsonl} is there: bertnli reads SNLI's .txt files, which snli_1.0.zip holds too)"
        if has
        else ""
    )


def _zip_member(archive: Path, split: str) -> zipfile.Path:
    """``snli_1.0_{split}.txt`` inside a zip, at any depth (macOS ``__MACOSX`` copies skipped); two are refused."""
    want = f"snli_1.0_{split}.txt"
    with zipfile.ZipFile(archive) as zf:
        member = one_in_zip(zf, want, archive, f"SNLI {split} file")
    if member is None:
        raise FileNotFoundError(
            f"{archive}: the zip holds no {want}; give SNLI's snli_1.0.zip or a folder "
            "with the snli_1.0_*.txt files"
        )
    return zipfile.Path(archive, at=member)


def _clean(parse: str) -> str:
    """Binary parse -> sentence: drop parentheses, collapse whitespace runs, strip."""
    return _RUNS.sub(" ", parse.replace("(", "").replace(")", "")).strip()


def read_snli_with_stats(
    path: str | Path | None, split: str
) -> tuple[tuple[list[str], list[str], list[int]], ReadStats]:
    """Like ``read_snli`` but also returns a ``ReadStats`` (how many ``-`` rows were dropped)."""
    return _read_file_with_stats(snli_file(path, split))


def _read_file_with_stats(
    file: Path | zipfile.Path,
) -> tuple[tuple[list[str], list[str], list[int]], ReadStats]:
    try:
        return _read_rows(file)
    except UnicodeDecodeError:
        raise ValueError(_not_utf8(file)) from None


def _not_utf8(file: Path) -> str:
    """Where the first byte that is not UTF-8 sits (line and column), for the error message."""
    with file.open(
        "r", encoding="utf-8", errors="surrogateescape", newline=None
    ) as f:  # a Path or zipfile.Path
        for lineno, line in enumerate(f, start=1):
            bad = re.search("[\udc80-\udcff]", line)
            if bad:
                byte = ord(bad.group()) - 0xDC00
                return (
                    f"{file}, line {lineno}, column {bad.start() + 1}: byte 0x{byte:02x} is not UTF-8 text. "
                    "SNLI's files are UTF-8: download them again, or re-save this one as UTF-8"
                )
    return f"{file}: not UTF-8 text; download it again, or re-save it as UTF-8"


def _read_rows(file: Path) -> tuple[tuple[list[str], list[str], list[int]], ReadStats]:
    premises: list[str] = []
    hypotheses: list[str] = []
    labels: list[int] = []
    dropped = 0
    # newline=None (universal newlines) splits lines exactly like d2l's readlines().
    with file.open("r", encoding="utf-8", newline=None) as f:  # a Path or a zipfile.Path
        next(f, None)  # the header row
        for lineno, line in enumerate(f, start=2):
            if line.isspace():
                continue  # a blank line is no row (d2l skips it too)
            cols = line.split("\t", 3)
            if len(cols) < 3:
                raise ValueError(
                    f"{file}, line {lineno}: expected at least 3 tab-separated columns "
                    f"(gold_label, sentence1_binary_parse, sentence2_binary_parse), found {len(cols)}"
                )
            gold = cols[0]
            if gold == NO_CONSENSUS:
                dropped += 1
                continue
            label = _LABEL_IDS.get(gold)
            if label is None:
                raise ValueError(
                    f"{file}, line {lineno}: unknown gold label {gold!r}; expected one of {LABELS} or {NO_CONSENSUS!r}"
                )
            premises.append(_clean(cols[1]))
            hypotheses.append(_clean(cols[2]))
            labels.append(label)
    return (premises, hypotheses, labels), ReadStats(file, len(labels), dropped)


def read_snli(path: str | Path | None, split: str) -> tuple[list[str], list[str], list[int]]:
    """Read one SNLI split as ``(premises, hypotheses, labels)``.

    ``path`` is the folder holding ``snli_1.0_{split}.txt`` (what ``hub.fetch("snli")``
    returns), ``None`` for the hub, or ``"sample"`` for the embedded stand-in corpus.
    Labels: entailment=0, contradiction=1, neutral=2 (``LABELS``). Rows whose gold
    label is ``-`` are dropped (blank lines are skipped); their count is logged at INFO level and returned by
    ``read_snli_with_stats``. A malformed row raises ``ValueError`` naming the file
    and the line.
    """
    data, stats = read_snli_with_stats(path, split)
    log.info(
        "%s: %d pairs, %d no-consensus rows dropped",
        stats.file,
        stats.pairs,
        stats.dropped_no_consensus,
    )
    return data


class SNLICorpus:
    """SNLI 1.0 in the corpus table (``bertnli.data.corpora``): its ``.txt`` files, read as above."""

    name = "snli"
    language = "en"
    split_files = {split: (f"snli_1.0_{split}.txt",) for split in SPLITS}
    format_note = "SNLI's .txt files are read; the .jsonl copies beside them are not"
    names = {
        "snli": "SNLI 1.0, downloaded once",
        "sample": "the embedded SNLI-format stand-in, offline",
    }

    def source(self, name: str) -> tuple[Path, tuple[str, ...] | None]:
        """The folder ``name`` stands for: the hub's download, or the embedded sample."""
        if name == "sample":
            from bertnli import sample

            sample.notice()
            return sample.snli_dir(), None
        from bertnli import hub

        return hub.fetch("snli"), None

    def read_file(self, file: Path | zipfile.Path) -> tuple[list[str], list[str], list[int]]:
        """One ``snli_1.0_{split}.txt``; no-consensus rows dropped (their count logged at INFO level)."""
        data, stats = _read_file_with_stats(file)
        log.info(
            "%s: %d pairs, %d no-consensus rows dropped",
            stats.file,
            stats.pairs,
            stats.dropped_no_consensus,
        )
        return data


CORPUS = SNLICorpus()
