"""Write each chapter's tracked ``notebooks/NN_*.ipynb`` from its MyST source ``NN_*.md``.

Why: the ``.md`` is the book's source and what readers open in JupyterLab (jupytext pairs
it with ``notebooks/outputs/NN_*.ipynb``, git-ignored, so running a chapter never writes
outputs into a tracked file). The tracked ``.ipynb`` next to it is for Colab and the
site's download button: the same cells, no outputs, no jupytext pairing (so opening it
never rewrites the ``.md``). Cell ids are kept from the previous ``.ipynb`` where a cell
is unchanged, so a sync changes only what changed.

    python tools/sync_notebooks.py          # write the .ipynb files that differ
    python tools/sync_notebooks.py --check  # exit 1 (and say which) when one is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def tracked_notebook(md: Path, previous: Path | None = None) -> str:
    """The text of the tracked ``.ipynb`` for chapter ``md`` (ids reused from ``previous``)."""
    nb = jupytext.read(md, fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    old_ids: dict[tuple[str, str], list[str]] = {}
    if previous is not None and previous.is_file():
        for cell in nbformat.read(previous, as_version=4).cells:
            old_ids.setdefault((cell.cell_type, cell.source), []).append(cell.get("id"))
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        reuse = [i for i in old_ids.get((cell.cell_type, cell.source), []) if i and i not in used]
        cell["id"] = reuse[0] if reuse else f"{md.stem[:2]}-{index:03d}"
        while cell["id"] in used:
            cell["id"] += "x"
        used.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def chapters(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report .ipynb files that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for md in chapters():
        target = md.with_suffix(".ipynb")
        text = tracked_notebook(md, target)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not args.check:
            tmp = target.with_suffix(".ipynb.partial")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            print(f"wrote {target.relative_to(ROOT)}")
    if args.check and stale:
        names = ", ".join(p.name for p in stale)
        print(f"out of date: {names}; run `make notebooks` (python tools/sync_notebooks.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
