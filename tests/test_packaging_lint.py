"""ruff: configured in pyproject.toml, run by `make lint` before the tests of `make test`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers.needs import missing

ROOT = Path(__file__).resolve().parents[1]


def ruff() -> str:
    """The ruff of this environment (the `dev` extra)."""
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.is_file() else shutil.which("ruff")
    if found is None:
        missing("ruff not found", "install the dev extra: pip install -e '.[dev]' (make venv does)")
    return found


def make_dry_run(*args: str) -> str:
    """The commands `make -n -B ARGS` would run (nothing is run)."""
    if shutil.which("make") is None:
        missing("make not found", "install make (the README's commands need it)")
    done = subprocess.run(
        ["make", "-n", "-B", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ruff_settings():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert settings["line-length"] == 100 and settings["target-version"] == "py311"


def test_ruff_reads_the_code_but_not_the_notebooks_or_the_build():
    """The tracked .ipynb stay as `make notebooks` writes them: ruff (check and format alike) skips them."""
    done = subprocess.run(
        [ruff(), "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    files = {(ROOT / line.strip()).resolve() for line in done.stdout.splitlines() if line.strip()}
    assert (
        ROOT / "src" / "bertnli" / "__init__.py" in files
        and ROOT / "tools" / "torch_choice.py" in files
    )
    assert (ROOT / "notebooks" / "conftest.py") in files
    assert not [f for f in files if f.suffix == ".ipynb" or "_build" in f.parts], (
        "ruff reads notebooks or _build"
    )


@pytest.mark.parametrize(
    "target, expected",
    [
        ("lint", ["ruff format --check .", "ruff check ."]),
        ("test", ["ruff format --check .", "ruff check .", "-m pytest -n 2 --dist loadgroup"]),
        ("test-fast", ["-m pytest -n 2 --dist loadgroup -m"]),
    ],
)
def test_make_runs_lint_and_parallel_tests(target, expected):
    commands = make_dry_run(target)
    positions = [commands.find(e) for e in expected]
    assert -1 not in positions, (
        f"`make {target}` lacks {[e for e, p in zip(expected, positions) if p < 0]}"
    )
    assert positions == sorted(positions), f"`make {target}` runs lint before the tests"


def test_the_tree_is_formatted_and_lint_free_and_make_test_insists():
    """`ruff format --check` and `ruff check` pass on the whole tree, and `make test` fails on a
    finding by default (LINT_REQUIRED=yes)."""
    for command in (["format", "--check", "."], ["check", "."]):
        done = subprocess.run(
            [ruff(), *command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, (
            f"ruff {' '.join(command)}:\n{done.stdout[-3000:]}{done.stderr[-1000:]}"
        )
    assert "LINT_REQUIRED ?= yes" in (ROOT / "Makefile").read_text(encoding="utf-8")
