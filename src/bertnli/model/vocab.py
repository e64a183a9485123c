"""The token vocabulary of a pretrained checkpoint (d2l's ``vocab.json`` format)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import overload

SPECIAL_TOKENS = ("<unk>", "<pad>", "<cls>", "<sep>", "<mask>")


class Vocab:
    """Maps tokens to ids and back, with d2l's lookup semantics.

    ``vocab[token]`` gives an id (unknown tokens give the id of ``<unk>``) and
    ``vocab[list_of_tokens]`` maps element-wise, so code written against
    ``d2l.Vocab`` works unchanged.
    """

    def __init__(self, idx_to_token: Iterable[str]):
        self.idx_to_token: list[str] = list(idx_to_token)
        self.token_to_idx: dict[str, int] = {}
        for idx, token in enumerate(self.idx_to_token):
            if token in self.token_to_idx:
                raise ValueError(
                    f"vocabulary lists the token {token!r} twice (ids {self.token_to_idx[token]} and {idx})"
                )
            self.token_to_idx[token] = idx
        if "<unk>" not in self.token_to_idx:
            raise ValueError(
                "vocabulary has no '<unk>' token; every BERT vocabulary needs one for unknown words"
            )

    @classmethod
    def from_json(cls, path: str | Path) -> Vocab:
        """Read d2l's ``vocab.json``: a JSON list of tokens, index = id."""
        path = Path(path)
        try:
            return cls.from_json_bytes(path.read_bytes())
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from err

    @classmethod
    def from_json_bytes(cls, data: bytes) -> Vocab:
        try:
            tokens = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(
                f"not valid UTF-8 JSON ({err}); expected a list of tokens as in d2l's vocab.json"
            ) from err
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError(
                f"expected a JSON list of strings (d2l's vocab.json), got {type(tokens).__name__}"
            )
        return cls(tokens)

    def to_json(self, path: str | Path) -> None:
        from bertnli.files import atomic_write

        atomic_write(path, json.dumps(self.idx_to_token, ensure_ascii=False))

    def __len__(self) -> int:
        return len(self.idx_to_token)

    # The Tokenizer interface (model.tokenizer): d2l's rule is lowercase + whitespace split.
    lowercases = True

    def words(self, sentence: str) -> list[str]:
        """The words this vocabulary looks up: lowercased, split on whitespace (SNLI's files
        are already tokenized; free text goes through ``packing.tokenize_text`` first)."""
        return sentence.lower().split()

    def encode(self, sentences: Sequence[str]) -> list[list[int]]:
        get, unk = self.token_to_idx.get, self.unk
        return [[get(w, unk) for w in self.words(s)] for s in sentences]

    @property
    def special_ids(self) -> dict[str, int]:
        """``{"unk", "pad", "cls", "sep", "mask"}`` -> id, for the specials this vocabulary has."""
        roles = {token.strip("<>"): token for token in SPECIAL_TOKENS}
        return {
            role: self.token_to_idx[token]
            for role, token in roles.items()
            if token in self.token_to_idx
        }

    def fingerprint(self) -> str:
        return "d2l-vocab lowercase-split " + json.dumps(self.idx_to_token, ensure_ascii=False)

    @property
    def unk(self) -> int:
        return self.token_to_idx["<unk>"]

    @overload
    def __getitem__(self, tokens: str) -> int: ...
    @overload
    def __getitem__(self, tokens: list | tuple) -> list: ...

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self.__getitem__(t) for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def to_tokens(self, indices):
        """Ids back to tokens; a list maps element-wise."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens)"
