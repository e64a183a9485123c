"""benchmarks/gpu_check.sh, the one GPU check, run here on its CPU path at tiny sizes.

No GPU is needed to check the script itself: its steps, its limits, the command-line runs
with the documented ``--device`` form, one corpus packed once, the report written whatever
happens, and a failing step that stops the check, names itself and exits non-zero.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
TINY = dict(
    DEVICE="cpu",
    TRAIN_ROWS="300",
    EVAL_ROWS="60",
    VOCAB="300",
    SHAPES="bert.small",
    BENCH="--batch-size 8 --warmup 1 --windows 1 --steps-per-window 1",
    CLI="--batch-size 8",
    OMP_NUM_THREADS="1",
)


def run_check(tmp_path: Path, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, **TINY, "OUT": str(tmp_path), "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_on_the_cpu_path(tmp_path):
    done = run_check(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = tmp_path / "gpu_check"
    report = (results / "gpu_check.md").read_text()
    assert "Check status: passed in" in report and "PyTorch" in report and "transformers" in report
    rows = [line for line in report.splitlines() if line.startswith("| bench_train")]
    measured = [r for r in rows if re.search(r"\| [\d,]+ \| peak", r)]
    # bertnli and transformers, AMP off and on, eager; then both compiled; the reference where d2l is
    assert sum("reference" in r for r in measured) == 2  # d2l is installed with the tests
    assert (
        sum("bertnli" in r for r in measured) == 3
        and sum("transformers |" in r for r in measured) == 3
    )
    assert sum("| yes |" in r and "graph(s) compiled" in r for r in measured) == 2
    assert all("failed" not in r for r in rows)
    cli = [line for line in report.splitlines() if line.startswith("| command line")]
    assert len(cli) == 2 and all("epochs: " in r for r in cli)
    assert any("small-compile" in r and "recompile(s) logged" in r for r in cli)
    assert any("epoch 1 / epoch 2" in r and "within 15%" in r for r in cli)
    # the command line was run with the documented form and said how it computes
    log = (results / "cli-small.log").read_text()
    assert "training on CPU" in log and ": fp32" in log
    # the corpus was packed once for the benchmark's workers, and the big files are gone
    assert (
        "corpus packed once: 300 pairs" in done.stderr
        or "corpus packed once: 300 pairs" in done.stdout
    )
    assert not (results / "standins").exists() and not (results / "cache").exists()


@pytest.mark.slow
def test_a_failing_step_stops_the_check_and_names_itself(tmp_path):
    done = run_check(tmp_path, SHAPES="bert.nonexistent")  # standins.py refuses the shape
    assert done.returncode != 0
    assert "gpu_check: step 'standins' failed (exit" in done.stderr
    report = (tmp_path / "gpu_check" / "gpu_check.md").read_text()
    assert (
        "Check status: failed at step 'standins'" in report
        and "| command line | | | | not run | |" in report
    )
    assert "== " + "bench" not in done.stdout  # nothing after the failed step ran
