"""The whole fine-tuning job in one call, for the command line and for notebooks.

``finetune_job(profile, out=...)`` loads the checkpoint, builds the two datasets and
their loaders, and fine-tunes, with the same steps a chapter shows one by one.
"""

from __future__ import annotations

from pathlib import Path

from . import distributed
from .classifier import BERTClassifier
from .dataset import SNLIBERTDataset
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
                 device=None, amp: bool | None = None, compile: bool = False, num_workers: int = 0,
                 dropout: float = 0.0, callbacks=(), progress: bool | None = None):
    """Fine-tune ``profile.model`` on ``profile.data``; returns ``(model, vocab, history)``.

    ``profile.batch_size`` is the global batch: under torchrun each of the N processes
    takes ``batch_size // N`` pairs per step, so the optimisation matches one process.
    """
    info = distributed.setup() if device is None else None
    device = device if device is not None else info.device
    world = info.world_size if info is not None else 1
    if profile.batch_size % world:
        raise ValueError(f"--batch-size {profile.batch_size} is not divisible by the {world} processes")
    bert, vocab = load_pretrained(profile.model, dropout=0.1, device="cpu")
    if profile.max_len > bert.config.max_len:
        raise ValueError(f"--max-len {profile.max_len} exceeds the checkpoint's max_len {bert.config.max_len}")
    data = load_datasets(profile, vocab)
    train_loader = make_loader(data["train"], profile.batch_size // world, shuffle=True, seed=seed,
                               num_workers=num_workers)
    test_loader = make_loader(data["test"], profile.batch_size // world, shuffle=False, num_workers=num_workers)
    model = BERTClassifier(bert, num_classes=3, dropout=dropout)
    config = {"profile": profile.to_dict(), "seed": seed}
    history: History = fine_tune(model, train_loader, test_loader, epochs=profile.epochs, lr=profile.lr,
                                 device=device, amp=amp, compile=compile, checkpoint_dir=out, resume=resume,
                                 seed=seed, callbacks=callbacks, vocab=vocab, config=config, progress=progress)
    return model, vocab, history
