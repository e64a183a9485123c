"""What the training loop reports (issue 11): the dev set every epoch and the test set once at the
end, and a progress bar only where someone watches."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data

from bertnli import BERTClassifier, SNLIBERTDataset, fine_tune, make_loader
from bertnli.distributed import DistInfo
from bertnli.run.train import History

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def loaders():
    def make(n, seed):
        data = SNLIBERTDataset(tiny_data(n, seed), VOCAB, max_len=32, cache=False)
        return make_loader(data, 16, shuffle=seed == 0, seed=0)

    return make(64, 0), make(32, 1), make(32, 2)


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_dev_every_epoch_test_once_at_the_end(loaders, tmp_path, capsys):
    train, dev, test = loaders
    run = tmp_path / "run"
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        train,
        test,
        valid_loader=dev,
        epochs=2,
        lr=3e-3,
        device="cpu",
        checkpoint_dir=run,
        progress=False,
    )
    assert all(e.valid_acc is not None and e.test_acc is None for e in history.epochs)
    assert history.test_acc is not None and 0 <= history.test_acc <= 1
    out = capsys.readouterr().out
    assert out.count("dev acc") == 2 and out.count("test acc") == 1 and "measured once" in out
    saved = History.load(run / "history.json")
    assert saved.test_acc == history.test_acc and saved["valid_acc"] == history["valid_acc"]
    assert (
        "dev acc" in history.summary() and f"test acc {history.test_acc:.3f}" in history.summary()
    )


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_the_old_positional_form_still_records_test_per_epoch(loaders):
    train, _, test = loaders
    history = fine_tune(
        BERTClassifier(tiny_bert()), train, test, epochs=2, device="cpu", progress=False
    )
    assert all(e.test_acc is not None and e.valid_acc is None for e in history.epochs)
    assert (
        History.from_dict(
            {
                "epochs": [
                    {k: v for k, v in history.to_dict()["epochs"][0].items() if k != "valid_acc"}
                ]
            }
        )
        .epochs[0]
        .valid_acc
        is None
    )  # old files load


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_resuming_a_finished_run_redraws_and_measures_test_again(loaders, tmp_path):
    train, dev, test = loaders
    kwargs = dict(
        valid_loader=dev,
        epochs=1,
        lr=3e-3,
        device="cpu",
        checkpoint_dir=tmp_path / "r",
        progress=False,
    )
    first = fine_tune(BERTClassifier(tiny_bert()), train, test, **kwargs)
    seen = []
    again = fine_tune(
        BERTClassifier(tiny_bert()), train, test, resume=True, callbacks=[seen.append], **kwargs
    )
    assert (
        len(seen) == 1 and seen[0]["train_loss"] == first["train_loss"]
    )  # the live plot gets the history
    assert again.test_acc == pytest.approx(first.test_acc)


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_progress_bar_shows_batches_rate_and_loss(loaders, capsys, monkeypatch):
    import bertnli.run.train as train_module

    monkeypatch.setattr(train_module, "BAR_SECONDS", 0.0)  # refresh every batch for the test
    train, dev, _ = loaders
    fine_tune(
        BERTClassifier(tiny_bert()),
        train,
        None,
        valid_loader=dev,
        epochs=1,
        device="cpu",
        progress=True,
    )
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "examples/s" in err and re.search(r"loss \d\.\d{3}", err)


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_no_bar_when_nobody_watches_or_tqdm_is_disabled(loaders, capsys, monkeypatch):
    train, _, _ = loaders
    fine_tune(
        BERTClassifier(tiny_bert()), train, None, epochs=1, device="cpu"
    )  # stderr is not a TTY here
    assert "epoch 1/1" not in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fine_tune(BERTClassifier(tiny_bert()), train, None, epochs=1, device="cpu", progress=True)
    assert "epoch 1/1" not in capsys.readouterr().err


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_no_bar_on_other_ranks(loaders, capsys):
    train, _, _ = loaders
    rank1 = DistInfo(torch.device("cpu"), rank=1)
    fine_tune(BERTClassifier(tiny_bert()), train, None, epochs=1, device=rank1, progress=True)
    captured = capsys.readouterr()
    assert "epoch 1/1" not in captured.err and captured.out == ""


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_a_log_gets_at_most_about_a_line_a_second(tmp_path):
    """--progress into a file: tqdm redraws at most once per BAR_SECONDS (+ the first and last)."""
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT / "tests")!r})
import torch
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data
from bertnli import BERTClassifier, SNLIBERTDataset, fine_tune, make_loader
loader = make_loader(SNLIBERTDataset(tiny_data(400, 0), VOCAB, max_len=32, cache=False), 4, shuffle=True)
start = time.time()
fine_tune(BERTClassifier(tiny_bert()), loader, None, epochs=1, device="cpu", progress=True)
print(time.time() - start)
"""
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        done = subprocess.run(
            [sys.executable, "-c", script],
            stderr=f,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, OMP_NUM_THREADS="1"),
            timeout=300,
        )
    assert done.returncode == 0, log.read_text()[-2000:]
    seconds = float(done.stdout.strip().splitlines()[-1])
    draws = log.read_text().count("epoch 1/1")
    assert 1 <= draws <= seconds / 1.0 + 3, (draws, seconds)
