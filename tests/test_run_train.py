"""Fine-tuning: classifier head, loop, history, checkpoints, resume, evaluation, errors."""

import json
import math
from pathlib import Path

import pytest
import torch
from helpers.spy import Spy
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data, tiny_loader

from bertnli import (
    BERTClassifier,
    BERTModel,
    History,
    SNLIBERTDataset,
    evaluate,
    fine_tune,
    make_loader,
    predict,
)
from bertnli.run import train
from bertnli.run.checkpoint import (
    CHECKPOINT_FILE,
    HISTORY_FILE,
    RUN_FILE,
    RunFolder,
    load_checkpoint,
    model_from_checkpoint,
    read_run,
)
from bertnli.run.profiles import get_profile
from bertnli.run.train import CHECK_FINITE_EVERY, TrainingDiverged


@pytest.fixture
def loaders(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    train = SNLIBERTDataset(tiny_data(96, 0), VOCAB, max_len=32, cache=False)
    test = SNLIBERTDataset(tiny_data(32, 1), VOCAB, max_len=32, cache=False)
    return make_loader(train, 16, shuffle=True, seed=0), make_loader(test, 16, shuffle=False)


def test_classifier_keeps_encoder_and_pooler_drops_pretraining_heads():
    bert = tiny_bert()
    model = BERTClassifier(bert)
    names = {n.split(".")[0] for n, _ in model.named_parameters()}
    assert names == {"encoder", "hidden", "output"}
    assert model.encoder is bert.encoder and model.hidden is bert.hidden
    assert model.output.weight.shape == (3, 32)
    tokens = torch.tensor([[3, 5, 6, 4, 7, 4, 1]])
    logits = model(tokens, torch.tensor([[0, 0, 0, 0, 1, 1, 0]]), torch.tensor([6]))
    assert logits.shape == (1, 3)


def test_fine_tune_learns_and_writes_history_and_checkpoint(loaders, tmp_path):
    train, test = loaders
    model = BERTClassifier(tiny_bert())
    seen = []
    run = RunFolder(tmp_path / "run", config={"note": "t"}, vocab=VOCAB)
    history = fine_tune(
        model,
        train,
        test,
        epochs=6,
        lr=3e-3,
        device="cpu",
        checkpoint_dir=run,
        callbacks=[lambda h: seen.append(len(h))],
    )
    assert isinstance(history, History) and len(history) == 6 and seen == [1, 2, 3, 4, 5, 6]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] >= 0.9
    rec = history.epochs[-1]
    assert rec.examples_per_sec > 0 and rec.seconds > 0 and "CPU" in rec.device
    saved = json.loads((tmp_path / "run" / HISTORY_FILE).read_text())
    assert len(saved["epochs"]) == 6 and saved["epochs"][0]["epoch"] == 1
    payload = load_checkpoint(tmp_path / "run")
    assert (
        payload["epoch"] == 6
        and payload["vocab"] == VOCAB.idx_to_token
        and payload["config"] == {"note": "t"}
    )
    assert {"torch", "numpy", "python"} <= set(payload["rng"]) and payload["optimizer"] is not None
    settings = json.loads(
        (tmp_path / "run" / RUN_FILE).read_text()
    )  # the run without loading its weights
    assert (
        settings["epoch"] == 6
        and settings["config"] == {"note": "t"}
        and settings["vocab_size"] == len(VOCAB)
    )
    assert settings["model_description"] == model.describe()
    rebuilt, vocab, _ = model_from_checkpoint(tmp_path / "run")
    assert len(vocab) == len(VOCAB)
    for k, v in model.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[k], v.cpu())


def test_two_epochs_equal_one_plus_resume_plus_one(loaders, tmp_path):
    train, test = loaders
    straight = BERTClassifier(tiny_bert(dropout=0.1), dropout=0.1)
    fine_tune(
        straight,
        train,
        test,
        epochs=2,
        lr=1e-3,
        device="cpu",
        checkpoint_dir=tmp_path / "a",
        seed=3,
    )

    first = BERTClassifier(tiny_bert(dropout=0.1), dropout=0.1)
    fine_tune(
        first, train, test, epochs=1, lr=1e-3, device="cpu", checkpoint_dir=tmp_path / "b", seed=3
    )
    torch.manual_seed(
        12345
    )  # a fresh process would have some other RNG state: resume must restore it
    resumed = BERTClassifier(tiny_bert(seed=99, dropout=0.1), dropout=0.1)
    history = fine_tune(
        resumed,
        train,
        test,
        epochs=2,
        lr=1e-3,
        device="cpu",
        checkpoint_dir=tmp_path / "b",
        resume=True,
        seed=3,
    )
    assert [e.epoch for e in history.epochs] == [1, 2]
    for k, v in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[k], v), k


def test_resume_with_other_architecture_names_the_difference(loaders, tmp_path):
    train, test = loaders
    fine_tune(
        BERTClassifier(tiny_bert()), train, test, epochs=1, device="cpu", checkpoint_dir=tmp_path
    )
    bigger = BERTModel(
        len(VOCAB),
        num_hiddens=32,
        ffn_num_hiddens=48,
        num_heads=2,
        num_blks=1,
        dropout=0.0,
        max_len=32,
    )
    with pytest.raises(ValueError, match="ffn_num_hiddens: model 48 vs checkpoint 64"):
        fine_tune(
            BERTClassifier(bigger),
            train,
            test,
            epochs=2,
            device="cpu",
            checkpoint_dir=tmp_path,
            resume=True,
        )


def test_empty_loader_is_a_clear_error_and_a_partial_batch_works(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path))
    three = SNLIBERTDataset(tiny_data(3), VOCAB, max_len=32, cache=False)
    with pytest.raises(ValueError, match="no batch"):
        fine_tune(
            BERTClassifier(tiny_bert()),
            make_loader(three, 8, shuffle=True, drop_last=True),
            None,
            epochs=1,
            device="cpu",
        )
    history = fine_tune(
        BERTClassifier(tiny_bert()),
        make_loader(three, 8, shuffle=True),
        None,
        epochs=1,
        device="cpu",
    )
    assert history.epochs[0].test_acc is None and history.epochs[0].examples_per_sec > 0


def test_ctrl_c_stops_cleanly_after_saving(loaders, tmp_path):
    train, test = loaders

    def interrupt(history):
        if len(history) == 2:
            raise KeyboardInterrupt

    model = BERTClassifier(tiny_bert())
    history = fine_tune(
        model, train, test, epochs=5, device="cpu", checkpoint_dir=tmp_path, callbacks=[interrupt]
    )
    assert history.interrupted and len(history) == 2
    assert load_checkpoint(tmp_path)["epoch"] == 2
    resumed = fine_tune(
        BERTClassifier(tiny_bert()),
        train,
        test,
        epochs=3,
        device="cpu",
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert len(resumed) == 3 and not resumed.interrupted


def test_out_of_memory_names_the_knobs(loaders):
    train, test = loaders

    class Exploding(BERTClassifier):
        def forward(self, *X):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(RuntimeError, match="batch-size.*max-len.*amp"):
        fine_tune(Exploding(tiny_bert()), train, test, epochs=1, device="cpu")


def test_evaluate_and_predict(loaders):
    train, test = loaders
    model = BERTClassifier(tiny_bert())
    fine_tune(model, train, test, epochs=6, lr=3e-3, device="cpu")
    result = evaluate(model, test)
    assert result["examples"] == 32 and sum(map(sum, result["confusion"])) == 32
    assert result["accuracy"] == pytest.approx(
        sum(result["confusion"][i][i] for i in range(3)) / 32
    )
    assert result["loss"] > 0
    label, probs = predict(model, VOCAB, "A dog is running in the park.", "A dog is sleeping.")
    assert label == "entailment" and len(probs) == 3 and sum(probs) == pytest.approx(1.0, abs=1e-5)
    label, _ = predict(model, VOCAB, "A cat is sleeping in the park.", "A cat is running.")
    assert label == "contradiction"


def test_history_round_trip(tmp_path):
    h = History()
    from bertnli.run.train import EpochRecord

    h.epochs.append(EpochRecord(1, 0.5, 0.8, 0.7, 100.0, 2.0, "CPU"))
    h.save(tmp_path / "h.json")
    again = History.load(tmp_path / "h.json")
    assert again.to_dict() == h.to_dict() and again["test_acc"] == [0.7]
    assert "0.700" in again.summary()


def test_plots_draw(loaders):
    import matplotlib

    matplotlib.use("Agg")
    from bertnli import plot_confusion, plot_history, plot_probabilities
    from bertnli.run.train import EpochRecord

    h = History([EpochRecord(i, 1 / i, 0.5 + i / 10, 0.5, 10.0, 1.0, "CPU") for i in (1, 2, 3)])
    ax = plot_history(h)
    assert len(ax.lines) == 3 and "epoch" in ax.get_xlabel()
    ax = plot_confusion([[5, 1, 0], [0, 4, 2], [1, 1, 6]])
    assert len(ax.texts) == 9 and "함의" in ax.get_xticklabels()[0].get_text()
    ax = plot_probabilities([0.7, 0.2, 0.1])
    assert len(ax.patches) == 3


def test_a_failed_checkpoint_write_leaves_nothing_behind(tmp_path, monkeypatch):
    from bertnli.run import checkpoint

    model = BERTClassifier(tiny_bert())
    checkpoint.save_checkpoint(tmp_path / CHECKPOINT_FILE, model, epoch=1)
    before = (tmp_path / CHECKPOINT_FILE).read_bytes()

    def broken_save(obj, f):
        Path(f).write_bytes(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save_checkpoint(tmp_path / CHECKPOINT_FILE, model, epoch=2)
    assert (tmp_path / CHECKPOINT_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_FILE]


# ----------------------------------------------------------------------------- numbers that cannot train


@pytest.mark.usefixtures(
    "isolated_cache"
)  # conftest.py (as in test_cli_finetune.py, where these began)
@pytest.mark.parametrize("lr", [math.inf, math.nan, 0.0, -1e-3])
def test_the_api_refuses_learning_rates_before_any_work(tmp_path, monkeypatch, lr):
    from bertnli.run import recipe

    data = tiny_loader()
    Spy(monkeypatch, train, "_train_one_epoch", fail=True)
    with pytest.raises(ValueError, match="learning rate"):
        fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, lr=lr, device="cpu")
    Spy(
        monkeypatch, recipe, "load_pretrained", fail=True
    )  # refused before the checkpoint is even read
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


@pytest.mark.usefixtures(
    "isolated_cache"
)  # conftest.py (as in test_cli_finetune.py, where these began)
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    data = make_loader(
        SNLIBERTDataset(tiny_data(96), VOCAB, max_len=32, cache=False), 1, shuffle=True
    )  # 96 steps
    model = TurnsNaN(
        tiny_bert(), good_calls=len(data)
    )  # epoch 1 is fine, epoch 2 turns NaN at once
    with pytest.raises(TrainingDiverged) as err:
        fine_tune(
            model, data, None, epochs=4, lr=1e-3, device="cpu", checkpoint_dir=tmp_path / "run"
        )
    message = str(err.value)
    assert (
        "NaN or infinite in epoch 2" in message
        and "still holds epoch 1, the last good one" in message
    )
    assert "smaller learning rate" in message
    assert model.calls - len(data) <= CHECK_FINITE_EVERY  # stopped within a few steps, not after 96
    payload = load_checkpoint(tmp_path / "run")
    assert payload["epoch"] == read_run(tmp_path / "run")["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in payload["model"].values())
    assert len(json.loads((tmp_path / "run" / HISTORY_FILE).read_text())["epochs"]) == 1
