"""Download, verify and unpack the pretrained checkpoints, SNLI and KorNLI; fetch Hugging Face model folders.

A ``Resource`` is a zip in d2l's public bucket. ``fetch`` downloads it once into a
per-user cache (via pooch, which checks the sha1), unpacks it next to the zip, and
returns the folder holding the payload. A ``FileSet`` (KorNLI) is loose files of a git
repository at a pinned revision: each is downloaded into ``cache/<name>/``, checked by its
git blob id, and moved into place only when it matches; a ``.complete`` marker is written
last. ``$BERTNLI_HUB_URL`` (a mirror) serves both kinds, every file under its own name.
Two rules keep the cache trustworthy:

* nothing half-written is ever taken as good: downloads land under a temporary
  name (pooch moves them into place only after the hash matched), and archives
  are unpacked into a temporary sibling folder that is renamed into place only
  after a ``.complete`` marker (holding the zip's sha1) was written last;
* every failure a reader can fix is a ``HubError`` that says what to do, e.g.
  which file to put where by hand when the network is out of reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from filelock import FileLock, Timeout  # a dependency of torch: there wherever torch is

try:
    import pooch
except (
    ImportError
):  # only downloading needs it: local files, mirrors' copies and the cache work without
    pooch = None

from bertnli._jupyter import progress_bar, want_progress
from bertnli.files import atomic_write

DEFAULT_URL = "https://d2l-data.s3-accelerate.amazonaws.com/"
CACHE_ENV = "BERTNLI_CACHE"
URL_ENV = "BERTNLI_HUB_URL"
COMPLETE = ".complete"
PARTIAL = ".partial-"
# Seconds requests waits for the server to answer (or send the next bytes).
TIMEOUT = 30.0
# Leftovers of a killed run older than this are swept away; younger ones may
# belong to a download or extraction still running in another process.
STALE_AFTER_S = 3600.0


class HubError(RuntimeError):
    """A download or cache problem the user can fix; the message says how."""


@dataclass(frozen=True)
class Resource:
    """A zip in the data bucket; ``marker`` names a file whose folder is the payload."""

    name: str
    filename: str
    sha1: str
    marker: str
    description: str


REGISTRY: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "bert.small",
            "bert.small.torch.zip",
            "c72329e68a732bef0452e4b96a1c341c8910f81f",
            "vocab.json",
            "small pretrained BERT (2 layers, 128 hidden units) from d2l",
        ),
        Resource(
            "bert.base",
            "bert.base.torch.zip",
            "225d66f04cae318b841a13d32af3acc165f253ac",
            "vocab.json",
            "BERT-base sized pretrained BERT (12 layers, 768 hidden units) from d2l",
        ),
        Resource(
            "snli",
            "snli_1.0.zip",
            "9fcde07509c7e87ec61c640c1b2753d9041758e4",
            "snli_1.0_train.txt",
            "Stanford Natural Language Inference corpus 1.0 (train/dev/test)",
        ),
    )
}


@dataclass(frozen=True)
class PinnedFile:
    """One file of a ``FileSet``: its name and the id git gives its content at the set's revision."""

    filename: str
    git_blob: str


@dataclass(frozen=True)
class FileSet:
    """Loose files of a git repository at a pinned revision; ``url`` is that revision's raw folder."""

    name: str
    revision: str
    url: str
    files: tuple[PinnedFile, ...]
    description: str

    def blob(self, filename: str) -> str:
        """The git blob id ``filename`` must have."""
        return next(f.git_blob for f in self.files if f.filename == filename)


KORNLI_REVISION = (
    "0df0fe7d496eb61b092e022e238c2230b29f1cbc"  # "Modify filename to show the file format"
)
FILE_SETS: dict[str, FileSet] = {
    "kornli": FileSet(
        "kornli",
        KORNLI_REVISION,
        f"https://raw.githubusercontent.com/kakaobrain/kor-nlu-datasets/{KORNLI_REVISION}/KorNLI/",
        (
            PinnedFile("snli_1.0_train.ko.tsv", "c91761e52fca2a7420104589811346986ce94073"),
            PinnedFile("multinli.train.ko.tsv", "94d26a9d0dd045928148ef8691a256bd0e7d45c3"),
            PinnedFile("xnli.dev.ko.tsv", "21305150d466aa35d42b14e1890b7dcd58084634"),
            PinnedFile("xnli.test.ko.tsv", "89a0b11bffa775fafd88178b3980a1fe2d8aee52"),
        ),
        "KorNLI, Korean NLI (Kakao Brain): SNLI-ko and MNLI-ko train, XNLI-ko dev/test",
    ),
}


@dataclass(frozen=True)
class CacheEntry:
    """One thing in the cache folder, for ``bertnli cache``.

    ``kind`` is ``archive`` (a zip), ``folder`` (a complete extraction),
    ``incomplete`` (an extraction that must not be trusted; it is redone) or
    ``other``.
    """

    name: str
    path: Path
    size_bytes: int
    kind: str


def cache_dir() -> Path:
    """The cache folder: ``$BERTNLI_CACHE`` or the OS's per-user cache; created on demand."""
    env = os.environ.get(CACHE_ENV)
    if env:
        path = Path(env).expanduser()
    else:
        path = (
            Path(pooch.os_cache("bertnli"))
            if pooch is not None
            else Path.home() / ".cache" / "bertnli"
        )
    source = f" (from ${CACHE_ENV})" if env else ""
    if path.exists() and not path.is_dir():
        raise HubError(
            f"the cache folder {path}{source} is a file, not a folder; point ${CACHE_ENV} at a "
            "folder (it is created if missing), or move the file away"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HubError(
            f"cannot create the cache folder {path}{source}: {err.strerror or err}; point "
            f"${CACHE_ENV} at a folder you can write to"
        ) from None
    return path


def base_url() -> str:
    """Where archives are downloaded from: ``$BERTNLI_HUB_URL`` or d2l's bucket.

    The override may be an http(s) mirror, a ``file://`` URL, or a plain local
    folder (turned into a ``file://`` URL), for classrooms without internet.
    """
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        url = Path(url).expanduser().resolve().as_uri()
    return url if url.endswith("/") else url + "/"


def names() -> list[str]:
    """Every name ``bertnli download`` knows: the zips and file sets (``fetch``) and the Hugging
    Face model folders (``fetch_model``)."""
    return sorted([*REGISTRY, *FILE_SETS, *MODELS])


def resource(name: str) -> Resource:
    """The registry entry for ``name``, or a HubError listing the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(names())
        raise HubError(f"unknown resource {name!r}; known resources: {known}") from None


def archive_path(name: str) -> Path:
    """Where the zip of ``name`` lives in the cache (also where to put it by hand)."""
    return cache_dir() / resource(name).filename


def extract_dir(name: str) -> Path:
    """The folder ``name``'s zip is unpacked into (the payload is somewhere below it)."""
    return cache_dir() / resource(name).name


def sha1_of(path: str | os.PathLike[str]) -> str:
    """Hex sha1 of a file, read in chunks so multi-GB files do not fill memory."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_cached(name: str) -> bool:
    """Whether ``fetch(name)`` would need no network.

    True when the extraction is complete, or when the zip is present with the
    right sha1 (which hashes the zip: about a second per 500 MB).
    """
    if name in FILE_SETS:
        return _set_is_complete(FILE_SETS[name])
    res = resource(name)
    if _payload(res) is not None:
        return True
    archive = archive_path(name)
    return archive.is_file() and sha1_of(archive) == res.sha1


def fetch(name: str, *, progress: bool | None = None) -> Path:
    """Make sure ``name`` is downloaded, verified and unpacked; return the payload folder.

    ``progress=None`` shows a download progress bar only when someone is
    watching (stderr is a terminal, or we run inside a Jupyter kernel).
    """
    if name in FILE_SETS:
        return _fetch_file_set(FILE_SETS[name], want_progress(progress))
    res = resource(name)
    payload = _payload(res)
    if payload is not None:
        return payload
    with _lock(res):  # one process fetches and unpacks; the others wait, then find it done
        payload = _payload(res)
        if payload is not None:
            return payload
        archive = _ensure_archive(res, want_progress(progress))
        _extract(res, archive)
    payload = _payload(res)
    if payload is None:  # _extract checked the marker; only a concurrent delete gets here
        raise HubError(f"the extraction of {name!r} at {extract_dir(name)} vanished; run again")
    return payload


def cached() -> list[CacheEntry]:
    """Everything in the cache folder, with its size and what it is."""
    by_file = {r.filename: r for r in REGISTRY.values()}
    entries = []
    for path in sorted(cache_dir().iterdir()):
        if path.name.startswith(".") and path.name.endswith(".lock"):
            continue  # _lock's files: empty, and in use only while a fetch runs
        if path.is_dir():
            res = REGISTRY.get(path.name) or FILE_SETS.get(path.name)
            if res is None and path.name in MODELS:  # a Hugging Face model folder
                kind = "folder" if _model_complete(path, MODELS[path.name]) else "incomplete"
                size = sum(
                    p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()
                )
                entries.append(CacheEntry(path.name, path, size, kind))
                continue
            if isinstance(res, FileSet):
                kind = "folder" if _set_is_complete(res) else "incomplete"
            elif res is not None and _is_complete(path, res):
                kind = "folder"
            elif res is not None or _is_leftover(path):
                kind = "incomplete"
            else:
                kind = "other"
            size = sum(
                p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()
            )
            entries.append(CacheEntry(res.name if res else path.name, path, size, kind))
        elif path.is_file():
            res = by_file.get(path.name)
            kind = (
                "archive"
                if path.suffix == ".zip"
                else "incomplete"
                if _is_leftover(path)
                else "other"
            )
            entries.append(
                CacheEntry(res.name if res else path.name, path, path.stat().st_size, kind)
            )
    return entries


# --------------------------------------------------------------------------- internals


@contextmanager
def _lock(res: Resource | FileSet) -> Iterator[None]:
    """Hold ``cache/.NAME.lock`` while fetching ``res``: torchrun's ranks or two notebooks on a
    fresh cache take turns instead of deleting each other's extraction. An OS lock (filelock):
    a killed process releases it, so no stale lock file ever blocks the cache."""
    lock = FileLock(str(cache_dir() / f".{res.name}.lock"))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            print(
                f"waiting for another process that is fetching {res.name!r} into {cache_dir()} ...",
                file=sys.stderr,
                flush=True,
            )
            lock.acquire()
    except OSError as err:
        raise HubError(
            f"cannot write to the cache folder {cache_dir()} ({err.strerror or err}) to fetch "
            f"{res.name!r}; point ${CACHE_ENV} at a folder you can write to"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _progress_bar(res: Resource):
    """A tqdm bar for pooch, or None without tqdm.

    We hand pooch our own bar because pooch leaves its own bar open when a
    download fails, which prints a stale half bar later. ``total=1`` because pooch
    tests the bar's truthiness and a tqdm with total 0 is falsy; pooch sets the real
    total from Content-Length.
    """
    try:
        return progress_bar(total=1, unit="B", unit_scale=True, desc=res.filename, leave=True)
    except ImportError:
        return None


def _is_complete(folder: Path, res: Resource) -> bool:
    marker = folder / COMPLETE
    return marker.is_file() and marker.read_text().strip() == res.sha1


def _find_marker(root: Path, res: Resource) -> Path | None:
    """The shallowest folder under ``root`` holding the marker file (macOS junk skipped)."""
    hits = [p for p in root.rglob(res.marker) if "__MACOSX" not in p.relative_to(root).parts]
    if not hits:
        return None
    return min(hits, key=lambda p: (len(p.parts), str(p))).parent


def _payload(res: Resource) -> Path | None:
    folder = cache_dir() / res.name
    if not _is_complete(folder, res):
        return None
    return _find_marker(folder, res)


def _manual_hint(res: Resource, url: str) -> str:
    original = DEFAULT_URL + res.filename
    source = url if url == original else f"{original} or the mirror {url}"
    return (
        f"To install it by hand, get {res.filename} some other way (for example from {source}"
        f" on another machine) and save it as\n    {archive_path(res.name)}\n"
        f"It must have sha1 {res.sha1}. Or point ${URL_ENV} at a mirror"
        " (http(s)://... or file:///folder/)."
    )


def _use_anyway(res: Resource, path: Path) -> str:
    """How to use a file that is not the registry's bytes: by path, not through the cache."""
    if res.name == "snli":
        return (
            f"To use it anyway, pass its path: python -m bertnli finetune --data {path}\n"
            f"    (notebooks: BERTNLI_DATA={path})"
        )
    env = "BERTNLI_BASE_MODEL" if res.name == "bert.base" else "BERTNLI_MODEL"
    return (
        f"To use it anyway, pass its path: python -m bertnli finetune --model {path}\n"
        f"    (notebooks: {env}={path})"
    )


def _move_aside(res: Resource, archive: Path, actual: str) -> str:
    """Move a cached zip with the wrong sha1 out of the way (never delete a reader's file);
    return the note that says where it went and how to use it anyway."""
    aside = archive.with_name(f"{Path(res.filename).stem}.sha1-{actual[:10]}.zip")
    os.replace(archive, aside)
    note = (
        f"{archive} had sha1 {actual}, not the expected {res.sha1} (a re-zipped or different copy?), "
        f"so it was moved aside, not deleted, to\n    {aside}\n{_use_anyway(res, aside)}"
    )
    print(f"bertnli: {note}", file=sys.stderr)
    return "\n" + note


def _where(url: str, res: Resource) -> str:
    """``url``, and the original too when it is a mirror's."""
    if base_url() == DEFAULT_URL:
        return url
    return f"{url} (the mirror set by ${URL_ENV}; the original is {DEFAULT_URL + res.filename})"


def _ensure_archive(res: Resource, progress: bool) -> Path:
    """Return the verified zip, downloading it (via pooch) unless a good copy is there."""
    archive = archive_path(res.name)
    note = ""
    if archive.is_file():
        actual = sha1_of(archive)
        if actual == res.sha1:
            return archive
        note = _move_aside(res, archive, actual)
    _sweep_stale(archive.parent)
    url = base_url() + res.filename
    if pooch is None:
        raise HubError(
            f"downloading {res.name!r} needs the pooch package (pip install pooch), which is not "
            f"installed.{note}\n{_manual_hint(res, url)}"
        )
    local = url.startswith("file:")
    bar = _progress_bar(res) if progress and not local else None
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha1:{res.sha1}",
            fname=res.filename,
            path=archive.parent,
            downloader=_copy_file
            if local
            else pooch.HTTPDownloader(progressbar=bar or False, timeout=TIMEOUT),
        )
    except ValueError as err:
        if "hash" not in str(err):  # pooch reports a hash mismatch as ValueError
            raise
        got = re.search(r"but got (\w+)", str(err))
        actual = got.group(1) if got else "unknown"
        raise HubError(
            f"{_where(url, res)} was downloaded but is not the expected file: sha1 expected {res.sha1},"
            f" got {actual}. It was not kept. The mirror may be outdated or the download"
            f" corrupted; try again.{note}\n{_manual_hint(res, url)}"
        ) from None
    except OSError as err:  # requests' exceptions (pooch's HTTP layer) derive from OSError
        raise HubError(
            f"could not download {res.name!r} from {_where(url, res)}: {err}{note}\n"
            f"{_manual_hint(res, url)}"
        ) from err
    finally:
        if bar is not None:
            bar.close()
    return archive


def _copy_file(url: str, output_file: str, pooch_instance: object = None) -> None:
    """Pooch downloader for ``file://`` URLs (pooch itself only speaks http/ftp/doi)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise OSError(f"file:// URLs must name a local path, not host {parsed.netloc!r}")
    shutil.copyfile(urllib.request.url2pathname(parsed.path), output_file)


def _sweep_stale(folder: Path) -> None:
    """Remove leftovers of killed runs: pooch's temporary downloads, our partial extractions."""
    now = time.time()
    for path in folder.iterdir():
        if not _is_leftover(path):
            continue
        try:
            if now - path.stat().st_mtime < STALE_AFTER_S:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass  # already gone, or not ours to fix; never fatal


def _is_leftover(path: Path) -> bool:
    """Pooch downloads to ``tmpXXXXXXXX`` files (tempfile's names); we extract to ``.NAME.partial-*``."""
    if path.is_dir():
        return path.name.startswith(".") and PARTIAL in path.name
    return re.fullmatch(r"tmp[a-z0-9_]{8}", path.name) is not None


def _check_members(zf: zipfile.ZipFile, archive: Path) -> None:
    """Refuse archives whose members would land outside the target (zip-slip)."""
    for member in zf.namelist():
        name = member.replace("\\", "/")
        if (
            name.startswith("/")
            or re.match(r"[A-Za-z]:", name)
            or ".." in PurePosixPath(name).parts
        ):
            raise HubError(
                f"refusing to extract {archive}: member {member!r} would land outside the cache folder"
            )


def _extract(res: Resource, archive: Path) -> None:
    """Unpack ``archive`` into ``cache/<name>`` atomically, marking completion last."""
    target = archive.parent / res.name
    _sweep_stale(archive.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{res.name}{PARTIAL}", dir=archive.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                _check_members(zf, archive)
                zf.extractall(tmp)
        except zipfile.BadZipFile as err:
            raise HubError(
                f"{archive} is not a valid zip ({err}); delete it and run again"
            ) from None
        except OSError as err:
            raise HubError(f"could not extract {archive} into {archive.parent}: {err}") from err
        if _find_marker(tmp, res) is None:
            raise HubError(
                f"{archive} does not contain {res.marker}; it is not the {res.name!r} archive"
            )
        (tmp / COMPLETE).write_text(res.sha1 + "\n")
        if target.is_dir():  # stale or incomplete: a folder without a valid marker
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target, res):  # lost a race with another process: fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- file sets (KorNLI)


def git_blob_of(path: str | os.PathLike[str]) -> str:
    """The id git gives a file's content (sha1 of ``b"blob <size>\\0"`` + content), read in chunks."""
    digest = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _set_marker(fs: FileSet) -> str:
    return "".join(f"{f.git_blob}  {f.filename}\n" for f in fs.files)


def _set_is_complete(fs: FileSet) -> bool:
    """Every file verified and in place: the marker, written last, says so (no re-hashing)."""
    folder = cache_dir() / fs.name
    marker = folder / COMPLETE
    return (
        marker.is_file()
        and marker.read_text() == _set_marker(fs)
        and all((folder / f.filename).is_file() for f in fs.files)
    )


def _fetch_file_set(fs: FileSet, progress: bool) -> Path:
    """Make sure every file of ``fs`` is in ``cache/<name>/`` with its git blob id; return that folder."""
    folder = cache_dir() / fs.name
    if _set_is_complete(fs):
        return folder
    with _lock(fs):
        if _set_is_complete(fs):
            return folder
        (folder / COMPLETE).unlink(missing_ok=True)
        folder.mkdir(exist_ok=True)
        for pinned in fs.files:
            _ensure_pinned(fs, pinned, folder, progress)
        from bertnli.files import atomic_write

        atomic_write(folder / COMPLETE, _set_marker(fs))
    return folder


def _pinned_url(fs: FileSet, pinned: PinnedFile) -> str:
    """The mirror's copy when ``$BERTNLI_HUB_URL`` is set, else the pinned revision's raw file."""
    return (base_url() if os.environ.get(URL_ENV) else fs.url) + pinned.filename


def _ensure_pinned(fs: FileSet, pinned: PinnedFile, folder: Path, progress: bool) -> None:
    """One file of a set in place and verified: a good copy is kept, a wrong one moved aside, never
    deleted; a download lands under a temporary name and is renamed only when its blob id matches."""
    target = folder / pinned.filename
    note = ""
    if target.is_file():
        actual = git_blob_of(target)
        if actual == pinned.git_blob:
            return
        aside = target.with_name(f"{pinned.filename}.blob-{actual[:10]}")
        os.replace(target, aside)
        note = f"\n{target} had git blob id {actual}, not {pinned.git_blob}; it was moved aside to {aside}"
        print(f"bertnli: {note.strip()}", file=sys.stderr)
    _sweep_stale(folder)
    url = _pinned_url(fs, pinned)
    fd, name = tempfile.mkstemp(prefix="tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            _download(url, tmp, pinned.filename, progress, fs.name, note)
        except HubError as err:
            raise HubError(f"{err}\n{_pinned_hint(fs, pinned, target)}") from None
        actual = git_blob_of(tmp)
        if actual != pinned.git_blob:
            raise HubError(
                f"{url} was downloaded but is not the expected file: git blob id expected "
                f"{pinned.git_blob}, got {actual}. It was not kept. The mirror may be outdated or the "
                f"download corrupted; try again.{note}\n{_pinned_hint(fs, pinned, target)}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _download(url: str, out: Path, label: str, progress: bool, name: str, note: str) -> None:
    """``url`` into ``out`` (http(s) through pooch's downloader, ``file://`` by copying)."""
    if url.startswith("file:"):
        try:
            _copy_file(url, str(out))
        except OSError as err:
            raise HubError(f"could not copy {name!r} from {url}: {err}{note}") from None
        return
    if pooch is None:
        raise HubError(
            f"downloading {name!r} needs the pooch package (pip install pooch), which is not "
            f"installed{note}"
        )
    bar = None
    if progress:
        try:
            bar = progress_bar(total=1, unit="B", unit_scale=True, desc=label, leave=True)
        except ImportError:
            bar = None
    try:
        pooch.HTTPDownloader(progressbar=bar or False, timeout=TIMEOUT)(url, str(out), None)
    except OSError as err:  # requests' exceptions derive from OSError
        raise HubError(f"could not download {name!r} from {url}: {err}{note}") from None
    finally:
        if bar is not None:
            bar.close()


def _pinned_hint(fs: FileSet, pinned: PinnedFile, target: Path) -> str:
    return (
        f"To install it by hand, get {pinned.filename} at revision {fs.revision} ({fs.url}{pinned.filename}) "
        f"and save it as\n    {target}\nIts git blob id (git hash-object) must be {pinned.git_blob}. Or "
        f"point ${URL_ENV} at a mirror (http(s)://... or file:///folder/)."
    )


# --------------------------------------------------------------------------- Hugging Face model folders
# The Korean chapter's encoders live on the Hugging Face hub as a few separate files per model,
# at a revision pinned here. Where a file's hash cannot be learned in advance, the first complete
# download records each file's sha256 next to the cache (``NAME.sha256.json``) and every later
# download must give the same bytes: a changed file upstream, or a mirror serving other bytes, is
# refused, never silently used. As for the zips, nothing half-written is taken as good: files land
# in a temporary sibling folder that is renamed into place after all of them are checked, with a
# ``.complete`` marker (the revision) written last.

HF_DEFAULT_URL = "https://huggingface.co/"
HF_URL_ENV = (
    "BERTNLI_HF_URL"  # a mirror laid out like the hub: BASE/<repo>/resolve/<revision>/<file>
)


@dataclass(frozen=True)
class ModelFolder:
    """A model on the Hugging Face hub: which repository, which revision, which files."""

    name: str
    repo: str
    revision: str
    files: tuple[str, ...]
    description: str
    sha256: dict[str, str] = field(
        default_factory=dict
    )  # known hashes; the rest are recorded on first download


MODELS: dict[str, ModelFolder] = {
    m.name: m
    for m in (
        # Revision: the commit "Build out the model card (#2)" of klue/bert-base, found here by a
        # search of stored hub pages; it changes only README.md, so its weights are the published ones.
        # No file hash could be learned here: each is recorded on the first download.
        ModelFolder(
            "klue-bert-base",
            "klue/bert-base",
            "34b965303f98bc5214daca7f76b7fb82d2dc6183",
            ("config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
            "KLUE BERT base (Park et al., 2021; CC BY-SA 4.0): a Korean BERT-base, 12 layers, 768 wide",
        ),
        # Revision: `main`. No commit of this repository could be looked up from here; the first
        # download records every file's sha256 and later downloads are checked against it.
        ModelFolder(
            "koelectra-small",
            "monologg/koelectra-small-v3-discriminator",
            "main",
            ("config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
            "KoELECTRA-Small v3 discriminator (Park, 2020; Apache 2.0): 12 layers, 256 wide, "
            "embeddings 128",
        ),
    )
}


def model_base_url() -> str:
    url = os.environ.get(HF_URL_ENV) or HF_DEFAULT_URL
    if "://" not in url:
        url = Path(url).expanduser().resolve().as_uri()
    return url if url.endswith("/") else url + "/"


def file_url(model: ModelFolder, filename: str) -> str:
    return f"{model_base_url()}{model.repo}/resolve/{model.revision}/{filename}"


def model_record_path(name: str) -> Path:
    """Where the first download's hashes are kept (outside the folder, so they outlive it)."""
    return cache_dir() / f"{name}.sha256.json"


def model_folder(name: str) -> ModelFolder:
    try:
        return MODELS[name]
    except KeyError:
        raise HubError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        ) from None


def _model_complete(folder: Path, entry: ModelFolder) -> bool:
    marker = folder / COMPLETE
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == entry.revision


def fetch_model(name: str) -> Path:
    """Download ``name``'s files once (checked), return the folder holding them."""
    entry = model_folder(name)
    folder = cache_dir() / name
    if _model_complete(folder, entry):
        return folder
    with FileLock(str(cache_dir() / f".{name}.lock")):
        if _model_complete(folder, entry):
            return folder
        _download_all(entry, folder)
    return folder


def _recorded(entry: ModelFolder) -> dict[str, str]:
    path = model_record_path(entry.name)
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HubError(
            f"{path}: the recorded hashes of {entry.name!r} are unreadable ({err}); delete the file "
            "to record them again from the next download"
        ) from None
    if not isinstance(record, dict) or record.get("revision") != entry.revision:
        return {}  # recorded for another pinned revision
    return dict(record.get("sha256") or {})


def _download_all(entry: ModelFolder, folder: Path) -> None:
    expected = {**_recorded(entry), **entry.sha256}
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}{PARTIAL}", dir=cache_dir()))
    try:
        got = {
            filename: _download_hashed(file_url(entry, filename), tmp / filename)
            for filename in entry.files
        }
        for filename, actual in got.items():
            if filename in expected and expected[filename] != actual:
                raise HubError(
                    f"{file_url(entry, filename)} is not the file recorded for {entry.name!r}: sha256 expected "
                    f"{expected[filename]} (recorded in {model_record_path(entry.name)} or pinned), got {actual}. "
                    "It was not kept, and the cached model was not changed. The file changed upstream or the "
                    f"mirror serves other bytes; if you trust the new file, delete {model_record_path(entry.name)} "
                    "and fetch again"
                )
        if not expected.keys() >= set(entry.files):
            atomic_write(
                model_record_path(entry.name),
                json.dumps(
                    {"repo": entry.repo, "revision": entry.revision, "sha256": {**got, **expected}},
                    indent=2,
                )
                + "\n",
            )
        (tmp / COMPLETE).write_text(entry.revision + "\n", encoding="utf-8")
        if folder.is_dir():
            shutil.rmtree(folder)
        elif folder.exists():
            folder.unlink()
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download_hashed(url: str, target: Path) -> str:
    """Write ``url`` to ``target``; return its sha256."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(target, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as err:
        raise HubError(
            f"could not download {url}: {err}. Nothing was kept. Check the network, or point "
            f"${HF_URL_ENV} at a mirror, or pass a local model folder with --model"
        ) from None
    return digest.hexdigest()
