"""``pytest --nbval-lax notebooks/``: every chapter runs top to bottom in a fresh kernel (nbval).

Why this file: nbval starts each notebook's kernel with this process's environment, so the
settings the book build uses are set here, before any kernel starts: the offline ``sample``
profile (unless ``BERTNLI_PROFILE`` says otherwise), one PyTorch thread, no progress bars, and
a fresh temporary folder for chapters 3 and 4's run folders (so a run is never resumed from an
older checkout's checkpoint). Only the tracked chapters are collected: the reader's run copies
in ``notebooks/outputs/`` (jupytext, git-ignored) are not.
"""

from __future__ import annotations

import os
import shutil
import tempfile

collect_ignore_glob = ["outputs/*", ".ipynb_checkpoints/*"]

os.environ.setdefault("BERTNLI_PROFILE", "sample")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["TQDM_DISABLE"] = "1"

_RUNS = None
if "BERTNLI_RUNS" not in os.environ:
    _RUNS = tempfile.mkdtemp(prefix="bertnli-nbval-runs-")
    os.environ["BERTNLI_RUNS"] = _RUNS


def pytest_unconfigure(config) -> None:
    """Remove the temporary run folders this file made (never a folder the user named)."""
    if _RUNS is not None:
        shutil.rmtree(_RUNS, ignore_errors=True)
