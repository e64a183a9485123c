"""Every tokenizer (d2l's Vocab, a Hugging Face model's WordPiece) offers one interface, and the
dataset, coverage counts and packing work with any of them: special ids come from the tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from bertnli.data.dataset import SNLIBERTDataset, vocab_coverage
from bertnli.data.packing import pack_ids, pack_pair, truncation_stats
from bertnli.model.tokenizer import Tokenizer
from bertnli.model.vocab import Vocab
from bertnli.model.wordpiece import WordPiece
from bertnli.sample import korean_model_dir

VOCAB = Vocab(
    [
        "<unk>",
        "<pad>",
        "<cls>",
        "<sep>",
        "<mask>",
        "a",
        "man",
        "dog",
        "is",
        "running",
        "sleeping",
        ".",
    ]
)
DATA = (
    ["A man is running .", "A dog is sleeping .", "A zebra is running ."],
    ["A man is sleeping .", "A dog is running .", "A man is ."],
    [2, 2, 1],
)
KOREAN = (
    ["소년이 공원에서 개를 산책시키고 있다.", "요리사가 부엌에서 찌개를 끓이고 있다."],
    ["아이가 걷고 있다.", "Chef is cooking a stew."],
    [0, 1],
)


class Wrapped:
    """A Vocab seen only through the Tokenizer interface (no ``token_to_idx``): the generic path."""

    def __init__(self, vocab: Vocab):
        self._v = vocab
        self.lowercases = True

    def encode(self, sentences):
        return self._v.encode(sentences)

    @property
    def special_ids(self):
        return self._v.special_ids

    def __len__(self):
        return len(self._v)

    def to_tokens(self, ids):
        return self._v.to_tokens(ids)

    def fingerprint(self):
        return "wrapped " + self._v.fingerprint()


@pytest.fixture(scope="module")
def wordpiece() -> WordPiece:
    return WordPiece.from_folder(korean_model_dir())


def test_vocab_and_wordpiece_offer_the_tokenizer_interface(wordpiece):
    for tok in (VOCAB, wordpiece):
        assert isinstance(tok, Tokenizer)
        assert {"cls", "sep", "pad", "unk"} <= tok.special_ids.keys()
        ids = tok.encode(["a man", ""])
        assert len(ids) == 2 and ids[1] == [] and all(isinstance(i, int) for i in ids[0])
        assert tok.to_tokens(tok.special_ids["cls"]) in ("<cls>", "[CLS]")
    assert VOCAB.special_ids == {"unk": 0, "pad": 1, "cls": 2, "sep": 3, "mask": 4}
    assert VOCAB.encode(["A Man is ZEBRA"]) == [[5, 6, 8, 0]]
    assert VOCAB.lowercases and not wordpiece.lowercases  # the Korean model keeps its text as is
    assert len(wordpiece) == len(wordpiece.vocabulary())


def test_generic_path_builds_the_same_arrays_as_the_d2l_fast_path():
    fast = SNLIBERTDataset(DATA, VOCAB, max_len=9, cache=False)
    generic = SNLIBERTDataset(DATA, Wrapped(VOCAB), max_len=9, cache=False)
    for name in ("token_ids", "lengths", "premise_lens"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(generic, name))
    assert fast.unknown_words == {"zebra": 1}
    assert generic.unknown_words == {
        "<unk>": 1
    }  # no unknown_words(): the unknown token stands for them
    assert vocab_coverage(fast)["unk"] == vocab_coverage(generic)["unk"] == 1


def test_wordpiece_dataset_uses_the_models_special_ids(wordpiece):
    ds = SNLIBERTDataset(KOREAN, wordpiece, max_len=64, cache=False)
    specials = wordpiece.special_ids
    ids, segments, label = ds[0]
    p_ids, h_ids = wordpiece.encode([KOREAN[0][0], KOREAN[1][0]])
    assert ids.tolist() == [specials["cls"], *p_ids, specials["sep"], *h_ids, specials["sep"]]
    assert segments.tolist() == [0] * (len(p_ids) + 2) + [1] * (len(h_ids) + 1)
    (tokens, _, _), _ = ds.batch([0, 1])
    assert tokens[0, -1].item() == specials["pad"] or ds.lengths[0] >= ds.lengths[1]
    assert set(tokens[tokens == specials["pad"]].tolist()) <= {specials["pad"]}
    assert "<cls>" not in wordpiece.to_tokens(ds.token_ids.tolist())


def test_coverage_names_the_words_a_wordpiece_vocabulary_misses(wordpiece):
    ds = SNLIBERTDataset(KOREAN, wordpiece, max_len=64, cache=False)
    coverage = vocab_coverage(ds)
    assert coverage["unk"] >= 3  # the English hypothesis: the Korean stand-in has no Latin pieces
    words = dict(coverage["top_unknown"])
    assert {"Chef", "cooking", "stew"} <= words.keys()
    assert sum(words.values()) == coverage["unk"]


def test_cache_key_includes_the_tokenizer(tmp_path, monkeypatch, wordpiece):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path))
    a = SNLIBERTDataset(KOREAN, wordpiece, max_len=64)
    b = SNLIBERTDataset(KOREAN, Vocab(["<unk>", "<pad>", "<cls>", "<sep>"]), max_len=64)
    c = SNLIBERTDataset(KOREAN, Vocab(["<unk>", "<pad>", "<cls>", "<sep>", "아이가"]), max_len=64)
    assert len({a.cache_path, b.cache_path, c.cache_path}) == 3
    again = SNLIBERTDataset(KOREAN, WordPiece.from_folder(korean_model_dir()), max_len=64)
    assert again.cache_path == a.cache_path
    np.testing.assert_array_equal(again.token_ids, a.token_ids)


def test_pack_ids_matches_pack_pair_with_the_tokenizers_specials():
    p, h = VOCAB.encode(["a man is running .", "a dog is sleeping ."])
    for truncation in ("longest_first", "proportional"):
        ids, segments = pack_ids(p, h, 8, VOCAB.special_ids, truncation)
        tokens, expected_segments = pack_pair(
            "a man is running .".split(), "a dog is sleeping .".split(), 8, truncation
        )
        assert ids == VOCAB[tokens] and segments == expected_segments


def test_truncation_stats_counts_the_tokenizers_pieces(wordpiece):
    pair = ("소년이 공원에서 개를 산책시키고 있다.", "아이가 걷고 있다.")
    pieces = [len(ids) for ids in wordpiece.encode(list(pair))]
    assert sum(pieces) > len(" ".join(pair).split())  # Korean words are several pieces
    budget = sum(pieces) - 1 + 3
    assert truncation_stats([pair], budget, tokenizer=wordpiece)["cut"] == 1
    assert truncation_stats([pair], budget + 1, tokenizer=wordpiece)["cut"] == 0
    assert truncation_stats([pair], budget)["cut"] == 0  # by whitespace words it would fit
