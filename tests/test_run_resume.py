"""Settings changed on ``--resume`` (issue 21, item 1), and the misuse around them.

Settings that only change how the rest of a run goes (epochs, learning rate, batch size,
workers, device, mixed precision, progress) are applied from the next epoch and recorded
as a new segment in ``run.json`` and ``history.json``; settings that change what the run
is (model, data, pair limits, ``max_len``, truncation, seed, profile) are refused, by name,
before any work. What the files say is what the optimizer did.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers.cli_runs import run_cli
from helpers.tiny_task import tiny_bert, tiny_loader

from bertnli import BERTClassifier, cli, fine_tune
from bertnli.run import train
from bertnli.run.checkpoint import (
    CHECKPOINT_FILE,
    HISTORY_FILE,
    RUN_FILE,
    RunFolder,
    load_checkpoint,
    read_run,
)
from bertnli.run.profiles import get_profile
from bertnli.run.recipe import finetune_job


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    for variable in (
        "BERTNLI_PROFILE",
        "BERTNLI_DEBUG",
        "BERTNLI_EPOCHS",
        "BERTNLI_MODEL",
        "BERTNLI_DATA",
    ):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory) -> Path:
    """A one-epoch sample run made by the command line at the sample's lr 1e-3 (copied by each test)."""
    folder = tmp_path_factory.mktemp("one") / "run"
    old = os.environ.get("BERTNLI_CACHE")
    os.environ["BERTNLI_CACHE"] = str(folder.parent / "cache")
    try:
        assert (
            cli.main(
                [
                    "finetune",
                    "--epochs",
                    "1",
                    "--out",
                    str(folder),
                    "--device",
                    "cpu",
                    "--no-progress",
                ]
            )
            == 0
        )
    finally:
        os.environ.pop("BERTNLI_CACHE") if old is None else os.environ.__setitem__(
            "BERTNLI_CACHE", old
        )
    return folder


@pytest.fixture
def run(one_epoch, tmp_path) -> Path:
    return Path(shutil.copytree(one_epoch, tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def optimizer_lrs(folder: Path) -> set[float]:
    return {group["lr"] for group in load_checkpoint(folder)["optimizer"]["param_groups"]}


class NoTraining:
    """Replaces ``train._train_one_epoch``: a refused resume must not train a step."""

    def __init__(self, monkeypatch):
        self.calls = 0
        monkeypatch.setattr(train, "_train_one_epoch", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise AssertionError("a refused resume trained")


# ----------------------------------------------------------------------------- applied and recorded


def test_resume_with_a_new_lr_changes_the_optimizer_and_says_so_in_the_files(run, capsys):
    assert optimizer_lrs(run) == {1e-3}
    code, out, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--epochs",
        "2",
        "--lr",
        "3e-5",
        "--device",
        "cpu",
        "--no-progress",
    )
    assert code == 0, err
    assert optimizer_lrs(run) == {3e-5}  # what the optimizer did, not only what run.json says
    settings = read_run(run)
    assert settings["config"]["profile"]["lr"] == 3e-5
    segments = settings["segments"]
    assert [(s["from_epoch"], s["lr"], s["epochs"]) for s in segments] == [
        (1, 1e-3, 1),
        (2, 3e-5, 2),
    ]
    history = json.loads((run / HISTORY_FILE).read_text())
    assert history["segments"] == segments and [e["epoch"] for e in history["epochs"]] == [1, 2]
    assert "lr 3e-05" in out


def test_resume_with_a_new_batch_size_and_workers_is_recorded_from_its_epoch(run, capsys):
    code, _, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--device",
        "cpu",
        "--no-progress",
    )
    assert code == 0, err
    first, second = read_run(run)["segments"]
    assert (first["from_epoch"], first["batch_size"], first["num_workers"]) == (1, 64, 0)
    assert (second["from_epoch"], second["batch_size"]) == (2, 32)
    assert read_run(run)["config"]["profile"]["batch_size"] == 32


def test_resume_with_the_same_settings_adds_no_segment(run, capsys):
    code, _, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--device",
        "cpu",
        "--no-progress",
        "--epochs",
        "1",
    )
    assert code == 0, err
    assert len(read_run(run)["segments"]) == 1


def test_the_api_applies_a_new_lr_on_resume(tmp_path):
    data = tiny_loader()
    fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=1,
        lr=1e-3,
        device="cpu",
        checkpoint_dir=tmp_path,
    )
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=2,
        lr=3e-5,
        device="cpu",
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert optimizer_lrs(tmp_path) == {3e-5}
    assert [(s["from_epoch"], s["lr"]) for s in history.segments] == [(1, 1e-3), (2, 3e-5)]
    assert read_run(tmp_path)["segments"] == history.segments


def test_an_old_run_without_segments_resumes_and_starts_recording_them(run, capsys):
    """Run folders saved before segments existed keep working; the resume records its own."""
    settings = read_run(run)
    settings.pop("segments")
    (run / RUN_FILE).write_text(json.dumps(settings))
    history = json.loads((run / HISTORY_FILE).read_text())
    history.pop("segments"), history.pop("stopped_by")
    (run / HISTORY_FILE).write_text(json.dumps(history))
    code, _, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--no-progress",
    )
    assert code == 0, err
    assert read_run(run)["epoch"] == 2


def test_a_resume_stopped_before_its_first_epoch_keeps_the_files_as_they_were(
    run, capsys, monkeypatch
):
    """Segments describe epochs that ran: one that never finished an epoch is not recorded."""

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "_train_one_epoch", ctrl_c)
    code, out, _ = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--epochs",
        "3",
        "--lr",
        "5e-4",
        "--device",
        "cpu",
        "--no-progress",
    )
    assert code == 130 and "holds epoch 1" in out
    history = json.loads((run / HISTORY_FILE).read_text())
    assert history["interrupted"] and [s["lr"] for s in history["segments"]] == [1e-3]
    assert optimizer_lrs(run) == {1e-3}


# ----------------------------------------------------------------------------- refused, by name


@pytest.mark.parametrize(
    "option, value",
    [
        ("--max-len", "32"),
        ("--truncation", "proportional"),
        ("--train-pairs", "100"),
        ("--test-pairs", "50"),
        ("--seed", "7"),
        ("--model", "bert.small"),
        ("--data", "snli"),
    ],
)
def test_resume_refuses_settings_that_change_what_the_run_is(
    run, capsys, monkeypatch, option, value
):
    before = snapshot(run)
    steps = NoTraining(monkeypatch)
    code, out, err = run_cli(
        capsys, "finetune", "--out", str(run), "--resume", option, value, "--device", "cpu"
    )
    assert code == 2 and steps.calls == 0
    assert (
        option in err and "resuming cannot change what the run is" in err and "Traceback" not in err
    )
    assert "--overwrite" in err  # and the way to use it: a new run
    assert snapshot(run) == before


def test_resume_names_every_setting_it_refuses_at_once(run, capsys, monkeypatch):
    NoTraining(monkeypatch)
    code, _, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--max-len",
        "32",
        "--seed",
        "9",
        "--lr",
        "1e-4",
        "--device",
        "cpu",
    )
    assert code == 2 and "max_len 64 -> 32 (--max-len)" in err and "seed 0 -> 9 (--seed)" in err
    assert "--lr" not in err


def test_resume_refuses_another_profile(run, capsys, monkeypatch):
    NoTraining(monkeypatch)
    code, _, err = run_cli(
        capsys, "finetune", "--out", str(run), "--resume", "--profile", "laptop", "--device", "cpu"
    )
    assert code == 2 and "--profile laptop" in err and "profile sample" in err


def test_resume_accepts_the_runs_own_values_given_again(run, capsys):
    code, _, err = run_cli(
        capsys,
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--max-len",
        "64",
        "--seed",
        "0",
        "--model",
        "sample",
        "--data",
        "sample",
        "--profile",
        "sample",
        "--epochs",
        "1",
        "--device",
        "cpu",
    )
    assert code == 0, err


def test_the_api_refuses_them_with_a_value_error_before_loading(run, monkeypatch):
    from bertnli.run import recipe

    monkeypatch.setattr(
        recipe, "load_pretrained", lambda *a, **k: pytest.fail("loaded the checkpoint")
    )
    with pytest.raises(ValueError, match=r"max_len 64 -> 32"):
        finetune_job(
            get_profile("sample").with_overrides(max_len=32, epochs=2),
            out=run,
            resume=True,
            device="cpu",
        )
    with pytest.raises(ValueError, match=r"seed 0 -> 3"):
        finetune_job(
            get_profile("sample").with_overrides(epochs=2),
            out=run,
            resume=True,
            seed=3,
            device="cpu",
        )


def test_fine_tune_refuses_a_run_folder_whose_config_changes_what_the_run_is(tmp_path):
    data = tiny_loader()
    fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=RunFolder(tmp_path, config={"profile": {"max_len": 32}, "seed": 1}),
    )
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"seed 1 -> 2.*overwrite=True"):
        fine_tune(
            BERTClassifier(tiny_bert()),
            data,
            None,
            epochs=2,
            device="cpu",
            resume=True,
            checkpoint_dir=RunFolder(tmp_path, config={"profile": {"max_len": 32}, "seed": 2}),
        )
    assert snapshot(tmp_path) == before and not (tmp_path / ".lock").exists()


def test_resume_of_a_run_json_that_is_damaged_is_refused_by_name(run, capsys, monkeypatch):
    NoTraining(monkeypatch)
    (run / RUN_FILE).write_text("{not json")
    code, _, err = run_cli(capsys, "finetune", "--out", str(run), "--resume", "--device", "cpu")
    assert code == 2 and str(run / RUN_FILE) in err and "not valid JSON" in err
    assert (run / CHECKPOINT_FILE).is_file()


def test_resume_applies_bertnli_epochs_and_refuses_another_bertnli_data(run, capsys, monkeypatch):
    """The BERTNLI_* variables set at resume time count like options given then: BERTNLI_EPOCHS
    continues the run, BERTNLI_DATA naming other data is refused, naming the variable."""
    monkeypatch.setenv("BERTNLI_EPOCHS", "2")
    code, out, err = run_cli(
        capsys, "finetune", "--out", str(run), "--resume", "--device", "cpu", "--no-progress"
    )
    assert code == 0, err
    assert "epochs=2 (BERTNLI_EPOCHS)" in out and read_run(run)["epoch"] == 2
    monkeypatch.setenv("BERTNLI_DATA", str(run))
    code, _, err = run_cli(capsys, "finetune", "--out", str(run), "--resume", "--device", "cpu")
    assert code == 2 and "(BERTNLI_DATA)" in err and "resuming cannot change what the run is" in err
