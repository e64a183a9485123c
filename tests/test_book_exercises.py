"""Exercise checks: pass on correct answers, fail on wrong ones with the right bilingual hint."""

import pytest
import torch

from bertnli import KNOWN_CONFIGS, BERTClassifier, BERTModel, Vocab, truncate_proportional
from bertnli.book import exercises as ex

TOKENS = [
    "<unk>",
    "<pad>",
    "<mask>",
    "<cls>",
    "<sep>",
    *"a man is playing guitar . person plays music".split(),
]
TINY_EXPECTED = dict(num_hiddens=24, ffn_num_hiddens=40, num_heads=3, num_blks=2, max_len=32)


def independent_proportional(p, h, budget):
    """Written from the rule in words, without keep_lengths: nearest share, halves to the premise."""
    if len(p) + len(h) <= budget:
        return list(p), list(h)
    total = len(p) + len(h)
    q, r = divmod(budget * len(p), total)
    kp = q + (1 if 2 * r >= total else 0)
    if p and kp == 0:
        kp = 1
    if h and kp == budget and budget >= 2:
        kp = budget - 1
    return p[:kp], h[: budget - kp]


def test_check_passes_on_correct_implementations():
    for fn in (truncate_proportional, independent_proportional):
        result = ex.check_proportional_truncation(fn)
        assert result and result.passed, str(result)
        assert "✅" in str(result) and "✅" in result._repr_html_()


@pytest.mark.parametrize(
    "name, english, korean",
    [
        ("drops_from_front", "Keep the first tokens", "앞쪽 토큰"),
        ("ignores_budget", "exceed the budget", "예산을 넘습니다"),
        ("rounds_down", "does not use the whole budget", "예산을 다 쓰지 않습니다"),
        ("empties_a_side", "was left empty", "빈 쪽이 되었습니다"),
        ("halves_like_longest_first", "not proportional", "비례하지 않습니다"),
        ("bankers_rounding", "rounding differs", "반올림 방식이 기준과 다릅니다"),
        ("mutates_inputs", "mutated its input", "입력 리스트를 바꿨습니다"),
        ("returns_one_list", "must return a pair", "튜플로 반환해야"),
    ],
)
def test_check_fails_each_wrong_answer_with_its_hint(name, english, korean):
    result = ex.check_proportional_truncation(ex.wrong_truncation_examples()[name])
    assert not result
    hint = result.messages[0]
    assert english in hint and korean in hint, hint
    examples = [m for m in result.messages if m.startswith("Example")]
    assert 1 <= len(examples) <= 3
    assert "❌" in str(result) and "❌" in result._repr_html_()


def test_check_reports_shares_and_rounding_rule():
    shares = ex.check_proportional_truncation(
        ex.wrong_truncation_examples()["halves_like_longest_first"]
    )
    assert (
        "40 premise + 10 hypothesis tokens, budget 20: expected lengths (16, 4), got (10, 10)"
        in str(shares)
    )
    rounding = ex.check_proportional_truncation(ex.wrong_truncation_examples()["bankers_rounding"])
    assert (
        "halves to the premise" in rounding.messages[0]
        and "전제 쪽으로 올림" in rounding.messages[0]
    )


def test_check_survives_a_crashing_answer():
    def crashes(p, h, budget):
        raise ZeroDivisionError("boom")

    result = ex.check_proportional_truncation(crashes)
    assert not result and "raised an error" in result.messages[0] and "예외" in result.messages[0]
    assert "ZeroDivisionError: boom" in result.messages[1]


def tiny_model(**overrides):
    torch.manual_seed(0)
    sizes = dict(TINY_EXPECTED, **overrides)
    return BERTModel(len(TOKENS), dropout=0.0, **sizes), Vocab(TOKENS)


def test_bert_base_defaults_are_bert_base():
    """The exercise expects what the loader knows as bert.base (two definitions that must agree)."""
    assert ex.BERT_BASE_EXPECTED == KNOWN_CONFIGS["bert.base"]
    sizes = ex.BERT_BASE_EXPECTED  # BERT-base: 12 heads of 64, a 4x wide feed-forward layer
    assert (
        sizes["num_hiddens"] == 64 * sizes["num_heads"]
        and sizes["ffn_num_hiddens"] == 4 * sizes["num_hiddens"]
    )


def test_check_bert_base_passes_on_the_expected_shape():
    model, vocab = tiny_model()
    result = ex.check_bert_base(model, vocab, expected=TINY_EXPECTED)
    assert result, str(result)
    assert "[1, 15, 24]" in str(result)
    assert ex.check_bert_base(BERTClassifier(model), vocab, expected=TINY_EXPECTED)


def test_check_bert_base_names_the_wrong_size():
    model, vocab = tiny_model(num_hiddens=12, ffn_num_hiddens=20)  # "bert.small-shaped": narrower
    result = ex.check_bert_base(model, vocab, expected=TINY_EXPECTED)
    assert not result
    text = str(result)
    assert "num_hiddens is 12, bert.base needs 24" in text and "은닉 크기" in text
    assert "you passed num_hiddens=12" in text


def test_check_bert_base_rejects_small_against_the_default():
    small = BERTModel(
        len(TOKENS),
        num_hiddens=256,
        ffn_num_hiddens=512,
        num_heads=4,
        num_blks=2,
        dropout=0.0,
        max_len=512,
    )
    result = ex.check_bert_base(small, Vocab(TOKENS))
    assert not result
    text = str(result)
    for key, have, want in (
        ("num_hiddens", 256, 768),
        ("ffn_num_hiddens", 512, 3072),
        ("num_heads", 4, 12),
        ("num_blks", 2, 12),
    ):
        assert f"{key} is {have}, bert.base needs {want}" in text
    assert "max_len is" not in text


def test_check_bert_base_catches_a_mismatched_vocab():
    model, _ = tiny_model()
    result = ex.check_bert_base(model, Vocab(TOKENS[:-2]), expected=TINY_EXPECTED)
    assert not result and "token embedding has" in str(result) and "어휘" in str(result)
    assert not ex.check_bert_base(object(), Vocab(TOKENS))


def test_plan_check():
    good = ex.check_bert_base_plan(lr=3e-5, batch_size=512, epochs=3, max_len=128, amp=True)
    assert good, str(good)
    bad = ex.check_bert_base_plan(lr=1e-3, batch_size=512, epochs=1, max_len=32, amp=True)
    text = str(bad)
    assert not bad and "lr=0.001" in text and "epochs=1" in text and "max_len=32" in text
    assert "범위를 벗어났습니다" in text
    big = ex.check_bert_base_plan(lr=3e-5, batch_size=4096, epochs=3, max_len=512, amp=False)
    assert not big and "GiB" in str(big) and "AMP를 켜거나" in str(big)
    split = ex.check_bert_base_plan(
        lr=3e-5, batch_size=4096, epochs=3, max_len=128, amp=True, num_gpus=8
    )
    assert split, str(split)
