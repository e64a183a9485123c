"""Misuse that must not lose work or waste it: issue 10's points 2-6 and 9.

2. a saved run is never overwritten silently; ``--resume`` on an empty folder says so;
3. ``classroom student-copy`` never writes into the notebooks it reads;
4. Ctrl-C exits 130 with the exact resume command, and nothing claims an epoch not saved;
5. learning rates that cannot train are refused; a NaN/inf loss stops, keeping the last good checkpoint;
6. every check that can run before training does, before the data or the first batch;
9. a prediction or a dataset the model cannot read gets a warning.

The command line runs in-process (``cli.main``) on the embedded sample, which trains an
epoch in about a second; one test sends a real SIGINT to a ``python -m bertnli`` process.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from bertnli import BERTClassifier, SNLIBERTDataset, cli, fine_tune, make_loader, predict
from bertnli.run import train
from bertnli.run.checkpoint import (CHECKPOINT_FILE, HISTORY_FILE, RUN_FILE, RunExistsError, RunFolder,
                                load_checkpoint, read_run)
from bertnli.distributed import DistInfo
from bertnli.run.inference import UnreliablePrediction
from bertnli.run.profiles import get_profile
from bertnli.run.train import CHECK_FINITE_EVERY, TrainingDiverged
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data, tiny_loader
from helpers.cli_runs import run_cli

SAMPLE_PROFILE = {"name": "sample", "model": "sample", "data": "sample", "epochs": 2, "batch_size": 64,
                  "max_len": 64, "lr": 1e-3}


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
        os.environ.pop("BERTNLI_CACHE") if old is None else os.environ.__setitem__("BERTNLI_CACHE", old)
    return folder


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


class Spy:
    """Counts calls of a function it replaces; ``fail=True`` makes each call an error."""

    def __init__(self, monkeypatch, owner, name: str, fail: bool = False):
        self.calls, self.fail, self.real = 0, fail, getattr(owner, name)
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.fail:
            raise AssertionError("this step must not run")
        return self.real(*args, **kwargs)


# ----------------------------------------------------------------------------- 2. finished work is kept

def test_finetune_refuses_a_folder_that_holds_a_run_and_names_it(run_copy, capsys, monkeypatch):
    before = snapshot(run_copy)
    epochs = Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    code, _, err = run_cli(capsys, "finetune", "--out", str(run_copy), "--device", "cpu")
    saved = json.loads((run_copy / HISTORY_FILE).read_text())
    accuracy = saved["test_acc"]  # measured once, after the last epoch
    assert code == 2 and epochs.calls == 0
    assert str(run_copy) in err and "2 finished epoch(s)" in err and f"test accuracy {accuracy:.3f}" in err
    assert "--resume" in err and "--overwrite" in err and "resume=True" not in err
    assert snapshot(run_copy) == before


def test_overwrite_replaces_the_run_when_asked(run_copy, capsys):
    code, out, _ = run_cli(capsys, "finetune", "--out", str(run_copy), "--epochs", "1", "--overwrite",
                           "--device", "cpu", "--seed", "5")
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
    fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, device="cpu", checkpoint_dir=tmp_path / "run")
    before = snapshot(tmp_path / "run")
    with pytest.raises(RunExistsError, match="resume=True.*overwrite=True"):
        fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, device="cpu", checkpoint_dir=tmp_path / "run")
    assert snapshot(tmp_path / "run") == before
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, device="cpu", checkpoint_dir=tmp_path / "new",
                  resume=True)
    history = fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=2, device="cpu",
                        checkpoint_dir=tmp_path / "run", overwrite=True)
    assert len(history) == 2 and load_checkpoint(tmp_path / "run")["epoch"] == 2


# ----------------------------------------------------------------------------- 3. sources are never modified

CHAPTER_MD = """---
jupytext:
  formats: ipynb,md:myst
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# A chapter

```{code-cell} ipython3
:tags: [exercise]
answer = ...
```

```{code-cell} ipython3
:tags: [solution]
answer = 42
```
"""


@pytest.fixture
def chapters(tmp_path) -> Path:
    """A notebooks folder with one paired chapter (.md + .ipynb), solution cell included."""
    import jupytext

    folder = tmp_path / "book" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_chapter.md").write_text(CHAPTER_MD, encoding="utf-8")
    jupytext.write(jupytext.reads(CHAPTER_MD, fmt="md:myst"), folder / "01_chapter.ipynb")
    return folder


@pytest.mark.parametrize("where", ["is", "inside", "contains", "symlink"])
def test_student_copy_never_writes_into_its_sources(chapters, capsys, where):
    out = {"is": chapters, "inside": chapters / "students", "contains": chapters.parent,
           "symlink": chapters.parent / "link"}[where]
    if where == "symlink":
        out.symlink_to(chapters, target_is_directory=True)
    before = {p: p.read_bytes() for p in chapters.parent.rglob("*") if p.is_file()}
    code, _, err = run_cli(capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters))
    assert code == 2 and str(out) in err and "notebooks folder it copies from" in err
    after = {p: p.read_bytes() for p in chapters.parent.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing stripped
    assert "answer = 42" in (chapters / "01_chapter.ipynb").read_text()


def test_student_copy_next_to_the_sources_works(chapters, capsys):
    out = chapters.parent / "students"
    code, _, _ = run_cli(capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters))
    assert code == 0 and "answer = 42" not in (out / "01_chapter.ipynb").read_text()


# ----------------------------------------------------------------------------- 4. Ctrl-C is an interruption

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
    code, out, _ = run_cli(capsys, "finetune", "--out", str(folder), "--epochs", "3", "--device", "cpu")
    assert code == 130
    command = f"python -m bertnli finetune --out {shlex.quote(str(folder))} --resume --device cpu"
    assert command in out and "resume=True" not in out and "done:" not in out
    assert f"holds epoch 1" in out and load_checkpoint(folder)["epoch"] == 1 and read_run(folder)["epoch"] == 1
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
    code, out, _ = run_cli(capsys, "finetune", "--out", str(folder), "--epochs", "3", "--device", "cpu")
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
    history = fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=4, device="cpu",
                        checkpoint_dir=tmp_path / "run")
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
    history = fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=4,
                        device=CtrlCOnEpochLine(torch.device("cpu")), checkpoint_dir=tmp_path / "run")
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
    proc = subprocess.Popen([sys.executable, "-m", "bertnli", "finetune", "--out", str(folder), "--epochs", "8",
                             "--device", "cpu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("epoch 1/8"):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    out = "".join(lines) + out
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume=True" not in out
    saved = load_checkpoint(folder)["epoch"]
    assert 1 <= saved < 8 and f"holds epoch {saved}, the last finished one" in out
    assert json.loads((folder / HISTORY_FILE).read_text())["interrupted"] is True
    command = out.split("To continue from there: ")[1].splitlines()[0]
    assert command == f"python -m bertnli finetune --out {shlex.quote(str(folder))} --resume --device cpu"
    resumed = subprocess.run([sys.executable, *shlex.split(command)[1:]], capture_output=True, text=True,
                             env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {folder / CHECKPOINT_FILE} after epoch {saved}" in resumed.stdout
    assert len(json.loads((folder / HISTORY_FILE).read_text())["epochs"]) == 8


# ----------------------------------------------------------------------------- 5. numbers that cannot train

@pytest.mark.parametrize("lr", ["inf", "nan", "0", "-1e-3", "-inf"])
def test_the_command_line_refuses_learning_rates_that_cannot_train(capsys, monkeypatch, lr):
    Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["finetune", "--lr", lr, "--epochs", "1", "--device", "cpu"])
    assert exit_.value.code == 2 and "--lr" in capsys.readouterr().err


@pytest.mark.parametrize("lr", [math.inf, math.nan, 0.0, -1e-3])
def test_the_api_refuses_learning_rates_before_any_work(tmp_path, monkeypatch, lr):
    from bertnli.run import recipe

    data = tiny_loader()
    Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    with pytest.raises(ValueError, match="learning rate"):
        fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, lr=lr, device="cpu")
    Spy(monkeypatch, recipe, "load_pretrained", fail=True)  # refused before the checkpoint is even read
    with pytest.raises(ValueError, match="learning rate"):
        recipe.finetune_job(get_profile("sample").with_overrides(lr=lr), device="cpu")


class TurnsNaN(BERTClassifier):
    """Fine for ``good_calls`` forward passes, then NaN logits."""

    def __init__(self, bert, good_calls: int):
        super().__init__(bert)
        self.good_calls, self.calls = good_calls, 0

    def forward(self, *X):
        self.calls += 1
        logits = super().forward(*X)
        return logits * math.nan if self.calls > self.good_calls else logits


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    data = make_loader(SNLIBERTDataset(tiny_data(96), VOCAB, max_len=32, cache=False), 1, shuffle=True)  # 96 steps
    model = TurnsNaN(tiny_bert(), good_calls=len(data))  # epoch 1 is fine, epoch 2 turns NaN at once
    with pytest.raises(TrainingDiverged) as err:
        fine_tune(model, data, None, epochs=4, lr=1e-3, device="cpu", checkpoint_dir=tmp_path / "run")
    message = str(err.value)
    assert "NaN or infinite in epoch 2" in message and "still holds epoch 1, the last good one" in message
    assert "smaller learning rate" in message
    assert model.calls - len(data) <= CHECK_FINITE_EVERY  # stopped within a few steps, not after 96
    payload = load_checkpoint(tmp_path / "run")
    assert payload["epoch"] == read_run(tmp_path / "run")["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in payload["model"].values())
    assert len(json.loads((tmp_path / "run" / HISTORY_FILE).read_text())["epochs"]) == 1


def test_a_diverging_command_line_run_says_so(tmp_path, capsys):
    code, out, err = run_cli(capsys, "finetune", "--lr", "1e30", "--epochs", "2", "--out", str(tmp_path / "run"),
                             "--device", "cpu")
    assert code == 2 and "NaN or infinite in epoch 1" in err and "nothing was saved" in err
    assert "done:" not in out and not (tmp_path / "run" / CHECKPOINT_FILE).exists()


# ----------------------------------------------------------------------------- 6. checks before training

def spies(monkeypatch):
    from bertnli.run import recipe

    return Spy(monkeypatch, recipe, "load_datasets"), Spy(monkeypatch, train, "_train_one_epoch", fail=True)


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_data(tmp_path, capsys, monkeypatch):
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
    assert code == 2 and str(blocker) in err and "is a file, not a folder" in err and "BERTNLI_CACHE" in err
    assert data.calls == 0 and epochs.calls == 0


def test_resuming_with_another_checkpoint_is_refused_before_the_data(tmp_path, capsys, monkeypatch):
    """The run was trained from a tiny BERT; resuming it with the sample checkpoint cannot work."""
    model = BERTClassifier(tiny_bert())
    data = tiny_loader()
    fine_tune(model, data, None, epochs=1, device="cpu",
              checkpoint_dir=RunFolder(tmp_path / "run", config={"profile": SAMPLE_PROFILE}, vocab=VOCAB))
    loads, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--out", str(tmp_path / "run"), "--resume", "--device", "cpu")
    assert code == 2 and str(tmp_path / "run" / RUN_FILE) in err and "different architecture" in err
    assert loads.calls == 0 and epochs.calls == 0


@pytest.mark.parametrize("device, words", [("mps", "not available"), ("cuda:99", "CUDA"), ("meta", "cpu, cuda")])
def test_a_device_that_does_not_exist_is_refused_before_the_data(tmp_path, capsys, monkeypatch, device, words):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    data, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--out", str(tmp_path / "run"), "--device", device)
    assert code == 2 and f"--device {device}" in err and words in err
    assert data.calls == 0 and epochs.calls == 0 and not (tmp_path / "run").exists()


def test_missing_data_or_checkpoint_is_refused_before_training(tmp_path, capsys, monkeypatch):
    _, epochs = spies(monkeypatch)
    code, _, err = run_cli(capsys, "finetune", "--data", str(tmp_path / "no-snli"), "--device", "cpu")
    assert code == 2 and str(tmp_path / "no-snli") in err
    code, _, err = run_cli(capsys, "finetune", "--model", str(tmp_path / "no-bert"), "--device", "cpu")
    assert code == 2 and str(tmp_path / "no-bert") in err
    assert epochs.calls == 0


# ----------------------------------------------------------------------------- 9. warnings

def test_predict_warns_on_words_the_vocabulary_lacks_and_on_empty_sentences():
    model = BERTClassifier(tiny_bert())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # English the vocabulary knows: no warning
        predict(model, VOCAB, "A dog is running in the park.", "An animal is outside.")
    with pytest.warns(UnreliablePrediction, match="3 of the 3 words of the premise '고양이가 공원에서 잔다'"):
        predict(model, VOCAB, "고양이가 공원에서 잔다", "A cat is sleeping.")
    with pytest.warns(UnreliablePrediction, match="hypothesis '' is empty"):
        predict(model, VOCAB, "A dog is running.", "")
    with pytest.warns(UnreliablePrediction, match="hypothesis"):  # two words of three unknown
        predict(model, VOCAB, "A dog is running.", "zebras gallop man")


def test_predict_on_the_command_line_shows_the_warning_as_one_line(trained, capsys):
    code, out, err = run_cli(capsys, "predict", str(trained), "남자가 기타를 친다", "A man plays music.")
    assert code == 0 and out.split()[0] in ("entailment", "contradiction", "neutral")
    assert err.startswith("warning: 3 of the 3 words of the premise") and len(err.strip().splitlines()) == 1


def test_a_dataset_cut_to_nothing_warns():
    data = tiny_data(32)
    with pytest.warns(UserWarning, match=r"32 of 32 pairs have an empty premise or hypothesis.*max_len=4"):
        SNLIBERTDataset(data, VOCAB, max_len=4, cache=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SNLIBERTDataset(data, VOCAB, max_len=32, cache=False)


def test_a_malformed_chapter_means_no_student_copy_at_all(chapters, capsys):
    """All chapters are read and checked before the first copy is written: never half a class set."""
    (chapters / "02_broken.ipynb").write_text('{"cells": [')
    out = chapters.parent / "students"
    code, _, err = run_cli(capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters))
    assert code == 2 and str(chapters / "02_broken.ipynb") in err and "not a readable notebook" in err
    assert not out.exists()


def test_resuming_a_finished_run_says_there_is_nothing_to_train(run_copy, capsys, monkeypatch):
    epochs = Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    code, out, _ = run_cli(capsys, "finetune", "--out", str(run_copy), "--resume", "--device", "cpu")
    assert code == 0 and epochs.calls == 0
    assert "already finished 2 epoch(s), the 2 asked for: nothing to train" in out


def test_finetune_with_a_tiny_max_len_warns_on_the_command_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "finetune", "--max-len", "4", "--epochs", "1", "--device", "cpu")
    assert code == 0
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warned and "have an empty premise or hypothesis after truncation to max_len=4" in warned[0]


def test_the_prediction_form_says_when_it_cannot_read_the_words():
    from bertnli.book import widgets as W

    form = W.prediction_form(BERTClassifier(tiny_bert()), VOCAB, max_len=32,
                             examples=[("a dog is running in the park .", "a man is sleeping .")])
    assert "<unk>" not in form.controls["output"].value  # English it knows: no note
    form.controls["premise"].value, form.controls["hypothesis"].value = "개가 공원에서 달린다", "남자가 잔다"
    form.controls["classify"].click()
    shown = form.controls["output"].value
    assert "class='bn-bar'" in shown and "&lt;unk&gt;" in shown and "어휘에 없어" in shown


def test_resume_keeps_the_runs_own_seed(tmp_path, capsys):
    """`--resume` (the command a stopped run prints) continues with the seed the run was started
    with, and leaves it recorded, instead of falling back to the default seed."""
    folder = tmp_path / "seeded"
    code, _, err = run_cli(capsys, "finetune", "--epochs", "1", "--seed", "3", "--out", str(folder), "--device", "cpu")
    assert code == 0, err
    code, _, err = run_cli(capsys, "finetune", "--epochs", "2", "--out", str(folder), "--resume", "--device", "cpu")
    assert code == 0, err
    assert json.loads((folder / "run.json").read_text())["config"]["seed"] == 3
