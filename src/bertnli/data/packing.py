"""One (premise, hypothesis) pair -> BERT's input: ``<cls> premise <sep> hypothesis <sep>``.

Both truncation rules are written once, as arithmetic on the two lengths
(``keep_lengths``), so the per-pair functions here and the vectorized dataset build
cannot drift apart. Every function is pure: inputs are never mutated, lists returned
are new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

CLS, SEP, PAD = "<cls>", "<sep>", "<pad>"
SPECIALS_PER_PAIR = 3  # <cls>, and a <sep> after each sentence
TRUNCATIONS = ("longest_first", "proportional")


def tokenize(sentences: Iterable[str]) -> list[list[str]]:
    """Lowercase and split on whitespace: what d2l's SNLI chapters feed BERT."""
    return [s.lower().split() for s in sentences]


_TOKEN = re.compile(r"n't|'\w+|\w+(?=n't)|\w+|[^\w\s]")


def tokenize_text(sentence: str) -> list[str]:
    """Tokenize free text the way SNLI's files already are: lowercase, punctuation and
    clitics split off (``"The dog's ball."`` -> ``the dog 's ball .``)."""
    return _TOKEN.findall(sentence.lower())


def _check(budget: int, method: str) -> None:
    if method not in TRUNCATIONS:
        raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {method!r}")
    if int(budget) != budget or budget < 0:
        raise ValueError(f"the token budget must be a non-negative integer, got {budget!r}")


def keep_lengths(
    len_p, len_h, budget: int, method: str = "longest_first"
) -> tuple[np.ndarray, np.ndarray]:
    """How many leading tokens of each side survive truncation to ``budget`` tokens.

    Works element-wise on arrays (shape ``(n,)`` in, two ``(n,)`` int64 arrays out) or
    on plain ints (0-d arrays out). Pairs that fit are left whole.

    ``longest_first``: the closed form of "drop the last token of the longer side,
    the hypothesis on a tie, until it fits" (d2l's loop): if the shorter side fits in
    half the budget it stays whole and the longer side gets the rest; otherwise the
    premise keeps ``ceil(budget/2)`` and the hypothesis ``floor(budget/2)``.

    ``proportional``: the premise keeps ``round(budget * p / (p + h))``, rounded to the
    nearest integer with exact halves going to the premise (as the tie rule above
    does), and the hypothesis keeps the rest, so the whole budget is used. Then a
    non-empty side left with nothing takes one token from the other side; that
    guarantee needs ``budget >= 2`` when both sides are non-empty (with a budget of 1
    the premise keeps the token).
    """
    _check(budget, method)
    p = np.asarray(len_p, dtype=np.int64)
    h = np.asarray(len_h, dtype=np.int64)
    fits = p + h <= budget
    if method == "longest_first":
        kp = np.where(p <= h, p, budget - h)  # shorter side whole, the longer gets the rest
        kp = np.where(2 * np.minimum(p, h) > budget, (budget + 1) // 2, kp)  # both cut: halves
    else:
        total = np.maximum(p + h, 1)
        kp = (2 * budget * p + total) // (2 * total)  # floor(budget*p/total + 1/2)
        kp = np.where((p > 0) & (kp == 0), min(1, budget), kp)
        kp = np.where((h > 0) & (kp == budget) & (budget >= 2), budget - 1, kp)
    kp = np.where(fits, p, kp)
    kh = np.where(fits, h, budget - kp)
    return kp, kh


def _truncate(
    p: Sequence[str], h: Sequence[str], budget: int, method: str
) -> tuple[list[str], list[str]]:
    kp, kh = keep_lengths(len(p), len(h), budget, method)
    return list(p[: int(kp)]), list(h[: int(kh)])


def truncate_longest_first(
    p: Sequence[str], h: Sequence[str], budget: int
) -> tuple[list[str], list[str]]:
    """Trim to ``len(p') + len(h') <= budget`` by repeatedly dropping the last token of the
    longer side, the hypothesis on a tie: exactly d2l's ``SNLIBERTDataset`` rule."""
    return _truncate(p, h, budget, "longest_first")


def truncate_proportional(
    p: Sequence[str], h: Sequence[str], budget: int
) -> tuple[list[str], list[str]]:
    """Trim so each side keeps a share of ``budget`` proportional to its length.

    Rounding: the premise keeps ``floor(budget * len(p) / (len(p) + len(h)) + 1/2)``
    tokens (nearest, halves to the premise), the hypothesis the rest of the budget;
    a non-empty side rounded down to nothing gets one token back from the other side
    (needs ``budget >= 2``). Deterministic, and a cut pair uses the whole budget.
    """
    return _truncate(p, h, budget, "proportional")


def pack_pair(
    premise_tokens: Sequence[str],
    hypothesis_tokens: Sequence[str],
    max_len: int,
    truncation: str = "longest_first",
) -> tuple[list[str], list[int]]:
    """``(tokens, segments)`` for one pair, at most ``max_len`` long.

    Segment 0 covers ``<cls>``, the premise and its ``<sep>``; segment 1 the hypothesis
    and its ``<sep>``. Three of the ``max_len`` slots go to the special tokens.
    """
    if max_len < SPECIALS_PER_PAIR:
        raise ValueError(
            f"max_len must be at least {SPECIALS_PER_PAIR} (room for <cls> and two <sep>), got {max_len}"
        )
    p, h = _truncate(premise_tokens, hypothesis_tokens, max_len - SPECIALS_PER_PAIR, truncation)
    tokens = [CLS, *p, SEP, *h, SEP]
    segments = [0] * (len(p) + 2) + [1] * (len(h) + 1)
    return tokens, segments


def pack_ids(
    premise_ids: Sequence[int],
    hypothesis_ids: Sequence[int],
    max_len: int,
    special_ids: dict,
    truncation: str = "longest_first",
) -> tuple[list[int], list[int]]:
    """``pack_pair`` for ids, with any tokenizer's special ids (``tokenizer.special_ids``):
    ``(ids, segments)`` of ``cls premise sep hypothesis sep``, at most ``max_len`` long."""
    if max_len < SPECIALS_PER_PAIR:
        raise ValueError(
            f"max_len must be at least {SPECIALS_PER_PAIR} (room for <cls> and two <sep>), got {max_len}"
        )
    p, h = _truncate(premise_ids, hypothesis_ids, max_len - SPECIALS_PER_PAIR, truncation)
    cls, sep = special_ids["cls"], special_ids["sep"]
    return [cls, *p, sep, *h, sep], [0] * (len(p) + 2) + [1] * (len(h) + 1)


def truncation_stats(
    pairs: Iterable[tuple], max_len: int, method: str = "longest_first", *, tokenizer=None
) -> dict:
    """How much truncating to ``max_len`` cuts from a corpus.

    ``pairs``: ``(premise, hypothesis)`` tuples, each side a token list or a sentence
    (split on whitespace, or cut by ``tokenizer.encode`` when a tokenizer is given: a
    WordPiece model reads pieces, and Korean words are often several). Returns ``pairs``, ``cut`` (pairs that lose anything),
    ``cut_share``, ``premise_lost`` / ``hypothesis_lost`` (tokens dropped, in total) and
    ``premise_lost_mean`` / ``hypothesis_lost_mean`` (per cut pair; 0.0 if none is cut).
    At ``max_len=128`` hardly any SNLI pair is cut; compare methods at small ``max_len``.
    """
    if max_len < SPECIALS_PER_PAIR:
        raise ValueError(f"max_len must be at least {SPECIALS_PER_PAIR}, got {max_len}")

    def length(side) -> int:
        if not isinstance(side, str):
            return len(side)
        return len(tokenizer.encode([side])[0]) if tokenizer is not None else len(side.split())

    lens = np.array([(length(p), length(h)) for p, h in pairs], dtype=np.int64).reshape(-1, 2)
    p, h = lens[:, 0], lens[:, 1]
    kp, kh = keep_lengths(p, h, max_len - SPECIALS_PER_PAIR, method)
    lost_p, lost_h = p - kp, h - kh
    cut = int(((lost_p + lost_h) > 0).sum())
    return {
        "pairs": len(lens),
        "cut": cut,
        "cut_share": cut / len(lens) if len(lens) else 0.0,
        "premise_lost": int(lost_p.sum()),
        "hypothesis_lost": int(lost_h.sum()),
        "premise_lost_mean": float(lost_p.sum() / cut) if cut else 0.0,
        "hypothesis_lost_mean": float(lost_h.sum() / cut) if cut else 0.0,
    }
