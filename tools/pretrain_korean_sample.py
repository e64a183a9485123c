"""Pretrain the embedded Korean stand-in model: a tiny BERT in the Hugging Face format.

    PYTHONPATH=src python tools/pretrain_korean_sample.py   # rewrites src/bertnli/sample/data/bert-ko-sample/

Chapter 6 loads Korean encoders published in the Hugging Face format (``klue/bert-base``,
small ELECTRA discriminators). They cannot be downloaded offline, so the package ships a
tiny model in the same format, read by the same loader (``bertnli.model.huggingface``):
``config.json``, ``model.safetensors``, ``vocab.txt`` and ``tokenizer_config.json``.

- its WordPiece vocabulary is trained with ``tokenizers`` on the *train* files of the
  Korean stand-in corpus (``tools/make_korean_sample.py``), without lowercasing or accent
  stripping (either would break Hangul syllables into letters);
- the model is ``transformers``' ``BertForPreTraining``, tiny, trained with masked language
  modelling (15% of pieces chosen; 80% ``[MASK]``, 10% random, 10% kept) on premise and
  hypothesis pairs for a fixed number of steps, seeded and single-threaded.

The dev and test files are never read, so they stay unseen.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "src" / "bertnli" / "sample" / "data" / "KorNLI"
OUT = ROOT / "src" / "bertnli" / "sample" / "data" / "bert-ko-sample"
TRAIN_FILES = ("snli_1.0_train.ko.tsv", "multinli.train.ko.tsv")
SEED = 20260522
VOCAB_SIZE = 800
MAX_LEN = 64
SIZES = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
TOKENIZER_CONFIG = {
    "tokenizer_class": "BertTokenizer",
    "do_lower_case": False,
    "strip_accents": False,
    "tokenize_chinese_chars": True,
    "model_max_length": MAX_LEN,
}


def read_pairs() -> list[tuple[str, str]]:
    pairs = []
    for name in TRAIN_FILES:
        lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()[1:]
        pairs += [tuple(line.split("\t")[:2]) for line in lines]
    return pairs


def train_vocabulary(pairs: list[tuple[str, str]], folder: Path) -> Path:
    from tokenizers.implementations import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    sentences = sorted({s for pair in pairs for s in pair})
    tokenizer.train_from_iterator(
        sentences,
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    )
    tokenizer.save_model(str(folder))
    return folder / "vocab.txt"


def mask_tokens(
    ids: torch.Tensor, special: torch.Tensor, mask_id: int, vocab_size: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: returns (inputs, labels with -100 where nothing is predicted)."""
    chosen = (torch.rand(ids.shape, generator=gen) < 0.15) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = mask_id
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = torch.randint(5, vocab_size, (int(swap.sum()),), generator=gen)
    return inputs, labels


def pretrain(pairs, vocab_txt: Path, steps: int, batch: int):
    from transformers import BertConfig, BertForPreTraining, BertTokenizerFast

    tokenizer = BertTokenizerFast(str(vocab_txt), do_lower_case=False, strip_accents=False)
    config = BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=MAX_LEN, **SIZES)
    torch.manual_seed(SEED)
    model = BertForPreTraining(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 50) * (1 - s / steps)
    )
    gen = torch.Generator().manual_seed(SEED)
    rng = random.Random(SEED)
    start = time.time()
    for step in range(steps):
        chunk = [rng.choice(pairs) for _ in range(batch)]
        enc = tokenizer(
            [p for p, _ in chunk],
            [h for _, h in chunk],
            padding=True,
            truncation=True,
            max_length=MAX_LEN,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        special = enc["special_tokens_mask"].bool() | (enc["attention_mask"] == 0)
        inputs, labels = mask_tokens(
            enc["input_ids"], special, tokenizer.mask_token_id, config.vocab_size, gen
        )
        out = model(
            input_ids=inputs,
            token_type_ids=enc["token_type_ids"],
            attention_mask=enc["attention_mask"],
        )
        loss = torch.nn.functional.cross_entropy(
            out.prediction_logits.view(-1, config.vocab_size), labels.view(-1), ignore_index=-100
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step}: masked-LM loss {loss.item():.3f} ({time.time() - start:.0f} s)")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pairs = read_pairs()
    with tempfile.TemporaryDirectory() as tmp:
        vocab_txt = train_vocabulary(pairs, Path(tmp))
        model = pretrain(pairs, vocab_txt, args.steps, args.batch)
        args.out.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(args.out), safe_serialization=True)
        (args.out / "vocab.txt").write_text(vocab_txt.read_text(encoding="utf-8"), encoding="utf-8")
    (args.out / "tokenizer_config.json").write_text(
        json.dumps(TOKENIZER_CONFIG, indent=2) + "\n", encoding="utf-8"
    )
    extra = args.out / "generation_config.json"
    extra.unlink(missing_ok=True)
    print(f"wrote {args.out}: {', '.join(sorted(p.name for p in args.out.iterdir()))}")


if __name__ == "__main__":
    main()
