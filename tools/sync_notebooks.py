"""Write each chapter's tracked ``notebooks/NN_*.ipynb`` from its MyST source ``NN_*.md``.

Why: the ``.md`` is the book's source and what readers open in JupyterLab (jupytext pairs
it with ``notebooks/outputs/NN_*.ipynb``, git-ignored, so running a chapter never writes
outputs into a tracked file). The tracked ``.ipynb`` next to it is for Colab and the
site's download button: the same cells, no outputs, no jupytext pairing (so opening it
never rewrites the ``.md``). Cell ids are kept from the previous ``.ipynb`` where a cell
is unchanged, so a sync changes only what changed.

Each chapter's first code cell (tag ``install-bertnli``) installs the package in Colab from
the book's repository at the branch whose notebooks the site's "Open in Colab" buttons open, so
the package always matches the notebook it runs in. Both come from ``_config.yml``
(``repository: url:`` and ``branch:``, which Jupyter Book's launch buttons read too), and this
tool writes them into that cell of every ``.md`` first: a fork changes ``_config.yml`` and runs
``make notebooks``. Nothing else in a ``.md`` is ever rewritten.

    python tools/sync_notebooks.py          # write the .ipynb files that differ
    python tools/sync_notebooks.py --check  # exit 1 (and say which) when one is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # bertnli from this checkout, installed or not
from bertnli.files import atomic_write  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"


INSTALL_TAG = "install-bertnli"
# The install cell: a MyST code cell tagged install-bertnli, up to its closing fence.
INSTALL_CELL = re.compile(
    r"^```\{code-cell\}[^\n]*\n:tags: \[[^\]\n]*\b" + INSTALL_TAG + r"\b[^\]\n]*\]\n.*?^```$",
    flags=re.M | re.S,
)
GIT_URL = re.compile(
    r"^(https|ssh|git|file)://[^\s\"'@\\]+(@[^\s\"'@\\]+)?$"
)  # no quote: it lands in a string
# A branch name git accepts and that is safe inside a Python string and a pip requirement.
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<![./])$")


class SyncError(Exception):
    """A source the tool reads is not as expected; the message names the file and the fix."""


def install_source(root: Path = ROOT) -> tuple[str, str]:
    """(repository URL, branch) for the install cells: the repository and branch of _config.yml,
    the ones the Colab buttons open (pyproject's version is checked against ``__version__``)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url, branch = repository.get("url"), repository.get("branch")
    if not isinstance(url, str) or not GIT_URL.match(url.rstrip("/")):
        raise SyncError(
            f"_config.yml: `repository: url:` is {url!r}; set it to the book's git repository, "
            "e.g. https://github.com/OWNER/bertnli"
        )
    if not isinstance(branch, str) or not BRANCH.match(branch):
        raise SyncError(
            f"_config.yml: `repository: branch:` is {branch!r}; set it to the branch the Colab "
            "buttons open and the install cells install from, e.g. main"
        )
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    init = (root / "src" / "bertnli" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', init, flags=re.M)
    if found is None or found.group(1) != version:
        raise SyncError(
            f"pyproject.toml says version {version!r} but src/bertnli/__init__.py says "
            f"__version__ = {found.group(1) if found else None!r}; make them the same"
        )
    return url.rstrip("/"), branch


def fill_install_cell(text: str, url: str, revision: str, name: str = "chapter") -> str:
    """``text`` (a chapter's MyST source) with its install cell set to ``url`` at ``revision``."""
    cells = INSTALL_CELL.findall(text)
    if len(cells) != 1:
        raise SyncError(
            f"{name}: expected one code cell tagged {INSTALL_TAG}, found {len(cells)}; "
            f"copy the first code cell of notebooks/01_pretrained_bert.md"
        )
    cell = cells[0]
    filled = cell
    for variable, value in (("BOOK_REPOSITORY", url), ("BOOK_REVISION", revision)):
        line = f'{variable} = "{value}"'
        filled, n = re.subn(
            rf'^{variable} = "[^"\n]*"$', lambda _, line=line: line, filled, flags=re.M
        )
        if n != 1:
            raise SyncError(
                f'{name}: the {INSTALL_TAG} cell needs one line `{variable} = "..."`; '
                f"copy the first code cell of notebooks/01_pretrained_bert.md"
            )
    return text.replace(cell, filled, 1)


def single_blank_lines(text: str) -> str:
    """One blank line before each cell marker, as jupytext writes it: otherwise opening and
    saving the chapter in JupyterLab would rewrite the tracked .md."""
    return re.sub(r"\n{3,}(```\{code-cell\}|\+\+\+)", r"\n\n\1", text)


def tracked_notebook(md: Path, previous: Path | None = None, text: str | None = None) -> str:
    """The text of the tracked ``.ipynb`` for chapter ``md`` (or its source ``text``; ids reused from ``previous``)."""
    nb = (
        jupytext.reads(text, fmt="md:myst")
        if text is not None
        else jupytext.read(md, fmt="md:myst")
    )
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
            if "remove-input" in cell.metadata.get("tags", []):
                # The site drops this source (a say(...) call, a figure's code); JupyterLab folds it.
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def chapters(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only report files that are out of date"
    )
    args = parser.parse_args(argv)
    try:
        url, revision = install_source()
    except SyncError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stale = []
    for md in chapters():
        source = md.read_text(encoding="utf-8")
        try:
            filled = single_blank_lines(
                fill_install_cell(source, url, revision, str(md.relative_to(ROOT)))
            )
        except SyncError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if filled != source:
            stale.append(md)
            if not args.check:
                atomic_write(md, filled)  # whole or not at all
                print(
                    f"wrote {md.relative_to(ROOT)} (install cell: {url} at {revision}; blank lines between cells)"
                )
        target = md.with_suffix(".ipynb")
        text = tracked_notebook(md, target, filled)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not args.check:
            atomic_write(target, text)
            print(f"wrote {target.relative_to(ROOT)}")
    if args.check and stale:
        names = ", ".join(p.name for p in stale)
        print(
            f"out of date: {names}; run `make notebooks` (python tools/sync_notebooks.py)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
