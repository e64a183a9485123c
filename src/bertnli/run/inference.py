"""Using a fine-tuned classifier: ``evaluate`` a test set, ``predict`` one pair."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bertnli import hardware
from bertnli.data.packing import pack_ids, pack_pair, tokenize_text
from bertnli.data.snli import LABELS
from bertnli.distributed import DistInfo, as_dist
from bertnli.run.checkpoint import unwrap


def to_device(batch, device: torch.device):
    """``((tokens, segments, valid_lens), labels)`` moved to ``device``."""
    X, y = batch
    non_blocking = hardware.transfers_async(device)
    return [x.to(device, non_blocking=non_blocking) for x in X], y.to(
        device, non_blocking=non_blocking
    )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    *,
    device: str | torch.device | DistInfo | None = None,
    amp: bool | None = None,
) -> dict:
    """Accuracy, mean loss and the confusion matrix (rows: true label, columns: predicted).

    ``device`` defaults to the model's. Under torchrun pass the run's ``DistInfo`` and a
    loader made with ``even_shares=False``: each process counts its own pairs, once, and
    the counts are summed over processes, so every test pair is counted exactly once.
    """
    info = as_dist(device if device is not None else next(model.parameters()).device)
    dtype = hardware.amp_dtype(info.device, amp, hardware.encoder_width(model))
    num_classes = getattr(unwrap(model), "num_classes", len(LABELS))
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long, device=info.device)
    loss_sum = torch.zeros((), device=info.device)
    with evaluating(model), hardware.fast_kernels(info.device, dtype):
        for batch in loader:
            X, y = to_device(batch, info.device)
            with torch.autocast(info.device.type, dtype=dtype, enabled=dtype is not None):
                logits = model(*X).float()  # [batch, num_classes]
            loss_sum += F.cross_entropy(logits, y, reduction="sum")
            confusion += torch.bincount(
                y * num_classes + logits.argmax(1), minlength=num_classes**2
            ).view(num_classes, num_classes)
    info.all_reduce(confusion)
    info.all_reduce(loss_sum)
    n = int(confusion.sum())
    return {
        "accuracy": float(confusion.diag().sum()) / n if n else math.nan,
        "loss": float(loss_sum) / n if n else math.nan,
        "confusion": confusion.cpu().tolist(),
        "examples": n,
    }


@torch.no_grad()
def predict(
    model: nn.Module,
    vocab,
    premise: str,
    hypothesis: str,
    *,
    max_len: int = 128,
    truncation: str = "longest_first",
) -> tuple[str, list[float]]:
    """Classify one pair: ``(label, [p_entailment, p_contradiction, p_neutral])``.

    Warns (:class:`UnreliablePrediction`) when a sentence is empty or most of its words
    are not in the vocabulary: the model then sees mostly ``<unk>`` and its answer means little;
    and (:class:`TruncatedInput`) when the pair is longer than ``max_len``, saying how many tokens
    of each sentence the model read.
    """
    if not hasattr(
        vocab, "token_to_idx"
    ):  # a model's own tokenizer (WordPiece): its pieces, its specials
        return _predict_with_tokenizer(
            model, vocab, premise, hypothesis, max_len=max_len, truncation=truncation
        )
    p_tokens, h_tokens = tokenize_text(premise), tokenize_text(hypothesis)
    for side, text, words in (("premise", premise, p_tokens), ("hypothesis", hypothesis, h_tokens)):
        _warn_if_unreadable(side, text, words, vocab)
    tokens, segments, X = pair_inputs(
        vocab,
        p_tokens,
        h_tokens,
        max_len=max_len,
        truncation=truncation,
        device=next(model.parameters()).device,
    )
    _warn_if_cut(p_tokens, h_tokens, segments, max_len)
    with evaluating(model):
        probs = torch.softmax(model(*X).float(), dim=1)[0].tolist()
    return LABELS[int(np.argmax(probs))], probs


def _predict_with_tokenizer(
    model: nn.Module, tokenizer, premise: str, hypothesis: str, *, max_len: int, truncation: str
) -> tuple[str, list[float]]:
    """``predict`` for a tokenizer that cuts text itself (``Tokenizer.encode``), e.g. WordPiece."""
    p_ids, h_ids = tokenizer.encode([premise, hypothesis])
    unk = tokenizer.special_ids["unk"]
    for side, text, ids in (("premise", premise, p_ids), ("hypothesis", hypothesis, h_ids)):
        _warn_if_unreadable(side, text, ids, _IdsKnown(unk), unknown_name=tokenizer.to_tokens(unk))
    ids, segments = pack_ids(p_ids, h_ids, max_len, tokenizer.special_ids, truncation)
    device = next(model.parameters()).device
    X = (
        torch.tensor([ids], device=device),
        torch.tensor([segments], device=device),
        torch.tensor([len(ids)], device=device),
    )
    _warn_if_cut(p_ids, h_ids, segments, max_len)
    with evaluating(model):
        probs = torch.softmax(model(*X).float(), dim=1)[0].tolist()
    return LABELS[int(np.argmax(probs))], probs


class _IdsKnown:
    """``id in known`` unless it is the unknown token's id (``_warn_if_unreadable``'s membership test)."""

    def __init__(self, unk: int):
        self.unk = unk

    def __contains__(self, token_id: int) -> bool:
        return token_id != self.unk


def pair_inputs(
    vocab, premise: list[str], hypothesis: list[str], *, max_len: int, truncation: str, device
) -> tuple[list[str], list[int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One tokenized pair packed as the model reads it: ``(tokens, segments, (ids, segments,
    valid_len))``, each tensor a batch of one on ``device``."""
    tokens, segments = pack_pair(premise, hypothesis, max_len, truncation=truncation)
    X = (
        torch.tensor([vocab[tokens]], device=device),
        torch.tensor([segments], device=device),
        torch.tensor([len(tokens)], device=device),
    )
    return tokens, segments, X


@contextmanager
def evaluating(model: nn.Module):
    """``model`` in eval mode (no dropout) for the block, then back to the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


# A sentence with more than this share of out-of-vocabulary words gets a warning.
UNKNOWN_SHARE_WARNING = 0.5


class UnreliablePrediction(UserWarning):
    """The model cannot read the input well enough for its answer to mean much."""


def _warn_if_unreadable(
    side: str, text: str, words: list, vocab, unknown_name: str = "<unk>"
) -> None:
    shown = text if len(text) <= 40 else text[:37] + "..."
    if not words:
        warnings.warn(
            f"the {side} {shown!r} is empty: the model sees no words there, so its answer means little",
            UnreliablePrediction,
            stacklevel=3,
        )
        return
    unknown = [w for w in words if w not in vocab]
    if len(unknown) > UNKNOWN_SHARE_WARNING * len(words):
        if unknown_name != "<unk>":  # pieces of a model's own tokenizer: the words are not at hand
            warnings.warn(
                f"{len(unknown)} of the {len(words)} pieces of the {side} {shown!r} are {unknown_name}: "
                "the model's vocabulary does not cover this text, so its answer means little",
                UnreliablePrediction,
                stacklevel=3,
            )
            return
        examples = ", ".join(dict.fromkeys(unknown[:3]))
        warnings.warn(
            f"{len(unknown)} of the {len(words)} words of the {side} {shown!r} are not in the model's "
            f"vocabulary ({examples}) and all read as <unk>, so its answer means little. d2l's BERT "
            "vocabularies hold English words only",
            UnreliablePrediction,
            stacklevel=3,
        )


class TruncatedInput(UserWarning):
    """The pair was longer than ``max_len``: the model read only part of it."""


def _warn_if_cut(
    premise: list[str], hypothesis: list[str], segments: list[int], max_len: int
) -> None:
    """Say how many tokens were kept of how many, when truncation dropped some."""
    kept_p = segments.count(0) - 2  # minus <cls> and the first <sep>
    kept_h = segments.count(1) - 1  # minus the last <sep>
    if kept_p == len(premise) and kept_h == len(hypothesis):
        return
    total, kept = len(premise) + len(hypothesis), kept_p + kept_h
    warnings.warn(
        f"the pair has {total:,} tokens but the model reads at most {max_len} with its special tokens: "
        f"it kept {kept:,} of {total:,} (premise {kept_p:,} of {len(premise):,}, hypothesis {kept_h:,} of "
        f"{len(hypothesis):,}) and answered without the rest",
        TruncatedInput,
        stacklevel=3,
    )
