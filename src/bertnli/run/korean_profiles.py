"""Chapter 6's profiles: the same three names as ``profiles``, with a Korean model and KorNLI.

``korean_profile(get_profile())`` keeps what the reader chose (the profile's name, and any
``BERTNLI_*`` override, which wins) and swaps in the Korean model, corpus and sizes:

- ``sample``: the embedded stand-ins (``ko-sample``, a tiny Hugging Face-format BERT, and
  ``kornli-sample``, a template-made corpus), offline, in well under a minute;
- ``laptop``: ``koelectra-small`` (KoELECTRA-Small v3 discriminator) on a fixed subset of
  KorNLI, sized for about ten minutes on a 4-core laptop CPU;
- ``full``: ``klue-bert-base`` on all of KorNLI (SNLI-ko + MNLI-ko), for a GPU.

The accuracies in the descriptions are published figures, stated as expectations until a
run here measures them.
"""

from __future__ import annotations

from dataclasses import replace

from bertnli.run.profiles import Profile

# Laptop subset, sized with `benchmarks/laptop_size_korean.py --calibrate --threads 1 2 --pairs 512`:
# a koelectra-small-shaped random encoder (hidden 256, 12 layers, 4 heads, ffn 1024, embeddings 128,
# vocabulary 35,000) on pairs of 40 WordPiece pieces on average (max_len 128, batch 64), timed with
# the book's own loop, side by side with bert.small's shape on SNLI-length pairs. On this project's
# 2-core machine, idle (2026-12-04; bert.small measured 367 pairs/s on one thread, matching the 345
# that SNLI's laptop profile was sized with, so the machine was quiet): koelectra-small trained 26.5
# pairs/s on one thread and 62.5 on two, and evaluated 132 and 257 pairs/s. A 4-core laptop CPU is
# taken as 1.5-2x one thread of this machine, as for SNLI: 40-53 pairs/s training. 22,000 training
# pairs then take 415-550 s, and the 1,000 dev and 1,000 test pairs with the chapter's three more
# passes over the test subset (5,000 evaluated pairs at 200-260/s) about 20-25 s: 7.3-9.6 minutes.
# (Here, on two threads: 22,000 / 62.5 + 5,000 / 257 = about 6.2 minutes.)
LAPTOP_TRAIN_PAIRS = 22_000
LAPTOP_TEST_PAIRS = 1_000

_SETTINGS: dict[str, dict] = {
    "sample": dict(
        model="ko-sample",
        data="kornli-sample",
        epochs=3,
        batch_size=64,
        max_len=64,
        lr=1e-3,
        train_pairs=None,
        test_pairs=None,
        description_en="Embedded offline Korean sample: a tiny pretrained Korean BERT (ko-sample) and a "
        "template-made KorNLI stand-in, on CPU in under a minute.",
        description_ko="내장 오프라인 한국어 샘플: 작은 사전 학습 한국어 BERT(ko-sample)와 템플릿으로 만든 KorNLI "
        "대용 데이터, CPU에서 1분 안에 실행.",
    ),
    "laptop": dict(
        model="koelectra-small",
        data="kornli",
        epochs=1,
        batch_size=64,
        max_len=128,
        lr=1e-4,
        train_pairs=LAPTOP_TRAIN_PAIRS,
        test_pairs=LAPTOP_TEST_PAIRS,
        description_en="KoELECTRA-Small (v3 discriminator, ~14M parameters) on a fixed subset of KorNLI, sized "
        "for ~10 minutes on a 4-core laptop CPU. Expected XNLI-ko test accuracy with all of "
        "KorNLI: about 0.77 (published small Korean encoders, e.g. the KoELECTRA README); this "
        "subset gives less. An expectation, not a measurement here.",
        description_ko="KoELECTRA-Small(v3 판별자, 파라미터 약 1,400만 개)을 KorNLI의 고정된 부분 집합으로 미세 "
        "조정합니다. 4코어 노트북 컴퓨터의 CPU에서 약 10분 걸리도록 맞췄습니다. KorNLI 전체로 "
        "학습하면 XNLI-ko 테스트 정확도가 약 0.77로 보고되어 있고(공개된 작은 한국어 인코더, 예: "
        "KoELECTRA README), 이 부분 집합으로는 그보다 낮습니다. 여기서 잰 값이 아니라 기대치입니다.",
    ),
    "full": dict(
        model="klue-bert-base",
        data="kornli",
        epochs=3,
        batch_size=64,
        max_len=128,
        lr=3e-5,
        train_pairs=None,
        test_pairs=None,
        description_en="klue/bert-base on all of KorNLI (SNLI-ko + MNLI-ko; use a GPU). Expected XNLI-ko test "
        "accuracy: 81.47 (KorNLI column, row KoBERT(KLUE), of the comparison table in the BM-K/KoMiniLM "
        "README; see the references page), "
        "an expectation until a run here measures it.",
        description_ko="klue/bert-base를 KorNLI 전체(SNLI-ko + MNLI-ko)로 미세 조정합니다(GPU 권장). 기대 XNLI-ko "
        "테스트 정확도는 81.47입니다(BM-K/KoMiniLM README 비교표의 KoBERT(KLUE) 행, KorNLI 열. 참고 문헌 "
        "쪽 참조). 여기서 "
        "실행해 재기 전까지는 기대치입니다.",
    ),
}


def korean_profile(profile: Profile) -> Profile:
    """``profile`` with chapter 6's Korean model, corpus and sizes; ``BERTNLI_*`` overrides
    (listed in ``profile.overrides``) keep their values."""
    if profile.name not in _SETTINGS:
        raise ValueError(
            f"no Korean settings for the profile {profile.name!r}; choose one of {sorted(_SETTINGS)}"
        )
    overridden = {line.split("=", 1)[0] for line in profile.overrides}
    changes = {k: v for k, v in _SETTINGS[profile.name].items() if k not in overridden}
    return replace(profile, **changes)
