"""korean_profile(): chapter 6's Korean model, corpus and sizes for each of the three profiles."""

from __future__ import annotations

import pytest

from bertnli.run.korean_profiles import LAPTOP_TRAIN_PAIRS, korean_profile
from bertnli.run.profiles import PROFILES, get_profile


@pytest.mark.parametrize(
    "name, model, data",
    [
        ("sample", "ko-sample", "kornli-sample"),
        ("laptop", "koelectra-small", "kornli"),
        ("full", "klue-bert-base", "kornli"),
    ],
)
def test_each_profile_gets_its_korean_model_and_corpus(name, model, data):
    profile = korean_profile(PROFILES[name])
    assert (profile.name, profile.model, profile.data) == (name, model, data)


def test_the_laptop_profile_is_a_fixed_subset_and_the_full_one_all_of_kornli():
    assert korean_profile(PROFILES["laptop"]).train_pairs == LAPTOP_TRAIN_PAIRS
    assert korean_profile(PROFILES["full"]).train_pairs is None


def test_descriptions_state_the_published_accuracies_as_expectations():
    full, laptop = korean_profile(PROFILES["full"]), korean_profile(PROFILES["laptop"])
    assert (
        "81.47" in full.description_en
        and "81.47" in full.description_ko
        and "KLUE" in full.description_en
    )
    assert "0.77" in laptop.description_en and "0.77" in laptop.description_ko
    assert "expectation" in full.description_en and "기대치" in full.description_ko


def test_a_readers_override_wins(monkeypatch):
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", "500")
    monkeypatch.setenv("BERTNLI_PROFILE", "laptop")
    profile = korean_profile(get_profile(check_paths=False))
    assert profile.train_pairs == 500 and profile.model == "koelectra-small"


def test_an_unknown_profile_is_refused():
    from dataclasses import replace

    with pytest.raises(ValueError, match="no Korean settings for the profile 'gpu'"):
        korean_profile(replace(PROFILES["full"], name="gpu"))
