"""The whole fine-tuning job in one call, for the command line and for notebooks.

``finetune_job(profile, out=...)`` seeds, loads the checkpoint, builds the two datasets
and their loaders, and fine-tunes, with the same steps a chapter shows one by one.
Under torchrun the caller owns the process group and passes its ``DistInfo`` as
``device`` (see ``distributed.session``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import RUN_FILE, RunFolder, check_run_folder, check_same_architecture, check_writable, read_run
from .classifier import BERTClassifier
from .dataset import SNLIBERTDataset
from .distributed import DistInfo, as_dist
from .loader import make_loader
from .pretrained import load_pretrained
from .profiles import Profile
from .snli import read_snli
from .train import History, check_lr, fine_tune


def load_datasets(profile: Profile, vocab, *, splits=("train", "test"), cache: bool = True) -> dict:
    """``{split: SNLIBERTDataset}`` for the profile's data, ``max_len`` and truncation."""
    return {split: SNLIBERTDataset(read_snli(profile.data_path(), split), vocab, max_len=profile.max_len,
                                   truncation=profile.truncation, cache=cache)
            for split in splits}


def finetune_job(profile: Profile, *, out: str | Path | None = None, resume: bool = False, seed: int = 0,
                 device: str | torch.device | DistInfo | None = None, amp: bool | None = None,
                 compile: bool = False, num_workers: int = 0, dropout: float = 0.0, callbacks=(),
                 progress: bool | None = None, overwrite: bool = False, resume_command: str | None = None):
    """Fine-tune ``profile.model`` on ``profile.data``; returns ``(model, vocab, history)``.

    ``seed`` fixes everything random (the new layer's initial weights, shuffling, dropout):
    the same call twice gives the same losses. ``profile.batch_size`` is the global batch:
    under torchrun each of the N processes takes ``batch_size // N`` pairs per step, so
    the optimization matches one process.

    Everything that can be checked before training is, before the slow steps: the
    settings, the output folder (writable; no run in it unless ``resume`` or
    ``overwrite``), the cache folder, the checkpoint, the data, and that a resumed run
    was trained with this checkpoint.
    """
    info = as_dist(device)
    preflight(profile, out=out, resume=resume, overwrite=overwrite, info=info, cli=resume_command is not None)
    bert, vocab = load_pretrained(profile.model, dropout=0.1, device="cpu")
    if profile.max_len > bert.config.max_len:
        raise ValueError(f"--max-len {profile.max_len} exceeds the checkpoint's max_len {bert.config.max_len}")
    if resume and out:
        check_resumable(Path(out), BERTClassifier(bert, num_classes=3, dropout=dropout), vocab)
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
                                 seed=seed, callbacks=callbacks, progress=progress, overwrite=overwrite,
                                 resume_command=resume_command)
    return model, vocab, history


def preflight(profile: Profile, *, out: str | Path | None, resume: bool, overwrite: bool, info: DistInfo,
              cli: bool = False) -> None:
    """The checks that need no model and no data: numbers, the run folder, the cache folder."""
    from . import hub

    check_lr(profile.lr)
    for name in ("epochs", "batch_size", "max_len"):
        value = getattr(profile, name)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
    if profile.batch_size % info.world_size:
        raise ValueError(f"--batch-size {profile.batch_size} is not divisible by the {info.world_size} processes")
    if resume and not out:
        raise ValueError("resuming needs the run folder (--out / out=)")
    if out:
        check_run_folder(out, resume=resume, overwrite=overwrite, cli=cli)
        if info.is_main:
            check_writable(out)
    hub.cache_dir()  # a folder, and usable (raises a HubError naming it otherwise)


def check_resumable(out: Path, model: BERTClassifier, vocab) -> None:
    """The run in ``out`` was trained from this checkpoint: same architecture, same vocabulary
    (read from run.json, without loading the weights)."""
    settings = read_run(out)
    check_same_architecture(model, settings.get("model_description"), out / RUN_FILE)
    size = settings.get("vocab_size")
    if size is not None and size != len(vocab):
        raise ValueError(f"{out / RUN_FILE}: the run was trained with a vocabulary of {size} tokens, this "
                         f"checkpoint has {len(vocab)}; resume with the run's own --model")
