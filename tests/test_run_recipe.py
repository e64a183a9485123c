"""The whole job in one call: --seed makes a run reproducible."""

import contextlib
import io

import pytest
import torch

from bertnli import get_profile
from bertnli.run.recipe import chapter_run, finetune_job


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run_and_another_seed_another(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    profile = get_profile("sample").with_overrides(epochs=1)
    runs = [finetune_job(profile, seed=seed, device="cpu", progress=False) for seed in (7, 7, 8)]
    (model_a, _, history_a), (model_b, _, history_b), (model_c, _, history_c) = runs
    assert (
        history_a.to_dict()["epochs"][0]["train_loss"]
        == history_b.to_dict()["epochs"][0]["train_loss"]
    )
    assert (
        history_a["valid_acc"] == history_b["valid_acc"]
        and history_a.test_acc == history_b.test_acc
    )
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert history_c["train_loss"] != history_a["train_loss"]
    assert not torch.equal(model_c.output.weight, model_a.output.weight)


# --------------------------------------------------------------------------- messages that name the fix (issue 21, item 7)


def test_a_wrong_bertnli_data_is_one_line_naming_the_variable(tmp_path, monkeypatch):
    """What a chapter's first cell (get_profile) says about a BERTNLI_DATA that is not there:
    one line naming the variable and the fix, also as a notebook shows it."""
    from IPython.core.interactiveshell import InteractiveShell

    from bertnli.run.profiles import SettingError

    monkeypatch.setenv("BERTNLI_DATA", str(tmp_path / "no-such-folder"))
    with pytest.raises(
        SettingError,
        match=r"^\$BERTNLI_DATA=.*no-such-folder: no such file or folder\. "
        r"Point \$BERTNLI_DATA at .*snli_1\.0_train\.txt.*or unset it",
    ):
        get_profile("sample")
    (tmp_path / "notes").mkdir()
    monkeypatch.setenv("BERTNLI_DATA", str(tmp_path / "notes"))  # a folder, but not SNLI's
    with pytest.raises(
        SettingError,
        match=r"not a corpus's files .*notes holds the files of no corpus bertnli "
        r"reads; it looked for snli: snli_1\.0_train\.txt",
    ):
        get_profile("sample")
    # The chapter's first cell, run as a notebook runs it: IPython shows one line, no frames.
    shell = InteractiveShell.instance()
    try:
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            result = shell.run_cell(
                "from bertnli import get_profile\nprofile = get_profile(announce=True)"
            )
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, SettingError)
    lines = output.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("SettingError: $BERTNLI_DATA="), lines


def test_a_wrong_bertnli_model_is_named_and_an_option_wins_over_the_variable(
    tmp_path, monkeypatch, capsys
):
    from bertnli import cli

    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BERTNLI_MODEL", str(tmp_path / "gone.zip"))
    assert cli.main(["info"]) == 2
    err = capsys.readouterr().err
    assert (
        "$BERTNLI_MODEL=" in err and "gone.zip: no such file or folder" in err and "unset it" in err
    )
    assert len(err.strip().splitlines()) == 1
    assert (
        cli.main(["info", "--model", "sample"]) == 0
    )  # the option replaces the variable: no complaint


def test_a_command_checks_only_the_paths_it_uses(tmp_path, monkeypatch):
    """Probe: a wrong BERTNLI_BASE_MODEL (chapter 5's) does not stop a fine-tuning command, which never
    loads it; chapter 5's get_profile does refuse it."""
    from bertnli.run.profiles import SettingError

    monkeypatch.setenv("BERTNLI_BASE_MODEL", str(tmp_path / "bert.base.zip"))
    profile = get_profile("sample", check_paths=False)
    profile.check_paths(("model", "data"))  # what finetune checks: fine
    with pytest.raises(
        SettingError, match=r"^\$BERTNLI_BASE_MODEL=.*bert\.base\.zip: no such file or folder"
    ):
        get_profile("sample")


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_chapter_run_folder_depends_on_every_setting(tmp_path):
    p = get_profile("sample")
    a, b = (
        chapter_run(p, "chapter3"),
        chapter_run(p.with_overrides("BERTNLI_EPOCHS", epochs=6), "chapter3"),
    )
    assert a.path == b.path  # the same value: the same run (where it came from does not matter)
    assert chapter_run(p.with_overrides(train_pairs=10), "chapter3").path != a.path
    assert chapter_run(p, "chapter4-proportional").path != a.path
    assert a.path.parent == tmp_path / "runs" and a.config["profile"]["name"] == "sample"
