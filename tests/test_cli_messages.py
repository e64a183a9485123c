"""The command line in Korean: one message table (bertnli.messages), chosen by BERTNLI_LANG or
the locale; a Korean run's labels shown in Korean and English."""

from __future__ import annotations

import string

import pytest
from helpers.cli_runs import run_cli

from bertnli import messages
from bertnli.messages import MESSAGES, label_name, language, text


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_both_languages_with_the_same_fields(key):
    english, korean = MESSAGES[key]
    assert english.strip() and korean.strip()
    assert fields(english) == fields(korean), f"{key}: the two languages fill different fields"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean), f"{key}: the Korean text has no Hangul"


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, "en"),
        ({"BERTNLI_LANG": "ko"}, "ko"),
        ({"BERTNLI_LANG": "en", "LANG": "ko_KR.UTF-8"}, "en"),
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LC_MESSAGES": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
        ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_language_follows_the_variable_then_the_locale(environ, expected):
    assert language(environ) == expected


def test_a_message_reads_in_the_chosen_language():
    assert text("cli.error", {"BERTNLI_LANG": "ko"}, message="x") == "오류: x"
    assert text("cli.error", {"BERTNLI_LANG": "en"}, message="x") == "error: x"


def test_labels_of_a_korean_run_show_both_languages():
    assert label_name("entailment", "ko") == "함의 (entailment)"
    assert label_name("neutral", "en") == "neutral"


def test_a_wrong_language_variable_is_refused_by_name(capsys, monkeypatch):
    monkeypatch.setenv("BERTNLI_LANG", "fr")
    code, out, err = run_cli(capsys, "cache")
    assert code == 2 and "BERTNLI_LANG" in err and "en or ko" in err and "Traceback" not in err


def test_info_speaks_korean_when_asked(capsys, monkeypatch, isolated_cache):
    monkeypatch.setenv("BERTNLI_LANG", "ko")
    code, out, err = run_cli(capsys, "info", "--profile", "sample")
    assert code == 0, err
    assert "장치:" in out and "프로필: sample" in out and "파라미터" in out


def test_errors_are_framed_in_korean(capsys, monkeypatch, isolated_cache, tmp_path):
    monkeypatch.setenv("BERTNLI_LANG", "ko")
    code, out, err = run_cli(capsys, "evaluate", str(tmp_path / "no-such-run"))
    assert code == 2 and "오류:" in err and "no-such-run" in err


@pytest.mark.slow
def test_a_korean_run_trains_evaluates_and_predicts_in_korean(
    capsys, monkeypatch, isolated_cache, tmp_path
):
    """finetune --model ko-sample --data kornli-sample, then evaluate and predict on its folder:
    progress, summary and confusion header in Korean; labels in Korean and English."""
    monkeypatch.setenv("BERTNLI_LANG", "ko")
    out_dir = tmp_path / "ko-run"
    code, out, err = run_cli(
        capsys,
        "finetune",
        "--profile",
        "sample",
        "--model",
        "ko-sample",
        "--data",
        "kornli-sample",
        "--epochs",
        "1",
        "--train-pairs",
        "300",
        "--test-pairs",
        "60",
        "--max-len",
        "64",
        "--out",
        str(out_dir),
        "--no-progress",
    )
    assert code == 0, err
    assert "에폭 1/1: 손실" in out and "완료: 손실" in out and "체크포인트:" in out
    code, out, err = run_cli(capsys, "evaluate", str(out_dir), "--split", "test")
    assert code == 0, err
    assert "test: 정확도" in out and "혼동 행렬 (행: 정답 함의 (entailment)/" in out
    code, out, err = run_cli(
        capsys,
        "predict",
        str(out_dir),
        "남자가 공원에서 개를 산책시키고 있다.",
        "사람이 밖에 있다.",
    )
    assert code == 0, err
    first, second = out.strip().splitlines()[:2]
    assert first in {label_name(name, "ko") for name in messages.LABELS_KO}
    assert (
        "함의 (entailment)" in second
        and "모순 (contradiction)" in second
        and "중립 (neutral)" in second
    )
