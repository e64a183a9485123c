"""The NLI corpora bertnli reads, in one table, and what ``--data`` may name.

A corpus is a small reader object, defined in its own module (``data/snli.py``,
``data/kornli.py``) and registered by one line in :data:`CORPORA`. It says:

- ``name`` and ``language`` (``"en"`` / ``"ko"``: the language of its sentences);
- ``split_files``: for each split (``train``, ``dev``, ``test``) the file names that make it,
  in reading order. These names are also how a folder or a zip is recognised as the corpus;
- ``format_note``: which of its files are read when the corpus ships more than one format
  (SNLI's zip holds each split as ``.txt`` and as ``.jsonl``; the ``.txt`` is read);
- ``names``: the names ``--data`` (or a profile's ``data``) accepts for it, with a line of help,
  and ``source(name)``: the folder such a name stands for (a hub download, the embedded sample)
  and, where the name selects part of the training split, which training files;
- ``read_file(file)``: one file -> ``(premises, hypotheses, labels)``, labels as ids of
  ``snli.LABELS``; a bad row raises ``ValueError`` naming the file and the line.

:func:`read_pairs` is the one entry point the rest of the package uses; :func:`corpus_of`
says which corpus a ``--data`` value is. A folder or a zip is the corpus whose file names
it holds: one that holds none, or the files of two corpora, is refused with the names looked for.

Adding a corpus is one new file and one line here. For example, ``data/xnli.py``::

    class XNLICorpus:
        name, language = "xnli", "en"
        split_files = {"train": ("xnli.train.tsv",), "dev": ("xnli.dev.tsv",),
                       "test": ("xnli.test.tsv",)}
        format_note = ""
        names = {"xnli": "XNLI in English (a folder you downloaded)"}
        def source(self, name): ...           # the folder ``name`` stands for
        def read_file(self, file): ...        # one file -> premises, hypotheses, labels

    CORPUS = XNLICorpus()

and ``xnli.CORPUS`` added to :data:`CORPORA` (``tests/test_data_corpora.py`` registers a
made-up corpus exactly this way and reads it).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from bertnli.data import kornli, snli
from bertnli.files import JUNK, find_in_folder, one_in_folder, one_in_zip

Pairs = tuple[list[str], list[str], list[int]]
SPLITS = ("train", "dev", "test")


class Corpus(Protocol):
    """What a corpus module provides (see the module docstring)."""

    name: str
    language: str
    split_files: Mapping[str, tuple[str, ...]]
    format_note: str
    names: Mapping[str, str]

    def source(self, name: str) -> tuple[Path, tuple[str, ...] | None]: ...

    def read_file(self, file: Path | zipfile.Path) -> Pairs: ...


# THE table: one line per corpus.
CORPORA: list[Corpus] = [
    snli.CORPUS,
    kornli.CORPUS,
]


def data_names() -> dict[str, str]:
    """Every name ``--data`` accepts, with its line of help, in table order."""
    return {name: help_text for corpus in CORPORA for name, help_text in corpus.names.items()}


def data_help() -> str:
    """The ``--data`` help of the command line, made from the table."""
    names = ", ".join(f"{name} ({text})" for name, text in data_names().items())
    return f"a name: {names}; or a folder or zip holding one corpus's files"


def files_help() -> str:
    """What a corpus folder or zip must hold, per corpus, made from the table."""
    return "; ".join(f"{c.name}: {', '.join(_all_files(c))}" for c in CORPORA)


def is_name(data: str | Path) -> bool:
    """Whether ``data`` is a registered name (not a path)."""
    return isinstance(data, str) and data in data_names()


def corpus_of(data: str | Path) -> Corpus:
    """The corpus a ``--data`` value is: a registered name, or a folder/zip recognised by its file names."""
    if is_name(data):
        return _by_name(str(data))
    return identify(Path(data).expanduser())


def read_pairs(
    data: str | Path, split: str, *, train_files: tuple[str, ...] | None = None
) -> Pairs:
    """One split of ``data`` (a registered name, or a corpus's folder or zip) as
    ``(premises, hypotheses, labels)``. ``train_files`` limits the training split to some of
    the corpus's training files (KorNLI's ``snli_1.0_train.ko.tsv``, say); a name may do that itself."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    corpus, location, chosen = _resolve(data)
    names = _split_names(corpus, split, train_files or chosen)
    premises: list[str] = []
    hypotheses: list[str] = []
    labels: list[int] = []
    for file in (_locate(location, corpus, split, name, names) for name in names):
        p, h, y = corpus.read_file(file)
        premises += p
        hypotheses += h
        labels += y
    return premises, hypotheses, labels


def data_problem(data: str | Path) -> str | None:
    """Why ``data`` cannot be read (None when every split's files are there, or it is a name):
    for checking a setting before anything is loaded."""
    if is_name(data):
        return None
    path = Path(data).expanduser()
    if not path.exists():
        return "no such file or folder"
    try:
        corpus, location, chosen = _resolve(path)
        for split in SPLITS:
            names = _split_names(corpus, split, chosen)
            for name in names:
                _locate(location, corpus, split, name, names)
    except (OSError, ValueError) as err:
        return str(err)
    return None


def identify(path: Path) -> Corpus:
    """The one corpus whose file names ``path`` (a folder or a zip) holds; none or two are refused."""
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is a file, not a folder or a zip; give the folder (or zip) that holds it, "
            f"or a name: {', '.join(data_names())}"
        )
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist; give a folder or zip holding one corpus's files, or a "
            f"name: {', '.join(data_names())}"
        )
    present = _names_in(path, tuple(n for c in CORPORA for n in _all_files(c)))
    matches = [c for c in CORPORA if any(n in present for n in _all_files(c))]
    if len(matches) == 1:
        return matches[0]
    looked = "; ".join(
        f"{c.name}: {', '.join(_all_files(c))}" + (f" ({c.format_note})" if c.format_note else "")
        for c in CORPORA
    )
    if not matches:
        raise FileNotFoundError(
            f"{path} holds the files of no corpus bertnli reads; it looked for {looked}"
        )
    found = "; ".join(
        f"{c.name}: {', '.join(n for n in _all_files(c) if n in present)}" for c in matches
    )
    raise ValueError(
        f"{path} holds the files of {len(matches)} corpora ({found}), and bertnli will not guess "
        "which one you mean; give a folder or zip with one corpus's files"
    )


# --------------------------------------------------------------------------- internals


def _by_name(name: str) -> Corpus:
    return next(c for c in CORPORA if name in c.names)


def _all_files(corpus: Corpus) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for split in SPLITS for n in corpus.split_files[split]))


def _resolve(data: str | Path) -> tuple[Corpus, Path, tuple[str, ...] | None]:
    """``(corpus, its folder or zip, the training files a name selects)`` for a ``--data`` value."""
    if is_name(data):
        corpus = _by_name(str(data))
        location, chosen = corpus.source(str(data))
        return corpus, Path(location), chosen
    path = Path(data).expanduser()
    return identify(path), path, None


def _split_names(
    corpus: Corpus, split: str, train_files: tuple[str, ...] | None
) -> tuple[str, ...]:
    names = corpus.split_files[split]
    if split != "train" or not train_files:
        return names
    unknown = [n for n in train_files if n not in names]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)} is not a training file of {corpus.name}; its training files "
            f"are {', '.join(names)}"
        )
    return tuple(n for n in names if n in train_files)


def _names_in(path: Path, names: tuple[str, ...]) -> set[str]:
    """Which of ``names`` a folder (within ``files.MAX_DEPTH`` levels) or a zip holds."""
    if path.is_dir():
        return {name for name, hits in find_in_folder(path, names).items() if hits}
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if not any(part in JUNK for part in m.split("/"))]
    return {m.rsplit("/", 1)[-1] for m in members} & set(names)


def _locate(
    location: Path, corpus: Corpus, split: str, name: str, names: tuple[str, ...]
) -> Path | zipfile.Path:
    """The file ``name`` in a folder or a zip; a missing one names the split's files."""
    role = f"{corpus.name} {split} file"
    if location.is_dir():
        found = one_in_folder(location, name, role)
        if found is not None:
            return found
    else:
        with zipfile.ZipFile(location) as zf:
            member = one_in_zip(zf, name, location, role)
        if member is not None:
            return zipfile.Path(location, at=member)
    note = f" ({corpus.format_note})" if corpus.format_note else ""
    raise FileNotFoundError(
        f"{location} has no {name}; {corpus.name}'s {split} split needs {', '.join(names)}{note}"
    )


__all__ = [
    "CORPORA",
    "Corpus",
    "SPLITS",
    "corpus_of",
    "data_help",
    "data_names",
    "data_problem",
    "files_help",
    "identify",
    "is_name",
    "read_pairs",
]
