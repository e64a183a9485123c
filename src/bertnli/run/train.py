"""Fine-tuning: the training loop and its per-epoch :class:`History`.

One loop serves a laptop CPU, one CUDA GPU, Apple's MPS and several processes under
``torchrun``. Where it runs comes from one :class:`~bertnli.distributed.DistInfo` (or a
plain device for a world of one): with several processes the model is wrapped in
DistributedDataParallel, each rank reads its own share of every step (see
``make_loader``), and rank 0 alone prints and writes the run folder
(:class:`~bertnli.run.checkpoint.RunFolder`). Evaluation lives in ``inference``.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from bertnli import hardware
from bertnli._jupyter import progress_bar, want_progress
from bertnli.distributed import DistInfo, as_dist
from bertnli.messages import text
from bertnli.run.checkpoint import (  # noqa: F401
    HISTORY_FILE,
    RunFolder,
    atomic_write,
    check_run_folder,
    check_writable,
    hold_run_folder,
    rng_state,
)
from bertnli.run.history import EpochRecord, History
from bertnli.run.inference import evaluate, to_device
from bertnli.run.rules import CLI
from bertnli.run.spec import TrainSettings, make_optimizer  # noqa: F401 (make_optimizer re-exported)

BAR_SECONDS = 1.0  # progress bars refresh at most this often
MEMORY_HINT = (
    "out of GPU memory. Lower the memory a step needs: a smaller --batch-size (e.g. half), "
    "a smaller --max-len (SNLI pairs rarely need more than 64 tokens), or mixed precision "
    "(--amp, on by default on CUDA)."
)
# Steps between two looks at the loss for NaN/inf in a single process (each look waits for the device).
CHECK_FINITE_EVERY = 20
# Steps between two looks, under torchrun, at whether any rank was asked to stop (Ctrl-C, SIGTERM):
# the ranks agree on it in one collective, so all of them stop at the same step.
CHECK_STOP_EVERY = 20
STOP_SIGNALS = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    **({signal.SIGHUP: "SIGHUP (the terminal closed)"} if hasattr(signal, "SIGHUP") else {}),
}


class Stopped(KeyboardInterrupt):
    """The run was asked to stop by a signal (``signum``): handled like Ctrl-C."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = int(signum)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run stopped and kept its last good checkpoint."""


# ----------------------------------------------------------------------------- setup


def _set_epoch(loader, epoch: int) -> None:
    """Reshuffle deterministically per epoch (bucketed or distributed samplers)."""
    for sampler in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


# ----------------------------------------------------------------------------- loop


def _holding_run_folder(function):
    """Hold the run folder's lock (``checkpoint.hold_run_folder``) for the whole call, on rank 0:
    a second run into the same folder is refused at once instead of overwriting this one."""

    @functools.wraps(function)
    def wrapper(
        model, train_loader, test_loader=None, settings=None, *, checkpoint_dir=None, **kwargs
    ):
        changes = {k: kwargs.pop(k) for k in list(kwargs) if k not in ("valid_loader", "callbacks")}
        settings = TrainSettings.make(settings, **changes)
        settings.validate(checkpoint_dir)  # every rule of the settings, once, before any work
        path = checkpoint_dir.path if isinstance(checkpoint_dir, RunFolder) else checkpoint_dir
        main = not isinstance(settings.device, DistInfo) or settings.device.is_main
        if path is not None and main:  # its words first (a file, no run, ...), then the lock
            check_run_folder(
                path,
                resume=settings.resume,
                overwrite=settings.overwrite,
                cli=settings.surface == CLI,
            )
        with hold_run_folder(path) if path is not None and main else nullcontext():
            return function(
                model, train_loader, test_loader, settings, checkpoint_dir=checkpoint_dir, **kwargs
            )

    return wrapper


@_holding_run_folder
def fine_tune(
    model: nn.Module,
    train_loader: Iterable,
    test_loader: Iterable | None = None,
    settings: TrainSettings | None = None,
    *,
    valid_loader: Iterable | None = None,
    checkpoint_dir: str | Path | RunFolder | None = None,
    callbacks: Sequence[Callable[[History], None]] = (),
    **changes,
) -> History:
    """Fine-tune ``model`` with Adam and cross-entropy; returns the per-epoch :class:`History`.

    ``settings`` (a :class:`~bertnli.run.spec.TrainSettings`, e.g. ``RunSpec.train_settings()``)
    says how; keywords change single settings (``epochs=``, ``lr=``, ``device=``, ``amp=``,
    ``compile=``, ``seed=``, ``progress=``, ``resume=``, ``overwrite=``, ``resume_command=``).
    Defaults are the reference run's (Adam, lr 1e-4, 5 epochs). With ``valid_loader``
    (SNLI's dev split) its accuracy is recorded after every epoch and the test set is
    measured once, after the last epoch (``history.test_acc``): choosing epochs or
    settings by the test set would make its accuracy an optimistic estimate. Without
    it, the test accuracy is recorded every epoch, as the reference does.

    ``device`` is a device (default: the first usable accelerator) or, under torchrun,
    the job's ``DistInfo``. ``amp=None`` turns mixed precision on for CUDA only. With
    ``checkpoint_dir`` (a path, or a ``RunFolder`` carrying the run's config and
    vocabulary) every finished epoch is saved atomically and ``resume=True`` continues
    from it; a folder that already holds a run is refused unless ``resume`` or
    ``overwrite``. ``callbacks`` are called after every epoch, and once after resuming.
    ``progress`` shows a bar per epoch (batches, examples/s, running loss) on rank 0;
    ``None`` means: when stderr is a terminal or in a notebook, unless ``TQDM_DISABLE``
    is set. Ctrl-C or SIGTERM stops the run (under torchrun every rank, at the same
    step), records ``history.interrupted`` (and ``stopped_by``) and says how to continue
    (``resume_command``: the caller's own words for it, e.g. the command line's). While
    it runs, the run folder is locked: a second run into it is refused at once. On
    resume, ``epochs``, ``lr``, ``device``, ``amp`` and ``progress`` apply from the next
    epoch (the restored optimizer takes ``lr``) and ``history.segments`` records them.
    A loss that becomes NaN or infinite stops the run with :class:`TrainingDiverged`,
    keeping the last good checkpoint.
    """
    s = settings  # made and checked by the wrapper (_holding_run_folder)
    epochs, lr, amp, resume, progress, resume_command = (
        s.epochs,
        s.lr,
        s.amp,
        s.resume,
        s.progress,
        s.resume_command,
    )
    info = as_dist(s.device)
    run = RunFolder(checkpoint_dir) if isinstance(checkpoint_dir, (str, Path)) else checkpoint_dir
    if run is not None and info.is_main:  # before any work: a folder where nothing can be saved
        check_writable(run.path)
    hardware.use_device(info.device)
    if len(train_loader) == 0:  # type: ignore[arg-type]
        raise ValueError(
            "train_loader yields no batch: the training set is empty, or smaller than one batch "
            "with drop_last=True; use more data, a smaller batch_size or drop_last=False"
        )
    torch.manual_seed(s.seed)
    model = model.to(info.device)
    dtype = hardware.amp_dtype(info.device, amp, hardware.encoder_width(model))
    scaler = hardware.grad_scaler(info.device, dtype)
    optimizer = s.optimization.make_optimizer(model, info.device)

    history, start_epoch = History(), 0
    if resume:
        start_epoch, saved = run.restore(model, optimizer, scaler, info.rank, info.world_size)
        s.optimization.apply(optimizer)  # the lr asked for now, not the one the run saved
        history = History.from_dict(saved)
        history.interrupted, history.stopped_by = False, None
        info.print(text("train.resuming", checkpoint=run.checkpoint, epoch=start_epoch))
        if start_epoch >= epochs:
            info.print(text("train.nothing_left", done=start_epoch, epochs=epochs))
        for callback in callbacks:  # e.g. redraw the curve of the epochs already done
            callback(history)
    saved_epoch = start_epoch if resume else None  # the epoch the run folder's checkpoint holds
    history.begin_segment(
        {
            "epochs": epochs,
            "lr": lr,
            "device": str(info.device),
            "world_size": info.world_size,
            "amp": str(dtype).removeprefix("torch.") if dtype is not None else None,
            "progress": bool(want_progress(progress)),
            **(run.settings if run is not None else {}),
        },
        start_epoch + 1,
    )

    train_model: nn.Module = model
    if info.is_distributed:
        train_model = nn.parallel.DistributedDataParallel(
            model, device_ids=hardware.ddp_device_ids(info.device)
        )
    if s.compile:
        train_model = torch.compile(train_model)

    show_bar = want_progress(progress) and info.is_main
    described = info.describe()
    info.print(
        text(
            "train.device", device=described, precision=hardware.precision_note(info.device, dtype)
        ),
        flush=True,
    )
    epoch = start_epoch
    step_hook = s.optimization.step_hook(optimizer)  # None for a constant learning rate
    stop = _StopRequest(info).listen()
    try:
        for epoch in range(start_epoch, epochs):
            _set_epoch(train_loader, epoch)
            stats = _train_one_epoch(
                train_model,
                train_loader,
                optimizer,
                scaler,
                info,
                dtype,
                f"epoch {epoch + 1}/{epochs}" if show_bar else None,
                stop,
                (step_hook, epoch * len(train_loader)) if step_hook is not None else None,
            )
            if stats["nonfinite"]:
                raise TrainingDiverged(_diverged_message(epoch + 1, lr, run, saved_epoch, dtype))
            watched = valid_loader if valid_loader is not None else test_loader
            acc = (
                evaluate(model, watched, device=info, amp=amp)["accuracy"]
                if watched is not None
                else None
            )
            record = EpochRecord(
                epoch + 1,
                stats["loss"],
                stats["acc"],
                None if valid_loader is not None else acc,
                stats["examples"] / max(stats["seconds"], 1e-9),
                stats["seconds"],
                described,
                valid_acc=acc if valid_loader is not None else None,
            )
            # Save first, then announce: whoever reads "epoch N/M" (a person, a script that
            # sends Ctrl-C on it) finds epoch N on disk. A Ctrl-C in between waits until the
            # record, the checkpoint, run.json and history.json agree.
            with _signals_deferred():
                history.epochs.append(record)
                if run is not None:
                    rng_ranks = _every_ranks_rng(info)  # a collective: every rank takes part
                    if info.is_main:
                        run.save(model, optimizer, scaler, epoch + 1, history, rng_ranks)
                    saved_epoch = epoch + 1
            info.print(
                text(
                    "train.epoch",
                    epoch=epoch + 1,
                    epochs=epochs,
                    loss=record.train_loss,
                    train_acc=record.train_acc,
                    acc=f"{acc:.3f}" if acc is not None else "n/a",
                    watched=text("train.dev_acc" if valid_loader is not None else "train.test_acc"),
                    rate=record.examples_per_sec,
                    seconds=record.seconds,
                    device=described,
                ),
                flush=True,
            )
            for callback in callbacks:
                callback(history)
            stop.check()  # under torchrun: a signal that came during evaluation or saving
        if valid_loader is not None and test_loader is not None and len(history):
            history.test_acc = evaluate(model, test_loader, device=info, amp=amp)["accuracy"]
            info.print(
                text("train.test_once", acc=history.test_acc, epoch=len(history)), flush=True
            )
            if run is not None and info.is_main:
                history.save(run.path / HISTORY_FILE)
    except KeyboardInterrupt as err:
        signum = err.signum if isinstance(err, Stopped) else signal.SIGINT
        history.interrupted, history.stopped_by = True, signal.Signals(signum).name
        if (
            run is not None and saved_epoch is not None and info.is_main
        ):  # record it next to the checkpoint
            History(
                [e for e in history.epochs if e.epoch <= saved_epoch],
                interrupted=True,
                segments=[s for s in history.segments if s["from_epoch"] <= saved_epoch],
                stopped_by=history.stopped_by,
            ).save(run.path / HISTORY_FILE)
        finished = (
            bool(history.epochs) and history.epochs[-1].epoch == epoch + 1
        )  # stopped between epochs
        info.print(
            _interrupted_message(epoch + 1, finished, run, saved_epoch, resume_command, signum),
            flush=True,
        )
    except hardware.OutOfMemoryError as err:
        raise RuntimeError(f"{MEMORY_HINT} ({err})") from err
    finally:
        stop.close()
    return history


def _every_ranks_rng(info: DistInfo) -> list[dict] | None:
    """Under torchrun, every rank's RNG states in rank order (for rank 0 to save); else None.
    Each rank's dropout draws differ, so rank 0's states alone would not resume rank 1."""
    if not info.is_distributed:
        return None
    gathered: list = [None] * info.world_size
    dist.all_gather_object(gathered, rng_state())
    return gathered


class _StopRequest:
    """Ctrl-C (SIGINT) and SIGTERM while training, on the main thread.

    Alone, SIGINT raises ``KeyboardInterrupt`` as usual and SIGTERM (or SIGHUP) raises
    :class:`Stopped`, at once; a signal the caller ignores (``nohup``, a background job)
    stays ignored. Under torchrun a rank that raised in the middle of a step would leave the others
    waiting in a collective: there a signal only raises a flag, and every ``CHECK_STOP_EVERY``
    steps and after each epoch the ranks agree (one all-reduce) and all raise ``Stopped``."""

    def __init__(self, info: DistInfo):
        self.info, self.signum, self.previous = info, 0, {}

    def listen(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) == signal.SIG_IGN:
                    continue
                if self.info.is_distributed:
                    handler = self._note
                elif signum != signal.SIGINT:
                    handler = _raise_stopped
                else:
                    continue
                self.previous[signum] = signal.signal(signum, handler)
        return self

    def _note(self, signum, frame) -> None:
        self.signum = self.signum or signum

    def check(self) -> None:
        """Under torchrun (a collective: call it on every rank at the same point), raise
        :class:`Stopped` on every rank if any rank was asked to stop."""
        if not self.info.is_distributed:
            return
        asked = torch.tensor(
            [float(self.signum == signum) for signum in STOP_SIGNALS], device=self.info.device
        )
        counts = self.info.all_reduce(asked).tolist()
        if any(counts):  # the first signal in STOP_SIGNALS order that some rank got
            raise Stopped(next(signum for signum, n in zip(STOP_SIGNALS, counts) if n))

    def close(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signum)


@contextmanager
def _signals_deferred():
    """Hold back Ctrl-C (SIGINT) and SIGTERM while the block runs, then stop as they asked: a
    checkpoint, run.json and history.json are written together or not at all. A handler that
    only notes the signal (under torchrun) keeps doing so. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for signum in caught:
        handler = previous[signum]
        if handler is signal.default_int_handler:
            raise KeyboardInterrupt
        if callable(handler):
            handler(signum, None)  # raises, or notes it for the ranks to agree on
        elif handler == signal.SIG_DFL:
            raise Stopped(signum)


def _interrupted_message(
    epoch: int,
    finished: bool,
    run: RunFolder | None,
    saved_epoch: int | None,
    resume_command: str | None,
    signum: int = signal.SIGINT,
) -> str:
    """What Ctrl-C (or SIGTERM) left behind, and the exact way to continue; never an epoch the
    checkpoint lacks."""
    said = f"stopped by {STOP_SIGNALS.get(signum, 'a signal')} {'after' if finished else 'during'} epoch {epoch}"
    if run is None:
        return f"{said}; nothing was saved (no checkpoint_dir was given)."
    if saved_epoch is None:
        before = f" ({run.path} still holds the run that was there before)" if run.exists() else ""
        again = (
            "run the same command again"
            if resume_command
            else "call fine_tune again (without resume=True)"
        )
        return (
            f"{said}, before any epoch finished: nothing was saved in {run.path}{before}. "
            f"To start over, {again}."
        )
    how = resume_command or "call fine_tune again with the same checkpoint_dir and resume=True"
    return (
        f"{said}; the checkpoint in {run.path} holds epoch {saved_epoch}, the last finished one. "
        f"To continue from there: {how}"
    )


def _diverged_message(
    epoch: int, lr: float, run: RunFolder | None, saved_epoch: int | None, dtype: torch.dtype | None
) -> str:
    if run is None:
        kept = "nothing was saved (no checkpoint_dir)"
    elif saved_epoch is None:
        kept = f"nothing was saved in {run.path}"
    else:
        kept = f"the checkpoint in {run.path} still holds epoch {saved_epoch}, the last good one"
    fp16 = "; or turn mixed precision off (--no-amp / amp=False)" if dtype == torch.float16 else ""
    return (
        f"the training loss became NaN or infinite in epoch {epoch} (learning rate {lr:g}): training "
        f"diverged and was stopped; {kept}. Try a smaller learning rate (--lr / lr=, e.g. a tenth){fp16}"
    )


def _train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer,
    scaler,
    info: DistInfo,
    dtype: torch.dtype | None,
    bar_title: str | None,
    stop: _StopRequest | None = None,
    schedule: tuple[Callable[[int, int], None], int] | None = None,
) -> dict:
    """One pass over this rank's batches; loss and accuracy summed over all ranks. ``schedule``:
    the optimization's step hook and the run's step count before this epoch."""
    device = info.device
    model.train()
    loss_sum = torch.zeros((), device=device)
    nonfinite = torch.zeros((), device=device)  # steps whose loss was NaN or infinite
    correct = torch.zeros((), device=device, dtype=torch.long)
    examples, steps = 0, 0
    bar = None
    if bar_title is not None:
        # mininterval: at most one refresh a second, so a log file gets no more than a line a second
        bar = progress_bar(
            total=len(loader),
            desc=bar_title,
            unit="batch",
            leave=False,
            mininterval=BAR_SECONDS,
            file=sys.stderr,
        )
    hardware.synchronize(device)
    start = time.perf_counter()
    shown = start
    with hardware.fast_kernels(device, dtype):
        for batch in loader:
            X, y = to_device(batch, device)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                logits = model(*X)  # [batch, num_classes]
                loss = F.cross_entropy(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if schedule is not None:
                schedule[0](schedule[1] + steps, len(loader))
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach() * y.shape[0]
            nonfinite += ~torch.isfinite(loss.detach())
            correct += (logits.argmax(dim=1) == y).sum()
            examples += y.shape[0]
            steps += 1
            # Alone, stop within a few steps of a NaN; with several processes every rank learns of
            # it at the epoch's end (one collective, no chance of ranks waiting on each other).
            if not info.is_distributed and steps % CHECK_FINITE_EVERY == 0 and nonfinite.item():
                break
            if stop is not None and steps % CHECK_STOP_EVERY == 0:
                stop.check()  # under torchrun: every rank stops at the same step when one was asked to
            if bar is not None:
                now = time.perf_counter()
                if (
                    now - shown >= BAR_SECONDS
                ):  # reading the loss waits for the GPU: once a second at most
                    shown = now
                    bar.set_postfix_str(
                        f"loss {loss_sum.item() / examples:.3f}, "
                        f"{examples * info.world_size / (now - start):,.0f} examples/s",
                        refresh=False,
                    )
                bar.update(1)
    hardware.synchronize(device)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    stats = torch.stack(
        [
            loss_sum.float(),
            correct.float(),
            torch.tensor(float(examples), device=device),
            nonfinite.float(),
        ]
    )
    n_loss, n_correct, n, n_bad = info.all_reduce(
        stats
    ).tolist()  # every rank reports the global numbers
    return {
        "loss": n_loss / max(n, 1),
        "acc": n_correct / max(n, 1),
        "examples": n,
        "seconds": seconds,
        "nonfinite": int(n_bad),
    }
