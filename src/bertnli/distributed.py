"""Where this process runs: one :class:`DistInfo`, made once by whoever starts the job.

``torchrun --nproc-per-node=N -m bertnli finetune ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` for every process. :func:`start` reads them once, picks the device (an
explicit ``--device`` included: ``cpu`` trains with gloo, ``cuda`` means this rank's local
GPU), initializes the process group and returns a ``DistInfo``. The job's owner (the CLI,
or a notebook through :func:`session`) passes it down to the loaders, the loop, evaluation
and checkpoint writing, and closes the group at the end. Nothing else reads the
environment or ``torch.distributed`` to find out its rank or device.

Across machines, torchrun's rendezvous flags (``--nnodes``, ``--node-rank``,
``--rdzv-endpoint``) set the same variables; nothing here changes.

What a device means (``cuda`` is ``cuda:0``, mixed precision, kernels) is decided in
``hardware``; ``describe`` is what the history records as the hardware.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from bertnli import hardware
from bertnli.hardware import amp_dtype  # noqa: F401  (the mixed-precision policy, re-exported)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job. A world of one has ``backend=None`` (no process group)."""

    device: torch.device
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints and writes files."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def all_reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place (a no-op in a world of one)."""
        if self.is_distributed:
            dist.all_reduce(tensor)
        return tensor

    def print(self, *args, **kwargs) -> None:
        """``print`` on rank 0 only."""
        if self.is_main:
            print(*args, **kwargs)

    def describe(self) -> str:
        """The hardware in words, as the training history records it."""
        if hardware.is_cuda(self.device):
            name = hardware.device_name(self.device)
            return f"{self.world_size} x {name}" if self.is_distributed else name
        if self.device.type == "cpu":
            world = f"{self.world_size} processes x " if self.is_distributed else ""
            return f"{world}CPU ({torch.get_num_threads()} threads)"
        return str(self.device)

    @classmethod
    def local(cls, device: str | torch.device | None = None) -> DistInfo:
        """A world of one on ``device`` (default: the first usable accelerator)."""
        return cls(pick_device(device))


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def pick_device(
    device: str | torch.device | None = None, local_rank: int | None = None
) -> torch.device:
    """``device`` as a ``torch.device``, CUDA always indexed (see ``hardware.resolve_device``)."""
    return hardware.resolve_device(device, local_rank)


def start(device: str | torch.device | None = None, backend: str | None = None) -> DistInfo:
    """Make this process's ``DistInfo``: under torchrun, join the process group (NCCL on
    CUDA, gloo otherwise, unless ``backend`` says); otherwise a world of one."""
    if not launched_by_torchrun():
        return DistInfo.local(device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = pick_device(device, local_rank)
    hardware.use_device(chosen)
    backend = backend or ("nccl" if hardware.is_cuda(chosen) else "gloo")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(chosen, dist.get_rank(), local_rank, dist.get_world_size(), backend)


def stop(info: DistInfo) -> None:
    """Leave the process group ``start`` joined (nothing to do in a world of one)."""
    if info.backend is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def session(
    device: str | torch.device | None = None, backend: str | None = None
) -> Iterator[DistInfo]:
    """``with session("cpu") as info:`` -- :func:`start` on entry, :func:`stop` on exit."""
    info = start(device, backend)
    try:
        yield info
    finally:
        stop(info)


def as_dist(device: str | torch.device | DistInfo | None) -> DistInfo:
    """What the training functions accept as ``device``: a ``DistInfo`` passes through,
    anything else is a world of one on that device."""
    return device if isinstance(device, DistInfo) else DistInfo.local(device)
