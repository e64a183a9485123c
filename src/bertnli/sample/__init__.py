"""The embedded offline sample: a tiny pretrained checkpoint and a small SNLI-format corpus.

Nothing in the tests, CI or the book build may download, so the package ships a
stand-in for both downloads. The corpus is written by ``tools/make_sample_corpus.py``
from templates whose labels follow real rules; the checkpoint is pretrained on it by
``tools/pretrain_sample.py`` with BERT's two objectives (masked LM and next-sentence
prediction). Both scripts are deterministic, so anyone can regenerate the files.
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CHECKPOINT_ZIP = DATA_DIR / "bert.sample.zip"
SNLI_DIR = DATA_DIR / "snli_1.0"

NOTICE = (
    "NOTICE: using bertnli's embedded offline SAMPLE (a tiny template-made SNLI stand-in and a tiny "
    "pretrained BERT), not the real SNLI / d2l checkpoints; its numbers are not comparable to the reference.\n"
    "안내: 실제 SNLI와 d2l 체크포인트가 아니라 bertnli에 내장된 오프라인 샘플(템플릿으로 만든 작은 SNLI 대용 "
    "데이터와 작은 사전 학습 BERT)을 쓰고 있습니다. 결과 수치는 기준 실험과 비교할 수 없습니다."
)

_announced = False


def checkpoint_path() -> Path:
    """The sample checkpoint: a zip in d2l's format (``vocab.json`` + ``pretrained.params``)."""
    return CHECKPOINT_ZIP


def snli_dir() -> Path:
    """The folder holding ``snli_1.0_{train,dev,test}.txt`` of the sample corpus."""
    return SNLI_DIR


def notice(*, once: bool = True, file=None) -> None:
    """Say visibly (on stderr by default) that the sample stands in for the real data."""
    global _announced
    if once and _announced:
        return
    _announced = True
    print(NOTICE, file=file if file is not None else sys.stderr)
