"""Two processes with the gloo backend on CPU, launched by torchrun, against one process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).parent / "helpers" / "dist_worker.py"


def _run(args, tmp_path):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(WORKER.parents[1]), *sys.path]),
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_ddp_replicas_agree_and_match_one_process(tmp_path):
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            str(WORKER),
            str(tmp_path),
            "ddp",
        ],
        tmp_path,
    )
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


def _odd_sized_sample_corpus(folder: Path, per_rank_batch: int = 32) -> int:
    """The sample corpus with a test split of an odd number of pairs cut into an odd number
    of per-rank batches (so two ranks cannot split it evenly); returns the number of pairs."""
    from bertnli import read_snli, sample

    folder.mkdir()
    for split in ("train", "dev"):
        shutil.copy(sample.snli_dir() / f"snli_1.0_{split}.txt", folder)
    lines = (
        (sample.snli_dir() / "snli_1.0_test.txt")
        .read_text(encoding="utf-8")
        .splitlines(keepends=True)
    )
    for keep in range(len(lines), 1, -1):
        (folder / "snli_1.0_test.txt").write_text("".join(lines[:keep]), encoding="utf-8")
        n = len(read_snli(folder, "test")[2])
        if n % 2 == 1 and -(-n // per_rank_batch) % 2 == 1:
            return n
    raise AssertionError("could not make an odd-sized test split")


@pytest.mark.slow
def test_command_line_under_torchrun_with_device_cpu_is_one_run(tmp_path):
    """The README's multi-GPU command with --device cpu: two gloo processes train ONE run.

    One banner, one line per epoch, one run folder written once; the test accuracy it
    reports counts each of an odd number of test pairs exactly once, so it equals what
    ``bertnli evaluate`` measures in a single process.
    """
    n_test = _odd_sized_sample_corpus(tmp_path / "data")
    env = dict(os.environ, BERTNLI_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    run = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            "-m",
            "bertnli",
            "finetune",
            "--profile",
            "sample",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(run),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("profile: sample") == 1, done.stdout  # rank 0 alone prints
    assert done.stdout.count("epoch 1/1:") == 1 and done.stdout.count("done:") == 1, done.stdout
    assert done.stderr.count("NOTICE: using bertnli's embedded offline SAMPLE") == 1, done.stderr
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "history.json", "run.json"]
    saved = json.loads((run / "history.json").read_text())
    history, test_acc = saved["epochs"], saved["test_acc"]  # dev per epoch, test once at the end
    assert len(history) == 1 and "2 processes x CPU" in history[0]["device"]
    assert history[0]["valid_acc"] > 0.5 and test_acc > 0.5

    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "evaluate", str(run)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"on {n_test} pairs" in done.stdout, done.stdout
    accuracy = float(done.stdout.split("accuracy ")[1].split(",")[0])
    assert accuracy == round(test_acc, 4), (accuracy, test_acc)
