"""Multi-process training setup for ``torchrun``: one process per GPU (or per CPU worker).

``torchrun --nproc-per-node=N -m bertnli finetune ...`` sets ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK`` for every process; :func:`setup` turns them into an initialised
process group (NCCL on CUDA, gloo on CPU) and the device this process should use.
Across machines, torchrun's rendezvous flags (``--nnodes``, ``--node-rank``,
``--rdzv-endpoint``) set the same variables; nothing here changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(backend: str | None = None) -> DistInfo:
    """Initialise the process group if torchrun launched us; otherwise a world of one."""
    if not launched_by_torchrun():
        from .train import default_device
        return DistInfo(0, 1, 0, default_device())
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = torch.cuda.is_available() and backend != "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend or ("nccl" if use_cuda else "gloo"))
    device = torch.device(f"cuda:{local_rank}") if use_cuda else torch.device("cpu")
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, device)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
