"""Are we running inside a Jupyter kernel? (Progress bars and live plots depend on it.)"""

from __future__ import annotations

import sys


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, nbconvert, nbval).

    Merely importable ``ipykernel`` is not enough: pytest plugins import it too. We ask
    the running IPython shell, if any, whether it has a kernel.
    """
    ipython = sys.modules.get("IPython")
    get_shell = getattr(ipython, "get_ipython", None)
    return hasattr(get_shell() if get_shell is not None else None, "kernel")
