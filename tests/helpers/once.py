"""Work done once per test run, whichever pytest-xdist worker asks for it first.

Why: each xdist worker is a session of its own, so a session-scoped fixture runs once per worker.
``once_per_run`` makes a run-wide result in a folder that all workers share: the first caller makes
it under a file lock, the others wait for the lock and reuse what it left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import filelock
import pytest


class MadeBeforeAndFailed(RuntimeError):
    """An earlier caller's attempt failed; its message is kept, and nothing is tried twice."""


def once_per_run(folder: Path, make: Callable[[Path], object]) -> None:
    """Call ``make(folder)`` unless a caller before this one did; a failure is raised to every caller."""
    folder.mkdir(parents=True, exist_ok=True)
    done, failed = folder / ".made", folder / ".failed"
    with filelock.FileLock(str(folder / ".lock")):
        if failed.is_file():
            raise MadeBeforeAndFailed(failed.read_text(encoding="utf-8"))
        if done.is_file():
            return
        try:
            make(folder)
        # pytest.fail raises an exception that is not an Exception: caught by name.
        except (Exception, pytest.fail.Exception) as error:
            failed.write_text(str(error) or type(error).__name__, encoding="utf-8")
            raise
        done.touch()
