"""The run profiles (issue 11): ``BERTNLI_*`` overrides and the banner, the laptop profile
(real bert.small on a fixed subset of real SNLI) and its estimate, round trips through run.json.

Files made here where a path must exist: a bert.small-shaped checkpoint with a tiny vocabulary
and an SNLI-format corpus (``helpers.standin_files``). The rest of issue 11's tests live with their
subject: the training loop's dev/test and progress bars in test_run_train.py, the command line in
test_cli_finetune.py, the hub's moved-aside copies in test_hub.py, the plots in test_book_plots.py,
the costs in test_run_costs.py, the chapters in test_book_notebooks*.py, bench_train in
test_benchmarks_bench_train.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from helpers.standin_files import TINY_VOCAB, standin_files  # noqa: E402
from standins import write_checkpoint, write_corpus  # noqa: E402

from bertnli import read_snli  # noqa: E402
from bertnli.run import costs  # noqa: E402
from bertnli.run.profiles import ENV_OVERRIDES, PROFILES, Profile, get_profile  # noqa: E402
from bertnli.run.recipe import load_datasets, read_split, subset_indices  # noqa: E402

pytestmark = pytest.mark.usefixtures("clean_run_env")  # conftest.py


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


# ----------------------------------------------------------------------------- profiles and overrides


def test_env_overrides_reach_the_profile_and_the_banner(monkeypatch, files):
    # Paths that exist: get_profile refuses a BERTNLI_* path that is not there (issue 21, item 7).
    model, data, base = str(files["model"]), str(files["data_zip"]), str(files["model_zip"])
    monkeypatch.setenv("BERTNLI_PROFILE", "laptop")
    monkeypatch.setenv("BERTNLI_MODEL", model)
    monkeypatch.setenv("BERTNLI_DATA", data)
    monkeypatch.setenv("BERTNLI_EPOCHS", "3")
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", "1234")
    monkeypatch.setenv("BERTNLI_TEST_PAIRS", "56")
    monkeypatch.setenv("BERTNLI_BASE_MODEL", base)
    p = get_profile()
    assert (p.name, p.model, p.data, p.epochs, p.train_pairs, p.test_pairs, p.base_model) == (
        "laptop",
        model,
        data,
        3,
        1234,
        56,
        base,
    )
    assert p.max_len == PROFILES["laptop"].max_len  # what is not overridden stays
    banner = p.banner()
    for variable in ENV_OVERRIDES:
        assert variable in banner, variable
    assert (
        "epochs=3 (BERTNLI_EPOCHS)" in banner and "train_pairs=1234 (BERTNLI_TRAIN_PAIRS)" in banner
    )


def test_no_override_no_override_line():
    assert "overrides" not in get_profile("full").banner()


def test_the_banner_estimate_is_computed_from_the_settings(monkeypatch):
    """Issue 21, item 8: "~10 min ... ~100 MB" is the laptop profile's own estimate; an override that
    changes the size replaces it with one computed by bertnli.run.costs from the actual settings."""
    plain = get_profile("laptop").banner()
    assert "~10 minutes" in plain and "~100 MB" in plain
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", "600000")
    monkeypatch.setenv("BERTNLI_EPOCHS", "2")
    bigger = get_profile("laptop")
    seconds = costs.laptop_cpu_seconds(
        costs.LAPTOP_REFERENCE,
        train_pairs=costs.SNLI_PAIRS["train"],
        epochs=2,
        evaluated_pairs=2 * costs.SNLI_PAIRS["dev"] + costs.SNLI_PAIRS["test"],
        max_len=bigger.max_len,
    )
    banner = bigger.banner()
    assert "~10 minutes" not in banner and "~100 MB" not in banner
    assert f"~{round(seconds / 60)} min of fine-tuning on a 4-core laptop CPU" in banner
    assert f"약 {round(seconds / 60)}분" in banner and "Downloads: bert.small, snli" in banner
    assert 33 <= seconds / 60 <= 40  # all of SNLI's 549,367 pairs (600,000 asked), twice
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", "3000")
    monkeypatch.delenv("BERTNLI_EPOCHS")
    assert "under a minute" in get_profile("laptop").banner()


def test_the_laptop_profiles_own_estimate_agrees_with_costs():
    laptop = PROFILES["laptop"]
    seconds = costs.laptop_cpu_seconds(
        costs.LAPTOP_REFERENCE,
        train_pairs=laptop.train_pairs,
        epochs=laptop.epochs,
        evaluated_pairs=costs.SNLI_PAIRS["dev"] + costs.SNLI_PAIRS["test"],
        max_len=laptop.max_len,
    )
    assert 8 <= seconds / 60 <= 12  # "~10 minutes of chapter 3"


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5"])
def test_a_bad_override_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", value)
    with pytest.raises(ValueError, match=r"\$BERTNLI_TRAIN_PAIRS.*positive integer"):
        get_profile("sample")


def test_profile_round_trips_through_run_json_and_ignores_unknown_keys():
    p = (
        get_profile("laptop")
        .with_overrides("--epochs", epochs=4)
        .with_overrides("--epochs", epochs=5)
    )
    assert p.overrides == ("epochs=5 (--epochs)",)  # the latest value, listed once
    again = Profile.from_dict(json.loads(json.dumps({**p.to_dict(), "from_a_newer_version": 1})))
    assert again == p


def test_laptop_profile_is_real_bert_small_on_a_subset_of_real_snli():
    laptop = PROFILES["laptop"]
    assert (laptop.model, laptop.data) == ("bert.small", "snli")
    assert laptop.train_pairs and laptop.max_len <= 128 and laptop.epochs >= 1
    assert laptop.train_pairs < 549_367 and laptop.lr == PROFILES["full"].lr
    assert (
        laptop.test_pairs is None
    )  # all of dev and test: its test accuracy compares with the reference's


def test_subset_is_fixed_sorted_and_the_same_every_time():
    a, b = subset_indices(1000, 100, "train"), subset_indices(1000, 100, "train")
    assert (a == b).all() and len(set(a.tolist())) == 100 and (a[1:] > a[:-1]).all()
    assert not (subset_indices(1000, 100, "dev") == a).all()  # each split has its own draw
    assert subset_indices(50, 100, "train") is None and subset_indices(50, None, "train") is None


@pytest.mark.slow
def test_laptop_profile_size_through_the_overrides_on_made_up_files(tmp_path, monkeypatch):
    """The laptop profile's own training subset, on an SNLI-format corpus a bit larger than it
    (BERTNLI_DATA); BERTNLI_TEST_PAIRS cuts dev, and a test set smaller than that stays whole."""
    laptop = PROFILES["laptop"]
    n = laptop.train_pairs + 2000
    data = write_corpus(
        tmp_path / "big", {"train": n, "dev": 90, "test": 40}, vocab_size=TINY_VOCAB
    )
    monkeypatch.setenv("BERTNLI_DATA", str(data))
    monkeypatch.setenv("BERTNLI_TEST_PAIRS", "50")
    profile = get_profile("laptop")
    full = read_snli(str(data), "train")
    assert len(full[2]) > laptop.train_pairs
    vocab = __import__("bertnli").Vocab(
        json.loads(
            (write_checkpoint(tmp_path / "ckpt", vocab_size=TINY_VOCAB) / "vocab.json").read_text()
        )
    )
    sets = load_datasets(profile, vocab, splits=("train", "dev", "test"), cache=False)
    assert len(sets["train"]) == laptop.train_pairs
    assert len(sets["dev"]) == 50
    assert (
        len(sets["test"]) == len(read_snli(str(data), "test")[2]) < 50
    )  # fewer than test_pairs: all of them
    premises, _, labels = read_split(profile, "train")
    keep = subset_indices(len(full[2]), laptop.train_pairs, "train")
    assert premises[:5] == [full[0][i] for i in keep[:5]] and labels == [full[2][i] for i in keep]
