"""Files: the one way this package writes a file, and how it finds one in a user's folder.

:func:`atomic_write` writes a temporary sibling and renames it over the target: a reader
sees the old file or the whole new one, and a failed write leaves nothing behind (a full
disk is a :class:`DiskFullError` naming the file). Every file the package writes goes
through it (run folders, dataset caches, classroom copies, vocabularies).

Finding: the one file that plays a role (a checkpoint's ``vocab.json``, SNLI's train file) in a
folder or a zip, and refuse when there are two.

Picking the first of several matches by sort order uses an old copy without a word; so
every reader of user folders goes through :func:`one_in_folder` / :func:`one_in_zip`,
which list every candidate when there is more than one. The folder search is shallow and
bounded (``MAX_DEPTH`` levels, ``MAX_ENTRIES`` entries): a path that is not what it claims
to be (``/``, a home folder) is refused at once instead of being walked.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

MAX_DEPTH = 2  # the folder itself, a subfolder (an unpacked zip's top folder), one more level
MAX_ENTRIES = 2_000  # entries looked at before giving up: no checkpoint or corpus folder holds more
JUNK = ("__MACOSX",)  # macOS's resource-fork copies inside zips and unpacked folders


class TooManyFiles(ValueError):
    """The folder holds more entries than any checkpoint or corpus folder; it is not one."""


def _visible_dirs(entries: list[os.DirEntry]) -> list[str]:
    return sorted(
        e.path
        for e in entries
        if not e.name.startswith(".") and e.name not in JUNK and e.is_dir(follow_symlinks=False)
    )


def find_in_folder(root: Path, names: tuple[str, ...]) -> dict[str, list[Path]]:
    """Every file called one of ``names`` at most ``MAX_DEPTH`` levels below ``root``,
    breadth first; raises :class:`TooManyFiles` after ``MAX_ENTRIES`` entries."""
    found: dict[str, list[Path]] = {name: [] for name in names}
    level, seen = [str(root)], 0
    for _ in range(MAX_DEPTH + 1):
        below = []
        for folder in level:
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError:
                continue  # unreadable subfolder: nothing of ours is there
            seen += len(entries)
            if seen > MAX_ENTRIES:
                raise TooManyFiles(
                    f"{root} holds more than {MAX_ENTRIES:,} files and folders within "
                    f"{MAX_DEPTH} levels"
                )
            for e in entries:
                if e.name in found and e.is_file():
                    found[e.name].append(Path(e.path))
            below += _visible_dirs(entries)
        level = below
    return found


def refuse_two(name: str, shown: list[str], where: object, role: str) -> None:
    """Two or more candidates for one role: refuse, listing each."""
    listed = "\n    ".join(shown)
    raise ValueError(
        f"{where} holds {len(shown)} files called {name}, and bertnli will not guess which "
        f"is the {role}:\n    {listed}\nMove or delete all but one, or give the folder "
        "that holds the one you mean"
    )


def one_in_folder(root: Path, name: str, role: str) -> Path | None:
    """The one file called ``name`` within ``MAX_DEPTH`` levels of ``root``; None for none."""
    hits = find_in_folder(root, (name,))[name]
    if len(hits) > 1:
        refuse_two(name, [str(h) for h in hits], root, role)
    return hits[0] if hits else None


def one_in_zip(zf: zipfile.ZipFile, name: str, where: object, role: str) -> str | None:
    """The member whose file name is ``name`` (at any depth; macOS junk skipped), None for
    none; a name stored twice, or at two places, is refused."""
    hits = [
        m
        for m in zf.namelist()
        if m.rsplit("/", 1)[-1] == name and not any(part in JUNK for part in m.split("/"))
    ]
    if len(hits) > 1 and len(set(hits)) == 1:
        raise ValueError(
            f"{where} stores {hits[0]} {len(hits)} times (a zip appended to, or a broken zip "
            f"tool), and the copies may differ; bertnli will not guess which is the {role}. "
            "Make the zip again from the files"
        )
    if len(hits) > 1:
        refuse_two(name, [f"{where} -> {h}" for h in hits], where, role)
    return hits[0] if hits else None


# ----------------------------------------------------------------------------- writing files


def atomic_write(path: str | os.PathLike[str], data: bytes | str | Callable[[Path], None]) -> None:
    """Write ``data`` (bytes, UTF-8 text, or a function that writes the path it is given)
    to ``path`` via a temporary sibling and a rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if callable(data):
            data(tmp)
        else:
            tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, path)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(path) from err
        raise
    except RuntimeError as err:  # torch.save's C++ writer reports a failed write this way
        if "write failed" not in str(err) and "unexpected pos" not in str(err):
            raise
        raise _Said(
            errno.EIO,
            f"{path}: writing it failed ({str(err).splitlines()[0][:200]}); is the disk full? "
            "Nothing was changed there (a previous version, if any, is kept)",
            path,
        ) from err
    finally:
        tmp.unlink(missing_ok=True)


class _Said(OSError):
    """An ``OSError`` whose message is a whole sentence naming the file (no ``[Errno N]``)."""

    def __init__(self, code: int, message: str, path: str | os.PathLike[str]):
        super().__init__(code, message, str(path))

    def __str__(self) -> str:
        return self.strerror


class DiskFullError(_Said):
    """A write ran out of disk space (or quota); the target kept its previous version."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(
            errno.ENOSPC,
            f"{path}: no space left on the disk while writing it; nothing was changed "
            "there (a previous version, if any, is kept). Free some space, or write "
            "to another disk",
            path,
        )


def write_json(path: str | os.PathLike[str], obj) -> None:
    atomic_write(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
