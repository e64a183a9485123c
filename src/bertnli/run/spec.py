"""One run's description, built in one place and checked once: :class:`RunSpec`.

``RunSpec.build(profile, env, **arguments)`` layers the settings: the profile's preset,
then the ``BERTNLI_*`` variables, then the arguments of the command line or of a notebook
call, each layer winning over the one before. ``validate`` applies every rule of
:mod:`bertnli.run.rules` once, naming the option the way the reader set it (``--lr``,
``lr=`` or ``$BERTNLI_EPOCHS``). The command line, the notebooks and each torchrun process
build the same object; ``run.json`` keeps it verbatim (``spec``, and ``resumes`` for each
resumed session).

How the weights move (the optimizer, its learning rate, any schedule) lives in
:class:`Optimization`, here and nowhere else; the loop asks it for an optimizer and, on
resume, to apply the learning rate asked for now. :class:`TrainSettings` is the training
loop's part of a run (``fine_tune``'s settings).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bertnli import hardware
from bertnli.data.packing import TRUNCATIONS
from bertnli.run import rules
from bertnli.run.profiles import Profile, apply_env, get_profile
from bertnli.run.rules import CLI, PYTHON, option

# The arguments that change the profile (what the run is and how big), in the order of the banner.
PROFILE_ARGUMENTS = (
    "model",
    "data",
    "epochs",
    "batch_size",
    "max_len",
    "lr",
    "truncation",
    "train_pairs",
    "test_pairs",
)


# ----------------------------------------------------------------------------- how the weights move


@dataclass(frozen=True)
class Optimization:
    """Adam at learning rate ``lr``. A schedule (e.g. linear warm-up) is a field here and the body
    of :meth:`step_hook`, which the loop calls before every optimizer step: the loop needs no
    change for it (tests/test_run_spec.py adds warm-up that way, in a subclass)."""

    lr: float = rules.REFERENCE_LR

    def validate(self, where: str = "--lr / lr=") -> None:
        rules.check_lr(self.lr, where)

    def make_optimizer(self, model: nn.Module, device: torch.device) -> torch.optim.Adam:
        """Adam, fused into one kernel per step where this PyTorch supports it for the device
        (CUDA, and CPU since 2.4); the plain per-parameter loop elsewhere. Same maths."""
        if device.type in ("cuda", "cpu"):
            try:
                return torch.optim.Adam(model.parameters(), lr=self.lr, fused=True)
            except (RuntimeError, TypeError, ValueError):
                pass
        return torch.optim.Adam(model.parameters(), lr=self.lr)

    def step_hook(self, optimizer: torch.optim.Optimizer) -> Callable[[int, int], None] | None:
        """What the loop calls before each optimizer step as ``hook(step, steps_per_epoch)`` (``step``
        counts from 0 over the whole run, resumes included) to set that step's learning rate; None
        for a constant rate, the reference's, so its loop does no extra work per step."""
        return None

    def apply(self, optimizer: torch.optim.Optimizer) -> None:
        """On resume: the learning rate asked for now, not the one the run saved."""
        for group in optimizer.param_groups:
            group["lr"] = self.lr


def make_optimizer(model: nn.Module, lr: float, device: torch.device) -> torch.optim.Adam:
    """``Optimization(lr).make_optimizer(model, device)`` (kept for the benchmarks and old callers)."""
    return Optimization(lr).make_optimizer(model, device)


# ----------------------------------------------------------------------------- the training loop's settings


@dataclass(frozen=True)
class TrainSettings:
    """What ``fine_tune`` needs besides the model, the loaders and the run folder.

    Defaults are the reference run's (Adam, lr 1e-4, 5 epochs). ``device`` is a device name,
    a ``torch.device`` or, under torchrun, the job's ``DistInfo``; ``surface`` says how the
    messages name options (``"python"``: ``lr=``; ``"cli"``: ``--lr``)."""

    epochs: int = 5
    optimization: Optimization = field(default_factory=Optimization)
    device: Any = None
    amp: bool | None = None
    compile: bool = False
    seed: int = 0
    progress: bool | None = None
    resume: bool = False
    overwrite: bool = False
    resume_command: str | None = None
    surface: str = PYTHON

    @property
    def lr(self) -> float:
        return self.optimization.lr

    @classmethod
    def make(cls, base: TrainSettings | None = None, **changes) -> TrainSettings:
        """``base`` (default: the reference settings) with ``changes``; ``lr=`` sets the
        optimization's learning rate. An unknown keyword is a TypeError naming it."""
        base = base if base is not None else cls()
        if "lr" in changes:
            changes["optimization"] = replace(
                changes.get("optimization", base.optimization), lr=changes.pop("lr")
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"fine_tune() got unexpected keyword argument(s) {', '.join(unknown)}; the settings "
                f"are {', '.join(sorted(known | {'lr'}))}"
            )
        return replace(base, **changes)

    def validate(self, out=None) -> None:
        """Every rule of these settings, before any work (``out``: the run folder, if any)."""
        self.optimization.validate(_where("lr", self.surface))
        rules.check_positive_int(self.epochs, option("epochs", self.surface))
        rules.check_out_flags(
            out,
            self.resume,
            self.overwrite,
            self.surface,
            "out" if self.surface == CLI else "checkpoint_dir",
        )


def _where(name: str, surface: str) -> str:
    """The learning rate's names in a message (``--lr`` or ``lr=``; both when unsure)."""
    return option(name, surface) if surface == CLI else "--lr / lr="


# ----------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class RunSpec:
    """Everything that describes one fine-tuning run, as the reader asked for it.

    ``profile`` holds what the run is and how big (model, data, sizes, epochs, batch size,
    max_len, truncation, lr; its ``overrides`` say which setting came from where); the rest
    is how this session runs. Build it with :meth:`build`; ``to_dict`` is what ``run.json``
    keeps."""

    profile: Profile
    seed: int = 0
    device: str | None = None
    amp: bool | None = None
    compile: bool = False
    num_workers: int = 0
    dropout: float = 0.0
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool | None = None
    surface: str = PYTHON

    def __post_init__(self):  # plain JSON data: a Path or a torch.device as its text
        for name in ("device", "out"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, str(value))

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        profile: str | Profile | None = None,
        env: Mapping[str, str] | None = None,
        *,
        surface: str = PYTHON,
        **arguments,
    ) -> RunSpec:
        """The run described by ``profile`` (a name: else ``$BERTNLI_PROFILE``, else ``sample``;
        or a ``Profile``), then the ``BERTNLI_*`` variables of ``env`` (default: ``os.environ``
        for a name, none for a ``Profile``, which carries its own), then ``arguments`` (a
        ``None`` value is not given). With ``resume=True`` the base is the run folder's own
        recorded profile and seed, and ``profile`` may only name it. Validated before it is
        returned."""
        arguments = {k: v for k, v in arguments.items() if v is not None}
        unknown = sorted(
            set(arguments) - set(PROFILE_ARGUMENTS) - ({f.name for f in fields(cls)} - {"profile"})
        )
        if unknown:
            raise TypeError(f"RunSpec.build() got unexpected argument(s) {', '.join(unknown)}")
        out, resume = arguments.get("out"), bool(arguments.get("resume"))
        rules.check_out_flags(out, resume, bool(arguments.get("overwrite")), surface)
        if out:  # before reading anything of it: never start over a saved run, never resume nothing
            from bertnli.run.checkpoint import check_run_folder

            check_run_folder(
                out, resume=resume, overwrite=bool(arguments.get("overwrite")), cli=surface == CLI
            )
        base = _base_profile(profile, env, out if resume else None, surface)
        for name in PROFILE_ARGUMENTS:
            if name in arguments:
                base = base.with_overrides(option(name, surface), **{name: arguments.pop(name)})
        if resume and not isinstance(profile, Profile) and "seed" not in arguments:
            arguments["seed"] = recorded_seed(out)
        spec = cls(profile=base, surface=surface, **arguments)
        spec.validate()
        return spec

    def with_changes(self, **changes) -> RunSpec:
        """A copy with ``changes`` (profile fields included, noted as overrides), validated."""
        changes = {k: v for k, v in changes.items() if v is not None}
        profile = self.profile
        for name in PROFILE_ARGUMENTS:
            if name in changes:
                profile = profile.with_overrides(
                    option(name, self.surface), **{name: changes.pop(name)}
                )
        spec = replace(self, profile=profile, **changes)
        spec.validate()
        return spec

    # ------------------------------------------------------------------ checking

    def validate(self) -> None:
        """Every rule that needs no model and no data, each once (:mod:`bertnli.run.rules`)."""
        p, s = self.profile, self.surface
        sources = _sources(p)
        self.optimization.validate(sources.get("lr") or _where("lr", s))
        for name in ("epochs", "batch_size", "max_len"):
            rules.check_positive_int(getattr(p, name), option(name, s, sources.get(name)))
        for name in ("train_pairs", "test_pairs"):
            if getattr(p, name) is not None:
                rules.check_positive_int(getattr(p, name), option(name, s, sources.get(name)))
        rules.check_choice(
            p.truncation, TRUNCATIONS, option("truncation", s, sources.get("truncation"))
        )
        rules.check_out_flags(self.out, self.resume, self.overwrite, s)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise rules.SettingError(f"{option('seed', s)} must be an integer, got {self.seed!r}")
        if self.device is not None:  # the device's one rule (hardware): a name this machine can run
            hardware.resolve_device(self.device)
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise rules.SettingError(
                f"{option('num_workers', s)} must be 0 or more, got {self.num_workers!r}"
            )

    def check_world(self, world_size: int) -> None:
        """The rule that needs the job: under torchrun the processes share the batch evenly."""
        rules.check_batch_divides(
            self.profile.batch_size,
            world_size,
            option("batch_size", self.surface, _sources(self.profile).get("batch_size")),
        )

    def check_checkpoint(self, checkpoint_max_len: int) -> None:
        """The rule that needs the checkpoint: ``max_len`` fits its position table."""
        rules.check_max_len_fits(
            self.profile.max_len,
            checkpoint_max_len,
            option("max_len", self.surface, _sources(self.profile).get("max_len")),
        )

    # ------------------------------------------------------------------ what the others take

    @property
    def optimization(self) -> Optimization:
        return Optimization(lr=self.profile.lr)

    @property
    def config(self) -> dict:
        """The run's identity as run.json's ``config`` has always held it (profile and seed)."""
        return {"profile": self.profile.to_dict(), "seed": self.seed}

    def train_settings(self, device=None, resume_command: str | None = None) -> TrainSettings:
        """``fine_tune``'s settings (``device``: the job's ``DistInfo`` under torchrun)."""
        return TrainSettings(
            epochs=self.profile.epochs,
            optimization=self.optimization,
            device=device if device is not None else self.device,
            amp=self.amp,
            compile=self.compile,
            seed=self.seed,
            progress=self.progress,
            resume=self.resume,
            overwrite=self.overwrite,
            resume_command=resume_command,
            surface=self.surface,
        )

    def to_dict(self) -> dict:
        """Plain JSON data, as ``run.json`` keeps it (``from_dict`` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunSpec:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["profile"] = Profile.from_dict(values.get("profile") or {})
        return cls(**values)


def _sources(profile: Profile) -> dict[str, str]:
    """``{field: where it was set}`` from the profile's overrides (``"epochs=2 (BERTNLI_EPOCHS)"``)."""
    found = {}
    for line in profile.overrides:
        name, _, rest = line.partition("=")
        if " (" in rest:
            found[name] = option(name, source=rest.rsplit(" (", 1)[-1].rstrip(")"))
    return found


def _base_profile(profile, env, resumed: str | None, surface: str) -> Profile:
    """The first two layers: the preset (or a resumed run's own profile), then the variables."""
    if resumed and not isinstance(profile, Profile):  # a Profile given is the run's, to be compared
        recorded = recorded_profile(resumed)
        name = profile
        if name and name != recorded.name:
            flag = option("profile", surface)
            raise rules.SettingError(
                f"{flag} {name}: the run in {resumed} was made with profile {recorded.name}, and resuming cannot "
                f"change what the run is; resume without {flag}, or start a new run with it (another "
                f"{option('out', surface)}, or {option('overwrite', surface)})"
            )
        return apply_env(recorded, os.environ if env is None else env)
    if isinstance(profile, Profile):
        return profile if env is None else apply_env(profile, env)
    return get_profile(profile, check_paths=False, environ=env)


# ----------------------------------------------------------------------------- what a run folder recorded


def recorded_profile(folder: str | Path) -> Profile:
    """The ``Profile`` a run folder's run.json records (only the fields this version knows)."""
    from bertnli.run.checkpoint import RUN_FILE, run_profile

    recorded = run_profile(folder)
    try:
        return Profile.from_dict(recorded)
    except TypeError as err:
        raise ValueError(
            f"{Path(folder) / RUN_FILE}: incomplete profile ({err}); fine-tune again"
        ) from None
    except ValueError as err:  # a field of the wrong type, named
        raise ValueError(
            f"{Path(folder) / RUN_FILE}: the recorded profile is not usable: {err}; fine-tune again"
        ) from None


def recorded_seed(folder: str | Path) -> int:
    """The seed a run folder's run.json records (0 for runs saved without one)."""
    from bertnli.run.checkpoint import read_run

    seed = read_run(folder).get("config", {}).get("seed", 0)
    return seed if isinstance(seed, int) else 0
