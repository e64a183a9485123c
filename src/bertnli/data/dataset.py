"""SNLI pairs as BERT inputs: built fast, stored unpadded, cached, batched with little padding.

The reference (d2l's ``SNLIBERTDataset``) tokenizes in a ``multiprocessing.Pool(4)``
and pads every pair to ``max_len`` (128) although SNLI pairs average about 27 tokens.
Here one process does it: each distinct sentence is tokenized and mapped to ids once
(SNLI repeats every premise about three times), packing and truncation are numpy
arithmetic on lengths, and the pairs are kept back to back in one flat id array: ``token_ids[offsets[i]:offsets[i + 1]]`` is pair
``i``. Segments are not stored: a pair's segment ids are 0 for its first
``premise_lens[i] + 2`` positions and 1 after, so they are rebuilt on the fly.
``padded_tensors()`` still gives d2l's padded tensors, byte for byte.
"""

from __future__ import annotations

import gc
import hashlib
import warnings
from collections import Counter
from contextlib import contextmanager
from itertools import chain, repeat
from pathlib import Path

import numpy as np
import torch

from bertnli.data.loader import BucketBatchSampler, make_loader  # noqa: F401  (re-exported with the dataset)
from bertnli.data.packing import SPECIALS_PER_PAIR, TRUNCATIONS, keep_lengths
from bertnli.data.snli import LABELS

FORMAT_VERSION = 1  # bump when the build or the cache layout changes
CHUNK_SENTENCES = 1 << 15  # sentences tokenized at a time
CHUNK_PAIRS = 1 << 16  # pairs packed at a time


class SNLIBERTDataset(torch.utils.data.Dataset):
    """SNLI ``(premises, hypotheses, labels)`` -> packed BERT inputs, unpadded.

    ``tokenizer`` is any ``model.tokenizer.Tokenizer``: d2l's ``Vocab`` (sentences lowercased
    and split on whitespace) or a Hugging Face model's ``WordPiece``. Pairs are packed as
    ``<cls> premise <sep> hypothesis <sep>`` (the tokenizer's own special ids), trimmed to
    ``max_len`` with ``truncation`` ("longest_first", d2l's rule, or "proportional").

    ``ds[i]`` is ``(token_ids, segments, label)``: two int64 tensors of shape ``(L_i,)``
    (``L_i = ds.lengths[i]``, no padding) and an int. Batch with ``make_loader``, or take
    ``padded_tensors()`` for d2l's fixed-length layout. With ``cache=True`` the built
    arrays are stored under ``hub.cache_dir() / "datasets"`` and reused when nothing that
    changes them (sentences, labels, the tokenizer, ``max_len``, truncation) has changed.
    """

    def __init__(
        self,
        data,
        tokenizer,
        max_len: int = 128,
        truncation: str = "longest_first",
        cache: bool = True,
    ):
        premises, hypotheses, labels = data
        premises, hypotheses = list(premises), list(hypotheses)
        if not len(premises) == len(hypotheses) == len(labels):
            raise ValueError(
                f"premises, hypotheses and labels differ in length: {len(premises)}, {len(hypotheses)}, {len(labels)}"
            )
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        if max_len < SPECIALS_PER_PAIR:
            raise ValueError(f"max_len must be at least {SPECIALS_PER_PAIR}, got {max_len}")
        self.labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(LABELS)):
            raise ValueError(f"labels must be in 0..{len(LABELS) - 1} ({', '.join(LABELS)})")
        self.tokenizer, self.max_len, self.truncation = tokenizer, int(max_len), truncation
        self.cache_path: Path | None = None

        arrays = None
        if cache:
            key = cache_key(premises, hypotheses, self.labels, tokenizer, self.max_len, truncation)
            self.cache_path = _cache_folder() / f"snli-bert-v{FORMAT_VERSION}-{key}.npz"
            arrays = _load(self.cache_path, key, len(self.labels), len(tokenizer), self.max_len)
        if arrays is None:
            arrays = _build(premises, hypotheses, tokenizer, self.max_len, truncation)
            if cache:
                _save(self.cache_path, key, arrays)
        self._set_arrays(*arrays)

    @property
    def vocab(self):
        """The tokenizer, by its older name (d2l's code calls it the vocabulary)."""
        return self.tokenizer

    def _set_arrays(self, token_ids, lengths, premise_lens, unk_words, unk_counts) -> None:
        self.token_ids, self.lengths, self.premise_lens = token_ids, lengths, premise_lens
        self.offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.offsets[1:])
        self.unknown_words = Counter(dict(zip(unk_words.tolist(), unk_counts.tolist())))
        self._warn_if_mostly_cut()

    @classmethod
    def from_arrays(
        cls,
        token_ids: np.ndarray,
        lengths: np.ndarray,
        premise_lens: np.ndarray,
        labels: np.ndarray,
        tokenizer,
        max_len: int,
        truncation: str = "longest_first",
    ) -> SNLIBERTDataset:
        """A dataset from another one's packed arrays (``token_ids``, ``lengths``,
        ``premise_lens``, ``labels``), without its sentences: a benchmark packs a corpus
        once and hands the arrays to its worker processes. Unknown-word counts are not kept."""
        lengths = np.asarray(lengths)
        if not len(lengths) == len(premise_lens) == len(labels) or int(lengths.sum()) != len(
            token_ids
        ):
            raise ValueError(
                "from_arrays: lengths, premise_lens and labels must have one entry per pair, and "
                "token_ids the sum of lengths"
            )
        self = cls.__new__(cls)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.tokenizer, self.max_len, self.truncation, self.cache_path = (
            tokenizer,
            int(max_len),
            truncation,
            None,
        )
        self._set_arrays(
            np.asarray(token_ids),
            lengths,
            np.asarray(premise_lens),
            np.array([], dtype=str),
            np.array([], dtype=np.int64),
        )
        return self

    def _warn_if_mostly_cut(self) -> None:
        """Most pairs with a sentence that is empty after truncation: nothing to learn from."""
        if not len(self):
            return
        hypothesis_lens = self.lengths - self.premise_lens - SPECIALS_PER_PAIR
        empty = int(np.count_nonzero((self.premise_lens == 0) | (hypothesis_lens == 0)))
        if empty > len(self) // 2:
            warnings.warn(
                f"{empty} of {len(self)} pairs have an empty premise or hypothesis after truncation to "
                f"max_len={self.max_len} (room for {self.max_len - SPECIALS_PER_PAIR} words per pair); "
                "the model cannot learn from them. Use a larger max_len (SNLI pairs need about 64)",
                stacklevel=3,
            )

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        i = range(len(self))[i]
        ids = torch.from_numpy(
            self.token_ids[self.offsets[i] : self.offsets[i + 1]].astype(np.int64)
        )
        segments = torch.zeros(len(ids), dtype=torch.long)
        segments[int(self.premise_lens[i]) + 2 :] = 1
        return ids, segments, int(self.labels[i])

    def batch(
        self, indices, multiple: int = 1
    ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
        """Pairs ``indices`` as ``((tokens, segments, valid_lens), labels)``, padded to the longest.

        Shapes: tokens and segments ``(B, T)`` int64 with ``T = max(valid_lens)`` rounded up
        to a multiple of ``multiple`` (never past ``max_len``), padded with ``<pad>`` and
        segment 0; valid_lens and labels ``(B,)`` int64. A GPU gets ``multiple=8``: at most
        ``max_len / 8`` different shapes, so kernels and compiled graphs are reused.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        longest = int(self.lengths[idx].max()) if len(idx) else 0
        return self._padded(
            idx, min(-(-longest // multiple) * multiple, max(self.max_len, longest))
        )

    def padded_tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(token_ids, segments, valid_lens, labels)`` padded to ``max_len``, all int64:
        the same bytes as d2l's ``(all_token_ids, all_segments, valid_lens)`` and ``labels``."""
        (tokens, segments, valid_lens), labels = self._padded(np.arange(len(self)), self.max_len)
        return tokens, segments, valid_lens, labels

    def _padded(self, idx: np.ndarray, width: int):
        lens = self.lengths[idx].astype(np.int64)  # (B,)
        src = _ranges(self.offsets[idx], lens)  # the chosen pairs' tokens, pair after pair
        positions = np.arange(width)  # (T,)
        real = positions < lens[:, None]  # (B, T); row-major order matches `src`
        tokens = np.full((len(idx), width), self.tokenizer.special_ids["pad"], dtype=np.int64)
        tokens[real] = self.token_ids[src]
        segments = (positions >= self.premise_lens[idx, None].astype(np.int64) + 2) & real
        return (
            (
                torch.from_numpy(tokens),
                torch.from_numpy(segments.astype(np.int64)),
                torch.from_numpy(lens),
            ),
            torch.from_numpy(self.labels[idx].copy()),
        )

    def __repr__(self) -> str:
        return (
            f"SNLIBERTDataset({len(self)} pairs, max_len={self.max_len}, truncation={self.truncation!r}, "
            f"mean length {self.lengths.mean() if len(self) else 0:.1f})"
        )


def vocab_coverage(dataset: SNLIBERTDataset, top: int = 20) -> dict:
    """How much of the text the vocabulary misses (bert.small's comes from WikiText-2, not SNLI).

    Counts the tokens the model sees (after truncation; ``<cls>``/``<sep>`` excluded): words
    for d2l's vocabulary, pieces for a WordPiece one (where a word is unknown only when no
    pieces spell it). Returns ``tokens``, ``unk`` (how many are the unknown token),
    ``unk_share`` and ``top_unknown``: the ``top`` most frequent unknown words as ``(word, count)``.
    """
    ids, off, unk = dataset.token_ids, dataset.offsets, dataset.tokenizer.special_ids["unk"]
    specials = np.concatenate([off[:-1], off[:-1] + 1 + dataset.premise_lens, off[1:] - 1])
    n_unk = int(np.count_nonzero(ids == unk)) - int(np.count_nonzero(ids[specials] == unk))
    n_tokens = len(ids) - len(specials)
    return {
        "tokens": n_tokens,
        "unk": n_unk,
        "unk_share": n_unk / n_tokens if n_tokens else 0.0,
        "top_unknown": dataset.unknown_words.most_common(top),
    }


# --------------------------------------------------------------------------- build


def _id_dtype(vocab_size: int) -> np.dtype:
    """uint16 halves memory and cache size for vocabularies up to 65,536 tokens (d2l's checkpoints'
    size: see ``costs.DEFAULT_VOCAB_SIZE``); int32 above."""
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.int32)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[i], ..., starts[i] + counts[i] - 1`` for every ``i``, concatenated (int64)."""
    counts = counts.astype(np.int64)
    run_start = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(
        starts.astype(np.int64) - run_start, counts
    )


def _encode_distinct(sentences: list[str], lookup, unk: int):
    """Map each distinct sentence to ids once.

    SNLI pairs every premise with about three hypotheses, so this roughly halves the
    work. Returns each input sentence's row in the table, the table (ids of all
    distinct sentences back to back, where each starts, its length) and, for the
    unknown words only, their positions in the table and the words themselves.
    """
    rows: dict[str, int] = {}
    which = np.fromiter(
        (rows.setdefault(s, len(rows)) for s in sentences), dtype=np.int64, count=len(sentences)
    )
    distinct = list(rows)
    del rows
    id_parts, len_parts, unk_pos, unk_words = [], [], [], []
    done = 0
    for a in range(
        0, len(distinct), CHUNK_SENTENCES
    ):  # chunks bound the memory held by word strings
        words = [s.lower().split() for s in distinct[a : a + CHUNK_SENTENCES]]
        flat = list(chain.from_iterable(words))
        ids = np.fromiter(map(lookup, flat, repeat(unk)), dtype=np.int64, count=len(flat))
        unknown = np.flatnonzero(ids == unk)
        unk_pos.append(unknown + done)
        unk_words.extend(flat[j] for j in unknown)
        id_parts.append(ids.astype(np.int32))
        len_parts.append(np.fromiter(map(len, words), dtype=np.int64, count=len(words)))
        done += len(flat)
    table = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int32)
    lens = np.concatenate(len_parts) if len_parts else np.zeros(0, np.int64)
    starts = np.cumsum(lens) - lens
    return (
        which,
        table,
        starts,
        lens,
        np.concatenate(unk_pos) if unk_pos else np.zeros(0, np.int64),
        unk_words,
    )


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: tokenizing allocates millions of word lists (no
    cycles among them) and its repeated scans of them would take most of the build time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _encode_distinct_any(sentences: list[str], tokenizer, unk: int):
    """``_encode_distinct`` for any tokenizer: its own ``encode``, a chunk at a time. The
    unknown words come from the tokenizer's ``unknown_words(sentence)`` where it has one
    (WordPiece: the text an ``[UNK]`` stands for), else the unknown token itself."""
    rows: dict[str, int] = {}
    which = np.fromiter(
        (rows.setdefault(s, len(rows)) for s in sentences), dtype=np.int64, count=len(sentences)
    )
    distinct = list(rows)
    del rows
    words_of = getattr(tokenizer, "unknown_words", None)
    id_parts, len_parts, unk_pos, unk_words = [], [], [], []
    done = 0
    for a in range(0, len(distinct), CHUNK_SENTENCES):
        chunk = distinct[a : a + CHUNK_SENTENCES]
        encoded = tokenizer.encode(chunk)
        lens = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lens.sum()))
        unknown = np.flatnonzero(ids == unk)
        if len(unknown):
            sentence_of = np.repeat(np.arange(len(chunk)), lens)[unknown]
            for j in np.unique(sentence_of):
                found = words_of(chunk[j]) if words_of else []
                count = int(np.count_nonzero(sentence_of == j))
                found = found if len(found) == count else [tokenizer.to_tokens(unk)] * count
                unk_words.extend(found)
        unk_pos.append(unknown + done)
        id_parts.append(ids.astype(np.int32))
        len_parts.append(lens)
        done += len(ids)
    table = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int32)
    lens = np.concatenate(len_parts) if len_parts else np.zeros(0, np.int64)
    starts = np.cumsum(lens) - lens
    return (
        which,
        table,
        starts,
        lens,
        np.concatenate(unk_pos) if unk_pos else np.zeros(0, np.int64),
        unk_words,
    )


def _build(premises: list[str], hypotheses: list[str], tokenizer, max_len: int, truncation: str):
    specials = tokenizer.special_ids
    unk, cls, sep = specials["unk"], specials["cls"], specials["sep"]
    with _gc_paused():
        if _is_d2l_vocab(tokenizer):  # the fast path: a dict lookup per word
            which, table, starts, lens, unk_pos, unk_words = _encode_distinct(
                premises + hypotheses, tokenizer.token_to_idx.get, unk
            )
        else:
            which, table, starts, lens, unk_pos, unk_words = _encode_distinct_any(
                premises + hypotheses, tokenizer, unk
            )
    n = len(premises)
    p_row, h_row = which[:n], which[n:]
    kp, kh = keep_lengths(lens[p_row], lens[h_row], max_len - SPECIALS_PER_PAIR, truncation)
    length = kp + kh + SPECIALS_PER_PAIR
    start = np.cumsum(length) - length
    out = np.empty(int(length.sum()), dtype=_id_dtype(len(tokenizer)))
    # Pair i at `start[i]`: <cls> premise[:kp] <sep> hypothesis[:kh] <sep>
    out[start] = cls
    out[start + 1 + kp] = sep
    out[start + length - 1] = sep
    unk_slot = np.full(len(table), -1, dtype=np.int32)  # table position -> index into unk_words
    unk_slot[unk_pos] = np.arange(len(unk_pos))
    unk_uses = np.zeros(len(unk_pos), dtype=np.int64)  # how often each unknown occurrence is kept
    for a in range(0, n, CHUNK_PAIRS):  # chunks bound the size of the index arrays
        c = slice(a, a + CHUNK_PAIRS)
        for row, keep, first in (
            (p_row[c], kp[c], start[c] + 1),
            (h_row[c], kh[c], start[c] + 2 + kp[c]),
        ):
            src = _ranges(starts[row], keep)
            out[_ranges(first, keep)] = table[src]
            slots = unk_slot[src]
            unk_uses += np.bincount(slots[slots >= 0], minlength=len(unk_pos))
    unknown: Counter = Counter()
    for word, uses in zip(unk_words, unk_uses.tolist()):
        if uses:
            unknown[word] += uses
    words = sorted(unknown, key=lambda w: (-unknown[w], w))
    return (
        out,
        length.astype(np.int32),
        kp.astype(np.int32),
        np.array(words, dtype=str) if words else np.zeros(0, "<U1"),
        np.array([unknown[w] for w in words], dtype=np.int64),
    )


def _is_d2l_vocab(tokenizer) -> bool:
    """d2l's ``Vocab``, whose whole-word lookup the fast path does itself (lowercase + split)."""
    from bertnli.model.vocab import Vocab

    return type(tokenizer) is Vocab


# --------------------------------------------------------------------------- cache


def cache_key(premises, hypotheses, labels, tokenizer, max_len: int, truncation: str) -> str:
    """sha1 of everything that changes the built arrays (a fraction of a second for SNLI train)."""
    h = hashlib.sha1()
    h.update(
        f"bertnli SNLIBERTDataset v{FORMAT_VERSION} max_len={max_len} truncation={truncation}\n".encode()
    )
    for sentences in (premises, hypotheses):
        # Character counts make the \0-joined text unambiguous.
        h.update(np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences)).tobytes())
        h.update("\0".join(sentences).encode("utf-8", "surrogatepass"))
    h.update(np.asarray(labels, dtype=np.int64).tobytes())
    h.update(
        tokenizer.fingerprint().encode("utf-8", "surrogatepass")
    )  # its kind, normalization and tokens
    return h.hexdigest()


def _cache_folder() -> Path:
    from bertnli import hub

    return hub.cache_dir() / "datasets"


_FIELDS = ("token_ids", "lengths", "premise_lens", "unk_words", "unk_counts")


def _save(path: Path, key: str, arrays) -> None:
    """Write atomically: readers see the old file or the whole new one; a failure only warns."""
    from bertnli.files import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(
                f, key=np.array(key), **dict(zip(_FIELDS, arrays))
            )  # uncompressed: fast to load

    try:
        atomic_write(path, write)
    except OSError as err:
        warnings.warn(
            f"could not write the dataset cache {path}: {err}; continuing without it", stacklevel=3
        )


def _load(path: Path, key: str, n: int, vocab_size: int, max_len: int):
    """The cached arrays if the file is whole and is for ``key``; else remove it and return None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                raise ValueError("it was built for other inputs")
            arrays = tuple(z[name] for name in _FIELDS)
        _validate(arrays, n, vocab_size, max_len)
        return arrays
    except Exception as err:  # truncated zip, missing member, bad shapes...: never use it
        warnings.warn(f"discarding the dataset cache {path} ({err}); rebuilding it", stacklevel=3)
        path.unlink(missing_ok=True)
        return None


def _validate(arrays, n: int, vocab_size: int, max_len: int) -> None:
    ids, lengths, premise_lens, words, counts = arrays
    if ids.dtype != _id_dtype(vocab_size) or ids.ndim != 1:
        raise ValueError(f"token_ids has dtype {ids.dtype} and {ids.ndim} dims")
    if (
        lengths.shape != (n,)
        or premise_lens.shape != (n,)
        or lengths.dtype != np.int32
        or premise_lens.dtype != np.int32
    ):
        raise ValueError(
            f"lengths/premise_lens have shapes {lengths.shape}/{premise_lens.shape}, expected ({n},)"
        )
    if n and (lengths.min() < SPECIALS_PER_PAIR or lengths.max() > max_len):
        raise ValueError("pair lengths out of range")
    if n and (premise_lens.min() < 0 or (premise_lens > lengths - SPECIALS_PER_PAIR).any()):
        raise ValueError("premise lengths out of range")
    if int(lengths.sum(dtype=np.int64)) != len(ids):
        raise ValueError(
            f"{len(ids)} token ids but the lengths add up to {int(lengths.sum(dtype=np.int64))}"
        )
    if len(ids) and int(ids.max()) >= vocab_size:
        raise ValueError("token ids beyond the vocabulary")
    if words.ndim != 1 or words.shape != counts.shape or words.dtype.kind != "U":
        raise ValueError("unknown-word table is malformed")
