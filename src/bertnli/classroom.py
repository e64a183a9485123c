"""Classroom helpers: student copies of the notebooks and an offline mirror of the downloads.

``student_copy`` writes each chapter as a plain ``.ipynb`` with the outputs cleared and the
cells tagged ``solution`` removed, so a class starts from clean notebooks that still hold
the ``exercise`` starter cells; ``lang="ko"`` (or ``"en"``) keeps only that language's prose. ``mirror`` copies the verified archives of the cache (plus
the embedded sample checkpoint) into one folder with a README, so a class without
internet installs from a USB stick or a shared drive via ``BERTNLI_HUB_URL=file://...``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import hub, licenses, sample
from .checkpoint import atomic_write

SOLUTION_TAG = "solution"
LANGS = ("en", "ko", "both")  # --lang: which prose cells (tagged lang-en / lang-ko) a copy keeps
EXERCISE_TAG = "exercise"
SUMS_FILE = "SHA1SUMS"
README_FILE = "README.md"
# Editor state that means nothing in a student's copy: jupytext pairing (JupyterLab would
# recreate the .md twin), execution timings.
NOTEBOOK_KEYS_DROPPED = ("jupytext",)
CELL_KEYS_DROPPED = ("execution",)


# --------------------------------------------------------------------------- student copies


@dataclass
class StudentCopy:
    """What ``student_copy`` wrote for one chapter."""

    source: Path
    target: Path
    solutions_removed: int
    exercises: int


def default_notebooks_dir() -> Path:
    """``./notebooks`` when run from a checkout's root, else the checkout this package lives in."""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "notebooks"


def chapter_sources(notebooks_dir: Path) -> list[Path]:
    """One source per chapter: the MyST ``.md`` of a jupytext pair (the reviewed text), else the ``.ipynb``."""
    stems = sorted({p.stem for p in notebooks_dir.glob("[0-9]*.md")} | {p.stem for p in notebooks_dir.glob("[0-9]*.ipynb")})
    sources = []
    for stem in stems:
        md = notebooks_dir / f"{stem}.md"
        sources.append(md if md.is_file() else notebooks_dir / f"{stem}.ipynb")
    return sources


def _read(path: Path):
    """A chapter as a notebook; a file that is not one is a ValueError naming it."""
    import jupytext

    try:
        return jupytext.read(path, fmt="md:myst") if path.suffix == ".md" else jupytext.read(path)
    except Exception as err:  # JSON, nbformat, YAML and encoding errors all mean the same to the reader
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable notebook ({detail}); fix the file, or restore the original "
                         "(in a git checkout: git checkout -- FILE)") from None


def check_apart(out: Path, notebooks_dir: Path) -> None:
    """Refuse an output folder that is, holds or lies inside the notebooks it reads: a copy
    command must never rewrite (or strip the solutions from) its own sources."""
    o, src = out.resolve(), notebooks_dir.resolve()
    if o == src or o.is_relative_to(src) or src.is_relative_to(o):
        where = "is" if o == src else "is inside" if o.is_relative_to(src) else "contains"
        raise ValueError(f"{out} {where} the notebooks folder it copies from ({src}); the student copies would "
                         "overwrite the chapters. Choose a folder outside it, e.g. ../student-notebooks")


_BILINGUAL_TITLE = re.compile(r"^(#+ )(.+?) · (.*[\uac00-\ud7a3].*)$")


def one_language_title(source: str, lang: str) -> str:
    """A chapter's "# 1. Pretrained BERT · 1. 사전 학습된 BERT" title cell in ``lang`` alone (else unchanged)."""
    match = _BILINGUAL_TITLE.match(source.strip())
    if lang == "both" or match is None or "\n" in source.strip():
        return source
    return match[1] + (match[2] if lang == "en" else match[3])


def keep_language(nb, lang: str = "both"):
    """Keep one language's prose, in place: drop the cells tagged with the other language and
    keep only ``lang``'s half of a bilingual title cell; ``"both"`` keeps everything."""
    if lang not in LANGS:
        raise ValueError(f"--lang {lang!r}: choose one of {', '.join(LANGS)}")
    other = {"en": "lang-ko", "ko": "lang-en"}.get(lang)
    kept = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if other is not None and other in tags:
            continue
        if cell.cell_type == "markdown" and not tags:
            cell.source = one_language_title(cell.source, lang)
        kept.append(cell)
    nb.cells = kept
    return nb


def strip_for_students(nb, lang: str = "both") -> tuple[object, int, int]:
    """Remove solution cells, outputs and the prose of the language not chosen, in place.

    Returns the notebook, the solutions removed and the exercises kept.
    """
    keep_language(nb, lang)
    kept, removed = [], 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_TAG in tags:
            removed += 1
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in CELL_KEYS_DROPPED:
            cell.metadata.pop(key, None)
        kept.append(cell)
    nb.cells = kept
    for key in NOTEBOOK_KEYS_DROPPED:
        nb.metadata.pop(key, None)
    exercises = sum(EXERCISE_TAG in c.get("metadata", {}).get("tags", []) for c in kept)
    return nb, removed, exercises


def student_copy(out: str | os.PathLike[str], notebooks_dir: str | os.PathLike[str] | None = None,
                 lang: str = "both") -> list[StudentCopy]:
    """Write every chapter to ``out/<name>.ipynb`` without outputs and solution cells, in ``lang`` (en, ko, both)."""
    import nbformat

    if lang not in LANGS:
        raise ValueError(f"--lang {lang!r}: choose one of {', '.join(LANGS)}")
    src_dir = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    sources = chapter_sources(src_dir)
    if not sources:
        raise FileNotFoundError(f"no chapter notebooks (NN_*.md or NN_*.ipynb) in {src_dir}")
    target_dir = Path(out)
    check_apart(target_dir, src_dir)
    ready = []  # every chapter read and checked before the first is written: all copies or none
    for source in sources:
        nb, removed, exercises = strip_for_students(_read(source), lang)
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as err:
            raise ValueError(f"{source}: not a valid notebook ({err.message}); fix the file, or restore it") from None
        ready.append((source, nbformat.writes(nb), removed, exercises))
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source, text, removed, exercises in ready:
        target = target_dir / f"{source.stem}.ipynb"
        atomic_write(target, text)
        written.append(StudentCopy(source, target, removed, exercises))
    return written


# --------------------------------------------------------------------------- offline mirror


@dataclass
class Mirror:
    """What ``mirror`` packed: file name -> sha1, and what it had to leave out and why."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _copy_verified(src: Path, dst_dir: Path, expected_sha1: str | None) -> str:
    """Copy ``src`` into ``dst_dir`` (via a temporary name) and return its sha1."""
    digest = hub.sha1_of(src)
    if expected_sha1 is not None and digest != expected_sha1:
        raise ValueError(f"{src} has sha1 {digest}, not the registered {expected_sha1}")
    dst = dst_dir / src.name
    if dst.is_file() and hub.sha1_of(dst) == digest:
        return digest
    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))
    return digest


def mirror(out: str | os.PathLike[str]) -> Mirror:
    """Pack the cache's verified archives and the sample checkpoint into ``out`` with a README."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    result = Mirror(folder.resolve())
    by_file = {r.filename: r for r in hub.REGISTRY.values()}
    for entry in hub.cached():
        if entry.kind != "archive":
            if entry.kind == "folder" and not (entry.path.parent / hub.resource(entry.name).filename).is_file():
                result.skipped.append(f"{entry.name}: only its unpacked folder is cached; the zip was deleted "
                                      f"(run `python -m bertnli download {entry.name}` where there is internet)")
            continue
        res = by_file.get(entry.path.name)
        if res is None:
            result.skipped.append(f"{entry.path.name}: not in the registry")
            continue
        try:
            result.files[res.filename] = _copy_verified(entry.path, folder, res.sha1)
        except ValueError as err:
            result.skipped.append(f"{res.name}: {err}; download it again")
            continue
        atomic_write(folder / f"{res.filename}{licenses.SUFFIX}", licenses.license_notice(res.name, res.filename))
    if not result.files:
        result.skipped.append(f"no downloaded archive in the cache ({hub.cache_dir()}): run "
                              "`python -m bertnli download bert.small` (and snli, bert.base) first")
    checkpoint = sample.checkpoint_path()
    if checkpoint.is_file():
        result.files[checkpoint.name] = _copy_verified(checkpoint, folder, None)
        atomic_write(folder / f"{checkpoint.name}{licenses.SUFFIX}", licenses.license_notice("sample", checkpoint.name))
    else:
        result.skipped.append(f"the sample checkpoint is missing from the package ({checkpoint})")
    atomic_write(folder / SUMS_FILE, "".join(f"{sha}  {name}\n" for name, sha in sorted(result.files.items())))
    atomic_write(folder / README_FILE, mirror_readme(result))
    return result


def mirror_readme(m: Mirror) -> str:
    """The mirror's README: what is in it, and how to install from it (English, then Korean)."""
    names = {r.filename: r for r in hub.REGISTRY.values()}
    rows = []
    for filename, sha in sorted(m.files.items()):
        res = names.get(filename)
        what = res.description if res else "embedded offline sample checkpoint (already inside the bertnli package)"
        rows.append(f"| `{filename}` | {res.name if res else 'sample'} | `{sha}` | {what} |")
    table = "\n".join(["| file | name | sha1 | what |", "| --- | --- | --- | --- |", *rows])
    url = m.folder.as_uri() + "/"
    downloadable = [names[f].name for f in sorted(m.files) if f in names]
    fetch = "\n".join(f"python -m bertnli download {n}" for n in downloadable) or "python -m bertnli info"
    missing = "".join(f"- {s}\n" for s in m.skipped)
    return f"""# bertnli offline mirror · bertnli 오프라인 미러

{table}

`{SUMS_FILE}` lists the same sha1s (`sha1sum -c {SUMS_FILE}` checks them).
`{SUMS_FILE}`에도 같은 sha1 값이 있습니다(`sha1sum -c {SUMS_FILE}`로 확인).

## Install from this folder

Point bertnli at this folder instead of the internet. Use the path where the folder is
mounted on *your* machine (it was written at `{m.folder}`):

```bash
export BERTNLI_HUB_URL={url}
{fetch}
```

On Windows (PowerShell): `$env:BERTNLI_HUB_URL = "file:///E:/bertnli-mirror/"`.
A plain folder path works too (`BERTNLI_HUB_URL=/media/usb/bertnli-mirror`).
Every file is checked against its sha1 before use. To skip the mirror, copy a zip by
hand into the folder that `python -m bertnli cache` prints.

## 이 폴더에서 설치하기

인터넷 대신 이 폴더를 쓰도록 bertnli에 알려 줍니다. 경로는 *각자의 컴퓨터*에서 이 폴더가
연결된 위치로 바꿔 쓰세요(만든 곳: `{m.folder}`).

```bash
export BERTNLI_HUB_URL={url}
{fetch}
```

Windows(PowerShell)에서는 `$env:BERTNLI_HUB_URL = "file:///E:/bertnli-mirror/"`처럼 씁니다.
일반 폴더 경로도 됩니다(`BERTNLI_HUB_URL=/media/usb/bertnli-mirror`). 모든 파일은 쓰기 전에
sha1로 검사합니다. 미러를 거치지 않으려면 `python -m bertnli cache`가 알려 주는 폴더에 zip을
직접 복사해도 됩니다.
""" + (f"\n## Not included · 빠진 것\n\n{missing}" if missing else "")


# --------------------------------------------------------------------------- command line


def run_student_copy(out: str, notebooks_dir: str | None = None, lang: str = "both") -> int:
    copies = student_copy(out, notebooks_dir, lang)
    for c in copies:
        print(f"{c.target}  (solution cells removed: {c.solutions_removed}, exercise cells kept: {c.exercises})")
    print(f"wrote {len(copies)} student notebooks to {Path(out).resolve()}")
    return 0


def run_mirror(out: str) -> int:
    m = mirror(out)
    for name, sha in sorted(m.files.items()):
        print(f"{sha}  {name}")
    for note in m.skipped:
        print(f"skipped: {note}", file=sys.stderr)
    print(f"mirror in {m.folder}; see {m.folder / README_FILE}")
    print(f"use it with: BERTNLI_HUB_URL={m.folder.as_uri()}/")
    return 0
