"""A pickle payload that runs code when loaded: what the safe loaders must refuse."""

from __future__ import annotations

from pathlib import Path


class WritesAFile:
    """Unpickling this calls ``exec``: it would create ``self.target``."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return exec, (f"open({str(self.target)!r}, 'w').write('ran')",)
