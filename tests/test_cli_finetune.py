"""``bertnli finetune`` (and ``predict``) misused must not lose work or waste it (issue 10):

- a saved run is never overwritten silently; ``--resume`` on an empty folder says so;
- learning rates that cannot train are refused; a diverging run says so;
- every check that can run before training does, before the data or the first batch;
- a prediction the model cannot read, or a max_len that empties the pairs, gets a one-line warning.

The command line runs in-process (``cli.main``) on the embedded sample, which trains an
epoch in about a second. The rest of issue 10 lives with its subject: ``student-copy`` in
test_book_classroom.py, Ctrl-C in test_run_signals.py, the API's refusals and NaN stop in
test_run_train.py, the warnings of ``predict()`` and the dataset in test_run_inference.py and
test_data_dataset.py, the prediction form's in test_book_widgets.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli_runs import run_cli
from helpers.spy import Spy
from helpers.standin_files import standin_files
from helpers.tiny_task import VOCAB, tiny_bert, tiny_loader

from bertnli import BERTClassifier, cli, fine_tune
from bertnli.run import train
from bertnli.run.checkpoint import (
    CHECKPOINT_FILE,
    HISTORY_FILE,
    RUN_FILE,
    RunExistsError,
    RunFolder,
    load_checkpoint,
    read_run,
)

SAMPLE_PROFILE = {
    "name": "sample",
    "model": "sample",
    "data": "sample",
    "epochs": 2,
    "batch_size": 64,
    "max_len": 64,
    "lr": 1e-3,
}


pytestmark = pytest.mark.usefixtures("isolated_cache")  # conftest.py


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A real two-epoch sample run made by the command line (copied by each test that changes it)."""
    folder = tmp_path_factory.mktemp("trained") / "run"
    old = os.environ.get("BERTNLI_CACHE")
    os.environ["BERTNLI_CACHE"] = str(folder.parent / "cache")
    try:
        assert cli.main(["finetune", "--epochs", "2", "--out", str(folder), "--device", "cpu"]) == 0
    finally:
        os.environ.pop("BERTNLI_CACHE") if old is None else os.environ.__setitem__(
            "BERTNLI_CACHE", old
        )
    return folder


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


# ----------------------------------------------------------------------------- finished work is kept


def test_finetune_refuses_a_folder_that_holds_a_run_and_names_it(run_copy, capsys, monkeypatch):
    before = snapshot(run_copy)
    epochs = Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    code, _, err = run_cli(capsys, "finetune", "--out", str(run_copy), "--device", "cpu")
    saved = json.loads((run_copy / HISTORY_FILE).read_text())
    accuracy = saved["test_acc"]  # measured once, after the last epoch
    assert code == 2 and epochs.calls == 0
    assert (
        str(run_copy) in err
        and "2 finished epoch(s)" in err
        and f"test accuracy {accuracy:.3f}" in err
    )
    assert "--resume" in err and "--overwrite" in err and "resume=True" not in err
    assert snapshot(run_copy) == before


def test_overwrite_replaces_the_run_when_asked(run_copy, capsys):
    code, out, _ = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run_copy),
        "--epochs",
        "1",
        "--overwrite",
        "--device",
        "cpu",
        "--seed",
        "5",
    )
    assert code == 0 and "done:" in out
    assert read_run(run_copy)["epoch"] == 1 and read_run(run_copy)["config"]["seed"] == 5
    assert load_checkpoint(run_copy)["epoch"] == 1


def test_resume_and_overwrite_together_are_refused(run_copy, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["finetune", "--out", str(run_copy), "--resume", "--overwrite"])
    assert exit_.value.code == 2 and "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("made", [False, True], ids=["missing-folder", "empty-folder"])
def test_resume_without_a_run_says_so_instead_of_starting_over(tmp_path, capsys, monkeypatch, made):
    folder = tmp_path / "nothing-here"
    if made:
        folder.mkdir()
    epochs = Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    code, _, err = run_cli(capsys, "finetune", "--out", str(folder), "--resume", "--device", "cpu")
    assert code == 2 and epochs.calls == 0
    assert str(folder) in err and "nothing to resume" in err and "without --resume" in err
    assert not (folder / CHECKPOINT_FILE).exists()


def test_the_api_keeps_runs_too(tmp_path):
    data = tiny_loader()
    fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=tmp_path / "run",
    )
    before = snapshot(tmp_path / "run")
    with pytest.raises(RunExistsError, match="resume=True.*overwrite=True"):
        fine_tune(
            BERTClassifier(tiny_bert()),
            data,
            None,
            epochs=1,
            device="cpu",
            checkpoint_dir=tmp_path / "run",
        )
    assert snapshot(tmp_path / "run") == before
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        fine_tune(
            BERTClassifier(tiny_bert()),
            data,
            None,
            epochs=1,
            device="cpu",
            checkpoint_dir=tmp_path / "new",
            resume=True,
        )
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=2,
        device="cpu",
        checkpoint_dir=tmp_path / "run",
        overwrite=True,
    )
    assert len(history) == 2 and load_checkpoint(tmp_path / "run")["epoch"] == 2


# ----------------------------------------------------------------------------- numbers that cannot train


@pytest.mark.parametrize("lr", ["inf", "nan", "0", "-1e-3", "-inf"])
def test_the_command_line_refuses_learning_rates_that_cannot_train(capsys, monkeypatch, lr):
    Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["finetune", "--lr", lr, "--epochs", "1", "--device", "cpu"])
    assert exit_.value.code == 2 and "--lr" in capsys.readouterr().err


def test_a_diverging_command_line_run_says_so(tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "finetune",
        "--lr",
        "1e30",
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "run"),
        "--device",
        "cpu",
    )
    assert code == 2 and "NaN or infinite in epoch 1" in err and "nothing was saved" in err
    assert "done:" not in out and not (tmp_path / "run" / CHECKPOINT_FILE).exists()


# ----------------------------------------------------------------------------- checks before training


def spies(monkeypatch):
    from bertnli.run import recipe

    return Spy(monkeypatch, recipe, "load_datasets"), Spy(
        monkeypatch, train, "_train_one_epoch", fail=True
    )


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_data(
    tmp_path, capsys, monkeypatch
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--out", str(blocker / "run"), "--device", "cpu")
    assert code == 2 and str(blocker / "run") in err and "cannot save the run there" in err
    code, _, err = run_cli(capsys, "finetune", "--out", str(blocker), "--device", "cpu")
    assert code == 2 and "is a file, not a folder" in err
    assert data.calls == 0 and epochs.calls == 0


def test_a_cache_path_that_is_a_file_is_refused_before_the_data(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "cache-file"
    blocker.write_text("x")
    monkeypatch.setenv("BERTNLI_CACHE", str(blocker))
    data, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--out", str(tmp_path / "run"), "--device", "cpu")
    assert (
        code == 2
        and str(blocker) in err
        and "is a file, not a folder" in err
        and "BERTNLI_CACHE" in err
    )
    assert data.calls == 0 and epochs.calls == 0


def test_resuming_with_another_checkpoint_is_refused_before_the_data(tmp_path, capsys, monkeypatch):
    """The run was trained from a tiny BERT; resuming it with the sample checkpoint cannot work."""
    model = BERTClassifier(tiny_bert())
    data = tiny_loader()
    fine_tune(
        model,
        data,
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=RunFolder(tmp_path / "run", config={"profile": SAMPLE_PROFILE}, vocab=VOCAB),
    )
    loads, epochs = spies(monkeypatch)
    code, _, err = run_cli(
        capsys, "finetune", "--out", str(tmp_path / "run"), "--resume", "--device", "cpu"
    )
    assert code == 2 and str(tmp_path / "run" / RUN_FILE) in err and "different architecture" in err
    assert loads.calls == 0 and epochs.calls == 0


@pytest.mark.parametrize(
    "device, words", [("mps", "not available"), ("cuda:99", "CUDA"), ("meta", "cpu, cuda")]
)
def test_a_device_that_does_not_exist_is_refused_before_the_data(
    tmp_path, capsys, monkeypatch, device, words
):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    data, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--out", str(tmp_path / "run"), "--device", device)
    assert code == 2 and f"--device {device}" in err and words in err
    assert data.calls == 0 and epochs.calls == 0 and not (tmp_path / "run").exists()


def test_missing_data_or_checkpoint_is_refused_before_training(tmp_path, capsys, monkeypatch):
    _, epochs = spies(monkeypatch)
    code, _, err = run_cli(
        capsys, "finetune", "--data", str(tmp_path / "no-snli"), "--device", "cpu"
    )
    assert code == 2 and str(tmp_path / "no-snli") in err
    code, _, err = run_cli(
        capsys, "finetune", "--model", str(tmp_path / "no-bert"), "--device", "cpu"
    )
    assert code == 2 and str(tmp_path / "no-bert") in err
    assert epochs.calls == 0


# ----------------------------------------------------------------------------- warnings


def test_predict_on_the_command_line_shows_the_warning_as_one_line(trained, capsys):
    code, out, err = run_cli(
        capsys, "predict", str(trained), "남자가 기타를 친다", "A man plays music."
    )
    assert code == 0 and out.split()[0] in ("entailment", "contradiction", "neutral")
    assert (
        err.startswith("warning: 3 of the 3 words of the premise")
        and len(err.strip().splitlines()) == 1
    )


def test_resuming_a_finished_run_says_there_is_nothing_to_train(run_copy, capsys, monkeypatch):
    epochs = Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    code, out, _ = run_cli(
        capsys, "finetune", "--out", str(run_copy), "--resume", "--device", "cpu"
    )
    assert code == 0 and epochs.calls == 0
    assert "already finished 2 epoch(s), the 2 asked for: nothing to train" in out


def test_finetune_with_a_tiny_max_len_warns_on_the_command_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "finetune", "--max-len", "4", "--epochs", "1", "--device", "cpu")
    assert code == 0
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert (
        warned and "have an empty premise or hypothesis after truncation to max_len=4" in warned[0]
    )


def test_resume_keeps_the_runs_own_seed(tmp_path, capsys):
    """`--resume` (the command a stopped run prints) continues with the seed the run was started
    with, and leaves it recorded, instead of falling back to the default seed."""
    folder = tmp_path / "seeded"
    code, _, err = run_cli(
        capsys, "finetune", "--epochs", "1", "--seed", "3", "--out", str(folder), "--device", "cpu"
    )
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "finetune", "--epochs", "2", "--out", str(folder), "--resume", "--device", "cpu"
    )
    assert code == 0, err
    assert json.loads((folder / "run.json").read_text())["config"]["seed"] == 3


# ----------------------------------------------------------------------------- size controls on stand-in files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


def _cli(args, env, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1", **env),
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
@pytest.mark.slow
def test_cli_size_controls_dev_and_test_and_resume(files, tmp_path):
    env = {
        "BERTNLI_CACHE": str(tmp_path / "cache"),
        "BERTNLI_MODEL": str(files["model_zip"]),
        "BERTNLI_DATA": str(files["data_zip"]),
    }
    out = tmp_path / "run"
    done = _cli(
        [
            "finetune",
            "--profile",
            "laptop",
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--train-pairs",
            "100",
            "--test-pairs",
            "40",
            "--out",
            str(out),
            "--no-progress",
        ],
        env,
        tmp_path,
    )
    text = done.stdout
    assert (
        "BERTNLI_MODEL" in text
        and "BERTNLI_DATA" in text
        and "train_pairs=100 (--train-pairs)" in text
    )
    assert (
        re.search(r"epoch 1/1: .*dev acc \d\.\d{3}", text)
        and "test acc" in text.split("epoch 1/1")[1]
    )
    config = json.loads((out / "run.json").read_text())["config"]["profile"]
    assert (config["train_pairs"], config["test_pairs"], config["model"]) == (
        100,
        40,
        str(files["model_zip"]),
    )
    history = json.loads((out / "history.json").read_text())
    assert history["test_acc"] is not None and history["epochs"][0]["valid_acc"] is not None
    # resume with more epochs: the subset comes from run.json, the same pairs
    done = _cli(
        ["finetune", "--out", str(out), "--resume", "--epochs", "2", "--no-progress"],
        {"BERTNLI_CACHE": env["BERTNLI_CACHE"]},
        tmp_path,
    )
    assert (
        "resuming" in done.stdout
        and "epoch 2/2" in done.stdout
        and "train pairs 100" in done.stdout
    )
    info = _cli(["info"], env, tmp_path).stdout
    assert f"model {files['model_zip']}" in info and "256 hidden" in info
