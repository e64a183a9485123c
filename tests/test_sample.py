"""The embedded offline sample: a real (pretrained) checkpoint in d2l's format, and the
command line's offline fine-tuning run that must learn it."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from helpers.d2l_compat import d2l_torch
from helpers.repo_tools import load_tool

import bertnli.sample
from bertnli import (
    KNOWN_CONFIGS,
    BERTClassifier,
    BERTModel,
    SNLIBERTDataset,
    fine_tune,
    load_pretrained,
    make_loader,
    read_snli,
)
from bertnli.data.packing import pack_pair, tokenize

ROOT = Path(__file__).resolve().parents[1]


def _pretrain_script():
    return load_tool("pretrain_sample")


def test_checkpoint_is_a_small_zip_in_d2l_format():
    path = bertnli.sample.checkpoint_path()
    assert path.stat().st_size < 5 * 2**20
    with zipfile.ZipFile(path) as zf:
        assert sorted(Path(n).name for n in zf.namelist()) == ["pretrained.params", "vocab.json"]
    model, vocab = load_pretrained("sample")
    expected = KNOWN_CONFIGS["sample"]
    c = model.config
    assert (c.num_hiddens, c.ffn_num_hiddens, c.num_heads, c.num_blks, c.max_len) == tuple(
        expected[k] for k in ("num_hiddens", "ffn_num_hiddens", "num_heads", "num_blks", "max_len")
    )
    assert len(vocab) == c.vocab_size and vocab.idx_to_token[:5] == [
        "<unk>",
        "<pad>",
        "<mask>",
        "<cls>",
        "<sep>",
    ]
    d2l = d2l_torch()  # and it loads into d2l's own model, strictly
    ref = d2l.BERTModel(
        len(vocab), c.num_hiddens, c.ffn_num_hiddens, c.num_heads, c.num_blks, 0.1, c.max_len
    )
    t = torch.zeros(1, 3, dtype=torch.long)
    ref(t, t, torch.tensor([3]), torch.zeros(1, 1, dtype=torch.long))
    ref.load_state_dict(model.state_dict(), strict=True)


def test_using_the_sample_says_so(capsys, monkeypatch):
    monkeypatch.setattr(bertnli.sample, "_announced", False)
    load_pretrained("sample")
    err = capsys.readouterr().err
    assert "SAMPLE" in err and "샘플" in err


def test_pretraining_is_deterministic():
    script = _pretrain_script()
    a, vocab_a = script.pretrain(steps=3, batch_size=8, seed=0, log_every=1000)
    b, vocab_b = script.pretrain(steps=3, batch_size=8, seed=0, log_every=1000)
    assert vocab_a.idx_to_token == vocab_b.idx_to_token
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


def _masked_lm_accuracy(model, vocab, sentences):
    """Mask every 4th word of unseen (test split) sentences and count correct guesses."""
    hits = total = 0
    model.eval()
    with torch.no_grad():
        for words in sentences:
            tokens, segments = pack_pair(words, [], 64)
            ids = vocab[tokens]
            positions = list(range(1, len(tokens) - 2, 4))
            masked = [vocab["<mask>"] if i in positions else t for i, t in enumerate(ids)]
            _, logits, _ = model(
                torch.tensor([masked]),
                torch.tensor([segments]),
                torch.tensor([len(ids)]),
                torch.tensor([positions]),
            )
            guesses = logits[0].argmax(-1).tolist()
            hits += sum(g == ids[p] for g, p in zip(guesses, positions, strict=True))
            total += len(positions)
    return hits / total


@pytest.mark.slow
def test_checkpoint_is_really_pretrained():
    premises, _, _ = read_snli("sample", "test")
    sentences = tokenize(sorted(set(premises))[:150])
    model, vocab = load_pretrained("sample")
    torch.manual_seed(0)
    untrained = BERTModel(**model.config.to_dict())
    pretrained_acc = _masked_lm_accuracy(model, vocab, sentences)
    untrained_acc = _masked_lm_accuracy(untrained, vocab, sentences)
    assert pretrained_acc > 0.4 and pretrained_acc > untrained_acc + 0.3


@pytest.mark.slow
def test_fine_tuning_from_the_checkpoint_beats_random_initialisation(tmp_path, monkeypatch):
    """Pretraining pays off most when labelled pairs are few: same model, same budget
    (1,200 training pairs, 4 epochs, lr 3e-4), only the starting weights differ."""
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path))
    bert, vocab = load_pretrained("sample", dropout=0.1)
    premises, hypotheses, labels = read_snli("sample", "train")
    train = SNLIBERTDataset(
        (premises[:1200], hypotheses[:1200], labels[:1200]), vocab, max_len=64, cache=False
    )
    dev = SNLIBERTDataset(read_snli("sample", "dev"), vocab, max_len=64, cache=False)
    results = {}
    for name in ("pretrained", "random"):
        torch.manual_seed(0)
        start = bert if name == "pretrained" else BERTModel(**bert.config.to_dict())
        history = fine_tune(
            BERTClassifier(start),
            make_loader(train, 32, shuffle=True),
            make_loader(dev, 256, shuffle=False),
            epochs=4,
            lr=3e-4,
            device="cpu",
            progress=False,
        )
        results[name] = history["test_acc"][-1]
    assert results["pretrained"] > results["random"] + 0.08, results


@pytest.mark.slow
def test_command_line_sample_profile_learns_offline(tmp_path):
    """How long it takes is measured in benchmarks/, not asserted here (a busy machine is slow)."""
    env = dict(
        os.environ, BERTNLI_CACHE=str(tmp_path / "cache"), BERTNLI_HUB_URL="http://127.0.0.1:9/"
    )
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "finetune", "--profile", "sample", "--out", str(run)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SAMPLE" in done.stderr and "profile: sample" in done.stdout
    saved = json.loads((run / "history.json").read_text())  # dev per epoch, test once at the end
    assert saved["epochs"][-1]["valid_acc"] >= 0.85 and saved["test_acc"] >= 0.85, saved

    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "evaluate", str(run)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    accuracy = float(done.stdout.split("accuracy ")[1].split(",")[0])
    assert accuracy == pytest.approx(saved["test_acc"], abs=0.02)

    premises, hypotheses, labels = read_snli("sample", "test")
    names = ("entailment", "contradiction", "neutral")
    clear = [i for i in range(len(labels)) if len(premises[i].split()) < 12][:6]
    agree = 0
    for i in clear:
        done = subprocess.run(
            [sys.executable, "-m", "bertnli", "predict", str(run), premises[i], hypotheses[i]],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        agree += done.stdout.split()[0] == names[labels[i]]
    assert agree >= 5, f"predict agreed on {agree} of {len(clear)} short test pairs"


@pytest.mark.slow
def test_command_line_resume_continues_with_the_runs_own_settings(tmp_path):
    env = dict(os.environ, BERTNLI_CACHE=str(tmp_path / "cache"))
    run = str(tmp_path / "run")
    base = [sys.executable, "-m", "bertnli", "finetune", "--out", run]
    first = subprocess.run(
        base + ["--profile", "sample", "--epochs", "1", "--max-len", "48"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    again = subprocess.run(
        base + ["--resume", "--epochs", "2"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming from" in again.stdout and "max_len 48" in again.stdout
    payload = torch.load(Path(run) / "checkpoint.pt", weights_only=False)
    assert payload["epoch"] == 2 and payload["config"]["profile"]["max_len"] == 48


@pytest.mark.slow  # four fresh processes, each importing torch
def test_command_line_errors_name_the_argument():
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "finetune", "--batch-size", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--batch-size" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "finetune", "--truncation", "middle"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--truncation" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "finetune", "--resume"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--resume" in done.stderr and "--out" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bertnli", "evaluate", "/nonexistent/run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "/nonexistent/run" in done.stderr
