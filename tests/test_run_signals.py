"""SIGTERM and Ctrl-C (issue 21, item 6), alone and under torchrun, and their neighbours.

SIGTERM (a scheduler, ``timeout``, ``docker stop``) ends a run as Ctrl-C does: the last
finished epoch kept, one line saying so, the history marked, exit 143 (130 for Ctrl-C).
Under torchrun every rank stops at the same step, without a traceback from any of them,
and every rank's random state is saved, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli_runs import run_cli, signal_at_first_epoch
from helpers.tiny_task import tiny_bert, tiny_loader

from bertnli import BERTClassifier, cli, fine_tune
from bertnli.distributed import DistInfo
from bertnli.run import train
from bertnli.run.checkpoint import CHECKPOINT_FILE, HISTORY_FILE, load_checkpoint, read_run

WORKER = Path(__file__).parent / "helpers" / "dist_worker.py"


pytestmark = pytest.mark.usefixtures("isolated_cache")  # conftest.py


class SignalOnEpochLine(DistInfo):
    """A world of one that gets ``signum`` the moment it prints epoch 1's line."""

    signum = signal.SIGTERM

    def print(self, *args, **kwargs) -> None:
        super().print(*args, **kwargs)
        if args and str(args[0]).startswith("epoch 1/"):
            os.kill(os.getpid(), self.signum)


# ----------------------------------------------------------------------------- one process


def test_sigterm_stops_fine_tune_like_ctrl_c_and_keeps_the_finished_epoch(tmp_path, capsys):
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=4,
        device=SignalOnEpochLine(torch.device("cpu")),
        checkpoint_dir=tmp_path / "run",
    )
    out = capsys.readouterr().out
    assert history.interrupted and history.stopped_by == "SIGTERM"
    lines = [line for line in out.splitlines() if "stopped by" in line]
    assert len(lines) == 1 and lines[0].startswith("stopped by SIGTERM after epoch 1;")
    assert "holds epoch 1, the last finished one" in lines[0]
    saved = json.loads((tmp_path / "run" / HISTORY_FILE).read_text())
    assert saved["interrupted"] and saved["stopped_by"] == "SIGTERM" and len(saved["epochs"]) == 1
    assert load_checkpoint(tmp_path / "run")["epoch"] == 1
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back as it was


def test_sigterm_while_saving_waits_until_the_three_files_agree(tmp_path, capsys, monkeypatch):
    from bertnli.run import checkpoint

    real = checkpoint.save_checkpoint

    def save_then_sigterm(path, model, optimizer=None, scaler=None, epoch=0, *args, **kwargs):
        real(path, model, optimizer, scaler, epoch, *args, **kwargs)
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_then_sigterm)
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=4,
        device="cpu",
        checkpoint_dir=tmp_path / "run",
    )
    assert (
        history.interrupted
        and history.stopped_by == "SIGTERM"
        and "holds epoch 2" in capsys.readouterr().out
    )
    assert load_checkpoint(tmp_path / "run")["epoch"] == read_run(tmp_path / "run")["epoch"] == 2


def test_sigterm_without_a_run_folder_says_nothing_was_saved(capsys):
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=3,
        device=SignalOnEpochLine(torch.device("cpu")),
    )
    out = capsys.readouterr().out
    assert history.interrupted and "stopped by SIGTERM after epoch 1; nothing was saved" in out


def test_the_command_line_exits_143_on_sigterm_and_130_on_ctrl_c(tmp_path, capsys, monkeypatch):
    from bertnli.run import train

    for signum, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):

        def stop(*args, signum=signum, **kwargs):
            os.kill(os.getpid(), signum)
            raise AssertionError("the signal did not stop the epoch")

        monkeypatch.setattr(train, "_train_one_epoch", stop)
        assert (
            cli.main(
                [
                    "finetune",
                    "--epochs",
                    "1",
                    "--out",
                    str(tmp_path / f"r{code}"),
                    "--device",
                    "cpu",
                ]
            )
            == code
        )
        out = capsys.readouterr().out
        assert f"stopped by {'SIGTERM' if code == 143 else 'Ctrl-C'} during epoch 1" in out
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_sigterm_before_training_ends_the_command_with_one_line(tmp_path, capsys, monkeypatch):
    """While the data is read (before the loop), SIGTERM still ends with a line and 143."""
    from bertnli.run import recipe

    def sigterm(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(recipe, "load_datasets", sigterm)
    code = cli.main(["finetune", "--epochs", "1", "--out", str(tmp_path / "r"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 143 and err.strip().endswith("bertnli finetune: stopped by SIGTERM")
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_a_real_sigterm_stops_the_command_line_with_143_and_it_resumes(tmp_path):
    folder = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BERTNLI_CACHE": str(tmp_path / "cache"),
        "OMP_NUM_THREADS": "1",
    }
    code, out, err = signal_at_first_epoch(
        [sys.executable, "-m", "bertnli"], folder, env, signal.SIGTERM
    )
    assert code == 143, err
    assert "Traceback" not in err and out.count("stopped by SIGTERM") == 1
    saved = load_checkpoint(folder)["epoch"]
    assert 1 <= saved < 8 and f"holds epoch {saved}, the last finished one" in out
    history = json.loads((folder / HISTORY_FILE).read_text())
    assert history["interrupted"] is True and history["stopped_by"] == "SIGTERM"
    assert sorted(p.name for p in folder.iterdir()) == [CHECKPOINT_FILE, HISTORY_FILE, "run.json"]
    command = out.split("To continue from there: ")[1].splitlines()[0]
    resumed = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((folder / HISTORY_FILE).read_text())["stopped_by"] is None


# ----------------------------------------------------------------------------- torchrun


def _torchrun(tmp_path, out: Path, mode: str) -> subprocess.CompletedProcess:
    out.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(WORKER.parents[1]), *sys.path]),
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            str(WORKER),
            str(out),
            mode,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_a_stopped_and_resumed_ddp_run_equals_an_uninterrupted_one(tmp_path):
    """SIGTERM reaches rank 0 alone; every rank stops at the same step, and the resumed run,
    with each rank's own random state restored, ends with the uninterrupted run's weights."""
    _torchrun(tmp_path, tmp_path / "a", "straight")
    stopped = _torchrun(tmp_path, tmp_path / "b", "stop")
    assert (
        "Traceback" not in stopped.stderr
        and stopped.stdout.count("stopped by SIGTERM after epoch 1") == 1
    )
    for rank in (0, 1):
        history = json.loads((tmp_path / "b" / f"history-stop-{rank}.json").read_text())
        assert (
            history["interrupted"]
            and history["stopped_by"] == "SIGTERM"
            and len(history["epochs"]) == 1
        )
    payload = load_checkpoint(tmp_path / "b" / "run")
    assert payload["epoch"] == 1 and len(payload["rng_ranks"]) == 2
    assert not torch.equal(
        payload["rng_ranks"][0]["torch"], payload["rng_ranks"][1]["torch"]
    )  # dropout differs
    _torchrun(tmp_path, tmp_path / "b", "resume")
    for rank in (0, 1):
        straight = torch.load(tmp_path / "a" / f"weights-straight-{rank}.pt")
        resumed = torch.load(tmp_path / "b" / f"weights-resume-{rank}.pt")
        for key in straight:
            assert torch.equal(straight[key], resumed[key]), f"rank {rank}: {key} differs"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_torchrun_stops_every_rank_cleanly(tmp_path, signum):
    """Ctrl-C or SIGTERM to torchrun reaches every rank; each stops at the same step, rank 0
    says so once, no rank shows a traceback, and the run folder keeps the last finished epoch."""
    folder = tmp_path / "run"
    env = dict(
        os.environ,
        BERTNLI_CACHE=str(tmp_path / "cache"),
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        TQDM_DISABLE="1",
    )
    code, out, err = signal_at_first_epoch(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            "-m",
            "bertnli",
        ],
        folder,
        env,
        signum,
        "--profile",
        "sample",
    )
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    assert out.count(f"stopped by {name}") == 1, out + err
    assert "bertnli/" not in err and "raise KeyboardInterrupt" not in err  # no rank's traceback
    saved = load_checkpoint(folder)["epoch"]
    assert 1 <= saved < 8 and f"holds epoch {saved}, the last finished one" in out
    history = json.loads((folder / HISTORY_FILE).read_text())
    assert history["interrupted"] and history["stopped_by"] == signal.Signals(signum).name
    assert sorted(p.name for p in folder.iterdir()) == [CHECKPOINT_FILE, HISTORY_FILE, "run.json"]


def test_sighup_stops_a_run_like_sigterm_unless_it_is_ignored(tmp_path, capsys, monkeypatch):
    """The terminal closing (SIGHUP) keeps the finished epoch and says so; under ``nohup``
    (SIGHUP ignored) the run goes on, as the person asked."""

    class HangUpOnEpochLine(SignalOnEpochLine):
        signum = signal.SIGHUP

    history = fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=3,
        device=HangUpOnEpochLine(torch.device("cpu")),
        checkpoint_dir=tmp_path / "hup",
    )
    assert history.interrupted and history.stopped_by == "SIGHUP" and len(history) == 1
    assert "stopped by SIGHUP (the terminal closed) after epoch 1" in capsys.readouterr().out
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        history = fine_tune(
            BERTClassifier(tiny_bert()),
            tiny_loader(),
            None,
            epochs=3,
            device=HangUpOnEpochLine(torch.device("cpu")),
            checkpoint_dir=tmp_path / "nohup",
        )
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert not history.interrupted and len(history) == 3


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_bertnli_launch_ends_a_stopped_job_without_torchruns_traceback(tmp_path, signum):
    """``python -m bertnli.launch`` is torchrun that ends as the ranks end: a signal gives the
    ranks' one line and 128 + the signal, no traceback at all, and a resume command that
    uses the launcher again (and resumes)."""
    folder = tmp_path / "run"
    env = dict(
        os.environ,
        BERTNLI_CACHE=str(tmp_path / "cache"),
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        TQDM_DISABLE="1",
    )
    launch = [sys.executable, "-m", "bertnli.launch", "--standalone", "--nproc-per-node=2"]
    code, out, err = signal_at_first_epoch(launch, folder, env, signum, "--profile", "sample")
    assert code == 128 + signum, out + err
    assert "Traceback" not in err and "SignalException" not in err, err
    assert out.count("stopped by") == 1 and load_checkpoint(folder)["epoch"] >= 1
    command = out.split("To continue from there: ")[1].splitlines()[0]
    assert command.startswith("python -m bertnli.launch --nproc-per-node=2 finetune --out ")
    resumed = subprocess.run(
        [sys.executable, *shlex.split(command)[1:3], "--standalone", *shlex.split(command)[3:]],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert len(json.loads((folder / HISTORY_FILE).read_text())["epochs"]) == 8


def test_bertnli_launch_says_how_to_use_it_without_a_command(capsys):
    from bertnli import launch

    assert launch.main(["--nproc-per-node=2"]) == 2
    assert "COMMAND is one of finetune" in capsys.readouterr().err
    assert launch.split(["--nproc-per-node", "2", "finetune", "--out", "x"]) == (
        ["--nproc-per-node", "2"],
        ["finetune", "--out", "x"],
    )
    assert launch.exit_code(-15) == 143 and launch.exit_code(2) == 2


# ----------------------------------------------------------------------------- Ctrl-C is an interruption


def interrupt_at(monkeypatch, call: int) -> None:
    """Ctrl-C during the ``call``-th epoch (1-based)."""
    real, seen = train._train_one_epoch, []

    def epoch(*args, **kwargs):
        seen.append(1)
        if len(seen) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "_train_one_epoch", epoch)


def test_ctrl_c_exits_130_with_the_command_that_resumes(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "my run"
    interrupt_at(monkeypatch, 2)
    code, out, _ = run_cli(
        capsys, "finetune", "--out", str(folder), "--epochs", "3", "--device", "cpu"
    )
    assert code == 130
    command = f"python -m bertnli finetune --out {shlex.quote(str(folder))} --resume --device cpu"
    assert command in out and "resume=True" not in out and "done:" not in out
    assert (
        "holds epoch 1" in out
        and load_checkpoint(folder)["epoch"] == 1
        and read_run(folder)["epoch"] == 1
    )
    history = json.loads((folder / HISTORY_FILE).read_text())
    assert history["interrupted"] is True and [e["epoch"] for e in history["epochs"]] == [1]
    monkeypatch.undo()
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    code, out, _ = run_cli(capsys, *shlex.split(command)[3:])  # the printed command, as given
    history = json.loads((folder / HISTORY_FILE).read_text())
    assert code == 0 and history["interrupted"] is False and len(history["epochs"]) == 3


def test_ctrl_c_before_the_first_epoch_claims_no_checkpoint(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "run"
    interrupt_at(monkeypatch, 1)
    code, out, _ = run_cli(
        capsys, "finetune", "--out", str(folder), "--epochs", "3", "--device", "cpu"
    )
    assert code == 130
    assert "nothing was saved" in out and "--resume" not in out and "holds epoch" not in out
    assert "run the same command again" in out and not (folder / CHECKPOINT_FILE).exists()
    code, _, err = run_cli(capsys, "finetune", "--out", str(folder), "--resume")
    assert code == 2 and "nothing to resume" in err


def test_ctrl_c_while_saving_leaves_the_three_files_in_agreement(tmp_path, capsys, monkeypatch):
    """A Ctrl-C between writing checkpoint.pt and run.json waits until both are written."""
    from bertnli.run import checkpoint

    real = checkpoint.save_checkpoint

    def save_then_ctrl_c(path, model, optimizer=None, scaler=None, epoch=0, *args, **kwargs):
        real(path, model, optimizer, scaler, epoch, *args, **kwargs)
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_then_ctrl_c)
    data = tiny_loader()
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=4,
        device="cpu",
        checkpoint_dir=tmp_path / "run",
    )
    out = capsys.readouterr().out
    assert history.interrupted and "holds epoch 2" in out and "resume=True" in out
    assert load_checkpoint(tmp_path / "run")["epoch"] == read_run(tmp_path / "run")["epoch"] == 2
    saved = json.loads((tmp_path / "run" / HISTORY_FILE).read_text())
    assert saved["interrupted"] and len(saved["epochs"]) == 2


class CtrlCOnEpochLine(DistInfo):
    """A world of one whose rank 0 gets a real SIGINT the moment it prints an epoch's line,
    as a person (or the test below) reacting to that line would send it."""

    def print(self, *args, **kwargs) -> None:
        super().print(*args, **kwargs)
        if args and str(args[0]).startswith("epoch 1/"):
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_on_the_epoch_line_finds_that_epoch_saved(tmp_path, capsys):
    """The epoch line is printed only after its checkpoint is on disk: a Ctrl-C sent the
    moment the line appears (the exact moment, not a lucky one) keeps that epoch."""
    data = tiny_loader()
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=4,
        device=CtrlCOnEpochLine(torch.device("cpu")),
        checkpoint_dir=tmp_path / "run",
    )
    out = capsys.readouterr().out
    assert history.interrupted and "stopped by Ctrl-C after epoch 1" in out
    assert "holds epoch 1, the last finished one" in out
    assert load_checkpoint(tmp_path / "run")["epoch"] == read_run(tmp_path / "run")["epoch"] == 1
    saved = json.loads((tmp_path / "run" / HISTORY_FILE).read_text())
    assert saved["interrupted"] and [e["epoch"] for e in saved["epochs"]] == [1]


@pytest.mark.slow
def test_a_real_sigint_stops_the_command_line_and_its_command_resumes(tmp_path):
    folder = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "BERTNLI_CACHE": str(tmp_path / "cache")}
    code, out, err = signal_at_first_epoch(
        [sys.executable, "-m", "bertnli"], folder, env, signal.SIGINT
    )
    assert code == 130, err
    assert "Traceback" not in err and "resume=True" not in out
    saved = load_checkpoint(folder)["epoch"]
    assert 1 <= saved < 8 and f"holds epoch {saved}, the last finished one" in out
    assert json.loads((folder / HISTORY_FILE).read_text())["interrupted"] is True
    command = out.split("To continue from there: ")[1].splitlines()[0]
    assert (
        command
        == f"python -m bertnli finetune --out {shlex.quote(str(folder))} --resume --device cpu"
    )
    resumed = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {folder / CHECKPOINT_FILE} after epoch {saved}" in resumed.stdout
    assert len(json.loads((folder / HISTORY_FILE).read_text())["epochs"]) == 8
