"""Pair packing and the two truncation rules: hand-written cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.snli_reference import truncate_in_place
from hypothesis import given, settings
from hypothesis import strategies as st

from bertnli.data.packing import (
    keep_lengths,
    pack_pair,
    tokenize,
    truncate_longest_first,
    truncate_proportional,
    truncation_stats,
)

TRUNCATE = {"longest_first": truncate_longest_first, "proportional": truncate_proportional}


def words(n: int, tag: str) -> list[str]:
    return [f"{tag}{i}" for i in range(n)]


# --------------------------------------------------------------------------- examples


def test_tokenize_lowercases_and_splits_on_any_whitespace():
    assert tokenize(["A Dog  runs\t.", "", "  CAFÉ\u00a0au lait "]) == [
        ["a", "dog", "runs", "."],
        [],
        ["café", "au", "lait"],
    ]


def test_pack_pair_layout_and_segments():
    tokens, segments = pack_pair(["a", "dog"], ["it", "runs", "."], max_len=10)
    assert tokens == ["<cls>", "a", "dog", "<sep>", "it", "runs", ".", "<sep>"]
    assert segments == [0, 0, 0, 0, 1, 1, 1, 1]


def test_pack_pair_truncates_to_max_len_and_leaves_inputs_alone():
    p, h = words(6, "p"), words(4, "h")
    p_copy, h_copy = list(p), list(h)
    tokens, segments = pack_pair(p, h, max_len=9)  # budget 6: p 6->3 ... tie -> h
    assert tokens == ["<cls>", "p0", "p1", "p2", "<sep>", "h0", "h1", "h2", "<sep>"]
    assert segments == [0] * 5 + [1] * 4
    assert (p, h) == (p_copy, h_copy)
    tokens, _ = pack_pair(p, h, max_len=9, truncation="proportional")  # 6*6/10 = 3.6 -> 4
    assert tokens == ["<cls>", "p0", "p1", "p2", "p3", "<sep>", "h0", "h1", "<sep>"]


@pytest.mark.parametrize(
    "lp, lh, budget, expected",
    [
        (5, 3, 6, (3, 3)),  # longer side trimmed down to the other
        (3, 3, 5, (3, 2)),  # tie: the hypothesis loses
        (10, 2, 8, (6, 2)),  # the short side fits in half the budget: kept whole
        (2, 10, 8, (2, 6)),
        (9, 9, 7, (4, 3)),  # both cut: ceil / floor halves
        (4, 0, 2, (2, 0)),
        (3, 4, 0, (0, 0)),
        (3, 4, 7, (3, 4)),  # fits exactly: untouched
    ],
)
def test_longest_first_examples(lp, lh, budget, expected):
    p, h = truncate_longest_first(words(lp, "p"), words(lh, "h"), budget)
    assert (len(p), len(h)) == expected


@pytest.mark.parametrize(
    "lp, lh, budget, expected",
    [
        (10, 5, 6, (4, 2)),  # 6*10/15 = 4 exactly
        (6, 4, 6, (4, 2)),  # 3.6 rounds to 4
        (3, 3, 5, (3, 2)),  # 2.5: the half goes to the premise
        (1, 100, 10, (1, 9)),  # 0.099 rounds to 0, but a non-empty side keeps one token
        (100, 1, 10, (9, 1)),
        (0, 12, 5, (0, 5)),
        (5, 5, 1, (1, 0)),  # a budget of 1 cannot serve both: the premise keeps it
        (2, 2, 4, (2, 2)),
    ],
)
def test_proportional_examples(lp, lh, budget, expected):
    p, h = truncate_proportional(words(lp, "p"), words(lh, "h"), budget)
    assert (len(p), len(h)) == expected


def test_bad_arguments():
    with pytest.raises(ValueError, match="truncation"):
        keep_lengths(3, 3, 4, "middle_out")
    with pytest.raises(ValueError, match="budget"):
        truncate_longest_first(["a"], ["b"], -1)
    with pytest.raises(ValueError, match="max_len"):
        pack_pair(["a"], ["b"], max_len=2)
    with pytest.raises(ValueError, match="max_len"):
        truncation_stats([(["a"], ["b"])], max_len=1)


def test_truncation_stats_counts_what_is_cut():
    pairs = [
        (words(10, "p"), words(2, "h")),
        (words(3, "p"), words(3, "h")),
        ("a b c d e f", "g h i j k l"),
    ]
    stats = truncation_stats(pairs, max_len=3 + 8, method="longest_first")
    # pair 1: (10, 2) -> (6, 2), loses 4 premise tokens; pair 2 fits; pair 3: (6, 6) -> (4, 4)
    assert stats == {
        "pairs": 3,
        "cut": 2,
        "cut_share": 2 / 3,
        "premise_lost": 6,
        "hypothesis_lost": 2,
        "premise_lost_mean": 3.0,
        "hypothesis_lost_mean": 1.0,
    }
    nothing = truncation_stats(pairs, max_len=128, method="proportional")
    assert nothing["cut"] == 0 and nothing["premise_lost_mean"] == 0.0
    assert truncation_stats([], max_len=10)["pairs"] == 0


# --------------------------------------------------------------------------- properties

lengths = st.integers(min_value=0, max_value=60)
budgets = st.integers(min_value=0, max_value=80)
methods = st.sampled_from(sorted(TRUNCATE))


@given(lp=lengths, lh=lengths, budget=budgets, method=methods)
def test_fits_unchanged_never_over_budget_prefixes_kept(lp, lh, budget, method):
    p, h = words(lp, "p"), words(lh, "h")
    p_before, h_before = list(p), list(h)
    tp, th = TRUNCATE[method](p, h, budget)
    assert (p, h) == (p_before, h_before)  # inputs untouched
    assert tp is not p and th is not h  # new lists
    assert len(tp) + len(th) <= budget
    if lp + lh <= budget:
        assert (tp, th) == (p, h)
    assert tp == p[: len(tp)] and th == h[: len(th)]


@given(lp=lengths, lh=lengths, budget=budgets)
def test_longest_first_is_d2ls_loop(lp, lh, budget):
    p, h = words(lp, "p"), words(lh, "h")
    expected_p, expected_h = list(p), list(h)
    truncate_in_place(expected_p, expected_h, max_len=budget + 3)
    assert truncate_longest_first(p, h, budget) == (expected_p, expected_h)


@given(lp=lengths, lh=lengths, budget=budgets)
def test_proportional_shares(lp, lh, budget):
    p, h = words(lp, "p"), words(lh, "h")
    tp, th = truncate_proportional(p, h, budget)
    assert (tp, th) == truncate_proportional(p, h, budget)  # deterministic
    if lp + lh <= budget:
        return
    assert len(tp) + len(th) == budget  # the whole budget is used
    non_empty = (lp > 0) + (lh > 0)
    if budget >= non_empty:
        assert (lp == 0 or len(tp) >= 1) and (lh == 0 or len(th) >= 1)
    assert abs(len(tp) - budget * lp / (lp + lh)) <= 1  # within one token of the exact share


@settings(max_examples=50)
@given(
    pairs=st.lists(st.tuples(lengths, lengths), min_size=1, max_size=40),
    budget=budgets,
    method=methods,
)
def test_vectorised_lengths_match_the_per_pair_functions(pairs, budget, method):
    lp, lh = np.array(pairs).T
    kp, kh = keep_lengths(lp, lh, budget, method)
    for (a, b), x, y in zip(pairs, kp, kh, strict=True):
        tp, th = TRUNCATE[method](words(a, "p"), words(b, "h"), budget)
        assert (len(tp), len(th)) == (x, y)


@given(lp=lengths, lh=lengths, max_len=st.integers(min_value=3, max_value=80), method=methods)
def test_pack_pair_shape(lp, lh, max_len, method):
    tokens, segments = pack_pair(words(lp, "p"), words(lh, "h"), max_len, method)
    assert len(tokens) == len(segments) <= max_len
    assert tokens[0] == "<cls>" and tokens[-1] == "<sep>" and tokens.count("<sep>") == 2
    first_sep = tokens.index("<sep>")
    assert segments == [0] * (first_sep + 1) + [1] * (len(tokens) - first_sep - 1)


def test_tokenize_text_splits_free_text_like_snli():
    from bertnli import tokenize_text

    assert tokenize_text("The dog's ball isn't red, it's blue.") == [
        "the",
        "dog",
        "'s",
        "ball",
        "is",
        "n't",
        "red",
        ",",
        "it",
        "'s",
        "blue",
        ".",
    ]
    assert tokenize_text("A man plays a guitar.") == "a man plays a guitar .".split()
