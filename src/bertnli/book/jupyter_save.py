"""Saving a tracked chapter notebook in Jupyter leaves the git checkout as it was.

Why: a reader who opens ``notebooks/NN_*.ipynb`` (the tracked, output-free copy of a chapter)
in JupyterLab, runs it and saves it would write outputs into a tracked file, and the next
``git pull`` stops with "your local changes would be overwritten". The nbstripout git filter
(``.gitattributes``, ``tools/git_filters.sh``) keeps outputs out of diffs and commits, but git
still reports a file whose size changed as modified. So ``make venv`` registers this
``pre_save_hook`` with the environment's Jupyter server: a tracked chapter is saved exactly as
``make notebooks`` wrote it, without outputs (a run kept with its outputs is the ``.md``, whose
run copy jupytext writes to the git-ignored ``notebooks/outputs/``). Any other notebook is saved
untouched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CHAPTER_NOTEBOOK = re.compile(r"[0-9][0-9]_[\w-]+\.ipynb")
# What Jupyter adds on a run and a save, and a tracked chapter does not hold (nbstripout's own
# list, plus the kernel's language_info).
EXTRA_KEYS = [
    "metadata.signature",
    "metadata.widgets",
    "metadata.language_info",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
]


def is_tracked_chapter(os_path: Path) -> bool:
    """``notebooks/NN_name.ipynb`` with its MyST source ``NN_name.md`` beside it."""
    return (
        os_path.parent.name == "notebooks"
        and CHAPTER_NOTEBOOK.fullmatch(os_path.name) is not None
        and os_path.with_suffix(".md").is_file()
    )


def strip_tracked_chapter(
    model: dict[str, Any], path: str, contents_manager: Any, **_: Any
) -> None:
    """Jupyter server ``pre_save_hook``: drop outputs, counts and run metadata of a tracked chapter."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", "."))
    if not is_tracked_chapter(root / path.strip("/")):
        return
    import nbformat
    from nbstripout import strip_output

    notebook = nbformat.from_dict(model["content"])
    strip_output(notebook, keep_output=False, keep_count=False, keep_id=True, extra_keys=EXTRA_KEYS)
    model["content"] = notebook
