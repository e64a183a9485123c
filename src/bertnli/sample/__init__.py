"""The embedded offline sample: a tiny pretrained checkpoint and a small SNLI-format corpus,
and their Korean counterparts (a tiny Hugging Face-format Korean BERT and a KorNLI-format corpus).

Nothing in the tests, CI or the book build may download, so the package ships a
stand-in for both downloads. The corpus is written by ``tools/make_sample_corpus.py``
from templates whose labels follow real rules; the checkpoint is pretrained on it by
``tools/pretrain_sample.py`` with BERT's two objectives (masked LM and next-sentence
prediction). The Korean pair comes from ``tools/make_korean_sample.py`` and
``tools/pretrain_korean_sample.py``. All scripts are deterministic, so anyone can
regenerate the files.
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CHECKPOINT_ZIP = DATA_DIR / "bert.sample.zip"
SNLI_DIR = DATA_DIR / "snli_1.0"
KORNLI_DIR = DATA_DIR / "KorNLI"  # tools/make_korean_sample.py
KOREAN_MODEL_DIR = (
    DATA_DIR / "bert-ko-sample"
)  # tools/pretrain_korean_sample.py (Hugging Face format)

NOTICE = (
    "NOTICE: using bertnli's embedded offline SAMPLE (a tiny template-made SNLI stand-in and a tiny "
    "pretrained BERT), not the real SNLI / d2l checkpoints; its numbers are not comparable to the reference.\n"
    "안내: 실제 SNLI와 d2l 체크포인트가 아니라 bertnli에 내장된 오프라인 샘플(템플릿으로 만든 작은 SNLI 대용 "
    "데이터와 작은 사전 학습 BERT)을 쓰고 있습니다. 결과 수치는 기준 실험과 비교할 수 없습니다."
)

KOREAN_NOTICE = (
    "NOTICE: using bertnli's embedded Korean SAMPLE (a tiny template-made KorNLI stand-in and a tiny "
    "pretrained Korean BERT, ko-sample), not the real KorNLI / klue-bert-base; its numbers are not comparable "
    "to the published ones.\n"
    "안내: 실제 KorNLI와 klue-bert-base가 아니라 bertnli에 내장된 한국어 샘플(템플릿으로 만든 작은 KorNLI 대용 "
    "데이터와 작은 사전 학습 한국어 BERT, ko-sample)을 쓰고 있습니다. 결과 수치는 공개된 수치와 비교할 수 없습니다."
)

_announced = False
_announced_korean = False


def checkpoint_path() -> Path:
    """The sample checkpoint: a zip in d2l's format (``vocab.json`` + ``pretrained.params``)."""
    return CHECKPOINT_ZIP


def snli_dir() -> Path:
    """The folder holding ``snli_1.0_{train,dev,test}.txt`` of the sample corpus."""
    return SNLI_DIR


def kornli_dir() -> Path:
    """The folder holding the Korean stand-in corpus, in KorNLI's four file names."""
    return KORNLI_DIR


def korean_model_dir() -> Path:
    """The Korean stand-in model: a Hugging Face-format BERT folder (config.json, model.safetensors,
    vocab.txt, tokenizer_config.json)."""
    return KOREAN_MODEL_DIR


def korean_notice(*, once: bool = True, file=None) -> None:
    """Say visibly that the Korean sample stands in for KorNLI and a real Korean model."""
    global _announced_korean
    if once and _announced_korean:
        return
    _announced_korean = True
    print(KOREAN_NOTICE, file=file if file is not None else sys.stderr)


def notice(*, once: bool = True, file=None) -> None:
    """Say visibly (on stderr by default) that the sample stands in for the real data."""
    global _announced
    if once and _announced:
        return
    _announced = True
    print(NOTICE, file=file if file is not None else sys.stderr)
