"""Every rule a run's settings follow, each written once, with the message that names the option.

One setting has three names: ``--lr`` on the command line, ``lr=`` in Python (a notebook),
``$BERTNLI_EPOCHS`` for a variable. :func:`option` picks the one the reader typed, and each
``check_*`` says what is wrong and how to fix it. The command line's argument parser, the
``BERTNLI_*`` variables (``run.profiles``), the run description (``run.spec``) and the
training loop all call these functions instead of repeating the checks in their own words.
"""

from __future__ import annotations

import math

CLI, PYTHON = "cli", "python"  # who typed the settings: how a message names an option
REFERENCE_LR = 1e-4


class SettingError(ValueError):
    """A setting that cannot work; the message names it and the fix.

    In a notebook it shows as that one line, not as a traceback through the package."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook: what the cell's error shows
        return [f"{type(self).__name__}: {self}"]


def option(name: str, surface: str = PYTHON, source: str | None = None) -> str:
    """How the reader set ``name``: ``$BERTNLI_X`` (``source`` a variable), ``--x`` (command
    line) or ``x=`` (Python)."""
    if source and source.startswith("BERTNLI_"):
        return "$" + source
    if source and source.startswith("--"):
        return source
    return "--" + name.replace("_", "-") if surface == CLI else f"{name}="


def check_lr(lr, where: str = "--lr / lr=") -> float:
    """A learning rate that can train: finite and positive."""
    try:
        ok = not isinstance(lr, bool) and math.isfinite(lr) and lr > 0
    except TypeError:
        ok = False
    if not ok:
        raise SettingError(
            f"learning rate ({where}) must be a finite positive number, got {lr!r}; "
            "the reference run uses 1e-4"
        )
    return lr


def check_positive_int(value, where: str) -> int:
    """A count (epochs, batch size, max_len, pairs): an integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(
            f"{where} must be a positive integer, got {value!r}; give a whole number of at least 1"
        )
    return value


def check_choice(value, choices, where: str):
    """One of a fixed set of names (e.g. the truncation rules)."""
    if value not in choices:
        raise SettingError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_max_len_fits(max_len: int, limit: int, where: str) -> None:
    """``max_len`` no longer than the checkpoint's position table."""
    if max_len > limit:
        raise SettingError(
            f"max_len {max_len} ({where}) exceeds the checkpoint's max_len {limit}; give at most "
            f"{limit}"
        )


def check_batch_divides(batch_size: int, world_size: int, where: str) -> None:
    """Under torchrun the global batch is split evenly across the processes."""
    if batch_size % world_size:
        raise SettingError(
            f"batch size {batch_size} ({where}) is not divisible by the {world_size} processes; "
            f"give a multiple of {world_size}"
        )


def check_out_flags(
    out, resume: bool, overwrite: bool, surface: str = PYTHON, out_name: str = "out"
) -> None:
    """``resume`` and ``overwrite`` exclude each other, and resuming needs the run folder."""
    resume_flag, overwrite_flag = (option("resume", surface), option("overwrite", surface))
    if surface == PYTHON:
        resume_flag, overwrite_flag = "resume=True", "overwrite=True"
    if resume and overwrite:
        raise SettingError(
            f"{resume_flag} and {overwrite_flag} contradict each other; choose one (continue the "
            "run, or replace it)"
        )
    if resume and not out:
        raise SettingError(
            f"{resume_flag} needs the run folder ({option(out_name, surface)}); give the folder "
            "the run was saved in"
        )


def parse_int(text: str, where: str) -> int:
    """``text`` (a variable's value) as a positive integer, by :func:`check_positive_int`."""
    try:
        value = int(text)
    except ValueError:
        raise SettingError(
            f"{where} must be a positive integer, got {text!r}; give a whole number of at least 1"
        ) from None
    return check_positive_int(value, where)
