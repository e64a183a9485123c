"""No raw traceback from the command line (issue 10, points 1 and 8).

Every failure a user can cause ends with one or two lines on stderr that name the file
(and the line, where there is one), say what is wrong and what to do, and a non-zero
exit. ``CASES`` is the table: each row builds a broken input in ``tmp_path`` and runs the
real ``python -m bertnli`` on it. A full disk cannot be made for real, so it is simulated
in-process (``torch.save`` raising ENOSPC).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.malicious import WritesAFile
from helpers.snli_files import write_corpus
from helpers.tiny_task import tiny_bert, tiny_loader

from bertnli import BERTClassifier, cli, fine_tune, load_pretrained
from bertnli.run.checkpoint import CHECKPOINT_FILE, FORMAT, HISTORY_FILE, RUN_FILE, load_checkpoint
from bertnli.sample import NOTICE

SAMPLE_PROFILE = {
    "name": "sample",
    "model": "sample",
    "data": "sample",
    "epochs": 2,
    "batch_size": 64,
    "max_len": 64,
    "lr": 1e-3,
    "truncation": "longest_first",
}


def bertnli(
    *argv: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bertnli", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def error_lines(stderr: str) -> list[str]:
    """stderr without the sample's two-line notice (it is information, not the error)."""
    notice = set(NOTICE.splitlines())
    return [line for line in stderr.splitlines() if line.strip() and line not in notice]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    """A real one-epoch sample run, made once; cases copy it and break the copy."""
    root = tmp_path_factory.mktemp("good")
    done = bertnli(
        "finetune",
        "--epochs",
        "1",
        "--out",
        str(root / "run"),
        "--device",
        "cpu",
        env={"BERTNLI_CACHE": str(root / "cache")},
    )
    assert done.returncode == 0, done.stderr
    return root / "run"


def copy_run(good_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(good_run, tmp_path / "run"))


def api_run(tmp_path: Path) -> Path:
    """A run folder written by the Python API with a plain checkpoint_dir: no profile, no vocabulary."""
    data = tiny_loader()
    fine_tune(
        BERTClassifier(tiny_bert()),
        data,
        None,
        epochs=1,
        device="cpu",
        checkpoint_dir=tmp_path / "api",
    )
    return tmp_path / "api"


def broken_snli(tmp_path: Path) -> Path:
    folder = write_corpus(tmp_path / "snli")
    lines = (folder / "snli_1.0_train.txt").read_bytes().split(b"\n")
    assert b"cups" in lines[5]
    lines[5] = lines[5].replace(b"cups", b"cu\xffps")  # line 6 of the file: a Latin-1 byte
    (folder / "snli_1.0_train.txt").write_bytes(b"\n".join(lines))
    return folder


def case_empty_checkpoint(tmp, good):
    run = copy_run(good, tmp)
    (run / CHECKPOINT_FILE).write_bytes(b"")
    return ["predict", str(run), "A man sleeps.", "A person rests."], [
        str(run / CHECKPOINT_FILE),
        "not a readable PyTorch checkpoint",
    ]


def case_truncated_checkpoint(tmp, good):
    run = copy_run(good, tmp)
    data = (run / CHECKPOINT_FILE).read_bytes()
    (run / CHECKPOINT_FILE).write_bytes(data[: len(data) // 2])
    return ["evaluate", str(run)], [
        str(run / CHECKPOINT_FILE),
        "not a readable PyTorch checkpoint",
        "fine-tune",
    ]


def case_history_file_as_run(tmp, good):
    run = copy_run(good, tmp)
    return ["evaluate", str(run / HISTORY_FILE)], [
        str(run / HISTORY_FILE),
        "this is a file",
        "run folder",
    ]


def case_api_run_predict(tmp, good):
    run = api_run(tmp)
    return ["predict", str(run), "A man sleeps.", "A person rests."], [
        str(run / RUN_FILE),
        "records no profile",
    ]


def case_api_run_resume(tmp, good):
    run = api_run(tmp)
    return ["finetune", "--out", str(run), "--resume"], [str(run / RUN_FILE), "records no profile"]


def case_run_json_not_a_run(tmp, good):
    run = copy_run(good, tmp)
    (run / RUN_FILE).write_text("[1, 2, 3]")
    return ["evaluate", str(run)], [str(run / RUN_FILE), "not a bertnli run description"]


def case_no_run_at_all(tmp, good):
    return ["predict", str(tmp / "nowhere"), "a", "b"], [str(tmp / "nowhere"), "no such folder"]


def case_cache_is_a_file(tmp, good):
    (tmp / "cache-file").write_text("x")
    return (
        ["finetune", "--epochs", "1", "--out", str(tmp / "run")],
        [str(tmp / "cache-file"), "is a file, not a folder", "BERTNLI_CACHE"],
        {"BERTNLI_CACHE": str(tmp / "cache-file")},
    )


def case_cache_command_with_cache_a_file(tmp, good):
    (tmp / "cache-file").write_text("x")
    return (
        ["cache"],
        [str(tmp / "cache-file"), "is a file"],
        {"BERTNLI_CACHE": str(tmp / "cache-file")},
    )


def case_out_is_a_file(tmp, good):
    (tmp / "out.txt").write_text("my notes")
    return ["finetune", "--epochs", "1", "--out", str(tmp / "out.txt")], [
        str(tmp / "out.txt"),
        "is a file",
    ]


def case_malformed_notebook(tmp, good):
    (tmp / "nb").mkdir()
    (tmp / "nb" / "01_intro.ipynb").write_text('{"cells": [ {"cell_type": "code", ')
    return (
        ["classroom", "student-copy", str(tmp / "students"), "--notebooks", str(tmp / "nb")],
        [str(tmp / "nb" / "01_intro.ipynb"), "not a readable notebook"],
    )


def case_notebook_that_is_not_a_notebook(tmp, good):
    (tmp / "nb").mkdir()
    (tmp / "nb" / "01_intro.ipynb").write_text(json.dumps({"nbformat": 4, "cells": "not a list"}))
    return (
        ["classroom", "student-copy", str(tmp / "students"), "--notebooks", str(tmp / "nb")],
        [str(tmp / "nb" / "01_intro.ipynb"), "notebook"],
    )


def case_snli_not_utf8(tmp, good):
    folder = broken_snli(tmp)
    return (
        ["finetune", "--data", str(folder), "--epochs", "1", "--out", str(tmp / "run")],
        [f"{folder / 'snli_1.0_train.txt'}, line 6", "byte 0xff is not UTF-8", "UTF-8"],
    )


def case_snli_short_row(tmp, good):
    folder = write_corpus(tmp / "snli")
    with open(folder / "snli_1.0_test.txt", "a", encoding="utf-8") as f:
        f.write("entailment\tonly two columns\n")
    return (
        ["evaluate", str(copy_run(good, tmp)), "--split", "test"],
        ["snli_1.0_test.txt", "line", "columns"],
        {},
        folder,
    )


def case_model_folder_without_weights(tmp, good):
    (tmp / "bert").mkdir()
    (tmp / "bert" / "vocab.json").write_text('["<unk>"]')
    return ["finetune", "--model", str(tmp / "bert"), "--epochs", "1"], [
        str(tmp / "bert"),
        "pretrained.params",
    ]


# Issue 21, item 7: fields missing from a run's files used to end in "unexpected error: KeyError 'bert'".


def _edit_checkpoint(run: Path, change) -> Path:
    payload = torch.load(run / CHECKPOINT_FILE, weights_only=True)
    change(payload)
    torch.save(payload, run / CHECKPOINT_FILE)
    return run / CHECKPOINT_FILE


def _edit_run_json(run: Path, change) -> Path:
    settings = json.loads((run / RUN_FILE).read_text())
    change(settings)
    (run / RUN_FILE).write_text(json.dumps(settings))
    return run / RUN_FILE


RESUME = ("--resume", "--epochs", "2", "--device", "cpu")


def case_checkpoint_without_model_description(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_checkpoint(run, lambda p: p.pop("model_description"))
    return ["predict", str(run), "A man sleeps.", "A person rests."], [
        str(file),
        "'model_description' is missing",
    ]


def case_checkpoint_description_without_bert(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_checkpoint(run, lambda p: p["model_description"].pop("bert"))
    return ["evaluate", str(run)], [str(file), "model_description lacks the field 'bert'"]


def case_checkpoint_without_weights_resumed(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_checkpoint(run, lambda p: p.pop("model"))
    return ["finetune", "--out", str(run), *RESUME], [str(file), "'model' is missing"]


def case_checkpoint_without_optimizer_resumed(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_checkpoint(run, lambda p: p.pop("optimizer"))
    return ["finetune", "--out", str(run), *RESUME], [str(file), "'optimizer' is missing"]


def case_checkpoint_without_rng_resumed(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_checkpoint(run, lambda p: p.pop("rng"))
    return ["finetune", "--out", str(run), *RESUME], [str(file), "'rng' is missing"]


def case_run_json_description_without_bert_resumed(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_run_json(run, lambda s: s["model_description"].pop("bert"))
    return ["finetune", "--out", str(run), *RESUME], [
        str(file),
        "model_description is incomplete",
        "'bert'",
    ]


def case_run_json_max_len_a_string(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_run_json(run, lambda s: s["config"]["profile"].__setitem__("max_len", "64"))
    return ["predict", str(run), "A man sleeps.", "A person rests."], [
        str(file),
        "'max_len' is '64', not an integer",
    ]


def case_run_json_profile_a_list_resumed(tmp, good):
    run = copy_run(good, tmp)
    file = _edit_run_json(run, lambda s: s["config"].__setitem__("profile", ["sample"]))
    return ["finetune", "--out", str(run), *RESUME], [str(file), "records no profile"]


CASES = {
    name.removeprefix("case_"): fn for name, fn in globals().items() if name.startswith("case_")
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_broken_input_gets_a_short_message_naming_the_file(name, tmp_path, good_run):
    made = CASES[name](tmp_path, good_run)
    argv, expected = made[0], made[1]
    env = {"BERTNLI_CACHE": str(tmp_path / "cache"), **(made[2] if len(made) > 2 else {})}
    if len(made) > 3:  # the run's data moved: point the run's profile at the broken corpus
        run = Path(argv[1])
        settings = json.loads((run / RUN_FILE).read_text())
        settings["config"]["profile"]["data"] = str(made[3])
        (run / RUN_FILE).write_text(json.dumps(settings))
    done = bertnli(*argv, env=env)
    lines = error_lines(done.stderr)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert 1 <= len(lines) <= 2, done.stderr  # one or two lines, not a page
    message = " ".join(lines)
    assert message.startswith("bertnli ") and "error" in message
    for words in expected:
        assert words in message, message


def test_a_full_disk_while_saving_is_a_message_and_keeps_the_last_checkpoint(
    tmp_path, monkeypatch, capsys
):
    """ENOSPC while writing epoch 2's checkpoint: a clear message; epoch 1's checkpoint stays whole."""
    from bertnli.run import checkpoint

    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    real, calls = checkpoint.torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) == 2:
            Path(f).write_bytes(b"half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    run = tmp_path / "run"
    code = cli.main(["finetune", "--epochs", "3", "--out", str(run), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{run / CHECKPOINT_FILE}: no space left on the disk" in err and "Free some space" in err
    assert load_checkpoint(run)["epoch"] == 1
    assert sorted(p.name for p in run.iterdir()) == sorted(
        [CHECKPOINT_FILE, RUN_FILE, HISTORY_FILE]
    )


def test_an_unforeseen_error_is_one_message_unless_debugging(monkeypatch, capsys):
    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "cmd_info", broken)
    monkeypatch.delenv("BERTNLI_DEBUG", raising=False)
    parser_func = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_info(parser_func(), broken))
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: KeyError" in err and "BERTNLI_DEBUG=1" in err
    monkeypatch.setenv("BERTNLI_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["info"])


def _with_info(parser, func):
    """The parser with ``info`` bound to ``func`` (set_defaults was bound at build time)."""
    for action in parser._subparsers._group_actions:  # argparse keeps sub-parsers here
        action.choices["info"].set_defaults(func=func)
    return parser


def test_resuming_a_crafted_checkpoint_from_the_command_line_runs_nothing(tmp_path):
    """Point 1 through ``finetune --resume``: a checkpoint with the sample's architecture (so every
    check before it passes) whose RNG state is a pickled ``exec`` is refused, and nothing runs."""
    bert, vocab = load_pretrained("sample")
    model = BERTClassifier(bert)
    run, target = tmp_path / "run", tmp_path / "side-effect.txt"
    run.mkdir()
    torch.save(
        {
            "format": FORMAT,
            "model": model.state_dict(),
            "model_description": model.describe(),
            "optimizer": None,
            "scaler": None,
            "epoch": 1,
            "rng": WritesAFile(target),
            "config": {},
            "vocab": vocab.idx_to_token,
            "history": {"epochs": []},
        },
        run / CHECKPOINT_FILE,
    )
    (run / RUN_FILE).write_text(
        json.dumps(
            {
                "format": FORMAT,
                "epoch": 1,
                "config": {"profile": SAMPLE_PROFILE},
                "model_description": model.describe(),
                "vocab_size": len(vocab),
            }
        )
    )
    done = bertnli(
        "finetune",
        "--out",
        str(run),
        "--resume",
        "--epochs",
        "2",
        "--device",
        "cpu",
        env={"BERTNLI_CACHE": str(tmp_path / "cache")},
    )
    assert (
        done.returncode == 2
        and "refusing to load" in done.stderr
        and "Traceback" not in done.stderr
    )
    assert not target.exists()


def test_a_file_given_as_the_run_is_named_once(tmp_path, capsys):
    """Probe: ``evaluate RUN/checkpoint.pt`` said ``RUN/checkpoint.pt/run.json: ...: RUN/checkpoint.pt: this is a file``."""
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT_FILE).write_bytes(b"")
    assert cli.main(["evaluate", str(run / CHECKPOINT_FILE)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"bertnli evaluate: error: {run / CHECKPOINT_FILE}: this is a file; give the run folder that "
        f"holds it ({run})"
    )


def test_predict_on_a_data_folder_says_it_is_no_run(capsys):
    from bertnli import sample

    assert cli.main(["predict", str(sample.snli_dir()), "A man sleeps.", "A person rests."]) == 2
    err = capsys.readouterr().err
    assert "run.json: no run settings here" in err and "finetune --out" in err


@pytest.mark.slow
def test_a_garbled_history_does_not_stop_evaluate(tmp_path, good_run):
    """Probe: history.json is a record for people; evaluate and predict need only run.json and the checkpoint."""
    run = copy_run(good_run, tmp_path)
    (run / HISTORY_FILE).write_text("{oops")
    done = bertnli(
        "evaluate", str(run), "--split", "dev", env={"BERTNLI_CACHE": str(tmp_path / "cache")}
    )
    assert done.returncode == 0 and done.stdout.startswith("dev: accuracy"), done.stderr
