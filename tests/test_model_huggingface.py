"""Hugging Face BERT and ELECTRA folders load into the book's own BERTModel, and compute the same.

Every checkpoint here is a tiny random model that ``transformers`` builds and saves in the
test: nothing is downloaded. Parity: the same token ids, segments and padding give the same
hidden states (and, for BERT, the same pooled output) as ``transformers``' own model, within 1e-5.
"""

from __future__ import annotations

import json

import pytest
import torch

from bertnli import BERTClassifier
from bertnli.model.huggingface import UnsupportedCheckpoint, load_huggingface

transformers = pytest.importorskip("transformers")  # a test dependency (pyproject's test extra)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"tok{i}" for i in range(95)]


def save_bert(folder, *, act="gelu", weights="safetensors", vocab="txt", **sizes):
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=40,
        hidden_act=act,
        **sizes,
    )
    model = transformers.BertModel(config).eval()
    model.save_pretrained(folder)
    if weights == "bin":  # the older format: a state dict saved with torch.save
        (folder / "model.safetensors").unlink()
        torch.save(
            {f"bert.{k}": v for k, v in model.state_dict().items()}, folder / "pytorch_model.bin"
        )
    write_vocab(folder, vocab)
    return model


def save_electra(folder):
    torch.manual_seed(1)
    config = transformers.ElectraConfig(
        vocab_size=len(VOCAB),
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=40,
    )
    model = transformers.ElectraModel(config).eval()
    model.save_pretrained(folder)
    write_vocab(folder, "txt")
    return model


def write_vocab(folder, kind):
    if kind == "txt":
        (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    else:
        (folder / "tokenizer.json").write_text(
            json.dumps(
                {"model": {"type": "WordPiece", "vocab": {t: i for i, t in enumerate(VOCAB)}}}
            ),
            encoding="utf-8",
        )


def batch():
    torch.manual_seed(2)
    tokens = torch.randint(5, len(VOCAB), (3, 11))
    segments = (torch.arange(11) >= 6).long().expand(3, -1).clone()
    valid_lens = torch.tensor([11, 8, 5])
    mask = (torch.arange(11)[None, :] < valid_lens[:, None]).long()
    return tokens, segments, valid_lens, mask


@pytest.mark.parametrize("weights, vocab", [("safetensors", "txt"), ("bin", "json")])
def test_a_bert_folder_computes_what_transformers_computes(tmp_path, weights, vocab):
    theirs = save_bert(tmp_path, weights=weights, vocab=vocab)
    ours, tokens_list = load_huggingface(tmp_path)
    ours.eval()
    assert tokens_list == VOCAB
    assert (tmp_path / "model.safetensors").exists() == (
        weights == "safetensors"
    )  # which file was read
    assert (
        ours.config.activation == "gelu"
        and ours.config.embedding_norm
        and ours.config.layer_norm_eps == 1e-12
    )
    tokens, segments, valid_lens, mask = batch()
    with torch.no_grad():
        expected = theirs(input_ids=tokens, token_type_ids=segments, attention_mask=mask)
        encoded, _, _ = ours(tokens, segments, valid_lens)
        pooled = ours.hidden(encoded[:, 0, :])
    for row, n in enumerate(
        valid_lens.tolist()
    ):  # padded positions are not compared: nobody reads them
        torch.testing.assert_close(
            encoded[row, :n], expected.last_hidden_state[row, :n], rtol=0, atol=1e-5
        )
    torch.testing.assert_close(pooled, expected.pooler_output, rtol=0, atol=1e-5)


def test_an_electra_folder_with_narrow_embeddings(tmp_path):
    theirs = save_electra(tmp_path)
    ours, _ = load_huggingface(tmp_path)
    ours.eval()
    assert ours.config.embedding_size == 16 and ours.config.num_hiddens == 32
    tokens, segments, valid_lens, mask = batch()
    with torch.no_grad():
        expected = theirs(
            input_ids=tokens, token_type_ids=segments, attention_mask=mask
        ).last_hidden_state
        encoded, _, _ = ours(tokens, segments, valid_lens)
    for row, n in enumerate(valid_lens.tolist()):
        torch.testing.assert_close(encoded[row, :n], expected[row, :n], rtol=0, atol=1e-5)


def test_the_loaded_encoder_fine_tunes_through_the_books_classifier(tmp_path):
    save_bert(tmp_path)
    bert, _ = load_huggingface(tmp_path)
    model = BERTClassifier(bert)
    tokens, segments, valid_lens, _ = batch()
    loss = torch.nn.functional.cross_entropy(
        model(tokens, segments, valid_lens), torch.tensor([0, 1, 2])
    )
    loss.backward()
    assert model.encoder.blks[0].ffn.dense1.weight.grad is not None and torch.isfinite(loss)
    rebuilt = BERTClassifier.from_description(model.describe())  # what a run folder stores
    assert rebuilt.bert_config == model.bert_config and rebuilt.encoder.embedding_norm is not None


def test_a_d2l_shaped_config_dict_is_unchanged_by_the_switches():
    """Run folders written before the switches existed describe their model the same way."""
    from bertnli import BERTModel

    model = BERTModel(
        vocab_size=10,
        num_hiddens=8,
        ffn_num_hiddens=16,
        num_heads=2,
        num_blks=1,
        dropout=0.1,
        max_len=12,
    )
    assert model.config.to_dict() == {
        "vocab_size": 10,
        "num_hiddens": 8,
        "ffn_num_hiddens": 16,
        "num_heads": 2,
        "num_blks": 1,
        "dropout": 0.1,
        "max_len": 12,
    }
    assert not hasattr(model.encoder, "embedding_norm") and not hasattr(
        model.encoder, "embedding_projection"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"hidden_act": "swish"}, "hidden_act 'swish'"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"model_type": "roberta"}, "model_type 'roberta'"),
        ({"vocab_size": 7}, "vocabulary has 100 tokens but config.json's vocab_size is 7"),
    ],
)
def test_configs_this_encoder_cannot_reproduce_are_refused_by_field(tmp_path, change, message):
    save_bert(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(UnsupportedCheckpoint, match=message.replace("(", r"\(")) as err:
        load_huggingface(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_missing_files_and_fields_are_named(tmp_path):
    save_bert(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["intermediate_size"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedCheckpoint, match="'intermediate_size' is missing"):
        load_huggingface(tmp_path)
    save_bert(tmp_path)
    (tmp_path / "vocab.txt").unlink()
    with pytest.raises(
        UnsupportedCheckpoint, match="no vocabulary; expected tokenizer.json or vocab.txt"
    ):
        load_huggingface(tmp_path)
    write_vocab(tmp_path, "txt")
    (tmp_path / "model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(UnsupportedCheckpoint, match="model.safetensors: cannot be read as weights"):
        load_huggingface(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(
        UnsupportedCheckpoint, match="no weights; expected model.safetensors or pytorch_model.bin"
    ):
        load_huggingface(tmp_path)


def test_a_pickled_object_in_pytorch_model_bin_is_not_run(tmp_path):
    save_bert(tmp_path, weights="bin")

    class Boom:
        def __reduce__(self):
            return (exec, (f"open({str(tmp_path / 'ran.txt')!r}, 'w').write('ran')",))

    torch.save({"x": Boom()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(UnsupportedCheckpoint, match="pytorch_model.bin: cannot be read as weights"):
        load_huggingface(tmp_path)
    assert not (tmp_path / "ran.txt").exists()


def test_files_that_coexist_follow_one_documented_precedence(tmp_path):
    """model.safetensors wins over pytorch_model.bin, tokenizer.json over vocab.txt (issue 21, item 2)."""
    theirs = save_bert(tmp_path)
    torch.save(
        {k: torch.zeros_like(v) for k, v in theirs.state_dict().items()},
        tmp_path / "pytorch_model.bin",
    )
    write_vocab(tmp_path, "json")
    (tmp_path / "vocab.txt").write_text(
        "\n".join(reversed(VOCAB)) + "\n", encoding="utf-8"
    )  # disagrees
    ours, tokens = load_huggingface(tmp_path)
    assert tokens == VOCAB  # from tokenizer.json
    torch.testing.assert_close(
        ours.encoder.token_embedding.weight, theirs.embeddings.word_embeddings.weight
    )
