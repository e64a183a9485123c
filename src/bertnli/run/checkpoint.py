"""A fine-tuning run on disk.

A run folder (``finetune --out DIR``) holds three files, each written atomically:

- ``checkpoint.pt``  weights, optimizer, scaler, RNG states, vocabulary, history: what
  resuming or using the model needs. Loaded with ``torch.load(weights_only=True)`` only,
  so it holds tensors and plain data (lists, dicts, numbers, strings), never pickled
  objects: opening someone else's checkpoint cannot run their code.
- ``run.json``       the run's settings (``config``, e.g. the profile), the model's
  description, the vocabulary size and the last finished epoch: small, readable, and
  enough for ``--resume``, ``evaluate`` and ``predict`` to know the run without
  loading the weights.
- ``history.json``   one record per finished epoch (:class:`bertnli.run.history.History`).

Every file here is written with :func:`bertnli.files.atomic_write`: never half a file.

While a run trains, :func:`hold_run_folder` keeps a lock (``.lock``, with who holds it in
``.lock.holder``) in its folder, so a second run into the same folder is refused at once,
naming the first; both files go when the run ends. On ``--resume``,
:func:`check_same_run` refuses settings that would make it another run (``IDENTITY``).

Before a run starts, :func:`check_run_folder` refuses to train over a saved run (unless
asked to resume or overwrite it) and to resume a folder that holds none, naming what it
found (:func:`describe_run`); :func:`check_writable` finds a folder where nothing can be
saved before the first epoch rather than after it.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import re
import socket
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import filelock
import numpy as np
import torch
from torch import nn

from bertnli import hardware
from bertnli.files import DiskFullError, _Said, atomic_write, write_json
from bertnli.run import rules

if TYPE_CHECKING:
    from bertnli.model.vocab import Vocab
    from bertnli.run.history import History

CHECKPOINT_FILE = "checkpoint.pt"
RUN_FILE = "run.json"
HISTORY_FILE = "history.json"
LOCK_FILE = ".lock"  # held (flock) by the run training in the folder
HOLDER_FILE = ".lock.holder"  # who holds it: pid, host, start time, command
# The profile's fields that say what a run IS (its model, its data, what the model reads):
# changing one on --resume would make another run, so it is refused. The rest (epochs, lr,
# batch size, device, ...) only changes how the rest of the run goes, and is applied.
IDENTITY = ("model", "data", "train_pairs", "test_pairs", "max_len", "truncation")
FORMAT = "bertnli-finetune-2"


class RunExistsError(_Said, FileExistsError):
    """The output folder already holds a run, and neither resuming nor overwriting was asked for."""


class NotWritableError(_Said, PermissionError):
    """Nothing can be saved in the output folder."""


class RunInUseError(_Said, BlockingIOError):
    """Another run is training into the same folder (it holds the folder's lock)."""


# ----------------------------------------------------------------------------- RNG states as plain data


def rng_state() -> dict:
    """torch, CUDA, numpy and Python RNG states as tensors, lists and numbers (loadable
    with ``weights_only=True``)."""
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    cuda = hardware.rng_state()
    if cuda is not None:
        state["cuda"] = cuda
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    hardware.set_rng_state(state.get("cuda"))


# ----------------------------------------------------------------------------- checkpoint files


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside ``torch.compile`` and ``DistributedDataParallel`` wrappers."""
    model = getattr(model, "_orig_mod", model)  # torch.compile
    return getattr(model, "module", model)  # DistributedDataParallel


def describe_model(model: nn.Module) -> dict | None:
    core = unwrap(model)
    return core.describe() if hasattr(core, "describe") else None


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer=None,
    scaler=None,
    epoch: int = 0,
    history: History | None = None,
    config: dict | None = None,
    vocab: Vocab | None = None,
    rng_ranks: list[dict] | None = None,
) -> None:
    """Everything needed to resume or to use the model, written atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "model": unwrap(model).state_dict(),
        "model_description": describe_model(model),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "epoch": epoch,
        "rng": rng_state(),
        "rng_ranks": rng_ranks,  # under torchrun: every rank's states, in rank order
        "config": config or {},
        "vocab": tokenizer_tokens(vocab) if vocab is not None else None,
        "tokenizer": tokenizer_settings(vocab) if vocab is not None else None,
        "history": history.to_dict() if history is not None else None,
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def tokenizer_tokens(tokenizer) -> list[str]:
    """The tokenizer's vocabulary as a plain list (token ``i`` at ``i``): stored in checkpoint.pt."""
    if hasattr(tokenizer, "idx_to_token"):
        return list(tokenizer.idx_to_token)
    return list(tokenizer.vocabulary())


def tokenizer_settings(tokenizer) -> dict:
    """What rebuilds the tokenizer with its vocabulary, as plain data: its kind and normalization
    flags (never a pickled object: ``torch.load(weights_only=True)`` reads it back)."""
    if hasattr(tokenizer, "idx_to_token"):
        return {"kind": "d2l"}
    return {"kind": "wordpiece", **tokenizer.settings()}


def tokenizer_from_checkpoint(payload: dict, file: Path):
    """The run's tokenizer: d2l's ``Vocab`` or the model's ``WordPiece``; None if none was saved."""
    from bertnli.model.vocab import Vocab

    tokens, settings = payload.get("vocab"), payload.get("tokenizer") or {"kind": "d2l"}
    if not tokens:
        return None
    kind = settings.get("kind") if isinstance(settings, dict) else None
    if kind == "d2l":
        return Vocab(tokens)
    if kind == "wordpiece":
        from bertnli.model.wordpiece import WordPiece

        return WordPiece.from_vocabulary(tokens, settings, source=file)
    raise ValueError(
        f"{file}: the field 'tokenizer' names the kind {kind!r}; this bertnli reads 'd2l' and "
        "'wordpiece' (fine-tune again, or update bertnli)"
    )


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """A checkpoint's contents (a run folder or its ``checkpoint.pt``), tensors and plain data only."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no fine-tuning checkpoint here; train first "
            "(python -m bertnli finetune --out DIR) or check the path"
        )
    if not zipfile.is_zipfile(path):  # torch.save's format is a zip archive
        raise ValueError(
            f"{path}: not a readable PyTorch checkpoint (not torch.save's zip format); fine-tune again"
        )
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.findall(r"Unsupported global: GLOBAL [\w.]+", str(err))[:1]  # name what it holds
        raise ValueError(
            f"{path}: refusing to load it: it holds Python objects, not only tensors and plain data "
            "(a checkpoint from an older bertnli, or not a bertnli checkpoint), and loading those "
            "could run code. Fine-tune again to get a safe checkpoint."
            + (f" ({found[0]})" if found else "")
        ) from None
    except (RuntimeError, EOFError) as err:
        raise ValueError(
            f"{path}: not a readable PyTorch checkpoint ({err}); fine-tune again"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(
            f"{path}: not a bertnli fine-tuning checkpoint (format {FORMAT}); fine-tune again"
        )
    return payload


def read_run(path: str | Path) -> dict:
    """A run folder's ``run.json``: ``config``, ``model_description``, ``vocab_size``, ``epoch``."""
    path = Path(path)
    if path.is_file():
        raise ValueError(
            f"{path}: this is a file; give the run folder that holds it "
            f"({path.parent if str(path.parent) != '.' else 'the folder written by finetune --out'})"
        )
    file = path / RUN_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such folder; give a run folder written by python -m bertnli finetune --out"
        )
    if not file.is_file():
        raise FileNotFoundError(
            f"{file}: no run settings here; is {path} a folder written by "
            "python -m bertnli finetune --out?"
        )
    try:
        settings = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{file}: not valid JSON ({err}); fine-tune again") from None
    if not isinstance(settings, dict) or not isinstance(settings.get("config", {}), dict):
        raise ValueError(f"{file}: not a bertnli run description (no config); fine-tune again")
    return settings


def run_profile(path: str | Path) -> dict:
    """The profile settings a run folder's ``run.json`` records (what the command line needs to
    evaluate, predict or resume it)."""
    file = Path(path) / RUN_FILE
    profile = read_run(path).get("config", {}).get("profile")
    if not isinstance(profile, dict):
        raise ValueError(
            f"{file}: records no profile (data, max_len, truncation): the run was saved by the "
            "Python API (fine_tune with a checkpoint_dir), not by `python -m bertnli finetune --out`. "
            "Use it from Python (model_from_checkpoint, evaluate, predict), or fine-tune it with "
            "the command line"
        )
    return profile


def describe_run(path: str | Path) -> str | None:
    """A one-line description of the run saved in ``path`` (epochs, profile, accuracy), or None
    when the folder holds no run. Never raises on damaged files: they are a run too."""
    path = Path(path)
    found = [name for name in (CHECKPOINT_FILE, RUN_FILE, HISTORY_FILE) if (path / name).exists()]
    if not found:
        return None
    epochs, profile, accuracy = None, None, None
    try:
        settings = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        epochs = settings.get("epoch")
        recorded = (settings.get("config") or {}).get("profile") or {}
        profile = (
            f"profile {recorded.get('name')}, model {recorded.get('model')}" if recorded else None
        )
    except (OSError, ValueError, AttributeError):
        pass
    try:
        history = json.loads((path / HISTORY_FILE).read_text(encoding="utf-8"))
        records = history.get("epochs") or []
        epochs = epochs if epochs is not None else len(records)
        last = records[-1] if records else {}
        test = (
            history.get("test_acc") if history.get("test_acc") is not None else last.get("test_acc")
        )
        dev = last.get("valid_acc")
        number = lambda x: isinstance(x, (int, float))  # noqa: E731
        accuracy = (
            ", ".join(
                filter(
                    None,
                    [
                        f"dev accuracy {dev:.3f}" if number(dev) else None,
                        f"test accuracy {test:.3f}" if number(test) else None,
                    ],
                )
            )
            or None
        )
        if history.get("interrupted"):
            accuracy = ", ".join(filter(None, [accuracy, "interrupted"]))
    except (OSError, ValueError, AttributeError, IndexError):
        pass
    parts = [f"{epochs} finished epoch(s)" if epochs is not None else None, profile, accuracy]
    details = "; ".join(p for p in parts if p) or "files " + ", ".join(found)
    return f"a run in {path} ({details})"


def check_run_folder(path: str | Path, *, resume: bool, overwrite: bool, cli: bool = False) -> None:
    """Before any work: refuse to start over a saved run (unless ``overwrite``), and refuse to
    resume a folder that holds none. ``cli`` words the advice as command-line flags."""
    resume_flag, overwrite_flag = (
        ("--resume", "--overwrite") if cli else ("resume=True", "overwrite=True")
    )
    rules.check_out_flags(path, resume, overwrite, rules.CLI if cli else rules.PYTHON)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path}: this is a file, not a folder; choose a folder for the run")
    found = describe_run(path)
    if resume:
        if not (path / CHECKPOINT_FILE).is_file():
            where = f"holds {found} but no {CHECKPOINT_FILE}" if found else "holds no saved run"
            raise FileNotFoundError(
                f"{path} {where}, so there is nothing to resume. Start a new run without "
                f"{resume_flag}"
                + (" (the interrupted run had not finished an epoch)" if not found else "")
            )
    elif found and not overwrite:
        raise RunExistsError(
            errno.EEXIST,
            f"{path} already holds {found}. To continue it, add {resume_flag}; "
            f"to replace it, add {overwrite_flag}; or choose another folder",
            path,
        )


def check_writable(path: str | Path) -> None:
    """Create the run folder and write (then remove) a probe file, so that a folder where
    nothing can be saved is found before training, not after the first epoch."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(path) from err
        raise NotWritableError(
            errno.EACCES,
            f"{path}: cannot save the run there ({err.strerror or err}); "
            "choose a folder you can write to",
            path,
        ) from None


def check_same_run(saved: dict, config: dict, where: str | Path, *, cli: bool = False) -> None:
    """Refuse to resume with settings that change what the run is (``IDENTITY`` and the seed),
    naming each; ``saved`` and ``config`` are run configs (``{"profile": {...}, "seed": N}``)."""
    old, new = saved.get("profile") or {}, config.get("profile") or {}
    names = [name for name in IDENTITY if name in old and name in new]
    pairs = [(name, old[name], new[name]) for name in names]
    if "seed" in saved and "seed" in config:
        pairs.append(("seed", saved["seed"], config["seed"]))
    sources = {
        line.split("=", 1)[0]: line.rsplit(" (", 1)[-1].rstrip(")")  # "max_len=32 (--max-len)"
        for line in new.get("overrides") or ()
        if " (" in line
    }
    flag = lambda name: "--" + name.replace("_", "-") if cli else None  # noqa: E731
    changed = [
        f"{name} {theirs!r} -> {ours!r}"
        + (f" ({sources.get(name) or flag(name)})" if cli or name in sources else "")
        for name, theirs, ours in pairs
        if theirs != ours
    ]
    if changed:
        again = (
            "another --out, or --overwrite" if cli else "another checkpoint_dir, or overwrite=True"
        )
        raise ValueError(
            f"{where}: resuming cannot change what the run is: "
            + "; ".join(changed)
            + f" (the run's value -> the one given now). Resume without them to continue the run, "
            f"or start a new run with them ({again})"
        )


HOLDER_WAIT_S = 2.0  # the holder writes its file right after taking the lock: wait this long for it


def _holder(path: Path) -> str:
    """Who holds a run folder's lock, in words, from its holder file. A run that has just taken
    the lock writes that file a moment later, so a missing file is waited for, briefly."""
    deadline = time.monotonic() + HOLDER_WAIT_S
    while True:
        try:
            who = json.loads((path / HOLDER_FILE).read_text(encoding="utf-8"))
            return f"process {who['pid']} on {who['host']}, started {who['started']}" + (
                f", running: {who['command']}" if who.get("command") else ""
            )
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return "another process (it has not said which yet)"
            time.sleep(0.05)


def _command_line() -> str:
    """This process's command, as a person would recognize it (``bertnli finetune --out x``)."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    name = program.parent.name if program.name == "__main__.py" else program.name
    return " ".join([name, *sys.argv[1:]])


_held: dict[str, int] = {}  # run folders this process holds, and how many holds on each


@contextmanager
def hold_run_folder(path: str | Path, made: bool | None = None) -> Iterator[None]:
    """Hold ``path``'s lock while the block runs: a second run into the folder (another
    process, or another call here) is refused at once with :class:`RunInUseError` naming
    the holder. Nested holds in one process are one hold. The lock and holder files are
    removed at the end, and the folder too if this made it (or ``made`` says the caller
    did) and it stayed empty."""
    path = Path(path)
    key = os.path.abspath(path)
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    made = not path.exists() if made is None else made
    check_writable(path)
    lock = filelock.FileLock(str(path / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RunInUseError(
            errno.EBUSY,
            f"{path} is in use: a run is training into it now ({_holder(path)}). "
            "Wait for it to finish (or stop it), or choose another folder",
            path,
        ) from None
    _held[key] = 1
    try:
        write_json(
            path / HOLDER_FILE,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "command": _command_line(),
            },
        )
        yield
    finally:
        del _held[key]
        (path / HOLDER_FILE).unlink(missing_ok=True)
        (path / LOCK_FILE).unlink(
            missing_ok=True
        )  # a waiting run re-checks the folder under its lock
        lock.release()
        if made:
            try:
                path.rmdir()  # only if empty: a run that saved nothing leaves no folder behind
            except OSError:
                pass


def check_same_architecture(model: nn.Module, theirs: dict | None, where: Path) -> None:
    """Refuse to load weights trained with another architecture, naming the differences."""
    ours = describe_model(model)
    if theirs is None or ours is None:
        return

    def flat(d: dict) -> dict:
        return {
            **{f"bert.{k}": v for k, v in d["bert"].items()},
            **{k: v for k, v in d.items() if k != "bert"},
        }

    try:
        b = flat(theirs)
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{where}: its model_description is incomplete (field {err} missing or malformed); "
            "fine-tune again"
        ) from None
    a = flat(ours)
    diffs = [
        f"{k}: model {a.get(k)} vs checkpoint {b.get(k)}"
        for k in sorted(a.keys() | b.keys())
        if a.get(k) != b.get(k) and k not in ("bert.dropout", "dropout")
    ]
    if diffs:
        raise ValueError(
            f"{where}: the checkpoint was trained with a different architecture; "
            + "; ".join(diffs)
        )


def checkpoint_field(payload: dict, key: str, file: Path):
    """``payload[key]``, or a ValueError naming the file and the missing field (not a bare KeyError)."""
    if key not in payload or payload[key] is None:
        raise ValueError(
            f"{file}: the field {key!r} is missing (a damaged or hand-edited checkpoint, or one saved "
            "without it); fine-tune again"
        )
    return payload[key]


def model_from_checkpoint(path: str | Path, device=None):
    """Rebuild ``(classifier, tokenizer, payload)`` from a run folder or checkpoint file (the
    tokenizer: d2l's ``Vocab`` or the model's ``WordPiece``, rebuilt from plain data)."""
    from bertnli.model.classifier import BERTClassifier

    payload = load_checkpoint(path)
    file = Path(path) / CHECKPOINT_FILE if Path(path).is_dir() else Path(path)
    try:
        model = BERTClassifier.from_description(
            checkpoint_field(payload, "model_description", file)
        )
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"{file}: its model_description lacks the field {err} (a damaged or hand-edited "
            "checkpoint); fine-tune again"
        ) from None
    model.load_state_dict(checkpoint_field(payload, "model", file))
    vocab = tokenizer_from_checkpoint(payload, file)
    return model.to(device or "cpu").eval(), vocab, payload


# ----------------------------------------------------------------------------- a run folder


@dataclass
class RunFolder:
    """Where ``fine_tune`` saves each finished epoch and resumes from.

    ``config`` (e.g. ``{"profile": ..., "seed": ...}``) goes to ``run.json``, and so does
    ``record`` (the command line's and ``finetune_job``'s ``spec`` and ``resumes``); ``vocab`` is
    saved so the model can be used later (``evaluate``, ``predict``). Both are optional.
    ``settings`` are the caller's part of a segment (e.g. ``batch_size``, ``num_workers``):
    ``run.json`` and ``history.json`` list the run's ``segments``, the settings each
    stretch of epochs ran with (a resume that changes them starts a new one).
    """

    path: Path
    config: dict = field(default_factory=dict)
    vocab: Vocab | None = None
    settings: dict = field(
        default_factory=dict
    )  # how this session runs (batch size, workers): segments
    record: dict = field(
        default_factory=dict
    )  # run.json's extra keys: the run's spec and its resumes

    def __post_init__(self):
        self.path = Path(self.path)

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def exists(self) -> bool:
        return self.checkpoint.is_file()

    def save(
        self,
        model: nn.Module,
        optimizer,
        scaler,
        epoch: int,
        history: History,
        rng_ranks: list[dict] | None = None,
    ) -> None:
        """Checkpoint first, then the small files that describe it. ``rng_ranks``: every
        rank's RNG states, under torchrun (rank 0's alone are not the others')."""
        save_checkpoint(
            self.checkpoint,
            model,
            optimizer,
            scaler,
            epoch,
            history,
            self.config,
            self.vocab,
            rng_ranks=rng_ranks,
        )
        write_json(
            self.path / RUN_FILE,
            {
                "format": FORMAT,
                "epoch": epoch,
                "config": self.config,
                "model_description": describe_model(model),
                "vocab_size": len(self.vocab) if self.vocab is not None else None,
                "segments": list(history.segments),
                **self.record,
            },
        )
        history.save(self.path / HISTORY_FILE)

    def restore(
        self, model: nn.Module, optimizer, scaler, rank: int = 0, world_size: int = 1
    ) -> tuple[int, dict]:
        """Load weights, optimizer, scaler and RNG states (``rank``'s own, when the run saved
        every rank's with this ``world_size``); returns ``(epoch, history dict)``.

        Read onto the CPU: the RNG states must stay there (``torch.set_rng_state`` takes a
        CPU tensor), and ``load_state_dict`` copies weights and optimizer state onto the
        device of the parameters anyway."""
        payload = load_checkpoint(self.checkpoint)
        check_same_run(payload.get("config") or {}, self.config, self.checkpoint)
        check_same_architecture(model, payload.get("model_description"), self.checkpoint)
        if (
            self.vocab is not None
            and payload.get("vocab")
            and tokenizer_tokens(self.vocab) != payload["vocab"]
        ):
            raise ValueError(
                f"{self.checkpoint}: the run was trained with another vocabulary ({len(payload['vocab'])} "
                f"tokens) than this model's ({len(self.vocab)}); resume with the run's own --model"
            )
        for key in ("model", "optimizer", "rng", "epoch"):
            checkpoint_field(payload, key, self.checkpoint)
        unwrap(model).load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        if payload.get("scaler") and scaler.is_enabled():
            scaler.load_state_dict(payload["scaler"])
        ranks = payload.get("rng_ranks")
        try:
            set_rng_state(
                ranks[rank]
                if isinstance(ranks, list) and len(ranks) == world_size
                else payload["rng"]
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"{self.checkpoint}: its random-number states ('rng') are incomplete ({err}); "
                "fine-tune again"
            ) from None
        return payload["epoch"], payload.get("history") or {}
