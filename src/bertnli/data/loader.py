"""Batches of SNLI pairs padded only to the longest pair in the batch, grouped by length.

Padding every pair to 128 tokens (the reference) wastes most of each batch on
``<pad>``: SNLI pairs average about 27 tokens. Sorting pairs by length inside large
random chunks, then shuffling the order of the resulting batches, keeps batches
random from epoch to epoch while their pairs have similar lengths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from bertnli import hardware
from bertnli.distributed import DistInfo


class BucketBatchSampler(torch.utils.data.Sampler):
    """Yields lists of dataset indices, one list per batch, for one rank.

    Each epoch: shuffle all pairs (``shuffle``), sort them by length inside chunks of
    ``bucket_batches`` batches (``bucket``), cut into batches, shuffle the batch order
    (``shuffle``). The randomness comes only from ``(seed, epoch)``, so every rank
    computes the same global batch list; rank ``r`` of ``num_replicas`` takes batches
    ``r, r + R, r + 2R, ...``. Without ``drop_last`` the list is first padded by
    repeating batches from its start, so every rank gets the same number of batches
    (like ``DistributedSampler``, a few pairs are then seen twice); with it, the
    partial batch and the leftover batches are dropped. Both keep the ranks in step, as
    DDP training needs. ``even_shares=False`` (evaluation) neither pads nor drops: ranks
    may get one batch more or less, and every pair is on exactly one rank, once. Call
    ``set_epoch`` before each epoch to reshuffle.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        shuffle: bool,
        bucket: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        bucket_batches: int = 64,
        even_shares: bool = True,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(
                f"need 0 <= rank < num_replicas, got rank={rank}, num_replicas={num_replicas}"
            )
        self.lengths = np.asarray(lengths)
        self.batch_size, self.shuffle, self.bucket = batch_size, shuffle, bucket
        self.seed, self.drop_last, self.bucket_batches = seed, drop_last, bucket_batches
        self.num_replicas, self.rank, self.even_shares = num_replicas, rank, even_shares
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle the next iteration uses (same on every rank)."""
        self.epoch = epoch

    def global_batches(self) -> list[np.ndarray]:
        """This epoch's batches for all ranks together, before the rank split."""
        n, bs = len(self.lengths), self.batch_size
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.bucket:
            span = bs * self.bucket_batches
            for a in range(0, n, span):
                chunk = order[a : a + span]
                order[a : a + span] = chunk[np.argsort(self.lengths[chunk], kind="stable")]
        batches = [order[a : a + bs] for a in range(0, n, bs)]
        if self.drop_last and batches and len(batches[-1]) < bs:
            batches.pop()
        if self.shuffle and self.bucket:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self):
        batches = self.global_batches()
        reps = self.num_replicas
        if reps > 1 and not self.even_shares:
            batches = batches[self.rank :: reps]
        elif reps > 1 and batches:
            total = (
                len(batches) // reps * reps
                if self.drop_last
                else math.ceil(len(batches) / reps) * reps
            )
            batches = [batches[i % len(batches)] for i in range(total)][self.rank :: reps]
        for b in batches:
            yield b.tolist()

    def __len__(self) -> int:
        n, bs, reps = len(self.lengths), self.batch_size, self.num_replicas
        batches = n // bs if self.drop_last else math.ceil(n / bs)
        if not self.even_shares:
            return len(range(self.rank, batches, reps))
        return batches // reps if self.drop_last else math.ceil(batches / reps)


class _Batches(torch.utils.data.Dataset):
    """Hands the DataLoader whole batches: ``__getitems__`` pads a list of indices at once,
    to a multiple of ``multiple`` tokens."""

    def __init__(self, dataset, multiple: int = 1):
        self.dataset, self.multiple = dataset, multiple

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]

    def __getitems__(self, indices):
        return self.dataset.batch(indices, self.multiple)


def _as_is(batch):
    return batch  # module level so worker processes can unpickle it


class SNLILoader(torch.utils.data.DataLoader):
    """A DataLoader with ``set_epoch``, forwarded to its ``BucketBatchSampler``."""

    def set_epoch(self, epoch: int) -> None:
        self.batch_sampler.set_epoch(epoch)


@dataclass(frozen=True)
class LoaderSettings:
    """How batches reach the device, the same for every split of a run: worker processes,
    pinned memory, padding to a multiple of some tokens, and this process's share under
    torchrun (``dist``, or ``num_replicas`` and ``rank`` by hand)."""

    num_workers: int = 0
    pin_memory: bool | None = None
    pad_multiple: int | None = None
    dist: DistInfo | None = None
    num_replicas: int = 1
    rank: int = 0

    @classmethod
    def make(cls, base: LoaderSettings | None = None, **changes) -> LoaderSettings:
        """``base`` (default: the defaults) with ``changes``; an unknown keyword is a TypeError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"make_loader() got unexpected keyword argument(s) {', '.join(unknown)}; the loader "
                f"settings are {', '.join(sorted(known))}"
            )
        return replace(base if base is not None else cls(), **changes)


def make_loader(
    dataset,
    batch_size: int,
    shuffle: bool,
    bucket: bool = True,
    *,
    seed: int = 0,
    drop_last: bool = False,
    even_shares: bool = True,
    settings: LoaderSettings | None = None,
    **changes,
) -> SNLILoader:
    """Batches ``((tokens, segments, valid_lens), labels)`` of an ``SNLIBERTDataset``.

    Shapes: tokens and segments ``(B, T)`` int64, ``T`` the longest pair of the batch
    (padding: ``<pad>`` and segment 0); valid_lens and labels ``(B,)`` int64. With
    ``bucket=True`` pairs of similar length share a batch (even when ``shuffle=False``:
    then batches are not in dataset order). Under torchrun pass the job's ``dist``
    (it sets ``num_replicas`` and ``rank``): this process then reads its share of the
    batches; ``even_shares=False`` for evaluation (see ``BucketBatchSampler``).
    ``settings`` (a :class:`LoaderSettings`) or its fields as keywords (``num_workers=``,
    ``pin_memory=``, ``pad_multiple=``, ``dist=``, ``num_replicas=``, ``rank=``) say how batches
    reach the device. ``pin_memory=None`` pins, and ``pad_multiple=None`` rounds each batch's length up to a
    multiple of 8, when the device is a CUDA GPU (``dist.device``, else the machine's first
    accelerator); on the CPU batches keep their exact length (see ``hardware``).
    Call ``loader.set_epoch(e)`` each epoch.
    """
    s = LoaderSettings.make(settings, **changes)
    dist, num_replicas, rank, pin_memory, pad_multiple = (
        s.dist,
        s.num_replicas,
        s.rank,
        s.pin_memory,
        s.pad_multiple,
    )
    num_workers = s.num_workers
    if dist is not None:
        num_replicas, rank = dist.world_size, dist.rank
    device = dist.device if dist is not None else hardware.available()[0]
    if pin_memory is None:
        pin_memory = hardware.transfers_async(device)
    if pad_multiple is None:
        pad_multiple = hardware.pad_multiple(device)
    if pad_multiple < 1:
        raise ValueError(f"pad_multiple must be a positive integer, got {pad_multiple}")
    sampler = BucketBatchSampler(
        dataset.lengths,
        batch_size,
        shuffle,
        bucket,
        seed=seed,
        drop_last=drop_last,
        num_replicas=num_replicas,
        rank=rank,
        even_shares=even_shares,
    )
    return SNLILoader(
        _Batches(dataset, pad_multiple),
        batch_sampler=sampler,
        collate_fn=_as_is,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
    )
