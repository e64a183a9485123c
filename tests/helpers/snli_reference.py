"""The reference we measure against: d2l's ``SNLIBERTDataset``, re-implemented faithfully.

d2l 1.0.3 does not ship this class in ``d2l.torch``; it lives in the chapter
"Natural Language Inference: Fine-Tuning BERT". This module follows that chapter's
algorithm step for step (lowercase + ``split()``, a ``multiprocessing.Pool(4)`` over
pairs, truncation by popping from the longer side, padding every pair to ``max_len``,
``torch.tensor`` of nested lists) so the parity tests and ``benchmarks/bench_data.py``
compare against the same behaviour and cost. Pass d2l's own ``tokenize`` and
``get_tokens_and_segments`` to run it on d2l's helpers.
"""

from __future__ import annotations

import multiprocessing

import torch


def _tokenize(lines):
    return [line.split() for line in lines]


def _tokens_and_segments(tokens_a, tokens_b):
    return ["<cls>"] + tokens_a + ["<sep>"] + tokens_b + ["<sep>"], [0] * (len(tokens_a) + 2) + [
        1
    ] * (len(tokens_b) + 1)


def truncate_in_place(p: list, h: list, max_len: int) -> None:
    """d2l's loop: pop the last token of the longer list (the hypothesis on a tie) until it fits."""
    while len(p) + len(h) > max_len - 3:  # room for <cls>, <sep>, <sep>
        if len(p) > len(h):
            p.pop()
        else:
            h.pop()


class ReferenceSNLIBERTDataset(torch.utils.data.Dataset):
    """``(all_token_ids, all_segments, valid_lens)`` and ``labels`` exactly as d2l builds them."""

    def __init__(
        self,
        dataset,
        max_len,
        vocab,
        tokenize=_tokenize,
        get_tokens_and_segments=_tokens_and_segments,
        processes=4,
    ):
        premise_words, hypothesis_words = (
            tokenize([s.lower() for s in sentences]) for sentences in dataset[:2]
        )
        pairs = [[p, h] for p, h in zip(premise_words, hypothesis_words)]
        self.labels = torch.tensor(dataset[2])
        self.vocab, self.max_len = vocab, max_len
        self.get_tokens_and_segments = get_tokens_and_segments
        with multiprocessing.Pool(processes) as pool:
            out = pool.map(self._one_pair, pairs)
        self.all_token_ids = torch.tensor([ids for ids, _, _ in out], dtype=torch.long)
        self.all_segments = torch.tensor([seg for _, seg, _ in out], dtype=torch.long)
        self.valid_lens = torch.tensor([n for _, _, n in out])

    def _one_pair(self, pair):
        p, h = pair
        truncate_in_place(p, h, self.max_len)
        tokens, segments = self.get_tokens_and_segments(p, h)
        pad = self.max_len - len(tokens)
        return self.vocab[tokens] + [self.vocab["<pad>"]] * pad, segments + [0] * pad, len(tokens)

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx]), self.labels[
            idx
        ]

    def __len__(self):
        return len(self.all_token_ids)
