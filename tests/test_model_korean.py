"""Chapter 6's model side: Hugging Face folders and names through load_pretrained, their bad inputs,
hub downloads pinned by revision with the first download's sha256 recorded, the Korean stand-ins,
and a fine-tuned Korean run that saves and reloads with its tokenizer. Nothing is downloaded:
the hub is a loopback server."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.loopback import LoopbackServer

from bertnli.data.dataset import SNLIBERTDataset
from bertnli.data.loader import make_loader
from bertnli.data.snli import LABELS
from bertnli.hub import HubError
from bertnli.model.classifier import BERTClassifier
from bertnli.model.huggingface import UnsupportedCheckpoint
from bertnli.model.pretrained import load_pretrained
from bertnli.model.vocab import Vocab
from bertnli.model.wordpiece import WordPiece
from bertnli.run.checkpoint import RunFolder, model_from_checkpoint
from bertnli.run.inference import evaluate, predict
from bertnli.run.train import fine_tune
from bertnli.sample import korean_model_dir, kornli_dir

ROOT = Path(__file__).resolve().parents[1]
KORNLI_FILES = (
    "snli_1.0_train.ko.tsv",
    "multinli.train.ko.tsv",
    "xnli.dev.ko.tsv",
    "xnli.test.ko.tsv",
)


def read_tsv(path: Path, n: int | None = None):
    premises, hypotheses, labels = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines()[1:][:n]:
        p, h, label = line.split("\t")
        premises.append(p), hypotheses.append(h), labels.append(LABELS.index(label))
    return premises, hypotheses, labels


def copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(korean_model_dir(), folder)
    return folder


# ----------------------------------------------------------------------------- loading


def test_ko_sample_loads_as_a_bert_with_its_wordpiece():
    bert, tokenizer = load_pretrained("ko-sample")
    assert isinstance(tokenizer, WordPiece)
    assert bert.config.activation == "gelu" and bert.config.embedding_norm
    assert bert.config.vocab_size == len(tokenizer)
    ids = tokenizer.encode(["소년이 공원에서 개를 산책시키고 있다."])[0]
    assert tokenizer.special_ids["unk"] not in ids  # the Korean vocabulary covers Korean text
    folder_bert, folder_tok = load_pretrained(korean_model_dir())
    assert folder_tok.encode(["소년이 공원에 있다."]) == tokenizer.encode(["소년이 공원에 있다."])
    loaded = [
        k for k in bert.state_dict() if k.startswith(("encoder.", "hidden."))
    ]  # the heads start random
    assert loaded and all(
        torch.equal(bert.state_dict()[k], folder_bert.state_dict()[k]) for k in loaded
    )


def test_d2l_checkpoints_still_come_with_a_vocab():
    _, vocab = load_pretrained("sample")
    assert isinstance(vocab, Vocab)


def test_a_model_in_a_subfolder_is_found(tmp_path):
    copy_model(tmp_path / "unzipped")
    _, tokenizer = load_pretrained(tmp_path / "unzipped")
    assert isinstance(tokenizer, WordPiece)


def test_two_models_in_one_folder_are_refused(tmp_path):
    copy_model(tmp_path / "a")
    copy_model(tmp_path / "b")
    with pytest.raises(ValueError, match="2 files called config.json"):
        load_pretrained(tmp_path)


def test_a_folder_holding_both_formats_is_refused(tmp_path):
    folder = copy_model(tmp_path)
    (folder / "vocab.json").write_text('["<unk>"]', encoding="utf-8")
    with pytest.raises(ValueError, match="Hugging Face model .* and a d2l checkpoint"):
        load_pretrained(folder)


def test_a_size_argument_that_disagrees_with_config_json_is_refused():
    with pytest.raises(ValueError, match="num_blks=5 disagrees .*config.json"):
        load_pretrained("ko-sample", num_blks=5)


# ----------------------------------------------------------------------------- bad model folders


@pytest.mark.parametrize(
    "missing, named", [("model.safetensors", "no weights"), ("vocab.txt", "no vocabulary")]
)
def test_a_missing_file_is_named(tmp_path, missing, named):
    folder = copy_model(tmp_path)
    (folder / missing).unlink()
    with pytest.raises(UnsupportedCheckpoint, match=named) as err:
        load_pretrained(folder)
    assert str(folder) in str(err.value)


@pytest.mark.parametrize(
    "field, value",
    [
        ("hidden_act", "swish"),
        ("model_type", "roberta"),
        ("position_embedding_type", "relative_key"),
    ],
)
def test_an_unsupported_config_names_the_field(tmp_path, field, value):
    folder = copy_model(tmp_path)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config[field] = value
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(UnsupportedCheckpoint, match=f"{field} '{value}' is not supported") as err:
        load_pretrained(folder)
    assert "config.json" in str(err.value)


def test_a_vocabulary_that_does_not_match_the_embeddings_is_refused(tmp_path):
    folder = copy_model(tmp_path)
    vocab = folder / "vocab.txt"
    vocab.write_text(vocab.read_text(encoding="utf-8") + "추가된토큰\n", encoding="utf-8")
    with pytest.raises(
        UnsupportedCheckpoint, match="vocabulary has 506 tokens but config.json's vocab_size is 505"
    ):
        load_pretrained(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = 506  # config and vocabulary agree, the weights do not
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(
        UnsupportedCheckpoint,
        match=r"model.safetensors: .*word_embeddings.weight has shape "
        r"\(505, 64\), config.json implies \(506, 64\)",
    ):
        load_pretrained(folder)


# ----------------------------------------------------------------------------- hub downloads


class ModelServer(LoopbackServer):
    """Serves ``files`` (URL path -> bytes); anything else is a 404."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    from bertnli import hub as hub_models

    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    entry = hub_models.ModelFolder(
        "ko-test",
        "someone/ko-test",
        "abc123",
        ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"),
        "a test model",
    )
    monkeypatch.setitem(hub_models.MODELS, entry.name, entry)
    server = ModelServer()
    for name in entry.files:
        server.files[f"/someone/ko-test/resolve/abc123/{name}"] = (
            korean_model_dir() / name
        ).read_bytes()
    monkeypatch.setenv("BERTNLI_HF_URL", server.url)
    yield hub_models, server
    server.stop()


def leftovers(cache: Path) -> list[str]:
    return sorted(
        p.name for p in cache.iterdir() if ".partial-" in p.name or p.name.startswith("tmp")
    )


def test_first_download_records_hashes_and_later_ones_must_match(hub, tmp_path):
    hub_models, server = hub
    folder = hub_models.fetch_model("ko-test")
    record = json.loads(hub_models.model_record_path("ko-test").read_text(encoding="utf-8"))
    assert record["revision"] == "abc123" and set(record["sha256"]) == set(
        hub_models.MODELS["ko-test"].files
    )
    assert (folder / "vocab.txt").read_bytes() == (korean_model_dir() / "vocab.txt").read_bytes()
    bert, tokenizer = load_pretrained(folder)
    assert isinstance(tokenizer, WordPiece)

    shutil.rmtree(folder)  # a fresh download must give the recorded bytes
    server.files["/someone/ko-test/resolve/abc123/vocab.txt"] += "바뀐토큰\n".encode()
    with pytest.raises(
        HubError, match=r"vocab.txt is not the file recorded for 'ko-test': sha256 expected"
    ):
        hub_models.fetch_model("ko-test")
    cache = tmp_path / "cache"
    assert not (cache / "ko-test").exists() and leftovers(cache) == []
    assert (
        json.loads(hub_models.model_record_path("ko-test").read_text(encoding="utf-8")) == record
    )  # unchanged


def test_a_missing_file_on_the_hub_leaves_nothing_half_written(hub, tmp_path):
    hub_models, server = hub
    del server.files["/someone/ko-test/resolve/abc123/tokenizer_config.json"]
    with pytest.raises(
        HubError, match=r"could not download .*tokenizer_config.json.*Nothing was kept"
    ):
        hub_models.fetch_model("ko-test")
    cache = tmp_path / "cache"
    assert not (cache / "ko-test").exists() and leftovers(cache) == []
    assert not hub_models.model_record_path("ko-test").exists()


def test_hub_names_are_pinned():
    from bertnli import hub as hub_models

    assert set(hub_models.MODELS) == {"klue-bert-base", "koelectra-small"}
    assert (
        hub_models.MODELS["klue-bert-base"].revision == "34b965303f98bc5214daca7f76b7fb82d2dc6183"
    )
    assert all(m.revision for m in hub_models.MODELS.values())


# ----------------------------------------------------------------------------- the stand-ins


def test_korean_corpus_is_what_its_generator_writes(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_korean_sample.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in KORNLI_FILES:
        assert (tmp_path / name).read_bytes() == (kornli_dir() / name).read_bytes(), name
        lines = (kornli_dir() / name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == "sentence1\tsentence2\tgold_label"
        assert all(len(line.split("\t")) == 3 for line in lines[1:])
        assert {line.split("\t")[2] for line in lines[1:]} == set(LABELS)
    assert any(
        '"' in line
        for line in (kornli_dir() / "xnli.test.ko.tsv").read_text(encoding="utf-8").splitlines()
    )


def test_stand_ins_are_small_and_packaged():
    size = sum(p.stat().st_size for d in (kornli_dir(), korean_model_dir()) for p in d.iterdir())
    assert size < 2_200_000
    assert {p.name for p in korean_model_dir().iterdir()} == {
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tokenizer_config.json",
    }
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        "sample/data/KorNLI/*.tsv" in pyproject
        and "sample/data/bert-ko-sample/*.safetensors" in pyproject
    )


@pytest.fixture(scope="module")
def korean_run(tmp_path_factory):
    """The stand-in model fine-tuned on the stand-in corpus with the sample profile's settings,
    saved in a run folder (seconds on a CPU)."""
    from bertnli.run.korean_profiles import korean_profile
    from bertnli.run.profiles import PROFILES

    profile = korean_profile(
        PROFILES["sample"]
    )  # its model, max_len, batch size and lr; fewer pairs, epochs
    torch.manual_seed(0)
    bert, tokenizer = load_pretrained(profile.model)
    train = SNLIBERTDataset(
        read_tsv(kornli_dir() / "snli_1.0_train.ko.tsv", 1200),
        tokenizer,
        max_len=profile.max_len,
        cache=False,
    )
    test = SNLIBERTDataset(
        read_tsv(kornli_dir() / "xnli.test.ko.tsv"), tokenizer, max_len=profile.max_len, cache=False
    )
    model = BERTClassifier(bert)
    run = RunFolder(tmp_path_factory.mktemp("run"), config={"note": "korean"}, vocab=tokenizer)
    fine_tune(
        model,
        make_loader(train, profile.batch_size, shuffle=True),
        None,
        epochs=2,
        lr=profile.lr,
        device="cpu",
        progress=False,
        checkpoint_dir=run,
    )
    return model, tokenizer, test, run


def test_the_stand_in_fine_tuned_on_the_stand_in_corpus_beats_chance(korean_run):
    model, _, test, _ = korean_run
    accuracy = evaluate(model, make_loader(test, 128, shuffle=False))["accuracy"]
    assert accuracy > 0.6, accuracy  # chance is 1/3


def test_a_korean_run_reloads_with_its_tokenizer(korean_run):
    model, tokenizer, test, run = korean_run
    payload = torch.load(run.checkpoint, weights_only=True)  # plain data only
    assert (
        payload["tokenizer"]["kind"] == "wordpiece"
        and payload["tokenizer"]["do_lower_case"] is False
    )
    reloaded, reloaded_tokenizer, _ = model_from_checkpoint(run.path)
    assert isinstance(reloaded_tokenizer, WordPiece)
    sentences = [
        "남자가 공원에서 개를 산책시키고 있다.",
        "사람이 밖에 있다.",
        '"행복"이라고 적힌 옷',
    ]
    assert reloaded_tokenizer.encode(sentences) == tokenizer.encode(sentences)
    assert reloaded_tokenizer.special_ids == tokenizer.special_ids
    before = predict(
        model, tokenizer, "남자가 공원에서 개를 산책시키고 있다.", "사람이 밖에 있다.", max_len=64
    )
    after = predict(
        reloaded,
        reloaded_tokenizer,
        "남자가 공원에서 개를 산책시키고 있다.",
        "사람이 밖에 있다.",
        max_len=64,
    )
    assert before[0] == after[0] and before[1] == pytest.approx(after[1], abs=1e-6)
    reloaded_acc = evaluate(
        reloaded,
        make_loader(
            SNLIBERTDataset(
                read_tsv(kornli_dir() / "xnli.test.ko.tsv"),
                reloaded_tokenizer,
                max_len=64,
                cache=False,
            ),
            128,
            shuffle=False,
        ),
    )["accuracy"]
    assert reloaded_acc == evaluate(model, make_loader(test, 128, shuffle=False))["accuracy"]


def test_predict_warns_when_the_vocabulary_does_not_cover_the_text(korean_run):
    from bertnli.run.inference import UnreliablePrediction

    model, tokenizer, _, _ = korean_run
    with pytest.warns(UnreliablePrediction, match=r"pieces of the premise .* are \[UNK\]"):
        predict(model, tokenizer, "Zebras quickly jump", "사람이 밖에 있다.", max_len=64)


def test_the_download_command_fetches_a_hub_model_and_cache_lists_it(hub, tmp_path, capsys):
    from bertnli._cli_hub import cmd_cache, cmd_download

    hub_models, _ = hub
    assert cmd_download("ko-test") == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cache" / "ko-test")
    assert cmd_cache() == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["ko-test", "folder"] in [row[:2] for row in rows]
