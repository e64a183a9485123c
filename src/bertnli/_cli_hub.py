"""The ``download`` and ``cache`` CLI commands (the argparse wiring lives in ``cli``)."""

from __future__ import annotations

import sys

from bertnli import hub


def human_size(n: int) -> str:
    """Bytes as a short human-readable string (``1.5 MB``), decimal units like ``ls -h --si``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def cmd_download(name: str) -> int:
    """Fetch ``name`` and print its payload folder; a HubError goes to stderr with exit code 2."""
    try:
        path = hub.fetch_model(name) if name in hub.MODELS else hub.fetch(name)
    except hub.HubError as err:
        print(f"bertnli: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_cache() -> int:
    """Print the cache folder and what is in it, so readers can see what uses their disk."""
    try:
        root = hub.cache_dir()
        entries = hub.cached()
    except OSError as err:
        print(f"bertnli: cannot read the cache folder: {err}", file=sys.stderr)
        return 2
    print(f"cache: {root}")
    if not entries:
        print("(empty)")
        return 0
    rows = [(e.name, e.kind, human_size(e.size_bytes), str(e.path)) for e in entries]
    header = ("NAME", "KIND", "SIZE", "PATH")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for name, kind, size, path in [header, *rows]:
        print(f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {size:>{widths[2]}}  {path}")
    total = sum(e.size_bytes for e in entries)
    print(f"total: {human_size(total)}")
    return 0
