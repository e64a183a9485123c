"""Numbers in the chapters' prose come from the code that computes them.

A code cell calls ``glue("premise_tokens", n)``; the markdown says ``{glue:text}`premise_tokens```
(or ``{glue:text}`share:.1%```), and the book build (myst-nb) puts the value there, so the
prose cannot drift from the output. In plain Jupyter or Colab without myst-nb the call only
returns the value (the markdown then shows the reference, not the number).
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def glue(name: str, value: T, *, display: bool = False) -> T:
    """Make ``value`` available to the prose as ``name`` (myst-nb's glue), and return it.

    A NumPy or PyTorch scalar is glued as the plain Python number it holds: myst-nb reads the
    number back from its repr, and ``np.float64(0.5)`` is not a literal it can read (a format
    spec like ``:.1%`` would then fail the build).
    """
    if getattr(value, "shape", None) == () and callable(getattr(value, "item", None)):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # plain Jupyter without the book extra
        return value
    myst_glue(name, value, display=display)
    return value
