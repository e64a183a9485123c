"""The command line's own words, in English and Korean, from one table.

``bertnli`` speaks Korean when ``BERTNLI_LANG=ko``, or, without that variable, when the
locale says so (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG`` starting with ``ko``);
otherwise English. ``BERTNLI_LANG=en`` forces English. Every entry of :data:`MESSAGES`
exists in both languages with the same ``{fields}`` (tests/test_cli_messages.py checks
that), so a message added in one language only fails the tests, not a reader.

What the table covers: what the commands print themselves (``info``, ``finetune``'s
progress lines and summary, ``evaluate``, ``predict``) and the frame of an error, a
warning or a stop (``오류:``, ``경고:``, ``중단됨``). The sentence inside an error comes
from the code that found the problem and names the file, field or option in English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANG_ENV = "BERTNLI_LANG"
LANGUAGES = ("en", "ko")

# key: (English, Korean). Terms follow book/glossary.md.
MESSAGES: dict[str, tuple[str, str]] = {
    "info.devices": ("devices: {devices}", "장치: {devices}"),
    "info.cache": ("cache:   {path}", "캐시:   {path}"),
    "info.profile": ("profile: {name}", "프로필: {name}"),
    "info.overrides": (" (overrides: {names})", " (재정의: {names})"),
    "info.model": (
        "model {name}: {blocks} blocks, {hidden} hidden, {ffn} ffn, {heads} heads, max_len {max_len}, "
        "{params:,} parameters, vocabulary of {vocab:,} tokens",
        "모델 {name}: 블록 {blocks}개, 은닉 크기 {hidden}, FFN {ffn}, 헤드 {heads}개, max_len {max_len}, "
        "파라미터 {params:,}개, 어휘 {vocab:,}개 토큰",
    ),
    "train.resuming": (
        "resuming from {checkpoint} after epoch {epoch}",
        "{checkpoint}에서 이어서 학습합니다 (에폭 {epoch}까지 끝남)",
    ),
    "train.nothing_left": (
        "the run already finished {done} epoch(s), the {epochs} asked for: nothing to train "
        "(ask for more epochs to continue it)",
        "이 실행은 요청한 {epochs}에폭 중 {done}에폭을 이미 마쳤습니다. 더 학습할 것이 없습니다 "
        "(이어서 학습하려면 에폭 수를 늘리세요)",
    ),
    "train.device": ("training on {device}: {precision}", "학습 장치 {device}: {precision}"),
    "train.epoch": (
        "epoch {epoch}/{epochs}: loss {loss:.3f}, train acc {train_acc:.3f}, {watched} {acc}, "
        "{rate:,.1f} examples/sec, {seconds:.1f}s on {device}",
        "에폭 {epoch}/{epochs}: 손실 {loss:.3f}, 학습 정확도 {train_acc:.3f}, {watched} {acc}, "
        "초당 예제 {rate:,.1f}개, {seconds:.1f}초 ({device})",
    ),
    "train.dev_acc": ("dev acc", "검증 정확도"),
    "train.test_acc": ("test acc", "테스트 정확도"),
    "train.test_once": (
        "test acc {acc:.3f} (measured once, after epoch {epoch})",
        "테스트 정확도 {acc:.3f} (에폭 {epoch}이 끝난 뒤 한 번 측정)",
    ),
    "history.empty": ("no epoch finished", "끝난 에폭이 없습니다"),
    "history.dev": (", dev acc {acc:.3f}", ", 검증 정확도 {acc:.3f}"),
    "history.summary": (
        "loss {loss:.3f}, train acc {train_acc:.3f}{dev}, test acc {test}, {rate:,.1f} examples/sec "
        "on {device}",
        "손실 {loss:.3f}, 학습 정확도 {train_acc:.3f}{dev}, 테스트 정확도 {test}, 초당 예제 {rate:,.1f}개 "
        "({device})",
    ),
    "finetune.done": ("done: {summary}", "완료: {summary}"),
    "finetune.saved": ("; checkpoint in {out}", "; 체크포인트: {out}"),
    "evaluate.result": (
        "{split}: accuracy {accuracy:.4f}, loss {loss:.4f} on {examples} pairs",
        "{split}: 정확도 {accuracy:.4f}, 손실 {loss:.4f} (문장 쌍 {examples}개)",
    ),
    "evaluate.confusion": (
        "confusion (rows: true {labels}, columns: predicted):",
        "혼동 행렬 (행: 정답 {labels}, 열: 예측):",
    ),
    "cli.interrupted": ("interrupted", "중단됨"),
    "cli.stopped": ("stopped by {signal}", "{signal} 신호로 멈춤"),
    "cli.error": ("error: {message}", "오류: {message}"),
    "cli.warning": ("warning: {message}", "경고: {message}"),
    "cli.unexpected": (
        "unexpected error: {kind}: {message}\nThis may be a bug in bertnli; run again with "
        "{debug}=1 to see the traceback, and report it with that output.",
        "예상하지 못한 오류: {kind}: {message}\nbertnli의 버그일 수 있습니다. {debug}=1로 다시 "
        "실행해 트레이스백을 확인하고, 그 출력과 함께 알려 주세요.",
    ),
}

# The three labels in Korean (book/glossary.md), for runs on a Korean corpus.
LABELS_KO = {"entailment": "함의", "contradiction": "모순", "neutral": "중립"}


def check_language(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a ``BERTNLI_LANG`` that is neither ``en`` nor ``ko`` (the command line asks first)."""
    env = os.environ if environ is None else environ
    chosen = (env.get(LANG_ENV) or "").strip().lower()
    if chosen and chosen not in LANGUAGES:
        raise ValueError(
            f"${LANG_ENV}={env[LANG_ENV]!r}: expected en or ko (or unset it to follow the locale)"
        )


def language(environ: Mapping[str, str] | None = None) -> str:
    """``"ko"`` or ``"en"``: ``BERTNLI_LANG`` if set (anything else reads as English; the command
    line refuses it first, see :func:`check_language`), else the locale's language."""
    env = os.environ if environ is None else environ
    chosen = (env.get(LANG_ENV) or "").strip().lower()
    if chosen:
        return chosen if chosen in LANGUAGES else "en"
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable)
        if value:  # the first one set decides, as for any program (LC_ALL=C wins over LANG=ko_KR)
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def text(key: str, environ: Mapping[str, str] | None = None, **fields) -> str:
    """Message ``key`` in the reader's language, with ``fields`` filled in."""
    english, korean = MESSAGES[key]
    return (korean if language(environ) == "ko" else english).format(**fields)


def label_name(label: str, corpus_language: str) -> str:
    """A label as a run on a corpus in ``corpus_language`` shows it: ``함의 (entailment)`` for Korean."""
    if corpus_language == "ko":
        return f"{LABELS_KO[label]} ({label})"
    return label
