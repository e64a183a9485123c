"""Fine-tuning: the training loop, its history, checkpoints, evaluation and prediction.

One loop serves a laptop CPU, one CUDA GPU, Apple's MPS and several GPUs. For several
GPUs, launch with ``torchrun``: when ``torch.distributed`` is initialised the model is
wrapped in DistributedDataParallel, each rank reads its own share of the batches (see
``make_loader``), and rank 0 alone prints and writes files.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ._jupyter import in_kernel, progress_bar
from .classifier import BERTClassifier
from .model import devices
from .packing import pack_pair, tokenize_text
from .snli import LABELS

CHECKPOINT_FILE = "checkpoint.pt"
HISTORY_FILE = "history.json"

MEMORY_HINT = ("out of GPU memory. Lower the memory a step needs: a smaller --batch-size (e.g. half), "
               "a smaller --max-len (SNLI pairs rarely need more than 64 tokens), or mixed precision "
               "(--amp, on by default on CUDA).")


# ----------------------------------------------------------------------------- history

@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    test_acc: float | None
    examples_per_sec: float
    seconds: float
    device: str


@dataclass
class History:
    """One record per finished epoch; saved as JSON next to the checkpoint."""

    epochs: list[EpochRecord] = field(default_factory=list)
    interrupted: bool = False

    def to_dict(self) -> dict:
        return {"epochs": [asdict(e) for e in self.epochs], "interrupted": self.interrupted}

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls([EpochRecord(**e) for e in data.get("epochs", [])], bool(data.get("interrupted", False)))

    def save(self, path: str | Path) -> None:
        data = json.dumps(self.to_dict(), indent=2).encode()
        _atomic_write(Path(path), lambda tmp: tmp.write_bytes(data))

    @classmethod
    def load(cls, path: str | Path) -> "History":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __getitem__(self, key: str) -> list:
        """``history["test_acc"]``: one column as a list."""
        return [getattr(e, key) for e in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    def summary(self) -> str:
        if not self.epochs:
            return "no epoch finished"
        e = self.epochs[-1]
        test = f"{e.test_acc:.3f}" if e.test_acc is not None else "n/a"
        return (f"loss {e.train_loss:.3f}, train acc {e.train_acc:.3f}, test acc {test}, "
                f"{e.examples_per_sec:,.1f} examples/sec on {e.device}")


# ----------------------------------------------------------------------------- helpers

def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary sibling, then rename it over ``path``: a reader sees the old
    file or the new one, never half of one, and a failed write leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _is_main_process() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        world = dist.get_world_size() if _is_distributed() else 1
        return f"{world} x {name}" if world > 1 else name
    if device.type == "cpu":
        world = f"{dist.get_world_size()} processes x " if _is_distributed() else ""
        return f"{world}CPU ({torch.get_num_threads()} threads)"
    return str(device)


def default_device() -> torch.device:
    if _is_distributed() and torch.cuda.is_available():
        return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    if _is_distributed():
        return torch.device("cpu")
    return devices()[0]


def _amp_dtype(device: torch.device, amp: bool | None) -> torch.dtype | None:
    """Mixed precision on CUDA (bf16 where supported, else fp16); off elsewhere unless asked."""
    if amp is False or (amp is None and device.type != "cuda"):
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16  # explicitly asked for on CPU/MPS


def _to(batch, device: torch.device):
    X, y = batch
    non_blocking = device.type == "cuda"
    return [x.to(device, non_blocking=non_blocking) for x in X], y.to(device, non_blocking=non_blocking)


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _set_epoch(loader, epoch: int) -> None:
    """Reshuffle deterministically per epoch (bucketed or distributed samplers)."""
    for sampler in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def make_optimizer(model: nn.Module, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where this PyTorch supports it for the device
    (CUDA, and CPU since 2.4); the plain per-parameter loop elsewhere. Same maths."""
    if device.type in ("cuda", "cpu"):
        try:
            return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.Adam(model.parameters(), lr=lr)


def _unwrap(model: nn.Module) -> nn.Module:
    model = getattr(model, "_orig_mod", model)      # torch.compile
    return getattr(model, "module", model)          # DistributedDataParallel


# ----------------------------------------------------------------------------- checkpoints

def save_checkpoint(path: str | Path, model: nn.Module, optimizer=None, scaler=None, epoch: int = 0,
                    history: History | None = None, config: dict | None = None, vocab=None) -> None:
    """Everything needed to resume or to use the model, written atomically."""
    core = _unwrap(model)
    payload = {
        "format": "bertnli-finetune-1",
        "model": core.state_dict(),
        "model_description": core.describe() if hasattr(core, "describe") else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "epoch": epoch,
        "rng": _rng_state(),
        "config": config or {},
        "vocab": list(vocab.idx_to_token) if vocab is not None else None,
        "history": history.to_dict() if history is not None else None,
    }
    _atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no fine-tuning checkpoint here; train first "
                                "(python -m bertnli finetune --out DIR) or check the path")
    payload = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != "bertnli-finetune-1":
        raise ValueError(f"{path}: not a bertnli fine-tuning checkpoint")
    return payload


def _check_same_architecture(model: nn.Module, payload: dict, path: Path) -> None:
    theirs = payload.get("model_description")
    core = _unwrap(model)
    ours = core.describe() if hasattr(core, "describe") else None
    if theirs is None or ours is None:
        return
    flat = lambda d: {**{f"bert.{k}": v for k, v in d["bert"].items()},  # noqa: E731
                      **{k: v for k, v in d.items() if k != "bert"}}
    a, b = flat(ours), flat(theirs)
    diffs = [f"{k}: model {a.get(k)} vs checkpoint {b.get(k)}" for k in sorted(a.keys() | b.keys())
             if a.get(k) != b.get(k) and k not in ("bert.dropout", "dropout")]
    if diffs:
        raise ValueError(f"{path}: the checkpoint was trained with a different architecture; " + "; ".join(diffs))


def model_from_checkpoint(path: str | Path, device=None):
    """Rebuild ``(classifier, vocab, payload)`` from a fine-tuning checkpoint."""
    from .vocab import Vocab

    payload = load_checkpoint(path)
    model = BERTClassifier.from_description(payload["model_description"])
    model.load_state_dict(payload["model"])
    vocab = Vocab(payload["vocab"]) if payload.get("vocab") else None
    return model.to(device or "cpu").eval(), vocab, payload


# ----------------------------------------------------------------------------- loop

def fine_tune(model: nn.Module, train_loader: Iterable, test_loader: Iterable | None, *, epochs: int = 5,
              lr: float = 1e-4, device: str | torch.device | None = None, amp: bool | None = None,
              compile: bool = False, checkpoint_dir: str | Path | None = None, resume: bool = False,
              seed: int = 0, callbacks: Sequence[Callable[[History], None]] = (),
              vocab=None, config: dict | None = None, progress: bool | None = None) -> History:
    """Fine-tune ``model`` with Adam and cross-entropy; returns the per-epoch :class:`History`.

    Defaults are the reference run's (Adam, lr 1e-4, 5 epochs). ``amp=None`` turns mixed
    precision on for CUDA only. With ``checkpoint_dir`` every finished epoch is saved
    atomically (model, optimizer, scaler, epoch, RNG states, ``config``, ``vocab``) and
    ``resume=True`` continues from it. Ctrl-C stops after the last saved epoch.
    """
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if len(train_loader) == 0:  # type: ignore[arg-type]
        raise ValueError("train_loader yields no batch: the training set is empty, or smaller than one batch "
                         "with drop_last=True; use more data, a smaller batch_size or drop_last=False")
    torch.manual_seed(seed)
    main = _is_main_process()
    model = model.to(device)
    amp_dtype = _amp_dtype(device, amp)
    use_scaler = amp_dtype == torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    optimizer = make_optimizer(model, lr, device)

    history, start_epoch = History(), 0
    ckpt_path = Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None
    if resume:
        if ckpt_path is None:
            raise ValueError("resume=True needs checkpoint_dir")
        if ckpt_path.exists():
            payload = load_checkpoint(ckpt_path, map_location=device)
            _check_same_architecture(model, payload, ckpt_path)
            model.load_state_dict(payload["model"])
            optimizer.load_state_dict(payload["optimizer"])
            if payload.get("scaler") and use_scaler:
                scaler.load_state_dict(payload["scaler"])
            _set_rng_state(payload["rng"])
            start_epoch = payload["epoch"]
            history = History.from_dict(payload.get("history") or {})
            if main:
                print(f"resuming from {ckpt_path} after epoch {start_epoch}")

    train_model: nn.Module = model
    if _is_distributed():
        ids = [device.index] if device.type == "cuda" else None
        train_model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if compile:
        train_model = torch.compile(train_model)

    notebook = in_kernel() if progress is None else progress
    described = describe_device(device)
    try:
        for epoch in range(start_epoch, epochs):
            _set_epoch(train_loader, epoch)
            record = _train_one_epoch(train_model, train_loader, optimizer, scaler, device, amp_dtype,
                                      epoch, epochs, notebook and main)
            test_acc = evaluate(model, test_loader, device=device, amp=amp)["accuracy"] if test_loader else None
            rec = EpochRecord(epoch + 1, record["loss"], record["acc"], test_acc,
                              record["examples"] / max(record["seconds"], 1e-9), record["seconds"], described)
            history.epochs.append(rec)
            if main:
                test = f"{test_acc:.3f}" if test_acc is not None else "n/a"
                print(f"epoch {epoch + 1}/{epochs}: loss {rec.train_loss:.3f}, train acc {rec.train_acc:.3f}, "
                      f"test acc {test}, {rec.examples_per_sec:,.1f} examples/sec, {rec.seconds:.1f}s "
                      f"on {described}", flush=True)
                if ckpt_path is not None:
                    save_checkpoint(ckpt_path, model, optimizer, scaler, epoch + 1, history, config, vocab)
                    history.save(ckpt_path.parent / HISTORY_FILE)
            for callback in callbacks:
                callback(history)
    except KeyboardInterrupt:
        history.interrupted = True
        if main:
            where = f"; the checkpoint in {ckpt_path.parent} holds epoch {len(history)}" if ckpt_path else ""
            print(f"stopped by Ctrl-C after {len(history)} finished epoch(s){where}. "
                  "Call again with resume=True to continue.", flush=True)
    except torch.cuda.OutOfMemoryError as err:
        raise RuntimeError(f"{MEMORY_HINT} ({err})") from err
    return history


def _train_one_epoch(model, loader, optimizer, scaler, device, amp_dtype, epoch, epochs, show_bar) -> dict:
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    examples = 0
    bar = None
    if show_bar:
        bar = progress_bar(total=len(loader), desc=f"epoch {epoch + 1}/{epochs}", leave=False)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for batch in loader:
        X, y = _to(batch, device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(*X)
            loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total_loss += loss.detach() * y.shape[0]
        correct += (logits.argmax(dim=1) == y).sum()
        examples += y.shape[0]
        if bar is not None:
            bar.update(1)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    stats = torch.stack([total_loss.float(), correct.float(), torch.tensor(float(examples), device=device)])
    if _is_distributed():
        dist.all_reduce(stats)  # every rank reports the global numbers
    loss_sum, n_correct, n = stats.tolist()
    return {"loss": loss_sum / max(n, 1), "acc": n_correct / max(n, 1), "examples": n, "seconds": seconds}


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, *, device=None, amp: bool | None = None) -> dict:
    """Accuracy, mean loss and the confusion matrix (rows: true label, columns: predicted)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    amp_dtype = _amp_dtype(device, amp)
    was_training = model.training
    model.eval()
    num_classes = getattr(_unwrap(model), "num_classes", len(LABELS))
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long, device=device)
    loss_sum = torch.zeros((), device=device)
    for batch in loader:
        X, y = _to(batch, device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(*X).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        confusion += torch.bincount(y * num_classes + logits.argmax(1), minlength=num_classes ** 2).view(
            num_classes, num_classes)
    if _is_distributed():
        dist.all_reduce(confusion)
        dist.all_reduce(loss_sum)
    model.train(was_training)
    n = int(confusion.sum())
    return {"accuracy": float(confusion.diag().sum()) / n if n else math.nan,
            "loss": float(loss_sum) / n if n else math.nan,
            "confusion": confusion.cpu().tolist(), "examples": n}


@torch.no_grad()
def predict(model: nn.Module, vocab, premise: str, hypothesis: str, *, max_len: int = 128,
            truncation: str = "longest_first") -> tuple[str, list[float]]:
    """Classify one pair: ``(label, [p_entailment, p_contradiction, p_neutral])``."""
    p_tokens, h_tokens = tokenize_text(premise), tokenize_text(hypothesis)
    tokens, segments = pack_pair(p_tokens, h_tokens, max_len, truncation=truncation)
    device = next(model.parameters()).device
    X = (torch.tensor([vocab[tokens]], device=device), torch.tensor([segments], device=device),
         torch.tensor([len(tokens)], device=device))
    was_training = model.training
    model.eval()
    probs = torch.softmax(model(*X).float(), dim=1)[0].tolist()
    model.train(was_training)
    return LABELS[int(np.argmax(probs))], probs
