"""bertnli.book.korean: the particle after a Hangul word, a number or a code name follows how it is read."""

from __future__ import annotations

import pytest

from bertnli.book.korean import final_sound, josa, particle


@pytest.mark.parametrize(
    "word, final",
    [
        ("에폭", "ㄱ"),
        ("배치", ""),
        ("모델", "ㄹ"),
        ("토큰", "ㄴ"),
        ("값", "ㅄ"),
        ("가", ""),
        ("힣", "ㅎ"),
    ],
)
def test_hangul_final_consonant_by_unicode_arithmetic(word, final):
    assert final_sound(word) == final


@pytest.mark.parametrize(
    "number, final",
    [
        ("0", "ㅇ"),
        ("1", "ㄹ"),
        ("2", ""),
        ("3", "ㅁ"),
        ("4", ""),
        ("5", ""),
        ("6", "ㄱ"),
        ("7", "ㄹ"),
        ("8", "ㄹ"),
        ("9", ""),
        ("10", "ㅂ"),
        ("20", "ㅂ"),
        ("100", "ㄱ"),
        ("500", "ㄱ"),
        ("1000", "ㄴ"),
        ("1,000", "ㄴ"),
        ("10000", "ㄴ"),
        ("120000", "ㄴ"),
        ("1,000,000", "ㄴ"),
        ("100000000", "ㄱ"),
        ("128", "ㄹ"),
        ("512", ""),
        ("256", "ㄱ"),
        ("549,367", "ㄹ"),
        ("0.786", "ㄱ"),
        ("2.0", "ㅇ"),
        ("0.5", ""),
        ("1e-4", ""),
        ("2e-5", ""),
        ("max_len=128", "ㄹ"),
        ("(1, 9, 768)", "ㄹ"),
        ("fp16", "ㄱ"),
        ("sha1", "ㄹ"),
        ("v0.1.0", "ㅇ"),
        ("50%", ""),
    ],
)
def test_numbers_are_read_in_sino_korean(number, final):
    assert final_sound(number) == final, number


@pytest.mark.parametrize(
    "name, final",
    [
        ("GPU", ""),
        ("CPU", ""),
        ("SNLI", ""),
        ("MLM", "ㅁ"),
        ("NSP", ""),
        ("JSON", "ㄴ"),
        ("HTML", "ㄹ"),
        ("BERT", ""),
        ("lr", "ㄹ"),
        ("mps", ""),
        ("bert.small", "ㄹ"),
        ("bert.base", ""),
        ("max_len", "ㄴ"),
        ("BERTModel", "ㄹ"),
        ("BERTClassifier", ""),
        ("SNLIBERTDataset", "ㅅ"),
        ("vocab", "ㅂ"),
        ("token", "ㄴ"),
        ("block", "ㄱ"),
        ("zip", "ㅂ"),
        ("python", "ㄴ"),
        ("profile", "ㄹ"),
        ("sample", "ㄹ"),
        ("full", "ㄹ"),
        ("test", ""),
        ("dropout", "ㅅ"),
        ("string", "ㅇ"),
        ("load_pretrained('bert.base')", ""),
        ("`max_len`", "ㄴ"),
        ("GiB", ""),
        ("Adam", "ㅁ"),
        ("Colab", "ㅂ"),
        ("fine_tune", "ㄴ"),
        ("LivePlot", "ㅅ"),
        ("--resume", "ㅁ"),
        ("my_truncate_proportional(p, h, budget)", "ㄹ"),
        ("grade(...)", ""),
        ("josa()", ""),
        ("download NAME", "ㅁ"),
        ("mirror OUT/", "ㅅ"),
        ("street.", ""),
        ("source/04_exercise_truncation/", "ㄴ"),
        ("root", ""),
        ("float", ""),
        ("format", "ㅅ"),
    ],
)
def test_code_names_are_read_as_korean_technical_writing_transcribes_them(name, final):
    assert final_sound(name) == final, name


@pytest.mark.parametrize(
    "word, pair, expected",
    [
        ("에폭", "으로/로", "에폭으로"),
        ("에폭", "이/가", "에폭이"),
        ("배치", "을/를", "배치를"),
        ("모델", "으로/로", "모델로"),
        (128, "을/를", "128을"),
        (512, "을/를", "512를"),
        ("max_len=128", "을/를", "max_len=128을"),
        ("max_len=64", "이/가", "max_len=64가"),
        (10, "이/가", "10이"),
        (2, "이/가", "2가"),
        (0, "은/는", "0은"),
        (1, "으로/로", "1로"),
        (3, "으로/로", "3으로"),
        (7, "으로/로", "7로"),
        (6, "으로/로", "6으로"),
        (1000, "과/와", "1000과"),
        (4, "와/과", "4와"),
        ("0.786", "이/가", "0.786이"),
        ("1e-4", "으로/로", "1e-4로"),
        ("bert.small", "을/를", "bert.small을"),
        ("bert.base", "을/를", "bert.base를"),
        ("GPU", "을/를", "GPU를"),
        ("MLM", "은/는", "MLM은"),
        ("vocab", "이/가", "vocab이"),
        ("bert.small", "으로/로", "bert.small로"),
    ],
)
def test_josa_picks_the_particle(word, pair, expected):
    assert josa(word, pair) == expected


def test_unknown_reading_writes_both_forms_and_bad_pairs_are_refused():
    assert particle("→", "을/를") == "을(를)"
    assert particle("", "이/가") == "이(가)"
    assert particle("😀", "으로/로") == "으로(로)"
    with pytest.raises(ValueError, match="unknown particle pair"):
        particle("에폭", "의")


def test_every_supported_pair_differs_by_final_sound():
    for pair in ("을/를", "이/가", "은/는", "과/와", "으로/로", "이나/나", "이라/라"):
        assert particle("책", pair) != particle("나무", pair), pair


def test_wrong_particles_after_numbers_are_found():
    from bertnli.book.korean import wrong_particles

    assert wrong_particles("max_len을 128로 두면 128를 넘는 쌍은 잘립니다") == ["128를 -> 128을"]
    assert wrong_particles("GPU 2개, 3가지 방법, 10이며, 6으로는 충분합니다") == []
    assert wrong_particles("배치 512을 쓰고 10가 되면 6로는 부족하고 3로 나눕니다") == [
        "512을 -> 512를",
        "10가 -> 10이",
        "6로는 -> 6으로는",
        "3로 -> 3으로",
    ]
    assert wrong_particles("테스트 정확도 0.786은 높고 1e-4로 시작합니다") == []
    assert wrong_particles("v1.0과 2와 1000과 7로") == []


@pytest.mark.parametrize(
    "lr, epochs, max_len, batch", [(1e-3, 1, 32, 8), (3e-5, 7, 600, 4096), (2e-5, 3, 128, 6)]
)
def test_exercise_hints_glue_no_wrong_particle_to_a_number(lr, epochs, max_len, batch):
    from bertnli.book.exercises import check_bert_base_plan
    from bertnli.book.korean import wrong_particles

    text = str(
        check_bert_base_plan(lr=lr, batch_size=batch, epochs=epochs, max_len=max_len, amp=False)
    )
    assert wrong_particles(text) == [], text
