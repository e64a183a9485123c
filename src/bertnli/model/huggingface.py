"""A BERT (or ELECTRA) checkpoint in the Hugging Face format, loaded into the book's own ``BERTModel``.

The Korean chapter fine-tunes Korean encoders published in this format: a folder with
``config.json``, the weights (``model.safetensors``, else ``pytorch_model.bin``) and a
WordPiece vocabulary (``tokenizer.json``, else ``vocab.txt``; ``wordpiece`` tokenizes with it). They are the same encoder as
d2l's BERT with a few switches set differently (``model.EncoderSwitches``: GELU, a
LayerNorm after the embeddings, LayerNorm's epsilon, and for ELECTRA's small
discriminators a projection from narrower embeddings), so chapters 1-5's classifier,
loop, evaluation and plots run on them unchanged. ``tests/test_model_huggingface.py`` checks
that hidden states and pooled output equal ``transformers``' own within 1e-5.

Nothing is unpickled: safetensors files hold tensors only, and ``pytorch_model.bin`` is
read with ``weights_only=True``. ``transformers`` is never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bertnli.model.bert import BERTConfig, BERTModel

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # in order of precedence
VOCAB_FILES = ("tokenizer.json", "vocab.txt")  # in order of precedence, as in wordpiece
MODEL_TYPES = {"bert": "bert.", "electra": "electra."}  # model_type -> prefix of its weights' names
ACTIVATIONS = {
    "gelu": "gelu",
    "relu": "relu",
}  # config.json's hidden_act -> EncoderSwitches.activation


class UnsupportedCheckpoint(ValueError):
    """The folder is not a checkpoint this loader can read; the message names the file and field."""


def is_huggingface_folder(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / CONFIG_FILE).is_file()


def _field(config: dict, name: str, source: Path, default=None):
    if name in config:
        return config[name]
    if default is not None:
        return default
    raise UnsupportedCheckpoint(
        f"{source}: field {name!r} is missing; a BERT config.json has it "
        "(is this a Hugging Face BERT or ELECTRA folder?)"
    )


def config_from_huggingface(config: dict, source: Path, *, dropout: float = 0.1) -> BERTConfig:
    """``config.json``'s fields as a ``BERTConfig``; a setting this encoder cannot reproduce is refused."""
    model_type = _field(config, "model_type", source)
    if model_type not in MODEL_TYPES:
        raise UnsupportedCheckpoint(
            f"{source}: model_type {model_type!r} is not supported; this loader reads "
            f"{' and '.join(sorted(MODEL_TYPES))} checkpoints"
        )
    act = _field(config, "hidden_act", source)
    if act not in ACTIVATIONS:
        raise UnsupportedCheckpoint(
            f"{source}: hidden_act {act!r} is not supported; this encoder has "
            f"{' and '.join(sorted(ACTIVATIONS))}"
        )
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise UnsupportedCheckpoint(
            f"{source}: position_embedding_type {position!r} is not supported; this "
            "encoder learns absolute positions"
        )
    hidden = _field(config, "hidden_size", source)
    heads = _field(config, "num_attention_heads", source)
    if hidden % heads:
        raise UnsupportedCheckpoint(
            f"{source}: hidden_size {hidden} is not divisible by num_attention_heads {heads}"
        )
    embedding_size = config.get("embedding_size") or hidden
    return BERTConfig(
        vocab_size=_field(config, "vocab_size", source),
        num_hiddens=hidden,
        ffn_num_hiddens=_field(config, "intermediate_size", source),
        num_heads=heads,
        num_blks=_field(config, "num_hidden_layers", source),
        dropout=float(dropout),
        max_len=_field(config, "max_position_embeddings", source),
        activation=ACTIVATIONS[act],
        embedding_norm=True,
        layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),
        embedding_size=None if embedding_size == hidden else embedding_size,
        type_vocab_size=_field(config, "type_vocab_size", source, 2),
    )


def _names(num_blks: int, with_projection: bool) -> dict[str, str]:
    """Our parameter name -> the Hugging Face name (without the ``bert.``/``electra.`` prefix)."""
    names = {
        "encoder.token_embedding.weight": "embeddings.word_embeddings.weight",
        "encoder.segment_embedding.weight": "embeddings.token_type_embeddings.weight",
        "encoder.pos_embedding": "embeddings.position_embeddings.weight",
        "encoder.embedding_norm.0.weight": "embeddings.LayerNorm.weight",
        "encoder.embedding_norm.0.bias": "embeddings.LayerNorm.bias",
    }
    if with_projection:
        names |= {
            f"encoder.embedding_projection.{p}": f"embeddings_project.{p}"
            for p in ("weight", "bias")
        }
    parts = {
        "attention.W_q": "attention.self.query",
        "attention.W_k": "attention.self.key",
        "attention.W_v": "attention.self.value",
        "attention.W_o": "attention.output.dense",
        "addnorm1.ln": "attention.output.LayerNorm",
        "ffn.dense1": "intermediate.dense",
        "ffn.dense2": "output.dense",
        "addnorm2.ln": "output.LayerNorm",
    }
    for i in range(num_blks):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                names[f"encoder.blks.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    return names


def read_weights(folder: Path) -> tuple[dict[str, torch.Tensor], Path]:
    """The weights file of ``folder`` (``model.safetensors`` wins over ``pytorch_model.bin``), as tensors."""
    for name in WEIGHT_FILES:
        path = folder / name
        if path.is_file():
            break
    else:
        raise UnsupportedCheckpoint(f"{folder}: no weights; expected {' or '.join(WEIGHT_FILES)}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path)), path
        return torch.load(path, map_location="cpu", weights_only=True), path
    except Exception as err:  # a truncated or foreign file: say which, and that nothing was run
        raise UnsupportedCheckpoint(
            f"{path}: cannot be read as weights ({type(err).__name__}: {err}); download it again"
        ) from err


def read_vocabulary(folder: Path) -> list[str]:
    """The WordPiece vocabulary, token ``i`` at position ``i``. ``tokenizer.json`` wins over
    ``vocab.txt``, as it does for tokenizing (``wordpiece.WordPiece``): one file decides both."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        if (folder / "vocab.txt").is_file():
            return (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        raise UnsupportedCheckpoint(f"{folder}: no vocabulary; expected {' or '.join(VOCAB_FILES)}")
    model = json.loads(path.read_text(encoding="utf-8")).get("model", {})
    vocab = model.get("vocab")
    if model.get("type") != "WordPiece" or not isinstance(vocab, dict):
        raise UnsupportedCheckpoint(
            f"{path}: model.type is {model.get('type')!r}; this loader reads WordPiece "
            "vocabularies (BERT, ELECTRA)"
        )
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise UnsupportedCheckpoint(
            f"{path}: model.vocab's ids are not 0..{len(tokens) - 1} without gaps"
        )
    return tokens


def load_huggingface(folder: str | Path, *, dropout: float = 0.1) -> tuple[BERTModel, list[str]]:
    """``(BERTModel, vocabulary tokens)`` from a Hugging Face BERT or ELECTRA folder.

    The encoder and, where the checkpoint has one, the pooler are loaded; the pretraining
    heads (masked LM, next sentence) are not used for fine-tuning and keep their random
    initialization. ELECTRA discriminators have no pooler: theirs starts random too.
    """
    folder = Path(folder)
    source = folder / CONFIG_FILE
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnsupportedCheckpoint(f"{source}: not readable JSON ({err})") from err
    config = config_from_huggingface(raw, source, dropout=dropout)
    tokens = read_vocabulary(folder)
    if len(tokens) != config.vocab_size:
        raise UnsupportedCheckpoint(
            f"{folder}: the vocabulary has {len(tokens)} tokens but config.json's "
            f"vocab_size is {config.vocab_size}: they come from different models"
        )
    weights, path = read_weights(folder)
    prefix = MODEL_TYPES[raw["model_type"]]
    theirs = {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in weights.items()}
    model = BERTModel.from_config(config)
    state = model.state_dict()
    names = _names(config.num_blks, config.embedding_size is not None)
    if "pooler.dense.weight" in theirs:
        names |= {"hidden.0.weight": "pooler.dense.weight", "hidden.0.bias": "pooler.dense.bias"}
    missing = [t for t in names.values() if t not in theirs]
    if missing:
        raise UnsupportedCheckpoint(
            f"{path}: {len(missing)} weights are missing, e.g. {missing[0]!r}; "
            "the file does not match config.json"
        )
    for ours, name in names.items():
        tensor = (
            theirs[name][None] if ours == "encoder.pos_embedding" else theirs[name]
        )  # [1, positions, width]
        if tensor.shape != state[ours].shape:
            raise UnsupportedCheckpoint(
                f"{path}: {name} has shape {tuple(tensor.shape)}, config.json implies "
                f"{tuple(state[ours].shape)}"
            )
        state[ours] = tensor.to(state[ours].dtype)
    model.load_state_dict(state)
    return model, tokens
