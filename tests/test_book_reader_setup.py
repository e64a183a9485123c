"""How readers meet the chapters outside the site: JupyterLab on a laptop, and Colab.

- JupyterLab (and Notebook 7) of the book's environment open a chapter's ``.md`` as a
  notebook, and running and saving it writes outputs only into the git-ignored
  ``notebooks/outputs/``, so ``git pull`` never meets a locally modified chapter.
- Each chapter's first cell installs ``bertnli`` where it is missing (Colab) from the
  book's repository (``_config.yml``) at the release tag of the book's version, and does
  nothing where it is installed. Tested offline: a fresh virtual environment installs it
  from a local git repository of this checkout, pip limited to local files.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from helpers.repo_tools import load_tool

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
    assert line and "set-default-viewer markdown myst" in line, (
        "make venv must set the default viewer"
    )
    assert "LABCONFIG := $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json" in makefile
    # The same command, into a scratch config folder, read back the way JupyterLab reads it.
    settings = tmp_path / "labconfig" / "default_setting_overrides.json"
    jupytext_config = Path(sys.executable).with_name("jupytext-config")
    subprocess.run(
        [
            str(jupytext_config),
            "--settings-file",
            str(settings),
            "set-default-viewer",
            "markdown",
            "myst",
        ],
        check=True,
        capture_output=True,
    )
    overrides = ConfigManager(read_config_path=[str(tmp_path / "labconfig")]).get(
        "default_setting_overrides"
    )
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    # And this environment, when `make venv` made it, has the setting where JupyterLab looks.
    if Path(sys.prefix) == ROOT / ".venv" and (ROOT / ".venv" / ".bertnli-installed").exists():
        live = ConfigManager(config_dir_name="labconfig").get("default_setting_overrides")
        assert (
            live["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["markdown"]
            == "Jupytext Notebook"
        )


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
        nb.metadata["kernelspec"] = {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
        manager.save({"type": "notebook", "content": nb}, rel)
        assert (book / rel).read_bytes() == before_md, (
            f"saving {rel} in Jupyter changed the tracked .md"
        )
        assert (book / rel).with_suffix(".ipynb").read_bytes() == before_ipynb, (
            "the tracked .ipynb changed"
        )
        run_copy = book / "notebooks" / "outputs" / md.with_suffix(".ipynb").name
        assert "ran cell 0" in run_copy.read_text(encoding="utf-8")
        again = manager.get(rel)["content"]
        assert any(c.get("outputs") for c in again["cells"] if c["cell_type"] == "code"), (
            "outputs lost on reopening"
        )
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "notebooks/outputs/01_pretrained_bert.ipynb"], cwd=ROOT
    )
    assert ignored.returncode == 0, "notebooks/outputs/ must be git-ignored"


def _git(*args: str, cwd: Path) -> str:
    who = {
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@localhost",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@localhost",
    }
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **who},
        timeout=60,
    )
    return done.stdout


def _run_and_save_in_jupyter(book: Path, rel: str) -> None:
    """What a reader's JupyterLab does with a tracked .ipynb: open it (jupytext's contents manager,
    with the server configuration `make venv` installs), run every cell, save: outputs, counts,
    kernel info, cell timings."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class
    from traitlets.config import Config

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert (
        "cp tools/jupyter_server_config.json $(VENV)/etc/jupyter/jupyter_server_config.d/bertnli.json"
        in makefile
    )
    config = Config(
        json.loads((ROOT / "tools" / "jupyter_server_config.json").read_text(encoding="utf-8"))
    )
    manager = build_sync_jupytext_contents_manager_class(FileContentsManager)(
        root_dir=str(book), config=config
    )
    nb = nbformat.from_dict(manager.get(rel)["content"])
    _run(nb)
    manager.save({"type": "notebook", "content": nb}, rel)


def _run(nb) -> None:
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=f"ran cell {n}\n"),
            nbformat.v4.new_output("display_data", data={"text/markdown": f"**{n}**"}),
        ]
        cell.execution_count = n + 1
        cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000000Z"}
    nb.metadata["language_info"] = {"name": "python", "version": sys.version.split()[0]}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}


def _book_clone(tmp_path: Path, chapters: list[str]) -> Path:
    """A git repository set up as `make venv` sets up a clone: .gitattributes, .gitignore, the filter."""
    book = tmp_path / "book"
    (book / "notebooks").mkdir(parents=True)
    for name in (".gitattributes", ".gitignore"):
        shutil.copy2(ROOT / name, book / name)
    for chapter in chapters:
        for twin in (chapter, chapter.replace(".ipynb", ".md")):
            shutil.copy2(ROOT / "notebooks" / twin, book / "notebooks" / twin)
    _git("init", "--quiet", cwd=book)
    subprocess.run(
        ["sh", str(ROOT / "tools" / "git_filters.sh"), sys.executable],
        cwd=book,
        check=True,
        capture_output=True,
        timeout=60,
    )
    _git("add", "-A", cwd=book)
    _git("commit", "--quiet", "-m", "the book", cwd=book)
    assert _git("status", "--porcelain", cwd=book) == "", (
        "the tracked notebook is not what the filter keeps"
    )
    return book


@pytest.mark.parametrize(
    "chapter", [p.with_suffix(".ipynb").name for p in CHAPTERS[:1] + CHAPTERS[-1:]]
)
def test_running_and_saving_a_tracked_ipynb_leaves_git_status_clean(tmp_path, chapter):
    """JupyterLab with the server configuration of `make venv` saves a run tracked chapter as it
    was: `git status` is empty, so a `git pull` never stops at it."""
    book = _book_clone(tmp_path, [chapter])
    before = (book / "notebooks" / chapter).read_bytes()
    _run_and_save_in_jupyter(book, f"notebooks/{chapter}")
    assert _git("status", "--porcelain", cwd=book) == "", (
        f"running and saving {chapter} dirtied the checkout"
    )
    assert (book / "notebooks" / chapter).read_bytes() == before


def test_the_save_hook_keeps_outputs_of_every_other_notebook(tmp_path):
    """Only a tracked chapter (notebooks/NN_*.ipynb beside its .md) is saved without outputs: a
    run copy in notebooks/outputs/ or the reader's own notebook keeps them."""
    book = _book_clone(tmp_path, [CHAPTERS[0].with_suffix(".ipynb").name])
    for rel in (
        "notebooks/outputs/01_pretrained_bert.ipynb",
        "mine/01_pretrained_bert.ipynb",
        "notebooks/99_my_own.ipynb",
    ):
        (book / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHAPTERS[0].with_suffix(".ipynb"), book / rel)
        _run_and_save_in_jupyter(book, rel)
        assert "ran cell 0" in (book / rel).read_text(encoding="utf-8"), f"{rel} lost its outputs"


def test_outputs_saved_by_another_editor_never_reach_a_diff_or_commit(tmp_path):
    """VS Code or a script writes outputs into a tracked chapter: the nbstripout filter hides them
    from `git diff`, and `git add` stores nothing new."""
    chapter = CHAPTERS[-1].with_suffix(".ipynb").name
    book = _book_clone(tmp_path, [chapter])
    path = book / "notebooks" / chapter
    nb = nbformat.read(path, as_version=4)
    _run(nb)
    nbformat.write(nb, path)
    assert "ran cell 0" in path.read_text(encoding="utf-8")
    assert _git("diff", cwd=book) == ""
    _git("add", "-A", cwd=book)
    assert (
        _git("diff", "--cached", cwd=book) == "" and _git("status", "--porcelain", cwd=book) == ""
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_tracked_ipynb_is_what_the_git_filter_keeps(path, tmp_path):
    """`make notebooks` writes each tracked .ipynb exactly as the filter would store it: a fresh
    clone with the filter shows no change, and the filter never rewrites a file nobody ran."""
    _git("init", "--quiet", cwd=tmp_path)
    subprocess.run(
        ["sh", str(ROOT / "tools" / "git_filters.sh"), sys.executable],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=60,
    )
    clean = _git("config", "filter.nbstripout.clean", cwd=tmp_path).strip()
    tracked = path.with_suffix(".ipynb")
    kept = subprocess.run(
        clean, shell=True, stdin=tracked.open("rb"), capture_output=True, check=True, timeout=120
    )
    assert kept.stdout == tracked.read_bytes(), (
        f"{tracked.name}: the nbstripout filter would store it differently"
    )


def test_git_filters_script_names_a_missing_nbstripout(tmp_path):
    _git("init", "--quiet", cwd=tmp_path)
    done = subprocess.run(
        ["sh", str(ROOT / "tools" / "git_filters.sh"), "/no/such/python"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "has no nbstripout; install it" in done.stderr
    assert "nbstripout" not in _git("config", "--local", "--list", cwd=tmp_path)


# ----------------------------------------------------------------------------- Colab's install cell


def sync_tool():
    return load_tool("sync_notebooks")


def test_install_cells_name_the_repository_and_branch_the_colab_buttons_open():
    """The one place for the URL and the branch is _config.yml: Jupyter Book's Colab buttons open
    `<url>/blob/<branch>/notebooks/...`, and `make notebooks` copies both into every install cell
    (the .md and the tracked .ipynb Colab opens), so Colab installs the package of that notebook."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    url, branch = repository["url"].rstrip("/"), repository["branch"]
    assert sync_tool().install_source() == (url, branch)
    for md in CHAPTERS:
        for path, nb in (
            (md, jupytext.read(md)),
            (md.with_suffix(".ipynb"), nbformat.read(md.with_suffix(".ipynb"), 4)),
        ):
            cell = next(c for c in nb.cells if c.cell_type == "code")
            assert "install-bertnli" in cell.metadata.get("tags", []), (
                f"{path.name}: first code cell is not the install cell"
            )
            assert re.search(rf'^BOOK_REPOSITORY = "{re.escape(url)}"$', cell.source, flags=re.M), (
                f"{path.name}: install cell's repository is not _config.yml's; run `make notebooks`"
            )
            revision = re.search(r'^BOOK_REVISION = "([^"]*)"$', cell.source, flags=re.M)
            assert revision and revision.group(1) == branch, (
                f"{path.name}: install cell installs {revision and revision.group(1)!r}, the Colab button opens "
                f"branch {branch!r}; run `make notebooks`"
            )
            # From the repository at that branch: never a name on PyPI that anyone could register.
            assert 'package = f"bertnli @ git+{BOOK_REPOSITORY}@{BOOK_REVISION}"' in cell.source
            assert "bertnli==" not in cell.source


def test_the_branch_of_config_exists_in_this_repository():
    """The revision the install cells name is one that exists (checked locally, no network)."""
    branch = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"][
        "branch"
    ]
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)"], cwd=ROOT, capture_output=True, text=True
    )
    names = {
        r.split("/", 2)[-1]
        for r in refs.stdout.split()
        if r.startswith(("refs/heads/", "refs/remotes/"))
    }
    names |= {r.split("/", 3)[-1] for r in refs.stdout.split() if r.startswith("refs/remotes/")}
    assert branch in names, (
        f"_config.yml: `repository: branch: {branch}` is no branch of this repository ({sorted(names)})"
    )


def test_a_fork_changes_one_line_and_make_notebooks_fills_the_cells(tmp_path):
    tool = sync_tool()
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "src" / "bertnli").mkdir(parents=True)
    shutil.copy2(
        ROOT / "src" / "bertnli" / "__init__.py", tmp_path / "src" / "bertnli" / "__init__.py"
    )
    config = (tmp_path / "_config.yml").read_text(encoding="utf-8")
    fork = "https://github.com/a-teacher/bertnli-class"
    url_line = re.search(r"^  url: .*$", config, flags=re.M).group(0)
    (tmp_path / "_config.yml").write_text(
        config.replace(url_line, f"  url: {fork}/"), encoding="utf-8"
    )
    assert tool.install_source(tmp_path) == (fork, "main")
    chapter = CHAPTERS[0].read_text(encoding="utf-8")
    filled = tool.fill_install_cell(chapter, fork, "main")
    changed = [(a, b) for a, b in zip(chapter.splitlines(), filled.splitlines()) if a != b]
    assert len(chapter.splitlines()) == len(filled.splitlines())
    assert changed and all(b == f'BOOK_REPOSITORY = "{fork}"' for _, b in changed), (
        "only the URL line changes"
    )
    assert tool.fill_install_cell(filled, fork, "main") == filled
    class_branch = tool.fill_install_cell(filled, fork, "class-2026")
    assert 'BOOK_REVISION = "class-2026"' in class_branch and class_branch.count("class-2026") == 1
    # Clear errors, naming the file and the fix.
    (tmp_path / "_config.yml").write_text(
        config.replace(url_line, "  url: 'my fork'"), encoding="utf-8"
    )
    with pytest.raises(tool.SyncError, match=r"_config.yml: `repository: url:` is 'my fork'"):
        tool.install_source(tmp_path)
    (tmp_path / "_config.yml").write_text(config, encoding="utf-8")
    init = tmp_path / "src" / "bertnli" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8").replace(f'"{VERSION}"', '"9.9.9"'), encoding="utf-8"
    )
    with pytest.raises(tool.SyncError, match=r"src/bertnli/__init__.py says __version__ = '9.9.9'"):
        tool.install_source(tmp_path)
    with pytest.raises(
        tool.SyncError, match=r"03_x.md: expected one code cell tagged install-bertnli"
    ):
        tool.fill_install_cell("# no cells\n", fork, "main", "03_x.md")
    (tmp_path / "_config.yml").write_text(
        config.replace("  branch: main", "  branch: 'my branch'"), encoding="utf-8"
    )
    with pytest.raises(tool.SyncError, match=r"_config.yml: `repository: branch:` is 'my branch'"):
        tool.install_source(tmp_path)


def wheel_of_installed(name: str, folder: Path) -> Path:
    """A wheel of the pure-Python distribution ``name`` as installed here: the build backend an
    offline pip needs to build bertnli from its repository (nothing is downloaded)."""
    dist = importlib.metadata.distribution(name)
    dist_info = f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}.dist-info"
    assert "Root-Is-Purelib: true" in (dist.read_text("WHEEL") or ""), f"{name} is not pure Python"
    wheel = folder / f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files:
            path = file.as_posix()
            if (
                path.startswith("..")
                or "__pycache__" in file.parts
                or file.name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
            ):
                continue
            data = dist.locate_file(file).read_bytes()
            archive.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def git(*args: str, cwd: Path) -> None:
    who = {
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@localhost",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@localhost",
    }
    subprocess.run(
        [
            "git",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, **who},
        timeout=60,
    )


def run_cell(
    python: Path, source: str, pip_env: dict, tmp_path: Path
) -> subprocess.CompletedProcess:
    script = tmp_path / "install_cell.py"
    script.write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(pip_env)
    return subprocess.run(
        [str(python), str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def installed_version(python: Path) -> str | None:
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('bertnli'))"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def pointed_at(source: str, repository: str) -> str:
    """The install cell, its repository replaced (the pip command stays the cell's own)."""
    pointed, n = re.subn(
        r'^BOOK_REPOSITORY = ".*"$',
        lambda _: f'BOOK_REPOSITORY = "{repository}"',
        source,
        flags=re.M,
    )
    assert n == 1
    return pointed


@pytest.mark.slow
def test_install_cell_installs_the_books_branch_only_where_missing(tmp_path):
    """A fresh venv (a Colab runtime without bertnli) installs it from a local git repository of this
    checkout at the branch of _config.yml; pip reads only local files: no index, no network."""
    source = install_cell()
    branch = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"][
        "branch"
    ]
    assert re.search(rf'^BOOK_REVISION = "{re.escape(branch)}"$', source, flags=re.M)
    # The book's repository: this checkout's package in a local git repository (a copy, so nothing
    # is left in the checkout and uncommitted work is what is tested).
    repo = tmp_path / "book-repository"
    shutil.copytree(
        ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    git("init", "--quiet", "--initial-branch=draft", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", f"version {VERSION}", cwd=repo)
    # The build backend (pyproject's build-system), for pip's isolated build, from this environment.
    backend, empty = tmp_path / "backend", tmp_path / "empty"
    backend.mkdir()
    empty.mkdir()
    wheel_of_installed("setuptools", backend)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    offline = {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_FIND_LINKS": str(backend),
    }
    # file://localhost/...: the fresh venv's pip may be old enough to reject git+file:///... (no host).
    cell = pointed_at(source, f"file://localhost{repo.as_posix()}")

    # Missing, and the repository has no such branch: pip's failure is the cell's error, not a silent pass.
    failed = run_cell(python, cell, offline, tmp_path)
    assert failed.returncode != 0 and "CalledProcessError" in failed.stderr
    assert re.search(rf"'{re.escape(branch)}' did not match", failed.stderr), failed.stderr
    assert installed_version(python) is None

    # The branch exists, and another branch has moved on: the named branch is what gets installed.
    git("branch", branch, cwd=repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'version = "{VERSION}"', 'version = "99.0.0.dev0"')
    )
    git("commit", "--quiet", "-am", "work on another branch", cwd=repo)

    # Missing (a fresh Colab runtime): installed, from the book's branch.
    first = run_cell(python, cell, offline, tmp_path)
    assert first.returncode == 0, first.stderr
    assert installed_version(python) == VERSION

    # Installed: nothing to do (no repository and nowhere to install from: any pip call would fail).
    nowhere = pointed_at(source, f"file://localhost{tmp_path.as_posix()}/no-such-repository")
    again = run_cell(python, nowhere, {**offline, "PIP_FIND_LINKS": str(empty)}, tmp_path)
    assert again.returncode == 0, again.stderr

    # And where the book's environment has it (this one), the cell does nothing either.
    here = run_cell(
        Path(sys.executable), nowhere, {**offline, "PIP_FIND_LINKS": str(empty)}, tmp_path
    )
    assert here.returncode == 0, here.stderr
