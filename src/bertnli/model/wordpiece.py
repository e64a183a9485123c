"""A Hugging Face checkpoint's own WordPiece tokenizer, through the ``tokenizers`` library.

d2l's checkpoints read lowercased, whitespace-split words (``packing.tokenize``). The Korean
encoders of chapter 6 read WordPiece pieces, and how text is normalized before it is cut
into pieces is part of the model: Google's English BERT lowercases and strips accents, but
doing that to Korean splits every syllable into its letters (Unicode NFD), which a Korean
vocabulary does not contain. So the normalization is never guessed: it is whatever the
checkpoint's ``tokenizer.json`` says (the whole pipeline, preferred), else what
``tokenizer_config.json`` says about ``vocab.txt`` (``do_lower_case``, ``strip_accents``,
``tokenize_chinese_chars``; BERT's defaults where a field is absent).
``tests/test_model_wordpiece.py`` checks the ids against ``transformers``' tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SPECIALS = {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"}


@dataclass
class WordPiece:
    """``encode(sentences)`` -> each sentence's piece ids (no special tokens), and the special ids."""

    tokenizer: object  # a tokenizers.Tokenizer
    source: Path

    @classmethod
    def from_folder(cls, folder: str | Path) -> WordPiece:
        from tokenizers import Tokenizer
        from tokenizers.implementations import BertWordPieceTokenizer

        folder = Path(folder)
        if (folder / "tokenizer.json").is_file():
            path = folder / "tokenizer.json"
            try:
                return cls(Tokenizer.from_file(str(path)), path)
            except Exception as err:  # the library's message, with the file it came from
                raise ValueError(
                    f"{path}: not a tokenizer this version of tokenizers reads ({err})"
                ) from err
        path = folder / "vocab.txt"
        if not path.is_file():
            raise FileNotFoundError(
                f"{folder}: no tokenizer.json or vocab.txt; a BERT checkpoint folder has one"
            )
        settings = _tokenizer_config(folder)
        lowercase = bool(settings.get("do_lower_case", True))
        tokenizer = BertWordPieceTokenizer(
            str(path),
            lowercase=lowercase,
            strip_accents=settings.get("strip_accents"),
            handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)),
            **{f"{k}_token": settings.get(f"{k}_token", v) for k, v in SPECIALS.items()},
        )
        return cls(tokenizer, path)

    def encode(self, sentences: Sequence[str]) -> list[list[int]]:
        return [
            e.ids for e in self.tokenizer.encode_batch(list(sentences), add_special_tokens=False)
        ]

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def to_tokens(self, ids):
        """Ids back to pieces; a list maps element-wise."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, (list, tuple)):
            return [self.tokenizer.id_to_token(int(i)) for i in ids]
        return self.tokenizer.id_to_token(int(ids))

    @property
    def lowercases(self) -> bool:
        """Whether the normalizer lowercases (English BERT does; Korean models do not)."""
        normalizer = json.loads(self.tokenizer.to_str()).get("normalizer") or {}
        parts = normalizer.get("normalizers", [normalizer])
        return any(
            p.get("type") == "Lowercase" or p.get("lowercase") for p in parts if isinstance(p, dict)
        )

    def unknown_words(self, sentence: str) -> list[str]:
        """The words of ``sentence`` that became ``[UNK]``, one per unknown id, in order."""
        unk = self.special_ids["unk"]
        enc = self.tokenizer.encode(sentence, add_special_tokens=False)
        return [sentence[a:b] for i, (a, b) in zip(enc.ids, enc.offsets) if i == unk]

    def fingerprint(self) -> str:
        """The whole pipeline (normalizer, pre-tokenizer, vocabulary) as the library writes it."""
        return "wordpiece " + self.tokenizer.to_str()

    def vocabulary(self) -> list[str]:
        """Token ``i`` at position ``i``: what a run folder stores to rebuild this tokenizer."""
        return self.to_tokens(list(range(len(self))))

    def settings(self) -> dict:
        """The normalization flags, as plain data (``from_vocabulary`` takes them back)."""
        normalizer = json.loads(self.tokenizer.to_str()).get("normalizer") or {}
        if normalizer.get("type") == "BertNormalizer":
            return {
                "do_lower_case": bool(normalizer.get("lowercase", True)),
                "strip_accents": normalizer.get("strip_accents"),
                "tokenize_chinese_chars": bool(normalizer.get("handle_chinese_chars", True)),
                "clean_text": bool(normalizer.get("clean_text", True)),
            }
        return {"do_lower_case": self.lowercases}

    @classmethod
    def from_vocabulary(
        cls, tokens: Sequence[str], settings: dict, source: str | Path = "checkpoint.pt"
    ) -> WordPiece:
        """A BERT WordPiece tokenizer from a stored vocabulary list and its normalization flags."""
        from tokenizers import Tokenizer
        from tokenizers.implementations import BertWordPieceTokenizer

        tokenizer = BertWordPieceTokenizer(
            {t: i for i, t in enumerate(tokens)},
            lowercase=bool(settings.get("do_lower_case", True)),
            strip_accents=settings.get("strip_accents"),
            clean_text=bool(settings.get("clean_text", True)),
            handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)),
        )
        return cls(Tokenizer.from_str(tokenizer.to_str()), Path(source))

    def pieces(self, sentence: str) -> list[str]:
        """The pieces of one sentence, as strings (for showing a reader what the model sees)."""
        return self.tokenizer.encode(sentence, add_special_tokens=False).tokens

    def token_id(self, token: str) -> int:
        idx = self.tokenizer.token_to_id(token)
        if idx is None:
            raise ValueError(f"{self.source}: the vocabulary has no {token!r} token")
        return idx

    @property
    def special_ids(self) -> dict[str, int]:
        """``{"cls": id, "sep": id, "pad": id, "unk": id, "mask": id}``."""
        return {name: self.token_id(token) for name, token in SPECIALS.items()}


def _tokenizer_config(folder: Path) -> dict:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not readable JSON ({err})") from err
    if not isinstance(settings, dict):
        raise ValueError(f"{path}: expected a JSON object of tokenizer settings")
    return {
        k: (v["content"] if isinstance(v, dict) and "content" in v else v)
        for k, v in settings.items()
    }
