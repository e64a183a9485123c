"""A fine-tuning run on disk, and the one way this package writes a file.

A run folder (``finetune --out DIR``) holds three files, each written atomically:

- ``checkpoint.pt``  weights, optimizer, scaler, RNG states, vocabulary, history: what
  resuming or using the model needs. Loaded with ``torch.load(weights_only=True)`` only,
  so it holds tensors and plain data (lists, dicts, numbers, strings), never pickled
  objects: opening someone else's checkpoint cannot run their code.
- ``run.json``       the run's settings (``config``, e.g. the profile), the model's
  description, the vocabulary size and the last finished epoch: small, readable, and
  enough for ``--resume``, ``evaluate`` and ``predict`` to know the run without
  loading the weights.
- ``history.json``   one record per finished epoch (:class:`bertnli.train.History`).

:func:`atomic_write` writes a temporary sibling and renames it over the target: a reader
sees the old file or the whole new one, and a failed write leaves nothing behind. Every
file the package writes goes through it (dataset caches, classroom copies, vocabularies).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from .train import History
    from .vocab import Vocab

CHECKPOINT_FILE = "checkpoint.pt"
RUN_FILE = "run.json"
HISTORY_FILE = "history.json"
FORMAT = "bertnli-finetune-2"


# ----------------------------------------------------------------------------- writing files

def atomic_write(path: str | os.PathLike[str], data: Union[bytes, str, Callable[[Path], None]]) -> None:
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
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike[str], obj) -> None:
    atomic_write(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------- RNG states as plain data

def rng_state() -> dict:
    """torch, CUDA, numpy and Python RNG states as tensors, lists and numbers (loadable
    with ``weights_only=True``)."""
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached_gaussian)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ----------------------------------------------------------------------------- checkpoint files

def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside ``torch.compile`` and ``DistributedDataParallel`` wrappers."""
    model = getattr(model, "_orig_mod", model)      # torch.compile
    return getattr(model, "module", model)          # DistributedDataParallel


def describe_model(model: nn.Module) -> dict | None:
    core = unwrap(model)
    return core.describe() if hasattr(core, "describe") else None


def save_checkpoint(path: str | Path, model: nn.Module, optimizer=None, scaler=None, epoch: int = 0,
                    history: "History | None" = None, config: dict | None = None,
                    vocab: "Vocab | None" = None) -> None:
    """Everything needed to resume or to use the model, written atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "model": unwrap(model).state_dict(),
        "model_description": describe_model(model),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "epoch": epoch,
        "rng": rng_state(),
        "config": config or {},
        "vocab": list(vocab.idx_to_token) if vocab is not None else None,
        "history": history.to_dict() if history is not None else None,
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """A checkpoint's contents (a run folder or its ``checkpoint.pt``), tensors and plain data only."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no fine-tuning checkpoint here; train first "
                                "(python -m bertnli finetune --out DIR) or check the path")
    if not zipfile.is_zipfile(path):  # torch.save's format is a zip archive
        raise ValueError(f"{path}: not a readable PyTorch checkpoint (not torch.save's zip format); fine-tune again")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.findall(r"Unsupported global: GLOBAL [\w.]+", str(err))[:1]  # name what it holds
        raise ValueError(f"{path}: refusing to load it: it holds Python objects, not only tensors and plain data "
                         "(a checkpoint from an older bertnli, or not a bertnli checkpoint), and loading those "
                         "could run code. Fine-tune again to get a safe checkpoint." +
                         (f" ({found[0]})" if found else "")) from None
    except (RuntimeError, EOFError) as err:
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({err}); fine-tune again") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a bertnli fine-tuning checkpoint (format {FORMAT}); fine-tune again")
    return payload


def read_run(path: str | Path) -> dict:
    """A run folder's ``run.json``: ``config``, ``model_description``, ``vocab_size``, ``epoch``."""
    file = Path(path) / RUN_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no run settings here; is {path} a folder written by "
                                "python -m bertnli finetune --out?")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{file}: not valid JSON ({err}); fine-tune again") from None


def check_same_architecture(model: nn.Module, theirs: dict | None, where: Path) -> None:
    """Refuse to load weights trained with another architecture, naming the differences."""
    ours = describe_model(model)
    if theirs is None or ours is None:
        return
    flat = lambda d: {**{f"bert.{k}": v for k, v in d["bert"].items()},  # noqa: E731
                      **{k: v for k, v in d.items() if k != "bert"}}
    a, b = flat(ours), flat(theirs)
    diffs = [f"{k}: model {a.get(k)} vs checkpoint {b.get(k)}" for k in sorted(a.keys() | b.keys())
             if a.get(k) != b.get(k) and k not in ("bert.dropout", "dropout")]
    if diffs:
        raise ValueError(f"{where}: the checkpoint was trained with a different architecture; " + "; ".join(diffs))


def model_from_checkpoint(path: str | Path, device=None):
    """Rebuild ``(classifier, vocab, payload)`` from a run folder or checkpoint file."""
    from .classifier import BERTClassifier
    from .vocab import Vocab

    payload = load_checkpoint(path)
    model = BERTClassifier.from_description(payload["model_description"])
    model.load_state_dict(payload["model"])
    vocab = Vocab(payload["vocab"]) if payload.get("vocab") else None
    return model.to(device or "cpu").eval(), vocab, payload


# ----------------------------------------------------------------------------- a run folder

@dataclass
class RunFolder:
    """Where ``fine_tune`` saves each finished epoch and resumes from.

    ``config`` (e.g. ``{"profile": ..., "seed": ...}``) goes to ``run.json``; ``vocab`` is
    saved so the model can be used later (``evaluate``, ``predict``). Both are optional.
    """

    path: Path
    config: dict = field(default_factory=dict)
    vocab: "Vocab | None" = None

    def __post_init__(self):
        self.path = Path(self.path)

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def exists(self) -> bool:
        return self.checkpoint.is_file()

    def save(self, model: nn.Module, optimizer, scaler, epoch: int, history: "History") -> None:
        """Checkpoint first, then the small files that describe it."""
        save_checkpoint(self.checkpoint, model, optimizer, scaler, epoch, history, self.config, self.vocab)
        write_json(self.path / RUN_FILE, {
            "format": FORMAT, "epoch": epoch, "config": self.config, "model_description": describe_model(model),
            "vocab_size": len(self.vocab) if self.vocab is not None else None})
        history.save(self.path / HISTORY_FILE)

    def restore(self, model: nn.Module, optimizer, scaler, map_location) -> tuple[int, dict]:
        """Load weights, optimizer, scaler and RNG states; returns ``(epoch, history dict)``."""
        payload = load_checkpoint(self.checkpoint, map_location=map_location)
        check_same_architecture(model, payload.get("model_description"), self.checkpoint)
        unwrap(model).load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        if payload.get("scaler") and scaler.is_enabled():
            scaler.load_state_dict(payload["scaler"])
        set_rng_state(payload["rng"])
        return payload["epoch"], payload.get("history") or {}
