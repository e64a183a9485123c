"""Are we running inside a Jupyter kernel? (Progress bars and live plots depend on it.)"""

from __future__ import annotations

import os
import sys


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, nbconvert, nbval).

    Merely importable ``ipykernel`` is not enough: pytest plugins import it too. We ask
    the running IPython shell, if any, whether it has a kernel.
    """
    ipython = sys.modules.get("IPython")
    get_shell = getattr(ipython, "get_ipython", None)
    return hasattr(get_shell() if get_shell is not None else None, "kernel")


def want_progress(progress: bool | None = None) -> bool:
    """Whether to draw progress bars: as asked, else when someone watches (stderr is a
    terminal, or a Jupyter kernel). ``TQDM_DISABLE`` turns them off either way, with the
    same rule as :func:`progress_bar` (any non-empty value, as in tqdm)."""
    if os.environ.get("TQDM_DISABLE"):
        return False
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() or in_kernel()


def progress_bar(**kwargs):
    """``tqdm.auto``'s bar (a widget in Jupyter, text in a terminal); ``kwargs`` go to tqdm.

    ``TQDM_DISABLE`` (tqdm's own switch; the book build sets it, as a static page cannot show
    a live bar) turns the bar off in a notebook too: ``tqdm.notebook`` passes ``disable=False``
    to tqdm explicitly and so never sees the variable. Any non-empty value disables, as in tqdm.
    """
    from tqdm.auto import tqdm

    if os.environ.get("TQDM_DISABLE"):
        kwargs["disable"] = True
    return tqdm(**kwargs)
