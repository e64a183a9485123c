"""Classroom helpers: student copies of the notebooks and an offline mirror of the downloads.

``student_copy`` writes each chapter as a plain ``.ipynb`` with the outputs cleared and the
cells tagged ``solution`` removed, so a class starts from clean notebooks that still hold
the ``exercise`` starter cells; ``lang="ko"`` (or ``"en"``) keeps only that language's prose. ``mirror`` copies the verified archives of the cache (plus
the embedded sample checkpoint) into one folder with a README, so a class without
internet installs from a USB stick or a shared drive via ``BERTNLI_HUB_URL=file://...``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bertnli import hub, sample
from bertnli.book import licenses
from bertnli.files import atomic_write

SOLUTION_TAG = "solution"
LANGS = ("en", "ko", "both")  # --lang: which prose cells (tagged lang-en / lang-ko) a copy keeps
EXERCISE_TAG = "exercise"
SUMS_FILE = "SHA1SUMS"
README_FILE = "README.md"
# Editor state that means nothing in a student's copy: jupytext pairing (JupyterLab would
# recreate the .md twin), execution timings.
NOTEBOOK_KEYS_DROPPED = ("jupytext",)
CELL_KEYS_DROPPED = ("execution",)


MANIFEST_FILE = ".bertnli-written.json"  # in OUT: file name -> sha1 of what the command wrote there


# --------------------------------------------------------------------------- files a person may have changed


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class OwnFiles:
    """The files a command wrote into ``folder``, with the sha1 of what it wrote (``MANIFEST_FILE``).

    A file there is replaced only when it still holds exactly what the command wrote, or when
    ``force``: a student's edited notebook or an owner's own README is someone's work, and is
    kept (and reported) instead. ``kept`` lists what was kept."""

    def __init__(self, folder: Path, force: bool = False):
        self.folder, self.force = folder, force
        self.hashes = self._load()
        self.kept: list[Path] = []

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads((self.folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: then nothing there is known to be ours
        return (
            {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(data, dict)
            else {}
        )

    def decide(self, target: Path, new_sha1: str) -> str:
        """``write``, ``unchanged`` (it already holds this) or ``keep`` (someone changed it)."""
        if not target.exists():
            return "write"
        old = hub.sha1_of(target) if target.is_file() else None
        if old == new_sha1:
            return "unchanged"
        if self.force or (old is not None and self.hashes.get(target.name) == old):
            return "write"
        return "keep"

    def write(self, target: Path, data: str | bytes | Path) -> str:
        """Write text, bytes or a copy of a file to ``target`` unless someone else's version is
        there; returns what was done (``written``, ``unchanged``, ``kept``)."""
        if target.is_dir():
            raise ValueError(
                f"{target} is a folder where bertnli writes a file; move it away (nothing was written)"
            )
        raw = data.encode("utf-8") if isinstance(data, str) else data
        sha = hub.sha1_of(raw) if isinstance(raw, Path) else _sha1(raw)
        action = self.decide(target, sha)
        if action == "keep":
            self.kept.append(target)
            return "kept"
        if action == "write":
            atomic_write(
                target, (lambda tmp: shutil.copyfile(raw, tmp)) if isinstance(raw, Path) else raw
            )
        self.hashes[target.name] = sha
        return "written" if action == "write" else "unchanged"

    def save(self) -> None:
        atomic_write(
            self.folder / MANIFEST_FILE, json.dumps(self.hashes, indent=1, sort_keys=True) + "\n"
        )

    def kept_note(self, path: Path, what: str) -> str:
        return (
            f"kept {path}: it differs from what bertnli wrote there ({what}); nothing was changed. "
            "Pass --force to replace it"
        )


# --------------------------------------------------------------------------- student copies


@dataclass
class StudentCopy:
    """What ``student_copy`` wrote for one chapter."""

    source: Path
    target: Path
    solutions_removed: int
    exercises: int
    status: str = "written"  # or "unchanged", or "kept" (someone's edits there; see --force)


def default_notebooks_dir() -> Path:
    """``./notebooks`` when run from a checkout's root, else the checkout this package lives in."""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "notebooks"


def chapter_sources(notebooks_dir: Path) -> list[Path]:
    """One source per chapter: the MyST ``.md`` of a jupytext pair (the reviewed text), else the ``.ipynb``."""
    stems = sorted(
        {p.stem for p in notebooks_dir.glob("[0-9]*.md")}
        | {p.stem for p in notebooks_dir.glob("[0-9]*.ipynb")}
    )
    sources = []
    for stem in stems:
        md = notebooks_dir / f"{stem}.md"
        sources.append(md if md.is_file() else notebooks_dir / f"{stem}.ipynb")
    return sources


def _read(path: Path):
    """A chapter as a notebook; a file that is not one is a ValueError naming it."""
    import jupytext

    try:
        nb = jupytext.read(path, fmt="md:myst") if path.suffix == ".md" else jupytext.read(path)
    except (
        Exception
    ) as err:  # JSON, nbformat, YAML and encoding errors all mean the same to the reader
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{path}: not a readable notebook ({detail}); fix the file, or restore the original "
            "(in a git checkout: git checkout -- FILE)"
        ) from None
    return stable_ids(nb, path.stem, keep_existing=path.suffix == ".ipynb")


def stable_ids(nb, chapter: str, *, keep_existing: bool = False):
    """Give every cell an id made from the chapter's name and the cell's place, in place: the same
    source gives the same ids on every run (jupytext invents random ones for a ``.md``), so a diff
    of two copies shows real changes only. ``keep_existing`` keeps the ids a source ``.ipynb`` has."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", chapter)[:40] or "cell"
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        old = cell.get("id")
        keep = (
            keep_existing and isinstance(old, str) and _CELL_ID.fullmatch(old) and old not in used
        )
        cell["id"] = old if keep else f"{prefix}-{index:03d}"
        used.add(cell["id"])
    return nb


_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # nbformat 4.5's rule for a cell id


def check_apart(out: Path, notebooks_dir: Path) -> None:
    """Refuse an output folder that is, holds or lies inside the notebooks it reads: a copy
    command must never rewrite (or strip the solutions from) its own sources."""
    o, src = out.resolve(), notebooks_dir.resolve()
    if o == src or o.is_relative_to(src) or src.is_relative_to(o):
        where = "is" if o == src else "is inside" if o.is_relative_to(src) else "contains"
        raise ValueError(
            f"{out} {where} the notebooks folder it copies from ({src}); the student copies would "
            "overwrite the chapters. Choose a folder outside it, e.g. ../student-notebooks"
        )


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


def student_copy(
    out: str | os.PathLike[str],
    notebooks_dir: str | os.PathLike[str] | None = None,
    lang: str = "both",
    *,
    force: bool = False,
) -> list[StudentCopy]:
    """Write every chapter to ``out/<name>.ipynb`` without outputs and solution cells, in ``lang`` (en, ko, both).

    Run again, it replaces only the copies it wrote that nobody changed since: a notebook a
    student edited there is kept (``status="kept"``) unless ``force``."""
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
            raise ValueError(
                f"{source}: not a valid notebook ({err.message}); fix the file, or restore it"
            ) from None
        ready.append((source, nbformat.writes(nb), removed, exercises))
    if target_dir.exists() and not target_dir.is_dir():
        raise ValueError(
            f"{target_dir} is a file, not a folder: choose a folder for the student copies"
        )
    in_the_way = [
        target_dir / f"{source.stem}.ipynb"
        for source, *_ in ready
        if (target_dir / f"{source.stem}.ipynb").is_dir()
    ]
    if in_the_way:
        raise ValueError(
            f"{in_the_way[0]} is a folder where a student notebook goes; move it away "
            "(nothing was written)"
        )
    target_dir.mkdir(parents=True, exist_ok=True)
    own = OwnFiles(target_dir, force)
    written = []
    for source, text, removed, exercises in ready:
        target = target_dir / f"{source.stem}.ipynb"
        written.append(StudentCopy(source, target, removed, exercises, own.write(target, text)))
    own.save()
    return written


# --------------------------------------------------------------------------- offline mirror


@dataclass
class Mirror:
    """What ``mirror`` packed: file name -> sha1, and what it had to leave out and why."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    kept: list[str] = field(
        default_factory=list
    )  # someone's files in the folder, left as they were


def _copy_verified(
    src: Path, dst_dir: Path, expected_sha1: str | None, own: OwnFiles
) -> tuple[str, str]:
    """Copy ``src`` into ``dst_dir`` (via a temporary name) unless someone's own file of that name
    is there; returns ``(sha1, what was done)``."""
    digest = hub.sha1_of(src)
    if expected_sha1 is not None and digest != expected_sha1:
        raise ValueError(f"{src} has sha1 {digest}, not the registered {expected_sha1}")
    return digest, own.write(dst_dir / src.name, src)


def _add_license(result, own, folder: Path, resource: str, filename: str) -> None:
    """The license notice beside a copied file, written like the mirror's other own files."""
    path = folder / f"{filename}{licenses.SUFFIX}"
    if own.write(path, licenses.license_notice(resource, filename)) == "kept":
        result.kept.append(
            own.kept_note(path, "the license notice of this mirror would have replaced it")
        )


def mirror(out: str | os.PathLike[str], *, force: bool = False) -> Mirror:
    """Pack the cache's verified archives and the sample checkpoint into ``out`` with a README.

    In a folder that already holds files, only what an earlier ``mirror`` wrote (and nobody
    changed since) is replaced: an owner's own ``README.md`` or ``SHA1SUMS`` is kept (listed in
    ``kept``) unless ``force``."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder: choose a folder for the mirror")
    folder.mkdir(parents=True, exist_ok=True)
    result = Mirror(folder.resolve())
    own = OwnFiles(folder, force)
    by_file = {r.filename: r for r in hub.REGISTRY.values()}
    for entry in hub.cached():
        if entry.kind != "archive":
            if (
                entry.kind == "folder"
                and entry.name in hub.REGISTRY
                and not (entry.path.parent / hub.resource(entry.name).filename).is_file()
            ):
                result.skipped.append(
                    f"{entry.name}: only its unpacked folder is cached; the zip was deleted "
                    f"(run `python -m bertnli download {entry.name}` where there is internet)"
                )
            continue
        res = by_file.get(entry.path.name)
        if res is None:
            result.skipped.append(f"{entry.path.name}: not in the registry")
            continue
        try:
            _add(result, own, entry.path, res.sha1)
        except ValueError as err:
            result.skipped.append(f"{res.name}: {err}; download it again")
            continue
        _add_license(result, own, folder, res.name, res.filename)
    for file_set in hub.FILE_SETS.values():
        _add_file_set(result, own, file_set)
    if not result.files:
        result.skipped.append(
            f"no downloaded archive in the cache ({hub.cache_dir()}): run "
            "`python -m bertnli download bert.small` (and snli, bert.base) first"
        )
    checkpoint = sample.checkpoint_path()
    if checkpoint.is_file():
        _add(result, own, checkpoint, None)
        _add_license(result, own, folder, "sample", checkpoint.name)
    else:
        result.skipped.append(f"the sample checkpoint is missing from the package ({checkpoint})")
    sums = "".join(f"{sha}  {name}\n" for name, sha in sorted(result.files.items()))
    for name, text, what in (
        (SUMS_FILE, sums, "the sha1 list"),
        (README_FILE, mirror_readme(result), "the README"),
    ):
        if own.write(folder / name, text) == "kept":
            result.kept.append(
                own.kept_note(folder / name, f"{what} of this mirror would have replaced it")
            )
    own.save()
    return result


def _add(result: Mirror, own: OwnFiles, src: Path, expected_sha1: str | None) -> None:
    """Copy one verified file into the mirror; a different file of that name already there is kept
    and left out of the mirror's lists (its sha1 is not the registered one)."""
    digest, action = _copy_verified(src, result.folder, expected_sha1, own)
    if action == "kept":
        result.kept.append(own.kept_note(result.folder / src.name, f"not the verified {src.name}"))
        result.skipped.append(
            f"{src.name}: a different file of that name is in the folder; it was kept and is "
            "not listed (pass --force to replace it with the verified copy)"
        )
        return
    result.files[src.name] = digest


def _add_file_set(result: Mirror, own: OwnFiles, file_set: hub.FileSet) -> None:
    """A downloaded file set's files (KorNLI's four .tsv), each checked by its git blob id again and
    passed on with its license; a set not (completely) downloaded is left out."""
    if not hub.is_cached(file_set.name):
        return
    source = hub.cache_dir() / file_set.name
    for pinned in file_set.files:
        path = source / pinned.filename
        if hub.git_blob_of(path) != pinned.git_blob:
            result.skipped.append(
                f"{file_set.name}: {path} is not the verified {pinned.filename}; run "
                f"`python -m bertnli download {file_set.name}` again"
            )
            continue
        _add(result, own, path, None)
        _add_license(result, own, result.folder, file_set.name, pinned.filename)


def _registry_files() -> dict[str, tuple[str, str]]:
    """Every file the hub downloads: file name -> (resource name, description)."""
    files = {r.filename: (r.name, r.description) for r in hub.REGISTRY.values()}
    for fs in hub.FILE_SETS.values():
        files.update({f.filename: (fs.name, fs.description) for f in fs.files})
    return files


def mirror_readme(m: Mirror) -> str:
    """The mirror's README: what is in it, and how to install from it (English, then Korean)."""
    names = _registry_files()
    rows = []
    for filename, sha in sorted(m.files.items()):
        name, what = names.get(
            filename,
            ("sample", "embedded offline sample checkpoint (already inside the bertnli package)"),
        )
        rows.append(f"| `{filename}` | {name} | `{sha}` | {what} |")
    table = "\n".join(["| file | name | sha1 | what |", "| --- | --- | --- | --- |", *rows])
    url = m.folder.as_uri() + "/"
    downloadable = list(dict.fromkeys(names[f][0] for f in sorted(m.files) if f in names))
    fetch = (
        "\n".join(f"python -m bertnli download {n}" for n in downloadable)
        or "python -m bertnli info"
    )
    missing = "".join(f"- {s}\n" for s in m.skipped)
    return f"""# bertnli offline mirror · bertnli 오프라인 미러

{table}

`{SUMS_FILE}` lists the same sha1s (`sha1sum -c {SUMS_FILE}` checks them). Beside each file,
`<file>{licenses.SUFFIX}` says where it comes from and under which license it is passed on.
`{SUMS_FILE}`에도 같은 sha1 값이 있습니다(`sha1sum -c {SUMS_FILE}`로 확인). 파일마다 옆에 있는
`<file>{licenses.SUFFIX}`에 출처와 함께 어떤 라이선스로 나눠 주는지 적혀 있습니다.

## Install from this folder

Point bertnli at this folder instead of the internet. Use the path where the folder is
mounted on *your* machine (it was written at `{m.folder}`):

```bash
export BERTNLI_HUB_URL={url}
{fetch}
```

On Windows (PowerShell): `$env:BERTNLI_HUB_URL = "file:///E:/bertnli-mirror/"`.
A plain folder path works too (`BERTNLI_HUB_URL=/media/usb/bertnli-mirror`).
Every file is checked against its sha1 before use (KorNLI's `.tsv` files against their git
blob id at the pinned revision). To skip the mirror, copy a zip by hand into the folder that
`python -m bertnli cache` prints (KorNLI's files into its `kornli/` subfolder).

## 이 폴더에서 설치하기

인터넷 대신 이 폴더를 쓰도록 bertnli에 알려 줍니다. 경로는 *각자의 컴퓨터*에서 이 폴더가
연결된 위치로 바꿔 쓰세요(만든 곳: `{m.folder}`).

```bash
export BERTNLI_HUB_URL={url}
{fetch}
```

Windows(PowerShell)에서는 `$env:BERTNLI_HUB_URL = "file:///E:/bertnli-mirror/"`처럼 씁니다.
일반 폴더 경로도 됩니다(`BERTNLI_HUB_URL=/media/usb/bertnli-mirror`). 모든 파일은 쓰기 전에
sha1로 검사합니다(KorNLI의 `.tsv` 파일은 고정한 리비전의 git 블롭 ID로 검사). 미러를 거치지
않으려면 `python -m bertnli cache`가 알려 주는 폴더에 zip을 직접 복사해도 됩니다(KorNLI 파일은
그 안의 `kornli/` 폴더에).
""" + (f"\n## Not included · 빠진 것\n\n{missing}" if missing else "")


# --------------------------------------------------------------------------- command line


def run_student_copy(
    out: str, notebooks_dir: str | None = None, lang: str = "both", force: bool = False
) -> int:
    copies = student_copy(out, notebooks_dir, lang, force=force)
    for c in copies:
        if c.status == "kept":
            print(
                f"kept {c.target}: it was changed since bertnli wrote it (a student's edits?), so it was not "
                "replaced; pass --force to replace it",
                file=sys.stderr,
            )
            continue
        print(
            f"{c.target}  (solution cells removed: {c.solutions_removed}, exercise cells kept: {c.exercises}"
            + (", unchanged)" if c.status == "unchanged" else ")")
        )
    done = sum(c.status != "kept" for c in copies)
    kept = len(copies) - done
    print(
        f"wrote {done} student notebooks to {Path(out).resolve()}"
        + (f"; kept {kept} changed one(s)" if kept else "")
    )
    return 0


def run_mirror(out: str, force: bool = False) -> int:
    m = mirror(out, force=force)
    for name, sha in sorted(m.files.items()):
        print(f"{sha}  {name}")
    for note in m.skipped:
        print(f"skipped: {note}", file=sys.stderr)
    for note in m.kept:
        print(note, file=sys.stderr)
    print(f"mirror in {m.folder}; see {m.folder / README_FILE}")
    print(f"use it with: BERTNLI_HUB_URL={m.folder.as_uri()}/")
    return 0
