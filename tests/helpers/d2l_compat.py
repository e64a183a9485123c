"""Import d2l 1.0.3's PyTorch module as a *reference* inside the test process only.

d2l pins numpy 1.23.5 and imports torchvision, pandas, scipy and friends at import
time, none of which bertnli needs. The test environment installs d2l with
``--no-deps``; here we stand in empty modules for the imports it makes but our
comparisons never use, so ``d2l.torch`` imports against our numpy and torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

# Modules d2l.torch imports at top level that the BERT / SNLI code paths never touch.
_STAND_INS = {
    "torchvision": ["transforms"],
    "pandas": [],
    "requests": [],
    "scipy": ["spatial"],
    "PIL": ["Image"],
    "IPython": ["display"],
    "matplotlib_inline": ["backend_inline"],
}


def _stand_in(name: str, submodules: list[str]) -> None:
    if name != "torchvision" and importlib.util.find_spec(name) is not None:
        return  # the real package is installed: let d2l use it
    root = types.ModuleType(name)
    root.__path__ = []  # looks like a package
    sys.modules[name] = root
    for sub in submodules:
        mod = types.ModuleType(f"{name}.{sub}")
        setattr(root, sub, mod)
        sys.modules[f"{name}.{sub}"] = mod
    if name == "scipy":
        sys.modules["scipy.spatial"].distance_matrix = None
    if name == "PIL":
        sys.modules["PIL.Image"].Image = object
    for full in [name] + [f"{name}.{s}" for s in submodules]:
        sys.modules[full].__bertnli_stand_in__ = True


def d2l_torch():
    """Return ``d2l.torch``; without d2l the test skips, or fails in CI (``needs.missing``)."""
    if importlib.util.find_spec("d2l") is None:
        from helpers.needs import (
            missing,  # imports pytest: only tests get here without d2l (benchmarks check first)
        )

        missing(
            "d2l, the reference these tests compare with, is not installed",
            "pip install --no-deps 'd2l==1.0.3' (make venv does)",
        )
    if "d2l.torch" in sys.modules:
        return sys.modules["d2l.torch"]
    for name, subs in _STAND_INS.items():
        _stand_in(name, subs)
    try:
        return importlib.import_module("d2l.torch")
    finally:
        # d2l.torch keeps its own references; no other code in this process sees the stand-ins.
        for name in [
            n for n, m in sys.modules.items() if getattr(m, "__bertnli_stand_in__", False)
        ]:
            del sys.modules[name]
