"""The whole fine-tuning job in one call, for the command line and for notebooks.

``finetune_job(profile, out=...)`` seeds, loads the checkpoint, builds the datasets
(train; dev, watched every epoch; test, measured once at the end) and their loaders,
and fine-tunes, with the same steps a chapter shows one by one. ``read_split`` applies
the profile's size controls (``train_pairs``, ``test_pairs``): a fixed, seeded subset,
the same in every process, on every resume and in every chapter. Under torchrun the
caller owns the process group and passes its ``DistInfo`` as ``device`` (see
``distributed.session``).
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from bertnli.run.checkpoint import (RUN_FILE, RunFolder, check_run_folder, check_same_architecture, check_same_run,
                         check_writable, hold_run_folder, read_run)
from bertnli.model.classifier import BERTClassifier
from bertnli.data.dataset import SNLIBERTDataset
from bertnli.distributed import DistInfo, as_dist
from bertnli.data.loader import make_loader
from bertnli.model.pretrained import load_pretrained
from bertnli.run.profiles import Profile
from bertnli.data.corpora import read_pairs
from bertnli.run.train import History, check_lr, fine_tune

SUBSET_SEED = 0          # the subsets do not depend on the run's --seed: same data, different seeds
RUNS_ENV = "BERTNLI_RUNS"  # where the chapters keep their run folders (default: ./runs)


def subset_indices(n: int, k: int | None, split: str) -> np.ndarray | None:
    """Which ``k`` of ``n`` pairs a subset keeps, in file order (None: all of them).

    Seeded by ``SUBSET_SEED`` and the split's name only, so every process, every resume
    and every chapter picks the same pairs."""
    if k is None or k >= n:
        return None
    seed = SUBSET_SEED + int.from_bytes(hashlib.sha1(split.encode()).digest()[:4], "little")
    return np.sort(np.random.default_rng(seed).permutation(n)[:k])


def read_split(profile: Profile, split: str) -> tuple[list[str], list[str], list[int]]:
    """``(premises, hypotheses, labels)`` of one split, cut to the profile's ``train_pairs``
    (train) or ``test_pairs`` (dev, test) when it sets them."""
    premises, hypotheses, labels = read_pairs(profile.data, split)
    keep = subset_indices(len(labels), profile.train_pairs if split == "train" else profile.test_pairs, split)
    if keep is None:
        return premises, hypotheses, labels
    return [premises[i] for i in keep], [hypotheses[i] for i in keep], [labels[i] for i in keep]


def load_datasets(profile: Profile, vocab, *, splits=("train", "test"), cache: bool = True) -> dict:
    """``{split: SNLIBERTDataset}`` for the profile's data, subset, ``max_len`` and truncation."""
    return {split: SNLIBERTDataset(read_split(profile, split), vocab, max_len=profile.max_len,
                                   truncation=profile.truncation, cache=cache)
            for split in splits}


def chapter_run(profile: Profile, chapter: str, vocab=None, *, seed: int = 0, **settings) -> RunFolder:
    """The run folder a chapter checkpoints into and resumes from: ``$BERTNLI_RUNS`` (default
    ``runs``) / ``{chapter}-{profile}-{hash}``. The hash covers every setting that changes the
    run, so changing the profile or an override starts a new folder instead of resuming
    a different run."""
    config = {"profile": profile.to_dict(), "seed": seed, **settings}
    key = {k: v for k, v in config.items() if k != "profile"}
    key["profile"] = {k: v for k, v in config["profile"].items()
                      if k not in ("overrides", "description_en", "description_ko")}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    root = Path(os.environ.get(RUNS_ENV) or "runs")
    return RunFolder(root / f"{chapter}-{profile.name}-{digest}", config=config, vocab=vocab)


def finetune_job(profile: Profile, *, out: str | Path | RunFolder | None = None, resume: bool = False,
                 seed: int = 0, device: str | torch.device | DistInfo | None = None, amp: bool | None = None,
                 compile: bool = False, num_workers: int = 0, dropout: float = 0.0, callbacks=(),
                 progress: bool | None = None, overwrite: bool = False, resume_command: str | None = None):
    """Fine-tune ``profile.model`` on ``profile.data``; returns ``(model, vocab, history)``.

    Dev accuracy is measured after every epoch, test accuracy once at the end
    (``history.test_acc``). ``seed`` fixes everything random (the new layer's initial
    weights, shuffling, dropout): the same call twice gives the same losses.
    ``profile.batch_size`` is the global batch: under torchrun each of the N processes
    takes ``batch_size // N`` pairs per step, so the optimization matches one process.
    ``out`` is a run folder (a path, or a ``RunFolder`` such as ``chapter_run``'s).

    Everything that can be checked before training is, before the slow steps: the
    settings, the output folder (writable; no run in it unless ``resume`` or
    ``overwrite``; no other run training into it: it stays locked until the job ends),
    the cache folder, the checkpoint, the data, and that a resumed run was trained with
    this checkpoint. Resuming applies a new ``epochs``, ``lr``, ``batch_size``, device,
    ``amp``, ``num_workers`` or ``progress`` from the next epoch (recorded as a new
    segment in ``run.json`` and the history) and refuses a new model, data, pair limits,
    ``max_len``, truncation or seed (:func:`~bertnli.run.checkpoint.check_same_run`).
    """
    info = as_dist(device)
    out_path = (out.path if isinstance(out, RunFolder) else Path(out)) if out else None
    cli = resume_command is not None
    made = out_path is not None and not out_path.exists()  # then a run that saves nothing leaves no folder
    preflight(profile, out=out_path, resume=resume, overwrite=overwrite, info=info, cli=cli)
    with hold_run_folder(out_path, made) if out_path and info.is_main else nullcontext():
        if out_path and info.is_main:  # again, now that no other run can write there
            check_run_folder(out_path, resume=resume, overwrite=overwrite, cli=cli)
        if resume and out_path:
            check_same_run(read_run(out_path).get("config") or {}, {"profile": profile.to_dict(), "seed": seed},
                           out_path / RUN_FILE, cli=cli)
        return _finetune_job(profile, out, out_path, resume=resume, seed=seed, info=info, amp=amp, compile=compile,
                             num_workers=num_workers, dropout=dropout, callbacks=callbacks, progress=progress,
                             overwrite=overwrite, resume_command=resume_command)


def _finetune_job(profile: Profile, out, out_path: Path | None, *, resume: bool, seed: int, info: DistInfo, amp,
                  compile: bool, num_workers: int, dropout: float, callbacks, progress, overwrite: bool,
                  resume_command: str | None):
    """``finetune_job`` once its checks passed and its run folder is held."""
    bert, vocab = load_pretrained(profile.model, dropout=0.1, device="cpu")
    if profile.max_len > bert.config.max_len:
        raise ValueError(f"--max-len {profile.max_len} exceeds the checkpoint's max_len {bert.config.max_len}")
    if resume and out_path:
        check_resumable(out_path, BERTClassifier(bert, num_classes=3, dropout=dropout), vocab)
    data = load_datasets(profile, vocab, splits=("train", "dev", "test"))
    share = profile.batch_size // info.world_size
    train_loader = make_loader(data["train"], share, shuffle=True, seed=seed, num_workers=num_workers, dist=info)
    valid_loader, test_loader = (make_loader(data[split], share, shuffle=False, num_workers=num_workers, dist=info,
                                             even_shares=False) for split in ("dev", "test"))
    torch.manual_seed(seed)  # the new output layer's initial weights
    model = BERTClassifier(bert, num_classes=3, dropout=dropout)
    if isinstance(out, RunFolder):
        run = out
        run.vocab = run.vocab or vocab
    else:
        run = RunFolder(out_path, config={"profile": profile.to_dict(), "seed": seed}, vocab=vocab) if out else None
    if run is not None:  # this session's part of the run's settings (fine_tune adds lr, epochs, device, ...)
        run.settings = {**run.settings, "batch_size": profile.batch_size, "num_workers": num_workers}
    history: History = fine_tune(model, train_loader, test_loader, valid_loader=valid_loader, epochs=profile.epochs,
                                 lr=profile.lr, device=info, amp=amp, compile=compile, checkpoint_dir=run,
                                 resume=resume, seed=seed, callbacks=callbacks, progress=progress,
                                 overwrite=overwrite, resume_command=resume_command)
    return model, vocab, history


def preflight(profile: Profile, *, out: str | Path | None, resume: bool, overwrite: bool, info: DistInfo,
              cli: bool = False) -> None:
    """The checks that need no model and no data: numbers, the run folder, the cache folder."""
    from bertnli import hub

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
