"""Chapter 6's helpers (bertnli.book.korean_nli): coverage, hypothesis-only pairs, runs sized to a
time limit, and the check of the chapter's exercise."""

from __future__ import annotations

import warnings

import pytest

from bertnli.book import korean_nli
from bertnli.book.korean_nli import (
    check_unk_share,
    coverage,
    hypothesis_only,
    hypothesis_only_dataset,
    majority_share,
    train_pairs_within,
    unk_id,
    unk_share,
)
from bertnli.model.vocab import Vocab

VOCAB = Vocab(["<unk>", "<pad>", "<cls>", "<sep>", "<mask>", "a", "man", "is", "walking", "dog"])
KOREAN = ["남자가 공원에서 개를 산책시키고 있다.", "사람이 밖에 있다."]
ENGLISH = ["A man is walking a dog", "a man is outside"]


class Pieces:
    """A WordPiece-like tokenizer: ``encode`` and ``special_ids`` as a method (``model.wordpiece``'s form)."""

    table = {"남자": 5, "##가": 6, "공원": 7, "##에서": 8, "있다": 9}

    def encode(self, sentences):
        return [[self.table.get(word[:2], 1) for word in s.split()] for s in sentences]

    def special_ids(self):
        return {"unk": 1, "cls": 2, "sep": 3, "pad": 0}


def test_unk_share_counts_unknown_pieces_of_either_kind_of_tokenizer():
    assert unk_share(VOCAB, ENGLISH) == pytest.approx(1 / 10)  # "outside" of 10 lowercased words
    assert unk_share(VOCAB, KOREAN) == 1.0  # no Korean word is in an English word list
    assert unk_share(Pieces(), KOREAN) == pytest.approx(4 / 8)  # 개를, 산책시키고, 사람이, 밖에
    assert unk_share(VOCAB, []) == 0.0 and unk_share(VOCAB, [""]) == 0.0


def test_unk_id_reads_a_property_a_method_or_the_d2l_vocabulary():
    class WithProperty:
        special_ids = {"unk": 7}

    assert unk_id(WithProperty()) == 7 and unk_id(Pieces()) == 1 and unk_id(VOCAB) == 0
    with pytest.raises(TypeError, match="unknown-token id"):
        unk_id(object())


def test_coverage_reports_pieces_words_and_sentences_with_an_unknown_piece():
    c = coverage(VOCAB, ENGLISH)
    assert (c["pieces"], c["unk"], c["words"]) == (10, 1, 10)
    assert c["sentences_with_unk"] == 0.5 and c["pieces_per_word"] == 1.0
    assert coverage(VOCAB, [])["unk_share"] == 0.0


def test_hypothesis_only_empties_the_premises_and_keeps_the_rest():
    data = (["p1", "p2"], ["h1", "h2"], [0, 2])
    premises, hypotheses, labels = hypothesis_only(data)
    assert premises == ["", ""] and hypotheses == ["h1", "h2"] and labels == [0, 2]
    assert data == (["p1", "p2"], ["h1", "h2"], [0, 2])  # not modified
    with pytest.raises(ValueError, match="differ in length"):
        hypothesis_only((["p"], ["h1", "h2"], [0]))


def test_hypothesis_only_dataset_packs_no_premise_and_silences_only_that_warning(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path))
    from bertnli.data.dataset import SNLIBERTDataset

    data = (["a man is walking", "a dog"], ["a man is walking", "a dog is walking"], [0, 1])
    with pytest.warns(UserWarning, match="empty premise"):  # what the helper silences, on purpose
        SNLIBERTDataset(hypothesis_only(data), VOCAB, max_len=16, cache=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = hypothesis_only_dataset(data, VOCAB, max_len=16)
    assert ds.premise_lens.tolist() == [0, 0]
    assert ds.lengths.tolist() == [4 + 3, 4 + 3]  # <cls> <sep> hypothesis <sep>


def test_majority_share_is_the_most_frequent_labels_share():
    assert majority_share([0, 1, 1, 2]) == 0.5
    with pytest.raises(ValueError, match="at least one label"):
        majority_share([])


def test_train_pairs_within_fills_the_time_and_no_more():
    config = dict(num_hiddens=256, ffn_num_hiddens=512, num_heads=4, num_blks=2, max_len=512)
    kwargs = dict(epochs=2, evaluated_pairs=3_000, mean_len=40)
    n = train_pairs_within(config, 480, **kwargs)
    assert korean_nli.laptop_seconds(config, train_pairs=n, **kwargs) <= 480
    assert korean_nli.laptop_seconds(config, train_pairs=n + 10, **kwargs) > 480
    two = train_pairs_within(config, 480, runs=2, **kwargs)
    assert korean_nli.laptop_seconds(config, train_pairs=two, runs=2, **kwargs) <= 480 and two < n
    assert train_pairs_within(config, 480, available=100, **kwargs) == 100
    longer = train_pairs_within(config, 480, **{**kwargs, "mean_len": 80})
    assert longer < n  # longer pairs cost more each
    with pytest.raises(ValueError, match="evaluate fewer pairs"):
        train_pairs_within(config, 1, **kwargs)


def test_split_off_gives_disjoint_parts_and_subset_is_seeded():
    data = ([f"p{i}" for i in range(50)], [f"h{i}" for i in range(50)], [i % 3 for i in range(50)])
    first, second = korean_nli.split_off(data, 30, 10)
    assert len(first[0]) == 30 and len(second[0]) == 10 and not set(first[0]) & set(second[0])
    assert korean_nli.subset(data, 20, "train") == korean_nli.subset(data, 20, "train")
    assert len(korean_nli.subset(data, 20, "train")[2]) == 20 and korean_nli.subset(
        data, None, "train"
    ) == tuple(list(part) for part in data)


def right(tokenizer, sentences):
    unknown = unk_id(tokenizer)
    ids = [i for s in korean_nli.encode(tokenizer, sentences) for i in s]
    return sum(i == unknown for i in ids) / len(ids) if ids else 0.0


def by_sentence(tokenizer, sentences):
    """A common mistake: the share of sentences with an unknown piece, not of pieces."""
    unknown = unk_id(tokenizer)
    encoded = korean_nli.encode(tokenizer, sentences)
    return sum(unknown in ids for ids in encoded) / len(encoded)


def test_check_unk_share_passes_the_right_answer_and_explains_wrong_ones():
    tokenizers = {"bert.small": VOCAB, "korean": Pieces()}
    sentences = KOREAN + ENGLISH
    assert check_unk_share(right, tokenizers, sentences)
    wrong = check_unk_share(by_sentence, tokenizers, sentences)
    assert not wrong and 0 < wrong.score < 1
    text = str(wrong)
    assert (
        "division by zero" in text and "0으로 나눴습니다" in text
    )  # no sentences: nothing to divide by
    assert "count pieces" in text or "expected" in text
    assert not check_unk_share(lambda tok, s: "half", tokenizers, sentences)
