"""Pretrain the embedded sample checkpoint: a tiny BERT trained with BERT's two objectives.

    python tools/pretrain_sample.py            # rewrites src/bertnli/sample/data/bert.sample.zip

Why it exists: the book and the tests need a checkpoint that behaves like a pretrained
one (fine-tuning from it beats starting from random weights) but costs nothing to get.
It is trained only on the *train* split of the sample corpus, so dev/test stay unseen:

- masked language modelling: 15% of the tokens are chosen; of those 80% become
  ``<mask>``, 10% a random word, 10% stay; the model predicts the originals;
- next-sentence prediction: segment B is either a sentence written about the same
  scene as segment A (a hypothesis of that premise) or one drawn from another scene.

The run is seeded and single-threaded, so it gives the same weights every time on a
machine. The result is a zip in exactly d2l's format (``vocab.json``, ``pretrained.params``).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import random
import sys
import time
import zipfile
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bertnli import sample  # noqa: E402
from bertnli.data.packing import pack_pair, tokenize  # noqa: E402
from bertnli.data.snli import read_snli  # noqa: E402
from bertnli.model.bert import BERTModel  # noqa: E402
from bertnli.model.pretrained import KNOWN_CONFIGS  # noqa: E402
from bertnli.model.vocab import Vocab  # noqa: E402
from bertnli.run.checkpoint import atomic_write  # noqa: E402

# d2l's order: <unk> first, then the reserved tokens, then words by frequency.
RESERVED = ["<pad>", "<mask>", "<cls>", "<sep>"]
MAX_LEN = 64  # pretraining pairs are cut to this length; the model itself accepts 128


def build_vocab(sentences: list[list[str]]) -> Vocab:
    counts = collections.Counter(tok for s in sentences for tok in s)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return Vocab(["<unk>"] + RESERVED + words)


def nsp_pairs(premises, hypotheses, rng: random.Random):
    """(tokens_a, tokens_b, is_next): half true continuations, half from another scene."""
    by_scene = collections.defaultdict(list)
    for p, h in zip(premises, hypotheses):
        by_scene[tuple(p)].append(h)
    scenes = list(by_scene)
    all_hyps = [h for hs in by_scene.values() for h in hs]
    pairs = []
    for scene in scenes:
        for h in by_scene[scene]:
            if rng.random() < 0.5:
                pairs.append((list(scene), h, 1))
            else:
                other = rng.choice(all_hyps)
                while other in by_scene[scene]:
                    other = rng.choice(all_hyps)
                pairs.append((list(scene), other, 0))
    return pairs


def mask_tokens(ids: list[int], vocab: Vocab, rng: random.Random, num_pred: int):
    """BERT's masking on one packed sequence; returns (masked ids, positions, originals)."""
    candidates = [i for i, t in enumerate(ids) if vocab.idx_to_token[t] not in ("<cls>", "<sep>")]
    rng.shuffle(candidates)
    positions = sorted(candidates[: max(1, round(0.15 * len(candidates)))])[:num_pred]
    masked = list(ids)
    first_word = len(RESERVED) + 1
    for pos in positions:
        r = rng.random()
        if r < 0.8:
            masked[pos] = vocab["<mask>"]
        elif r < 0.9:
            masked[pos] = rng.randrange(first_word, len(vocab))
    return masked, positions, [ids[p] for p in positions]


def make_batch(examples, vocab: Vocab, rng: random.Random, num_pred: int):
    packed = [pack_pair(a, b, MAX_LEN) for a, b, _ in examples]
    seq = max(len(t) for t, _ in packed)
    B = len(examples)
    tokens = torch.full((B, seq), vocab["<pad>"], dtype=torch.long)
    segments = torch.zeros(B, seq, dtype=torch.long)
    valid = torch.zeros(B, dtype=torch.long)
    positions = torch.zeros(B, num_pred, dtype=torch.long)
    targets = torch.zeros(B, num_pred, dtype=torch.long)
    weights = torch.zeros(B, num_pred)
    for i, (toks, segs) in enumerate(packed):
        masked, pos, orig = mask_tokens(vocab[toks], vocab, rng, num_pred)
        tokens[i, : len(masked)] = torch.tensor(masked)
        segments[i, : len(segs)] = torch.tensor(segs)
        valid[i] = len(masked)
        positions[i, : len(pos)] = torch.tensor(pos, dtype=torch.long)
        targets[i, : len(orig)] = torch.tensor(orig, dtype=torch.long)
        weights[i, : len(pos)] = 1.0
    nsp = torch.tensor([label for _, _, label in examples])
    return tokens, segments, valid, positions, targets, weights, nsp


def pretrain(
    steps: int, batch_size: int, seed: int, log_every: int = 100, lr: float = 1e-3
) -> tuple[BERTModel, Vocab]:
    """Seeded and single-threaded for repeatable weights; the caller's settings are restored."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        return _pretrain(steps, batch_size, seed, log_every, lr)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _pretrain(
    steps: int, batch_size: int, seed: int, log_every: int, lr: float
) -> tuple[BERTModel, Vocab]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    premises, hypotheses, _ = read_snli(sample.snli_dir(), "train")
    p_toks, h_toks = tokenize(premises), tokenize(hypotheses)
    vocab = build_vocab(p_toks + h_toks)
    cfg = dict(KNOWN_CONFIGS["sample"])
    model = BERTModel(vocab_size=len(vocab), dropout=0.1, **cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=steps, pct_start=0.1
    )
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    num_pred = round(0.15 * MAX_LEN)
    pairs: list = []
    start = time.time()
    model.train()
    for step in range(1, steps + 1):
        if len(pairs) < batch_size:
            pairs = nsp_pairs(p_toks, h_toks, rng)
            rng.shuffle(pairs)
        batch, pairs = pairs[:batch_size], pairs[batch_size:]
        tokens, segments, valid, positions, targets, weights, nsp = make_batch(
            batch, vocab, rng, num_pred
        )
        _, mlm_logits, nsp_logits = model(tokens, segments, valid, positions)
        mlm_loss = (
            loss_fn(mlm_logits.reshape(-1, len(vocab)), targets.reshape(-1)) * weights.reshape(-1)
        ).sum()
        mlm_loss = mlm_loss / weights.sum()
        nsp_loss = loss_fn(nsp_logits, nsp).mean()
        loss = mlm_loss + nsp_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % log_every == 0 or step == steps:
            nsp_acc = (nsp_logits.argmax(1) == nsp).float().mean().item()
            print(
                f"step {step:5d}  mlm {mlm_loss.item():.3f}  nsp {nsp_loss.item():.3f} (acc {nsp_acc:.2f})  "
                f"{time.time() - start:.0f}s",
                flush=True,
            )
    return model.eval(), vocab


def write_checkpoint(model: BERTModel, vocab: Vocab, path: Path) -> None:
    """Write d2l's format into a zip, atomically, with fixed timestamps."""
    params = io.BytesIO()
    torch.save(model.state_dict(), params)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in (
                ("vocab.json", json.dumps(vocab.idx_to_token).encode()),
                ("pretrained.params", params.getvalue()),
            ):
                info = zipfile.ZipInfo(f"bert.sample/{name}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)

    atomic_write(path, write)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pretrain the embedded sample BERT (MLM + NSP).")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", type=Path, default=sample.checkpoint_path())
    args = parser.parse_args(argv)
    model, vocab = pretrain(args.steps, args.batch_size, args.seed, lr=args.lr)
    write_checkpoint(model, vocab, args.out)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, vocabulary {len(vocab)} tokens)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
