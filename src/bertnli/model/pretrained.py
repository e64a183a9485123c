"""Load a pretrained BERT checkpoint: d2l's format (``vocab.json`` + ``pretrained.params``) or
a Hugging Face BERT/ELECTRA folder (``config.json``, weights, WordPiece vocabulary).

A checkpoint is a registry name (``bert.small``, ``bert.base``, ``klue-bert-base``,
``koelectra-small``: downloaded through :mod:`bertnli.hub`), ``sample`` / ``ko-sample`` (the embedded offline stand-ins), a
folder, or a zip. Which format a folder is in is decided by the files it holds.
``load_pretrained`` returns the model with its tokenizer (``model.tokenizer.Tokenizer``):
a d2l ``Vocab`` or the model's own ``WordPiece``.

For d2l's format, the architecture is read from the tensors themselves; only the number of attention
heads is invisible in the weights, so it comes from the known configuration of the
checkpoint or from the caller. This is what lets ``bert.base`` load at all: the sizes
are never hard-coded to ``bert.small``'s.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import torch

from bertnli.files import MAX_DEPTH, TooManyFiles, find_in_folder, one_in_zip, refuse_two
from bertnli.model.bert import BERTModel
from bertnli.model.tokenizer import Tokenizer
from bertnli.model.vocab import Vocab

VOCAB_FILE = "vocab.json"
PARAMS_FILE = "pretrained.params"

# Published architectures: (num_hiddens, ffn_num_hiddens, num_heads, num_blks, max_len).
KNOWN_CONFIGS: dict[str, dict[str, int]] = {
    "bert.small": dict(num_hiddens=256, ffn_num_hiddens=512, num_heads=4, num_blks=2, max_len=512),
    "bert.base": dict(
        num_hiddens=768, ffn_num_hiddens=3072, num_heads=12, num_blks=12, max_len=512
    ),
    "sample": dict(num_hiddens=64, ffn_num_hiddens=128, num_heads=4, num_blks=2, max_len=128),
}

_SIZE_ARGS = ("num_hiddens", "ffn_num_hiddens", "num_blks", "max_len")

# Hugging Face-format models by name: the embedded Korean stand-in and the hub's (hub.MODELS).
HF_SAMPLE = "ko-sample"
HF_NAMES = (HF_SAMPLE, "klue-bert-base", "koelectra-small")
HF_CONFIG = "config.json"


def _read_members(source: Path) -> tuple[bytes, bytes]:
    """Return the raw bytes of ``vocab.json`` and ``pretrained.params`` from a folder or zip.

    One file per role: two copies of either (a nested older checkpoint, a zip holding a
    member twice) are refused with both paths, never chosen between by sort order."""
    if source.is_dir():
        return _read_folder(source)
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            members = {
                name: one_in_zip(zf, name, source, f"checkpoint's {name}")
                for name in (VOCAB_FILE, PARAMS_FILE)
            }
            missing = [n for n, member in members.items() if member is None]
            if missing:
                raise FileNotFoundError(
                    f"{source}: the zip has no {' or '.join(missing)}; a checkpoint zip "
                    f"needs {VOCAB_FILE} and {PARAMS_FILE} (d2l's format)"
                )
            return zf.read(members[VOCAB_FILE]), zf.read(members[PARAMS_FILE])
    if source.exists():
        raise ValueError(
            f"{source}: neither a folder nor a zip; give a folder or zip holding "
            f"{VOCAB_FILE} and {PARAMS_FILE}, or a name from {sorted(KNOWN_CONFIGS)}"
        )
    raise FileNotFoundError(
        f"{source}: no such checkpoint; give a folder or zip holding {VOCAB_FILE} and "
        f"{PARAMS_FILE}, or one of the names {sorted(KNOWN_CONFIGS)}"
    )


def _read_folder(source: Path) -> tuple[bytes, bytes]:
    """The two files of a checkpoint folder (or of the one subfolder holding them), found by a
    shallow, bounded search: a folder that is no checkpoint (``/``) is refused, not walked."""
    advice = f"give the folder that holds {VOCAB_FILE} and {PARAMS_FILE} (d2l's format)"
    try:
        found = find_in_folder(source, (VOCAB_FILE, PARAMS_FILE))
    except TooManyFiles as err:
        raise ValueError(
            f"{source} is not a checkpoint folder: {err}, and no checkpoint folder does; {advice}"
        ) from None
    for name, hits in found.items():
        if len(hits) > 1:
            refuse_two(name, [str(h) for h in hits], source, f"checkpoint's {name}")
        if not hits:
            raise FileNotFoundError(
                f"{source}: no {name} found within {MAX_DEPTH} folder levels; {advice}"
            )
    vocab_file, params_file = found[VOCAB_FILE][0], found[PARAMS_FILE][0]
    if vocab_file.parent != params_file.parent:
        raise ValueError(
            f"{source}: {vocab_file} and {params_file} lie in different folders, so they may come "
            f"from different checkpoints; {advice}"
        )
    return vocab_file.read_bytes(), params_file.read_bytes()


def _resolve(name_or_path: str | Path) -> tuple[Path, str | None]:
    """Map a name or a path to a local folder/zip and, when known, the checkpoint's name."""
    key = str(name_or_path)
    if key == HF_SAMPLE:
        from bertnli import sample

        sample.korean_notice()
        return sample.korean_model_dir(), key
    if key in HF_NAMES:
        from bertnli import hub

        return hub.fetch_model(key), key
    if key == "sample":
        from bertnli import sample

        sample.notice()
        return sample.checkpoint_path(), "sample"
    if key in KNOWN_CONFIGS:
        from bertnli import hub

        return hub.fetch(key), key
    return Path(name_or_path).expanduser(), None


def sizes_from_state_dict(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Read every architecture size that the tensors reveal (all but ``num_heads``)."""
    try:
        vocab_size, num_hiddens = state["encoder.token_embedding.weight"].shape
        ffn_num_hiddens = state["encoder.blks.0.ffn.dense1.weight"].shape[0]
        max_len = state["encoder.pos_embedding"].shape[1]
    except KeyError as err:
        raise ValueError(f"not a d2l BERT state dict: missing tensor {err.args[0]!r}") from None
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"encoder\.blks\.(\d+)\.", k))}
    return dict(
        vocab_size=int(vocab_size),
        num_hiddens=int(num_hiddens),
        ffn_num_hiddens=int(ffn_num_hiddens),
        num_blks=len(blocks),
        max_len=int(max_len),
    )


def _known_heads(name: str | None, sizes: dict[str, int]) -> int | None:
    if name in KNOWN_CONFIGS:
        return KNOWN_CONFIGS[name]["num_heads"]
    # A folder or zip: recognize a published architecture by its shapes.
    for config in KNOWN_CONFIGS.values():
        if all(config[k] == sizes[k] for k in _SIZE_ARGS):
            return config["num_heads"]
    return None


def huggingface_folder(source: Path) -> Path | None:
    """The folder of a Hugging Face checkpoint under ``source`` (its ``config.json``'s folder),
    or None when ``source`` is not one. A folder holding both formats, or two ``config.json``
    files, is refused: bertnli does not guess which model is meant."""
    if not source.is_dir():
        return None
    try:
        found = find_in_folder(source, (HF_CONFIG, VOCAB_FILE, PARAMS_FILE))
    except TooManyFiles:
        return None  # _read_folder says why
    configs = found[HF_CONFIG]
    if not configs:
        return None
    if len(configs) > 1:
        refuse_two(HF_CONFIG, [str(c) for c in configs], source, "Hugging Face model's config")
    d2l = found[VOCAB_FILE] + found[PARAMS_FILE]
    if d2l:
        raise ValueError(
            f"{source} holds a Hugging Face model ({configs[0]}) and a d2l checkpoint ({d2l[0]}); "
            "bertnli will not guess which you mean: give the folder of the one you want"
        )
    return configs[0].parent


def load_pretrained(
    name_or_path: str | Path,
    *,
    num_hiddens: int | None = None,
    ffn_num_hiddens: int | None = None,
    num_heads: int | None = None,
    num_blks: int | None = None,
    dropout: float = 0.1,
    max_len: int | None = None,
    device: str | torch.device | None = None,
) -> tuple[BERTModel, Tokenizer]:
    """Build a :class:`BERTModel` with the checkpoint's weights and return it with its tokenizer:
    d2l's ``Vocab`` for d2l's format, the model's ``WordPiece`` for a Hugging Face folder.

    Size arguments are optional checks: each one given must agree with the file.
    """
    source, name = _resolve(name_or_path)
    given = dict(
        num_hiddens=num_hiddens,
        ffn_num_hiddens=ffn_num_hiddens,
        num_blks=num_blks,
        max_len=max_len,
        num_heads=num_heads,
    )
    folder = huggingface_folder(source)
    if folder is not None:
        return _load_huggingface(folder, given, dropout, device)
    vocab_bytes, params_bytes = _read_members(source)
    try:
        vocab = Vocab.from_json_bytes(vocab_bytes)
    except ValueError as err:
        raise ValueError(f"{source} ({VOCAB_FILE}): {err}") from err
    map_location = torch.device(device) if device is not None else "cpu"
    try:
        state = torch.load(io.BytesIO(params_bytes), map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or foreign file
        raise ValueError(
            f"{source} ({PARAMS_FILE}): cannot be read as a PyTorch state dict ({err})"
        ) from err
    sizes = sizes_from_state_dict(state)
    if len(vocab) != sizes["vocab_size"]:
        raise ValueError(
            f"{source}: {VOCAB_FILE} has {len(vocab)} tokens but the token embedding has "
            f"{sizes['vocab_size']} rows; the two files come from different checkpoints"
        )
    for arg, value in given.items():
        if arg != "num_heads" and value is not None and value != sizes[arg]:
            raise ValueError(
                f"{arg}={value} disagrees with the checkpoint {source}, whose tensors have "
                f"{arg}={sizes[arg]}; drop the argument or pass {arg}={sizes[arg]}"
            )
    known = _known_heads(name, sizes)
    if num_heads is None:
        if known is None:
            raise ValueError(
                f"{source}: the number of attention heads cannot be read from the weights and "
                "this is not a known checkpoint; pass num_heads=..."
            )
        num_heads = known
    elif known is not None and name is not None and num_heads != known:
        raise ValueError(
            f"num_heads={num_heads} disagrees with the checkpoint {name}, which was trained "
            f"with num_heads={known}"
        )
    if sizes["num_hiddens"] % num_heads:
        raise ValueError(
            f"num_heads={num_heads} does not divide the checkpoint's num_hiddens="
            f"{sizes['num_hiddens']}"
        )
    model = BERTModel(num_heads=num_heads, dropout=dropout, **sizes)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"{source}: {PARAMS_FILE} does not match d2l's BERTModel layout: {err}"
        ) from err
    return model.to(map_location), vocab


def _load_huggingface(
    folder: Path, given: dict, dropout: float, device
) -> tuple[BERTModel, Tokenizer]:
    """A Hugging Face folder -> (model, WordPiece); the size arguments given must match config.json."""
    from bertnli.model.huggingface import UnsupportedCheckpoint, load_huggingface
    from bertnli.model.wordpiece import WordPiece

    model, tokens = load_huggingface(folder, dropout=dropout)
    config = model.config if hasattr(model, "config") else None
    for arg, value in given.items():
        have = getattr(config, arg, None)
        if value is not None and have is not None and value != have:
            raise ValueError(
                f"{arg}={value} disagrees with the checkpoint {folder / HF_CONFIG}, which says "
                f"{arg}={have}; drop the argument or pass {arg}={have}"
            )
    try:
        tokenizer = WordPiece.from_folder(folder)
    except (OSError, ValueError) as err:
        raise UnsupportedCheckpoint(str(err)) from err
    if len(tokenizer) != len(tokens):
        raise UnsupportedCheckpoint(
            f"{tokenizer.source}: the tokenizer has {len(tokenizer)} tokens but the "
            f"model's vocabulary has {len(tokens)}: they come from different models"
        )
    map_location = torch.device(device) if device is not None else "cpu"
    return model.to(map_location), tokenizer
