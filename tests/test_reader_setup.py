"""How readers meet the chapters outside the site: JupyterLab on a laptop, and Colab.

- JupyterLab (and Notebook 7) of the book's environment open a chapter's ``.md`` as a
  notebook, and running and saving it writes outputs only into the git-ignored
  ``notebooks/outputs/``, so ``git pull`` never meets a locally modified chapter.
- Each chapter's first cell installs ``bertnli`` at the book's version where it is
  missing (Colab) and does nothing where it is installed. Tested offline: against a
  wheel built from this checkout, in a fresh virtual environment, with pip told to use
  only that folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def install_cell() -> str:
    cells = [c for c in jupytext.read(CHAPTERS[0]).cells if c.cell_type == "code"]
    assert "install-bertnli" in cells[0].metadata.get("tags", [])
    return cells[0].source


# ----------------------------------------------------------------------------- JupyterLab

def test_jupyterlab_opens_a_chapter_md_as_a_notebook(tmp_path):
    """`make venv` sets jupytext's viewer as the default for Markdown/MyST in the environment's labconfig."""
    from jupyter_server.services.config.manager import ConfigManager

    makefile = (ROOT / "Makefile").read_text()
    line = next((ln.strip() for ln in makefile.splitlines() if "jupytext-config" in ln), None)
    assert line and "set-default-viewer markdown myst" in line, "make venv must set the default viewer"
    assert "LABCONFIG := $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json" in makefile
    # The same command, into a scratch config folder, read back the way JupyterLab reads it.
    settings = tmp_path / "labconfig" / "default_setting_overrides.json"
    jupytext_config = Path(sys.executable).with_name("jupytext-config")
    subprocess.run([str(jupytext_config), "--settings-file", str(settings), "set-default-viewer", "markdown", "myst"],
                   check=True, capture_output=True)
    overrides = ConfigManager(read_config_path=[str(tmp_path / "labconfig")]).get("default_setting_overrides")
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    # And this environment, when `make venv` made it, has the setting where JupyterLab looks.
    if Path(sys.prefix) == ROOT / ".venv" and (ROOT / ".venv" / ".bertnli-installed").exists():
        live = ConfigManager(config_dir_name="labconfig").get("default_setting_overrides")
        assert live["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["markdown"] == "Jupytext Notebook"


def test_running_a_chapter_in_jupyter_leaves_tracked_files_alone(tmp_path):
    """Open each .md as JupyterLab does (jupytext's contents manager), "run" it, save: the .md is
    byte-for-byte unchanged, the outputs land in notebooks/outputs/ and come back on reopening."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

    book = tmp_path / "book"
    (book / "notebooks").mkdir(parents=True)
    for path in [*CHAPTERS, *(p.with_suffix(".ipynb") for p in CHAPTERS)]:
        shutil.copy2(path, book / "notebooks" / path.name)
    shutil.copy2(ROOT / "jupytext.toml", book / "jupytext.toml")
    manager = build_sync_jupytext_contents_manager_class(FileContentsManager)(root_dir=str(book))
    for md in CHAPTERS:
        rel = f"notebooks/{md.name}"
        before_md = (book / rel).read_bytes()
        before_ipynb = (book / rel).with_suffix(".ipynb").read_bytes()
        model = manager.get(rel)
        assert model["type"] == "notebook", f"{rel} does not open as a notebook"
        nb = nbformat.from_dict(model["content"])
        for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran cell {n}\n")]
            cell.execution_count = n + 1
        nb.metadata["language_info"] = {"name": "python", "version": sys.version.split()[0]}
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        manager.save({"type": "notebook", "content": nb}, rel)
        assert (book / rel).read_bytes() == before_md, f"saving {rel} in Jupyter changed the tracked .md"
        assert (book / rel).with_suffix(".ipynb").read_bytes() == before_ipynb, "the tracked .ipynb changed"
        run_copy = book / "notebooks" / "outputs" / md.with_suffix(".ipynb").name
        assert "ran cell 0" in run_copy.read_text(encoding="utf-8")
        again = manager.get(rel)["content"]
        assert any(c.get("outputs") for c in again["cells"] if c["cell_type"] == "code"), "outputs lost on reopening"
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/outputs/01_pretrained_bert.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0, "notebooks/outputs/ must be git-ignored"


# ----------------------------------------------------------------------------- Colab's install cell

def run_cell(python: Path, source: str, pip_env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "install_cell.py"
    script.write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(pip_env)
    return subprocess.run([str(python), str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)


def installed_version(python: Path) -> str | None:
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('bertnli'))"],
                           capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else None


@pytest.mark.slow
def test_install_cell_installs_the_books_version_only_where_missing(tmp_path):
    source = install_cell()
    assert re.search(rf'^BOOK_VERSION = "{re.escape(VERSION)}"$', source, flags=re.M)
    wheels, empty = tmp_path / "wheels", tmp_path / "empty"
    empty.mkdir()
    # Built from a copy, so the build leaves nothing (build/, *.egg-info) in the checkout.
    package = tmp_path / "package"
    shutil.copytree(ROOT / "src", package / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, package / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(package)], check=True, capture_output=True, timeout=300)
    assert [w.name for w in wheels.glob("bertnli-*.whl")] == [f"bertnli-{VERSION}-py3-none-any.whl"]
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    offline = {"PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    # Missing and nowhere to get it from: pip's failure is the cell's error, not a silent pass.
    failed = run_cell(python, source, {**offline, "PIP_FIND_LINKS": str(empty)}, tmp_path)
    assert failed.returncode != 0 and "CalledProcessError" in failed.stderr
    assert installed_version(python) is None

    # Missing (a fresh Colab runtime): installed, at the book's version.
    first = run_cell(python, source, {**offline, "PIP_FIND_LINKS": str(wheels)}, tmp_path)
    assert first.returncode == 0, first.stderr
    assert installed_version(python) == VERSION

    # Installed: nothing to do (with nowhere to install from, any pip call would fail).
    again = run_cell(python, source, {**offline, "PIP_FIND_LINKS": str(empty)}, tmp_path)
    assert again.returncode == 0, again.stderr

    # And where the book's environment has it (this one), the cell does nothing either.
    here = run_cell(Path(sys.executable), source, {**offline, "PIP_FIND_LINKS": str(empty)}, tmp_path)
    assert here.returncode == 0, here.stderr
