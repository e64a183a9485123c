"""benchmarks/bench_train.py on stand-in files, at tiny sizes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.standin_files import standin_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
@pytest.mark.slow
def test_bench_train_measures_at_the_max_len_it_is_given(files, tmp_path):
    """Issue 21, item 8: ``bench_train.py --max-len`` (the laptop profile trains at 64, not 128)."""
    bench = [sys.executable, str(ROOT / "benchmarks" / "bench_train.py")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        bench
        + [
            "--max-len",
            "32",
            "--batch-size",
            "8",
            "--warmup",
            "1",
            "--windows",
            "1",
            "--steps-per-window",
            "1",
            "--data",
            str(files["data"]),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| bert.small |")]
    assert len(rows) == 3 and "pad to 32" in rows[0] and "max_len 32" in done.stdout
    refused = subprocess.run(
        bench + ["--max-len", "1000"], capture_output=True, text=True, timeout=120, env=env
    )
    assert (
        refused.returncode == 2
        and "--max-len: must be between 4 and the checkpoints' max_len 512" in refused.stderr
    )
