"""``Tokenizer``: what the data pipeline asks of a checkpoint's tokenizer, whichever it is.

Two kinds exist: d2l's whole-word ``Vocab`` (lowercase, split on whitespace, look each
word up) and a Hugging Face checkpoint's ``WordPiece`` (the model's own normalization,
then subword pieces). The dataset, coverage counts, prediction and the run folder use
only this interface, so a Korean model runs through chapters 1-5's code unchanged. The
special tokens are spelled differently (``<cls>`` / ``[CLS]``), so code asks for their
ids (``special_ids``), never for their spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

SPECIAL_ROLES = ("cls", "sep", "pad", "unk")  # every tokenizer's special_ids has at least these


@runtime_checkable
class Tokenizer(Protocol):
    lowercases: bool  # whether it lowercases text before looking it up (the coverage note says so)

    def encode(self, sentences: Sequence[str]) -> list[list[int]]:
        """Each sentence's token ids, without special tokens."""
        ...

    @property
    def special_ids(self) -> dict[str, int]:
        """``{"cls": id, "sep": id, "pad": id, "unk": id, ...}``."""
        ...

    def __len__(self) -> int: ...

    def to_tokens(self, ids):
        """Ids back to token strings (a list maps element-wise)."""
        ...

    def fingerprint(self) -> str:
        """Text that changes whenever the ids it gives could change (the dataset cache's key)."""
        ...
