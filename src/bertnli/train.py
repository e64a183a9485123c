"""Fine-tuning: the training loop and its per-epoch :class:`History`.

One loop serves a laptop CPU, one CUDA GPU, Apple's MPS and several processes under
``torchrun``. Where it runs comes from one :class:`~bertnli.distributed.DistInfo` (or a
plain device for a world of one): with several processes the model is wrapped in
DistributedDataParallel, each rank reads its own share of every step (see
``make_loader``), and rank 0 alone prints and writes the run folder
(:class:`~bertnli.checkpoint.RunFolder`). Evaluation lives in ``inference``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._jupyter import in_kernel, progress_bar
from .checkpoint import HISTORY_FILE, RunFolder, atomic_write
from .distributed import DistInfo, amp_dtype, as_dist
from .inference import evaluate, to_device

BAR_SECONDS = 1.0  # progress bars refresh at most this often
MEMORY_HINT = ("out of GPU memory. Lower the memory a step needs: a smaller --batch-size (e.g. half), "
               "a smaller --max-len (SNLI pairs rarely need more than 64 tokens), or mixed precision "
               "(--amp, on by default on CUDA).")


# ----------------------------------------------------------------------------- history

@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    test_acc: float | None      # per epoch only without a dev set (the old form); else None
    examples_per_sec: float
    seconds: float
    device: str
    valid_acc: float | None = None  # dev accuracy after this epoch


@dataclass
class History:
    """One record per finished epoch (dev accuracy in ``valid_acc``) and the test accuracy,
    measured once after the last epoch (``test_acc``); saved as JSON next to the checkpoint."""

    epochs: list[EpochRecord] = field(default_factory=list)
    interrupted: bool = False
    test_acc: float | None = None

    def to_dict(self) -> dict:
        return {"epochs": [asdict(e) for e in self.epochs], "interrupted": self.interrupted,
                "test_acc": self.test_acc}

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls([EpochRecord(**e) for e in data.get("epochs", [])], bool(data.get("interrupted", False)),
                   data.get("test_acc"))

    def save(self, path: str | Path) -> None:
        atomic_write(path, json.dumps(self.to_dict(), indent=2))

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
        test = self.test_acc if self.test_acc is not None else e.test_acc
        dev = f", dev acc {e.valid_acc:.3f}" if e.valid_acc is not None else ""
        return (f"loss {e.train_loss:.3f}, train acc {e.train_acc:.3f}{dev}, "
                f"test acc {f'{test:.3f}' if test is not None else 'n/a'}, "
                f"{e.examples_per_sec:,.1f} examples/sec on {e.device}")


# ----------------------------------------------------------------------------- setup

def make_optimizer(model: nn.Module, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where this PyTorch supports it for the device
    (CUDA, and CPU since 2.4); the plain per-parameter loop elsewhere. Same maths."""
    if device.type in ("cuda", "cpu"):
        try:
            return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.Adam(model.parameters(), lr=lr)


def want_progress(progress: bool | None) -> bool:
    """Whether to draw progress bars: as asked, else when someone watches (stderr is a
    terminal, or a Jupyter kernel). ``TQDM_DISABLE=1`` (tqdm's own switch, which the book
    build sets) turns them off either way."""
    import os

    if os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
        return False
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() or in_kernel()


def _set_epoch(loader, epoch: int) -> None:
    """Reshuffle deterministically per epoch (bucketed or distributed samplers)."""
    for sampler in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


# ----------------------------------------------------------------------------- loop

def fine_tune(model: nn.Module, train_loader: Iterable, test_loader: Iterable | None, *, epochs: int = 5,
              lr: float = 1e-4, device: str | torch.device | DistInfo | None = None, amp: bool | None = None,
              compile: bool = False, checkpoint_dir: str | Path | RunFolder | None = None, resume: bool = False,
              seed: int = 0, callbacks: Sequence[Callable[[History], None]] = (),
              progress: bool | None = None, valid_loader: Iterable | None = None) -> History:
    """Fine-tune ``model`` with Adam and cross-entropy; returns the per-epoch :class:`History`.

    Defaults are the reference run's (Adam, lr 1e-4, 5 epochs). With ``valid_loader``
    (SNLI's dev split) its accuracy is recorded after every epoch and the test set is
    measured once, after the last epoch (``history.test_acc``): choosing epochs or
    settings by the test set would make its accuracy an optimistic estimate. Without
    it, the test accuracy is recorded every epoch, as the reference does.

    ``device`` is a device (default: the first usable accelerator) or, under torchrun,
    the job's ``DistInfo``. ``amp=None`` turns mixed precision on for CUDA only. With
    ``checkpoint_dir`` (a path, or a ``RunFolder`` carrying the run's config and
    vocabulary) every finished epoch is saved atomically and ``resume=True`` continues
    from it; ``callbacks`` are called after every epoch, and once after resuming.
    ``progress`` shows a bar per epoch (batches, examples/s, running loss) on rank 0;
    ``None`` means: when stderr is a terminal or in a notebook, unless ``TQDM_DISABLE``
    is set. Ctrl-C stops after the last finished epoch.
    """
    info = as_dist(device)
    if info.device.type == "cuda":
        torch.cuda.set_device(info.device)
    if len(train_loader) == 0:  # type: ignore[arg-type]
        raise ValueError("train_loader yields no batch: the training set is empty, or smaller than one batch "
                         "with drop_last=True; use more data, a smaller batch_size or drop_last=False")
    torch.manual_seed(seed)
    model = model.to(info.device)
    dtype = amp_dtype(info.device, amp)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    optimizer = make_optimizer(model, lr, info.device)

    run = RunFolder(checkpoint_dir) if isinstance(checkpoint_dir, (str, Path)) else checkpoint_dir
    history, start_epoch = History(), 0
    if resume:
        if run is None:
            raise ValueError("resume=True needs checkpoint_dir")
        if run.exists():
            start_epoch, saved = run.restore(model, optimizer, scaler, map_location=info.device)
            history = History.from_dict(saved)
            info.print(f"resuming from {run.checkpoint} after epoch {start_epoch}")
            for callback in callbacks:  # e.g. redraw the curve of the epochs already done
                callback(history)

    train_model: nn.Module = model
    if info.is_distributed:
        ids = [info.device.index] if info.device.type == "cuda" else None
        train_model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if compile:
        train_model = torch.compile(train_model)

    show_bar = want_progress(progress) and info.is_main
    described = info.describe()
    try:
        for epoch in range(start_epoch, epochs):
            _set_epoch(train_loader, epoch)
            stats = _train_one_epoch(train_model, train_loader, optimizer, scaler, info, dtype,
                                     f"epoch {epoch + 1}/{epochs}" if show_bar else None)
            watched = valid_loader if valid_loader is not None else test_loader
            acc = evaluate(model, watched, device=info, amp=amp)["accuracy"] if watched is not None else None
            record = EpochRecord(epoch + 1, stats["loss"], stats["acc"], None if valid_loader is not None else acc,
                                 stats["examples"] / max(stats["seconds"], 1e-9), stats["seconds"], described,
                                 valid_acc=acc if valid_loader is not None else None)
            history.epochs.append(record)
            name = "dev acc" if valid_loader is not None else "test acc"
            info.print(f"epoch {epoch + 1}/{epochs}: loss {record.train_loss:.3f}, train acc {record.train_acc:.3f}, "
                       f"{name} {f'{acc:.3f}' if acc is not None else 'n/a'}, {record.examples_per_sec:,.1f} "
                       f"examples/sec, {record.seconds:.1f}s on {described}", flush=True)
            if run is not None and info.is_main:
                run.save(model, optimizer, scaler, epoch + 1, history)
            for callback in callbacks:
                callback(history)
        if valid_loader is not None and test_loader is not None and len(history):
            history.test_acc = evaluate(model, test_loader, device=info, amp=amp)["accuracy"]
            info.print(f"test acc {history.test_acc:.3f} (measured once, after epoch {len(history)})", flush=True)
            if run is not None and info.is_main:
                history.save(run.path / HISTORY_FILE)
    except KeyboardInterrupt:
        history.interrupted = True
        where = f"; the checkpoint in {run.path} holds epoch {len(history)}" if run is not None else ""
        info.print(f"stopped by Ctrl-C after {len(history)} finished epoch(s){where}. "
                   "Call again with resume=True to continue.", flush=True)
    except torch.cuda.OutOfMemoryError as err:
        raise RuntimeError(f"{MEMORY_HINT} ({err})") from err
    return history


def _train_one_epoch(model: nn.Module, loader: Iterable, optimizer, scaler, info: DistInfo,
                     dtype: torch.dtype | None, bar_title: str | None) -> dict:
    """One pass over this rank's batches; loss and accuracy summed over all ranks."""
    device = info.device
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    examples = 0
    bar = None
    if bar_title is not None:
        # mininterval: at most one refresh a second, so a log file gets no more than a line a second
        bar = progress_bar(total=len(loader), desc=bar_title, unit="batch", leave=False, mininterval=BAR_SECONDS,
                           file=sys.stderr)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    shown = start
    for batch in loader:
        X, y = to_device(batch, device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(*X)                                           # [batch, num_classes]
            loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.detach() * y.shape[0]
        correct += (logits.argmax(dim=1) == y).sum()
        examples += y.shape[0]
        if bar is not None:
            now = time.perf_counter()
            if now - shown >= BAR_SECONDS:  # reading the loss waits for the GPU: once a second at most
                shown = now
                bar.set_postfix_str(f"loss {loss_sum.item() / examples:.3f}, "
                                    f"{examples * info.world_size / (now - start):,.0f} examples/s", refresh=False)
            bar.update(1)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    stats = torch.stack([loss_sum.float(), correct.float(), torch.tensor(float(examples), device=device)])
    n_loss, n_correct, n = info.all_reduce(stats).tolist()  # every rank reports the global numbers
    return {"loss": n_loss / max(n, 1), "acc": n_correct / max(n, 1), "examples": n, "seconds": seconds}
