"""Hugging Face model folders through the book's cache: pinned revision, hash-checked files.

``hub`` fetches d2l's zips, each with a known sha1. The Korean chapter's encoders live on
the Hugging Face hub as a few separate files per model, at a revision we pin here. Where
a file's hash cannot be learned in advance, the first complete download records each
file's sha256 next to the cache (``NAME.sha256.json``) and every later download must give
the same bytes: a changed file upstream, or a mirror serving other bytes, is refused, never
silently used. As in ``hub``, nothing half-written is taken as good: files land in a
temporary sibling folder that is renamed into place after all of them are checked, with a
``.complete`` marker written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from bertnli.files import atomic_write
from bertnli.hub import COMPLETE, PARTIAL, TIMEOUT, HubError, cache_dir

DEFAULT_URL = "https://huggingface.co/"
URL_ENV = "BERTNLI_HF_URL"  # a mirror laid out like the hub: BASE/<repo>/resolve/<revision>/<file>


@dataclass(frozen=True)
class ModelFolder:
    """A model on the Hugging Face hub: which repository, which revision, which files."""

    name: str
    repo: str
    revision: str
    files: tuple[str, ...]
    description: str
    sha256: dict[str, str] = field(default_factory=dict)  # known hashes; the rest are recorded on first download


MODELS: dict[str, ModelFolder] = {
    m.name: m
    for m in (
        # Revision: the commit "Build out the model card (#2)" of klue/bert-base, found here by a
        # search of stored hub pages; it changes only README.md, so its weights are the published ones.
        # No file hash could be learned here: each is recorded on the first download.
        ModelFolder("klue-bert-base", "klue/bert-base", "34b965303f98bc5214daca7f76b7fb82d2dc6183",
                    ("config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
                    "KLUE BERT base (Park et al., 2021; CC BY-SA 4.0): a Korean BERT-base, 12 layers, 768 wide"),
        # Revision: `main`. No commit of this repository could be looked up from here; the first
        # download records every file's sha256 and later downloads are checked against it.
        ModelFolder("koelectra-small", "monologg/koelectra-small-v3-discriminator", "main",
                    ("config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
                    "KoELECTRA-Small v3 discriminator (Park, 2020; Apache 2.0): 12 layers, 256 wide, "
                    "embeddings 128"),
    )
}


def model_base_url() -> str:
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        url = Path(url).expanduser().resolve().as_uri()
    return url if url.endswith("/") else url + "/"


def file_url(model: ModelFolder, filename: str) -> str:
    return f"{model_base_url()}{model.repo}/resolve/{model.revision}/{filename}"


def record_path(name: str) -> Path:
    """Where the first download's hashes are kept (outside the folder, so they outlive it)."""
    return cache_dir() / f"{name}.sha256.json"


def model(name: str) -> ModelFolder:
    try:
        return MODELS[name]
    except KeyError:
        raise HubError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}") from None


def _complete(folder: Path, entry: ModelFolder) -> bool:
    marker = folder / COMPLETE
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == entry.revision


def fetch_model(name: str) -> Path:
    """Download ``name``'s files once (checked), return the folder holding them."""
    entry = model(name)
    folder = cache_dir() / name
    if _complete(folder, entry):
        return folder
    with FileLock(str(cache_dir() / f".{name}.lock")):
        if _complete(folder, entry):
            return folder
        _download_all(entry, folder)
    return folder


def _recorded(entry: ModelFolder) -> dict[str, str]:
    path = record_path(entry.name)
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HubError(f"{path}: the recorded hashes of {entry.name!r} are unreadable ({err}); delete the file "
                       "to record them again from the next download") from None
    if not isinstance(record, dict) or record.get("revision") != entry.revision:
        return {}  # recorded for another pinned revision
    return dict(record.get("sha256") or {})


def _download_all(entry: ModelFolder, folder: Path) -> None:
    expected = {**_recorded(entry), **entry.sha256}
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}{PARTIAL}", dir=cache_dir()))
    try:
        got = {filename: _download(file_url(entry, filename), tmp / filename) for filename in entry.files}
        for filename, actual in got.items():
            if filename in expected and expected[filename] != actual:
                raise HubError(
                    f"{file_url(entry, filename)} is not the file recorded for {entry.name!r}: sha256 expected "
                    f"{expected[filename]} (recorded in {record_path(entry.name)} or pinned), got {actual}. "
                    "It was not kept, and the cached model was not changed. The file changed upstream or the "
                    f"mirror serves other bytes; if you trust the new file, delete {record_path(entry.name)} "
                    "and fetch again")
        if not expected.keys() >= set(entry.files):
            atomic_write(record_path(entry.name), json.dumps(
                {"repo": entry.repo, "revision": entry.revision, "sha256": {**got, **expected}}, indent=2) + "\n")
        (tmp / COMPLETE).write_text(entry.revision + "\n", encoding="utf-8")
        if folder.is_dir():
            shutil.rmtree(folder)
        elif folder.exists():
            folder.unlink()
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download(url: str, target: Path) -> str:
    """Write ``url`` to ``target``; return its sha256."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(target, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as err:
        raise HubError(f"could not download {url}: {err}. Nothing was kept. Check the network, or point "
                       f"${URL_ENV} at a mirror, or pass a local model folder with --model") from None
    return digest.hexdigest()
