"""A checkpoint's WordPiece tokenizer, normalization included, gives transformers' own ids.

The vocabularies here are tiny and made in the test; transformers writes the tokenizer files.
"""

from __future__ import annotations

import json

import pytest

from bertnli.model.wordpiece import WordPiece

transformers = pytest.importorskip("transformers")

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "남자",
    "##가",
    "공원",
    "##에서",
    "개",
    "##를",
    "산책",
    "##시키",
    "##고",
    "있다",
    ".",
    "사람",
    "##이",
    "밖",
    "##에",
    "the",
    "dog",
    "##s",
    "run",
    "The",
]
SENTENCES = ["남자가 공원에서 개를 산책시키고 있다.", "사람이 밖에 있다.", "The dogs run."]


def save_tokenizer(folder, *, lowercase: bool):
    folder.mkdir(exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase})
    )
    theirs = transformers.AutoTokenizer.from_pretrained(
        folder
    )  # reads vocab.txt and the config, as a user's would
    theirs.save_pretrained(folder)  # writes tokenizer.json, the whole pipeline in one file
    return theirs


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("files", ["tokenizer.json", "vocab.txt + tokenizer_config.json"])
def test_ids_equal_transformers_for_either_file(tmp_path, lowercase, files):
    theirs = save_tokenizer(tmp_path, lowercase=lowercase)
    if files != "tokenizer.json":
        (tmp_path / "tokenizer.json").unlink()
    ours = WordPiece.from_folder(tmp_path)
    assert ours.source.name == ("tokenizer.json" if files == "tokenizer.json" else "vocab.txt")
    expected = [theirs(s, add_special_tokens=False)["input_ids"] for s in SENTENCES]
    assert ours.encode(SENTENCES) == expected
    assert ours.special_ids == {"unk": 1, "cls": 2, "sep": 3, "pad": 0, "mask": 4}


def test_the_configs_normalization_is_what_keeps_korean_readable(tmp_path):
    """English BERT's lowercasing (with accent stripping) splits Hangul syllables into letters:
    a Korean checkpoint says do_lower_case=false, and the tokenizer follows it."""
    korean = save_tokenizer(tmp_path / "ko", lowercase=False)
    english_style = save_tokenizer(tmp_path / "en", lowercase=True)
    assert korean.do_lower_case is False and english_style.do_lower_case is True
    kept = WordPiece.from_folder(tmp_path / "ko").pieces(SENTENCES[0])
    broken = WordPiece.from_folder(tmp_path / "en").pieces(SENTENCES[0])
    assert kept == [
        "남자",
        "##가",
        "공원",
        "##에서",
        "개",
        "##를",
        "산책",
        "##시키",
        "##고",
        "있다",
        ".",
    ]
    assert broken.count("[UNK]") >= 4


def test_a_missing_or_broken_tokenizer_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tokenizer.json or vocab.txt"):
        WordPiece.from_folder(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="tokenizer.json: not a tokenizer"):
        WordPiece.from_folder(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB), encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="tokenizer_config.json: expected a JSON object"):
        WordPiece.from_folder(tmp_path)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    assert WordPiece.from_folder(tmp_path).pieces("사람이") == ["사람", "##이"]
