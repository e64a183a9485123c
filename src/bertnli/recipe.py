"""The whole fine-tuning job in one call, for the command line and for notebooks.

``finetune_job(profile, out=...)`` seeds, loads the checkpoint, builds the two datasets
and their loaders, and fine-tunes, with the same steps a chapter shows one by one.
Under torchrun the caller owns the process group and passes its ``DistInfo`` as
``device`` (see ``distributed.session``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import RunFolder
from .classifier import BERTClassifier
from .dataset import SNLIBERTDataset
from .distributed import DistInfo, as_dist
from .loader import make_loader
from .pretrained import load_pretrained
from .profiles import Profile
from .snli import read_snli
from .train import History, fine_tune


def load_datasets(profile: Profile, vocab, *, splits=("train", "test"), cache: bool = True) -> dict:
    """``{split: SNLIBERTDataset}`` for the profile's data, ``max_len`` and truncation."""
    return {split: SNLIBERTDataset(read_snli(profile.data_path(), split), vocab, max_len=profile.max_len,
                                   truncation=profile.truncation, cache=cache)
            for split in splits}


def finetune_job(profile: Profile, *, out: str | Path | None = None, resume: bool = False, seed: int = 0,
                 device: str | torch.device | DistInfo | None = None, amp: bool | None = None,
                 compile: bool = False, num_workers: int = 0, dropout: float = 0.0, callbacks=(),
                 progress: bool | None = None):
    """Fine-tune ``profile.model`` on ``profile.data``; returns ``(model, vocab, history)``.

    ``seed`` fixes everything random (the new layer's initial weights, shuffling, dropout):
    the same call twice gives the same losses. ``profile.batch_size`` is the global batch:
    under torchrun each of the N processes takes ``batch_size // N`` pairs per step, so
    the optimization matches one process.
    """
    info = as_dist(device)
    if profile.batch_size % info.world_size:
        raise ValueError(f"--batch-size {profile.batch_size} is not divisible by the {info.world_size} processes")
    bert, vocab = load_pretrained(profile.model, dropout=0.1, device="cpu")
    if profile.max_len > bert.config.max_len:
        raise ValueError(f"--max-len {profile.max_len} exceeds the checkpoint's max_len {bert.config.max_len}")
    data = load_datasets(profile, vocab)
    share = profile.batch_size // info.world_size
    train_loader = make_loader(data["train"], share, shuffle=True, seed=seed, num_workers=num_workers, dist=info)
    test_loader = make_loader(data["test"], share, shuffle=False, num_workers=num_workers, dist=info,
                              even_shares=False)
    torch.manual_seed(seed)  # the new output layer's initial weights
    model = BERTClassifier(bert, num_classes=3, dropout=dropout)
    run = RunFolder(Path(out), config={"profile": profile.to_dict(), "seed": seed}, vocab=vocab) if out else None
    history: History = fine_tune(model, train_loader, test_loader, epochs=profile.epochs, lr=profile.lr,
                                 device=info, amp=amp, compile=compile, checkpoint_dir=run, resume=resume,
                                 seed=seed, callbacks=callbacks, progress=progress)
    return model, vocab, history
