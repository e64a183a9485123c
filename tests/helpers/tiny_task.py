"""A toy task, a tiny BERT and their loader for the training tests (tests/test_run_train.py, tests/helpers/dist_worker.py,
the run-folder, resume and signal tests)."""

import random

import torch

from bertnli import BERTModel, Vocab

WORDS = (
    "a man woman dog cat is sleeping running in the park library person animal outside .".split()
)
VOCAB = Vocab(["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *WORDS])


def tiny_data(n=96, seed=0):
    """A toy task for the loop (not real NLI): the hypothesis' verb decides the label."""
    rng = random.Random(seed)
    premises, hypotheses, labels = [], [], []
    for _ in range(n):
        subj, verb = rng.choice(["man", "woman", "dog", "cat"]), rng.choice(["sleeping", "running"])
        premises.append(f"a {subj} is {rng.choice(['sleeping', 'running'])} in the park .")
        hypotheses.append(f"a {subj} is {verb} .")
        labels.append(0 if verb == "sleeping" else 1)
    return premises, hypotheses, labels


def tiny_bert(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return BERTModel(
        len(VOCAB),
        num_hiddens=32,
        ffn_num_hiddens=64,
        num_heads=2,
        num_blks=1,
        dropout=dropout,
        max_len=32,
    )


def tiny_loader(n=16, batch_size=8):
    """``n`` toy pairs packed for the tiny BERT, in fixed order: the usual input of a quick ``fine_tune``."""
    from bertnli import SNLIBERTDataset, make_loader

    return make_loader(
        SNLIBERTDataset(tiny_data(n), VOCAB, max_len=32, cache=False), batch_size, shuffle=False
    )
