"""Two runs into one run folder (issue 21, item 3), and the misuse around it.

A run holds its folder's lock (``.lock``, its holder in ``.lock.holder``) from before the
data is read until it ends; a second run into the folder is refused at once (exit 2),
naming the holder, and the first run's files are intact. Both files go when the run ends,
however it ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.holders import held_by_another_process
from helpers.tiny_task import tiny_bert, tiny_loader

from bertnli import BERTClassifier, cli, fine_tune
from bertnli.run import train
from bertnli.run.checkpoint import (
    CHECKPOINT_FILE,
    HISTORY_FILE,
    HOLDER_FILE,
    LOCK_FILE,
    RUN_FILE,
    RunInUseError,
    hold_run_folder,
    load_checkpoint,
)

RUN_FILES = [CHECKPOINT_FILE, HISTORY_FILE, RUN_FILE]


pytestmark = pytest.mark.usefixtures("isolated_cache")  # conftest.py


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_two_command_lines_into_one_folder_one_trains_the_other_is_refused_at_once(tmp_path):
    env = {
        **os.environ,
        "BERTNLI_CACHE": str(tmp_path / "cache"),
        "OMP_NUM_THREADS": "1",
        "TQDM_DISABLE": "1",
    }
    command = [
        sys.executable,
        "-m",
        "bertnli",
        "finetune",
        "--profile",
        "sample",
        "--out",
        "same",
        "--device",
        "cpu",
    ]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    ended, results = {}, {}
    while len(ended) < 2:  # note when each one ends
        for i, proc in enumerate(procs):
            if i not in ended and proc.poll() is not None:
                ended[i] = time.monotonic() - started
                results[i] = proc.communicate()
        time.sleep(0.05)
    codes = sorted(proc.returncode for proc in procs)
    assert codes == [0, 2], [r[1][-2000:] for r in results.values()]
    winner = next(i for i, proc in enumerate(procs) if proc.returncode == 0)
    loser = 1 - winner
    err = results[loser][1]
    assert "is in use: a run is training into it now" in err, err
    assert (
        f"process {procs[winner].pid} on {socket.gethostname()}" in err and "Traceback" not in err
    )
    assert (
        "epoch 1/" not in results[loser][0] and ended[loser] < ended[winner]
    )  # refused before training
    run = tmp_path / "same"
    assert names(run) == RUN_FILES  # the first run intact, and no lock left behind
    assert (
        load_checkpoint(run)["epoch"] == 6
        and len(json.loads((run / HISTORY_FILE).read_text())["epochs"]) == 6
    )


def test_a_folder_held_by_another_process_is_refused_naming_it(tmp_path, capsys):
    folder = tmp_path / "busy"
    with held_by_another_process(folder) as holder:
        with pytest.raises(RunInUseError, match=rf"busy is in use.*process {holder.pid} on "):
            fine_tune(
                BERTClassifier(tiny_bert()),
                tiny_loader(),
                None,
                epochs=1,
                device="cpu",
                checkpoint_dir=folder,
            )
        code = cli.main(["finetune", "--out", str(folder), "--epochs", "1", "--device", "cpu"])
        err = capsys.readouterr().err
        assert code == 2 and f"process {holder.pid} on {socket.gethostname()}, started " in err
        assert "Wait for it to finish" in err and "another folder" in err
    assert (
        holder.returncode == 0 and not folder.exists()
    )  # nothing saved there by anyone, nothing left


def test_a_finished_run_leaves_no_lock_behind_and_the_folder_can_be_resumed(tmp_path):
    fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=tmp_path / "r",
    )
    assert names(tmp_path / "r") == RUN_FILES
    fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=2,
        device="cpu",
        checkpoint_dir=tmp_path / "r",
        resume=True,
    )
    assert names(tmp_path / "r") == RUN_FILES and load_checkpoint(tmp_path / "r")["epoch"] == 2


def test_a_run_that_fails_or_is_stopped_releases_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "r"

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(train, "_train_one_epoch", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        fine_tune(
            BERTClassifier(tiny_bert()),
            tiny_loader(),
            None,
            epochs=1,
            device="cpu",
            checkpoint_dir=folder,
        )
    assert (
        not folder.exists()
    )  # it made the folder for its lock, saved nothing, and took it away again

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "_train_one_epoch", ctrl_c)
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=folder,
    )
    assert history.interrupted and not folder.exists()
    monkeypatch.undo()
    fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=folder,
    )
    assert names(folder) == RUN_FILES


def test_a_lock_file_left_by_a_killed_run_does_not_block_the_next(tmp_path):
    """A killed process leaves its files, but not its lock (the system drops it): not in use."""
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / LOCK_FILE).write_text("")
    (folder / HOLDER_FILE).write_text(
        json.dumps({"pid": 1, "host": "gone", "started": "yesterday"})
    )
    fine_tune(
        BERTClassifier(tiny_bert()),
        tiny_loader(),
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=folder,
    )
    assert names(folder) == RUN_FILES


def test_an_empty_folder_of_the_user_is_kept_after_a_refusal(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    code = cli.main(
        ["finetune", "--out", str(folder), "--lr", "1e30", "--epochs", "1", "--device", "cpu"]
    )
    assert code == 2 and folder.is_dir() and names(folder) == []


def test_holding_is_reentrant_in_one_process_and_leaves_nothing(tmp_path):
    folder = tmp_path / "r"
    with hold_run_folder(folder):
        holder = json.loads((folder / HOLDER_FILE).read_text())
        assert (
            holder["pid"] == os.getpid()
            and holder["host"] == socket.gethostname()
            and holder["started"]
        )
        with hold_run_folder(folder):  # the recipe holds it, then fine_tune: one hold
            assert (folder / LOCK_FILE).exists()
        assert (folder / LOCK_FILE).exists()
    assert not folder.exists()


def test_evaluate_and_predict_read_a_folder_while_a_run_holds_it(tmp_path, capsys):
    """Reading a run is not training into it: allowed while the folder is held."""
    folder = tmp_path / "r"
    assert cli.main(["finetune", "--epochs", "1", "--out", str(folder), "--device", "cpu"]) == 0
    with hold_run_folder(folder):
        assert cli.main(["evaluate", str(folder)]) == 0
        assert cli.main(["predict", str(folder), "A man sleeps.", "A person rests."]) == 0
    assert names(folder) == RUN_FILES


@pytest.mark.parametrize("flag", ["--resume", "--overwrite"])
def test_resume_or_overwrite_of_a_run_that_is_training_is_refused(tmp_path, capsys, flag):
    """Neither continuing nor replacing a run is allowed while it trains: its files stay as they are."""
    folder = tmp_path / "r"
    assert cli.main(["finetune", "--epochs", "1", "--out", str(folder), "--device", "cpu"]) == 0
    before = {name: (folder / name).read_bytes() for name in RUN_FILES}
    with held_by_another_process(folder) as holder:
        capsys.readouterr()
        code = cli.main(
            ["finetune", "--out", str(folder), flag, "--epochs", "2", "--device", "cpu"]
        )
        assert code == 2 and f"process {holder.pid}" in capsys.readouterr().err
    assert {name: (folder / name).read_bytes() for name in RUN_FILES} == before
