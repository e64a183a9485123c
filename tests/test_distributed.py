"""Two processes with the gloo backend on CPU, launched by torchrun, against one process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).with_name("dist_worker.py")


def _run(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(WORKER.parent), *sys.path]), OMP_NUM_THREADS="1")
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_ddp_replicas_agree_and_match_one_process(tmp_path):
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
          str(WORKER), str(tmp_path), "ddp"], tmp_path)
    _run([sys.executable, str(WORKER), str(tmp_path), "single"], tmp_path)
    rank0, rank1, single = (torch.load(tmp_path / f"weights-{r}.pt") for r in (0, 1, "single"))
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), f"replicas differ at {key}"
        # Same optimisation up to float noise. Adam divides by sqrt(v), so where a gradient
        # is ~0 that noise can move a weight by up to lr per step: 12 steps x 1e-3.
        assert (rank0[key] - single[key]).abs().max() < 12e-3, key
    h_ddp = json.loads((tmp_path / "history-0.json").read_text())["epochs"]
    h_one = json.loads((tmp_path / "history-single.json").read_text())["epochs"]
    assert len(h_ddp) == len(h_one) == 2
    for a, b in zip(h_ddp, h_one):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)
        assert a["train_acc"] == pytest.approx(b["train_acc"])
    assert "2 processes" in h_ddp[0]["device"]


@pytest.mark.slow
def test_command_line_under_torchrun_trains_with_two_processes(tmp_path):
    """The README's multi-GPU command, with two CPU processes (gloo) instead of GPUs."""
    env = dict(os.environ, BERTNLI_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                           "-m", "bertnli", "finetune", "--profile", "sample", "--epochs", "1",
                           "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("done:") == 1 and done.stdout.count("profile: sample") == 1  # rank 0 alone prints
    history = json.loads((tmp_path / "run" / "history.json").read_text())["epochs"]
    assert len(history) == 1 and "2 processes" in history[0]["device"]
    assert history[0]["test_acc"] > 0.5
