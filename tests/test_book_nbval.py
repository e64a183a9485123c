"""nbval is the chapters' own test: `pytest --nbval-lax notebooks/` (what `make test` runs after
the suite, and what an instructor runs on a lab machine) finds every tracked chapter and runs it
in the sample profile. Collecting is checked here (fast); the run itself is `make test`'s."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_nbval_is_in_both_environment_files():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(re.match(r"nbval\b", d) for d in extras["test"])
    conda = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))["dependencies"]
    assert any(isinstance(d, str) and re.match(r"nbval\b", d) for d in conda)


def test_make_test_runs_the_chapters_with_nbval_and_fails_when_they_fail():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test: .*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    assert "$(NBVAL)" in recipe and re.search(
        r"^NBVAL := BERTNLI_PROFILE=sample .*pytest --nbval-lax notebooks/$", makefile, flags=re.M
    )
    # The suite's and the chapters' exit codes both decide make's.
    assert "suite=$$?" in recipe and "chapters=$$?" in recipe and "test $$chapters -eq 0" in recipe


def test_nbval_collects_each_tracked_chapter_and_nothing_else(tmp_path):
    """Run as an instructor would; a run copy in notebooks/outputs/ (jupytext's) is not collected."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "notebooks/",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    files = sorted({line.split("::")[0] for line in done.stdout.splitlines() if "::" in line})
    assert files == [f"notebooks/{p.name}" for p in CHAPTERS] and len(files) == 6


def test_the_chapters_kernels_get_the_sample_profile(monkeypatch):
    """notebooks/conftest.py sets the environment the kernels inherit, before any starts."""
    import importlib.util

    for name in ("BERTNLI_PROFILE", "BERTNLI_RUNS", "OMP_NUM_THREADS", "TQDM_DISABLE"):
        # setenv first, so that monkeypatch restores (or removes) each after the test: the
        # conftest run here sets them in os.environ, and a TQDM_DISABLE left behind silenced
        # the progress-bar tests of every module that ran later (test_hub.py's).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    spec = importlib.util.spec_from_file_location(
        "notebooks_conftest", ROOT / "notebooks" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import os

    try:
        assert os.environ["BERTNLI_PROFILE"] == "sample" and os.environ["TQDM_DISABLE"] == "1"
        assert os.environ["OMP_NUM_THREADS"] == "1" and Path(os.environ["BERTNLI_RUNS"]).is_dir()
        assert "outputs/*" in module.collect_ignore_glob
    finally:
        module.pytest_unconfigure(None)
    assert not Path(os.environ["BERTNLI_RUNS"]).exists(), (
        "the temporary run folders are left behind"
    )
