"""The whole fine-tuning job in one call, for the command line and for notebooks.

``finetune_job(spec)`` (a :class:`~bertnli.run.spec.RunSpec`; or a profile and keywords)
seeds, loads the checkpoint, builds the datasets (train; dev, watched every epoch; test, measured once at the end) and their loaders,
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

from bertnli.data.corpora import read_pairs
from bertnli.data.dataset import SNLIBERTDataset
from bertnli.data.loader import LoaderSettings, make_loader
from bertnli.distributed import DistInfo, as_dist
from bertnli.model.classifier import BERTClassifier
from bertnli.model.pretrained import load_pretrained
from bertnli.run.checkpoint import (
    RUN_FILE,
    RunFolder,
    check_run_folder,
    check_same_architecture,
    check_same_run,
    check_writable,
    hold_run_folder,
    read_run,
)
from bertnli.run.profiles import Profile
from bertnli.run.rules import CLI
from bertnli.run.spec import RunSpec
from bertnli.run.train import History, fine_tune

SUBSET_SEED = 0  # the subsets do not depend on the run's --seed: same data, different seeds
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
    keep = subset_indices(
        len(labels), profile.train_pairs if split == "train" else profile.test_pairs, split
    )
    if keep is None:
        return premises, hypotheses, labels
    return [premises[i] for i in keep], [hypotheses[i] for i in keep], [labels[i] for i in keep]


def load_datasets(profile: Profile, vocab, *, splits=("train", "test"), cache: bool = True) -> dict:
    """``{split: SNLIBERTDataset}`` for the profile's data, subset, ``max_len`` and truncation."""
    return {
        split: SNLIBERTDataset(
            read_split(profile, split),
            vocab,
            max_len=profile.max_len,
            truncation=profile.truncation,
            cache=cache,
        )
        for split in splits
    }


def chapter_run(
    profile: Profile, chapter: str, vocab=None, *, seed: int = 0, **settings
) -> RunFolder:
    """The run folder a chapter checkpoints into and resumes from: ``$BERTNLI_RUNS`` (default
    ``runs``) / ``{chapter}-{profile}-{hash}``. The hash covers every setting that changes the
    run, so changing the profile or an override starts a new folder instead of resuming
    a different run."""
    config = {"profile": profile.to_dict(), "seed": seed, **settings}
    key = {k: v for k, v in config.items() if k != "profile"}
    key["profile"] = {
        k: v
        for k, v in config["profile"].items()
        if k not in ("overrides", "description_en", "description_ko")
    }
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    root = Path(os.environ.get(RUNS_ENV) or "runs")
    return RunFolder(root / f"{chapter}-{profile.name}-{digest}", config=config, vocab=vocab)


def finetune_job(
    spec: RunSpec | Profile,
    *,
    callbacks=(),
    dist: DistInfo | None = None,
    resume_command: str | None = None,
    **changes,
):
    """Fine-tune the spec's model on its data; returns ``(model, vocab, history)``.

    ``spec`` is a :class:`~bertnli.run.spec.RunSpec` (``RunSpec.build(...)``), or a
    ``Profile`` with the run's other settings as keywords (``out=``, ``resume=``, ``seed=``,
    ``device=``, ``amp=``, ``compile=``, ``num_workers=``, ``dropout=``, ``progress=``,
    ``overwrite=``), from which one is built. ``out`` may be a ``RunFolder`` (such as
    ``chapter_run``'s); ``dist`` (or ``device=``) is the job's ``DistInfo`` under torchrun;
    ``resume_command`` is how the caller continues an interrupted run, in its own words.

    Dev accuracy is measured after every epoch, test accuracy once at the end
    (``history.test_acc``). ``seed`` fixes everything random (the new layer's initial
    weights, shuffling, dropout): the same call twice gives the same losses.
    ``batch_size`` is the global batch: under torchrun each of the N processes
    takes ``batch_size // N`` pairs per step, so the optimization matches one process.

    Everything that can be checked before training is, before the slow steps: the
    settings, the output folder (writable; no run in it unless ``resume`` or
    ``overwrite``; no other run training into it: it stays locked until the job ends),
    the cache folder, the checkpoint, the data, and that a resumed run was trained with
    this checkpoint. Resuming applies a new ``epochs``, ``lr``, ``batch_size``, device,
    ``amp``, ``num_workers`` or ``progress`` from the next epoch (recorded as a new
    segment in ``run.json`` and the history, and the session's spec under ``resumes``) and
    refuses a new model, data, pair limits, ``max_len``, truncation or seed
    (:func:`~bertnli.run.checkpoint.check_same_run`).
    """
    folder = changes.pop("out") if isinstance(changes.get("out"), RunFolder) else None
    if isinstance(changes.get("device"), DistInfo):
        dist = changes.pop("device")
    if folder is not None:
        changes["out"] = str(folder.path)
    if isinstance(spec, Profile):
        spec = RunSpec.build(spec, **changes)
    elif changes:
        spec = spec.with_changes(**changes)
    info = dist if dist is not None else as_dist(spec.device)
    out_path = Path(spec.out) if spec.out else None
    made = (
        out_path is not None and not out_path.exists()
    )  # then a run that saves nothing leaves no folder
    preflight(spec, info)
    with hold_run_folder(out_path, made) if out_path and info.is_main else nullcontext():
        if out_path and info.is_main:  # again, now that no other run can write there
            check_run_folder(
                out_path, resume=spec.resume, overwrite=spec.overwrite, cli=spec.surface == CLI
            )
        if spec.resume and out_path:
            check_same_run(
                read_run(out_path).get("config") or {},
                spec.config,
                out_path / RUN_FILE,
                cli=spec.surface == CLI,
            )
        return _finetune_job(spec, folder, info, callbacks, resume_command)


def _finetune_job(
    spec: RunSpec, folder: RunFolder | None, info: DistInfo, callbacks, resume_command: str | None
):
    """``finetune_job`` once its checks passed and its run folder is held."""
    profile, out_path = spec.profile, (Path(spec.out) if spec.out else None)
    bert, vocab = load_pretrained(profile.model, dropout=0.1, device="cpu")
    spec.check_checkpoint(bert.config.max_len)
    if spec.resume and out_path:
        check_resumable(out_path, BERTClassifier(bert, num_classes=3, dropout=spec.dropout), vocab)
    data = load_datasets(profile, vocab, splits=("train", "dev", "test"))
    loading = LoaderSettings(num_workers=spec.num_workers, dist=info)
    share = profile.batch_size // info.world_size
    train_loader = make_loader(data["train"], share, shuffle=True, seed=spec.seed, settings=loading)
    valid_loader, test_loader = (
        make_loader(data[split], share, shuffle=False, even_shares=False, settings=loading)
        for split in ("dev", "test")
    )
    torch.manual_seed(spec.seed)  # the new output layer's initial weights
    model = BERTClassifier(bert, num_classes=3, dropout=spec.dropout)
    if folder is not None:
        run = folder
        run.vocab = run.vocab or vocab
    else:
        run = RunFolder(out_path, config=spec.config, vocab=vocab) if out_path else None
    if (
        run is not None
    ):  # this session's part of the run's settings (fine_tune adds lr, epochs, device, ...)
        run.settings = {
            **run.settings,
            "batch_size": profile.batch_size,
            "num_workers": spec.num_workers,
        }
        run.record = spec_record(out_path, spec)
    history: History = fine_tune(
        model,
        train_loader,
        test_loader,
        spec.train_settings(info, resume_command),
        valid_loader=valid_loader,
        checkpoint_dir=run,
        callbacks=callbacks,
    )
    return model, vocab, history


def spec_record(out: Path, spec: RunSpec) -> dict:
    """What run.json keeps of the specs: the first session's (``spec``) and each resumed
    session's after it (``resumes``). A run folder of the previous format has no ``spec``:
    it gains ``resumes`` only."""
    if not spec.resume:
        return {"spec": spec.to_dict(), "resumes": []}
    saved = read_run(out)
    record = {"spec": saved["spec"]} if isinstance(saved.get("spec"), dict) else {}
    earlier = saved.get("resumes") if isinstance(saved.get("resumes"), list) else []
    return {**record, "resumes": [*earlier, spec.to_dict()]}


def preflight(spec: RunSpec, info: DistInfo) -> None:
    """The checks that need no model and no data, beyond the spec's own: the processes share
    the batch, the run folder is writable, the cache folder is usable."""
    from bertnli import hub

    spec.check_world(info.world_size)
    if spec.out and info.is_main:
        check_writable(spec.out)
    hub.cache_dir()  # a folder, and usable (raises a HubError naming it otherwise)


def check_resumable(out: Path, model: BERTClassifier, vocab) -> None:
    """The run in ``out`` was trained from this checkpoint: same architecture, same vocabulary
    (read from run.json, without loading the weights)."""
    settings = read_run(out)
    check_same_architecture(model, settings.get("model_description"), out / RUN_FILE)
    size = settings.get("vocab_size")
    if size is not None and size != len(vocab):
        raise ValueError(
            f"{out / RUN_FILE}: the run was trained with a vocabulary of {size} tokens, this "
            f"checkpoint has {len(vocab)}; resume with the run's own --model"
        )
