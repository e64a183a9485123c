"""One run description (issue 20, item 1): ``RunSpec`` built from profile < ``BERTNLI_*`` <
arguments, each rule checked once with a message naming the option and the fix, kept verbatim
in run.json (and appended on resume); a run folder of the previous run.json layout still
evaluates and resumes; no public function takes more than 10 parameters."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch

import bertnli
from bertnli import cli
from bertnli.run.checkpoint import HISTORY_FILE, RUN_FILE, read_run
from bertnli.run.profiles import PROFILES
from bertnli.run.recipe import finetune_job
from bertnli.run.rules import CLI, SettingError
from bertnli.run.spec import Optimization, RunSpec, TrainSettings

SRC = Path(bertnli.__file__).resolve().parent
MAX_PARAMETERS = 10
TINY = dict(epochs=1, train_pairs=64, test_pairs=32, device="cpu", progress=False)


# ----------------------------------------------------------------------------- no long parameter lists


def _public_functions():
    """``(where, name, parameter count)`` for every public function and method of the package
    (``self``/``cls`` not counted; ``*args`` and ``**kwargs`` count one each)."""

    def walk(node, prefix, path):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                yield from walk(child, f"{prefix}{child.name}.", path)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if child.name.startswith("_") and child.name != "__init__":
                    continue
                a = child.args
                names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
                count = len(names) + (a.vararg is not None) + (a.kwarg is not None)
                if prefix and names[:1] in (["self"], ["cls"]):
                    count -= 1
                yield f"{path.relative_to(SRC)}", prefix + child.name, count

    for path in sorted(SRC.rglob("*.py")):
        yield from walk(ast.parse(path.read_text(encoding="utf-8")), "", path)


def test_no_public_function_or_method_takes_more_than_ten_parameters():
    found = list(_public_functions())
    assert any(name == "fine_tune" for _, name, _ in found)  # the walk sees the package
    long = [f"{where}: {name} ({count})" for where, name, count in found if count > MAX_PARAMETERS]
    assert not long, "related settings travel as one object (a dataclass): " + "; ".join(long)


# ----------------------------------------------------------------------------- precedence


def test_arguments_win_over_variables_which_win_over_the_profile():
    preset = PROFILES["sample"]
    assert RunSpec.build("sample", env={}).profile.epochs == preset.epochs
    from_env = RunSpec.build("sample", env={"BERTNLI_EPOCHS": "3", "BERTNLI_TRAIN_PAIRS": "50"})
    assert (from_env.profile.epochs, from_env.profile.train_pairs) == (3, 50)
    assert "epochs=3 (BERTNLI_EPOCHS)" in from_env.profile.overrides
    given = RunSpec.build("sample", env={"BERTNLI_EPOCHS": "3"}, epochs=2, lr=5e-4, seed=4)
    assert (given.profile.epochs, given.profile.lr, given.seed) == (2, 5e-4, 4)
    assert "epochs=2 (epochs=)" in given.profile.overrides and given.optimization == Optimization(
        5e-4
    )
    on_cli = RunSpec.build(None, env={"BERTNLI_PROFILE": "laptop"}, surface=CLI, epochs=2)
    assert on_cli.profile.name == "laptop" and "epochs=2 (--epochs)" in on_cli.profile.overrides
    assert (
        RunSpec.build("sample", env={}, epochs=None).profile.epochs == preset.epochs
    )  # None: not given


def test_the_spec_makes_the_loops_settings():
    spec = RunSpec.build("sample", env={}, epochs=2, lr=3e-4, seed=5, amp=False)
    settings = spec.train_settings()
    assert (settings.epochs, settings.lr, settings.seed, settings.amp) == (2, 3e-4, 5, False)
    assert TrainSettings.make(settings, lr=1e-3).optimization == Optimization(1e-3)
    with pytest.raises(TypeError, match="learning_rate"):
        TrainSettings.make(learning_rate=1e-3)


def test_the_optimization_makes_the_optimizer_and_applies_its_rate_on_resume():
    model = torch.nn.Linear(2, 2)
    optimizer = Optimization(1e-3).make_optimizer(model, torch.device("cpu"))
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3]
    Optimization(3e-5).apply(optimizer)
    assert [g["lr"] for g in optimizer.param_groups] == [3e-5]


def test_a_schedule_is_one_method_of_the_optimization_and_the_loop_follows_it():
    """Linear warm-up added the way the docstring says (a field and step_hook's body, here in a
    subclass): fine_tune, unchanged, sets each step's learning rate from it, across epochs."""
    from dataclasses import dataclass

    from helpers.tiny_task import tiny_bert, tiny_loader

    from bertnli import BERTClassifier
    from bertnli.run.train import fine_tune

    seen = []

    @dataclass(frozen=True)
    class WarmUp(Optimization):
        warmup_steps: int = 4

        def step_hook(self, optimizer):
            def hook(step, steps_per_epoch):
                rate = self.lr * min(1.0, (step + 1) / self.warmup_steps)
                for group in optimizer.param_groups:
                    group["lr"] = rate
                seen.append((step, rate))

            return hook

    loader = tiny_loader()
    fine_tune(
        BERTClassifier(tiny_bert()),
        loader,
        None,
        TrainSettings(epochs=2, optimization=WarmUp(1e-3), device="cpu", progress=False),
    )
    steps = 2 * len(loader)
    assert [s for s, _ in seen] == list(range(steps))
    assert [r for _, r in seen[:4]] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert all(r == pytest.approx(1e-3) for _, r in seen[4:])
    assert (
        Optimization(1e-3).step_hook(None) is None
    )  # the reference's constant rate: no per-step work


# ----------------------------------------------------------------------------- each rule, once

PYTHON_RULES = [
    (dict(lr=float("nan")), ["lr=", "finite positive", "reference run uses 1e-4"]),
    (dict(lr=0.0), ["lr=", "finite positive"]),
    (dict(epochs=0), ["epochs=", "positive integer", "at least 1"]),
    (dict(batch_size=-2), ["batch_size=", "positive integer", "at least 1"]),
    (dict(max_len=0), ["max_len=", "positive integer"]),
    (dict(train_pairs=0), ["train_pairs=", "positive integer"]),
    (dict(truncation="middle"), ["truncation=", "one of longest_first, proportional", "'middle'"]),
    (dict(resume=True), ["resume=True", "needs the run folder (out=)"]),
    (
        dict(out="x", resume=True, overwrite=True),
        ["resume=True", "overwrite=True", "contradict", "choose one"],
    ),
    (dict(num_workers=-1), ["num_workers=", "0 or more"]),
    (dict(device="tpu:x"), ["device", "'tpu:x'", "use cpu, cuda, cuda:1 or mps"]),
]


@pytest.mark.parametrize(
    "arguments, words", PYTHON_RULES, ids=[",".join(a) for a, _ in PYTHON_RULES]
)
def test_each_rule_names_the_keyword_and_the_fix(arguments, words):
    with pytest.raises(ValueError) as err:  # a SettingError; the device's comes from hardware
        RunSpec.build("sample", env={}, **arguments)
    assert all(word in str(err.value) for word in words), str(err.value)


def test_on_the_command_line_the_rules_name_the_option():
    with pytest.raises(SettingError, match=r"--epochs must be a positive integer"):
        RunSpec.build("sample", env={}, surface=CLI, epochs=0)
    with pytest.raises(SettingError, match=r"--resume needs the run folder \(--out\)"):
        RunSpec.build("sample", env={}, surface=CLI, resume=True)
    with pytest.raises(SettingError, match=r"--truncation must be one of"):
        RunSpec.build("sample", env={}, surface=CLI, truncation="middle")


def test_a_variable_is_named_as_the_variable():
    with pytest.raises(
        SettingError, match=r"\$BERTNLI_EPOCHS must be a positive integer, got 0; give"
    ):
        RunSpec.build("sample", env={"BERTNLI_EPOCHS": "0"})
    with pytest.raises(
        SettingError, match=r"unknown profile 'huge' \(from the BERTNLI_PROFILE\); choose one of"
    ):
        RunSpec.build(None, env={"BERTNLI_PROFILE": "huge"})


def test_the_rules_that_need_the_job_or_the_checkpoint():
    spec = RunSpec.build("sample", env={}, batch_size=30)
    with pytest.raises(
        SettingError,
        match=r"batch size 30 \(batch_size=\) is not divisible by the 4 processes; "
        r"give a multiple of 4",
    ):
        spec.check_world(4)
    spec.check_world(3)
    with pytest.raises(
        SettingError,
        match=r"max_len 64 \(max_len=\) exceeds the checkpoint's max_len 32; give at "
        r"most 32",
    ):
        spec.check_checkpoint(32)


def test_the_api_keeps_its_keywords_and_refuses_unknown_ones():
    from bertnli.data.loader import make_loader
    from bertnli.run.train import fine_tune

    with pytest.raises(TypeError, match="learning_rate"):
        fine_tune(torch.nn.Linear(2, 2), [], None, learning_rate=1e-3)
    with pytest.raises(TypeError, match="workers"):
        make_loader(None, 8, shuffle=False, workers=2)


# ----------------------------------------------------------------------------- run.json keeps the spec


def _json(value):
    return json.loads(json.dumps(value))


@pytest.mark.slow
def test_run_json_keeps_the_spec_verbatim_and_appends_each_resume(tmp_path):
    run = tmp_path / "run"
    spec = RunSpec.build("sample", env={}, out=run, **TINY)
    finetune_job(spec)
    saved = read_run(run)
    assert saved["spec"] == _json(spec.to_dict()) and saved["resumes"] == []
    assert RunSpec.from_dict(saved["spec"]) == spec
    again = RunSpec.build(
        None, env={}, out=run, resume=True, epochs=2, lr=5e-4, device="cpu", progress=False
    )
    assert (
        again.profile.name == "sample" and again.profile.train_pairs == 64
    )  # the run's own settings
    finetune_job(again)
    resumed = read_run(run)
    assert resumed["spec"] == saved["spec"]  # the first session's, unchanged
    assert (
        resumed["resumes"] == [_json(again.to_dict())]
        and resumed["resumes"][0]["profile"]["lr"] == 5e-4
    )
    assert [s["lr"] for s in resumed["segments"]] == [
        PROFILES["sample"].lr,
        5e-4,
    ]  # as history.json's segments


# ----------------------------------------------------------------------------- the previous run.json layout

# What run.json held before RunSpec (format bertnli-finetune-2): these keys, no "spec", no "resumes".
PREVIOUS_RUN_JSON_KEYS = {
    "format",
    "epoch",
    "config",
    "model_description",
    "vocab_size",
    "segments",
}


@pytest.mark.slow
def test_a_run_folder_of_the_previous_layout_evaluates_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    finetune_job(RunSpec.build("sample", env={}, out=run, **TINY))
    new = read_run(run)
    previous = {
        "format": "bertnli-finetune-2",
        "epoch": 1,  # written literally, as the previous version did
        "config": {"profile": new["config"]["profile"], "seed": 0},
        "model_description": new["model_description"],
        "vocab_size": new["vocab_size"],
        "segments": new["segments"],
    }
    assert set(previous) == PREVIOUS_RUN_JSON_KEYS
    (run / RUN_FILE).write_text(json.dumps(previous), encoding="utf-8")

    assert cli.main(["evaluate", str(run), "--split", "dev"]) == 0
    assert "dev: accuracy" in capsys.readouterr().out
    assert cli.main(["predict", str(run), "A man sleeps.", "A person rests."]) == 0
    code = cli.main(
        [
            "finetune",
            "--out",
            str(run),
            "--resume",
            "--epochs",
            "2",
            "--device",
            "cpu",
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    resumed = read_run(run)
    assert "spec" not in resumed and len(resumed["resumes"]) == 1  # it gains its resumes only
    assert (
        resumed["resumes"][0]["profile"]["epochs"] == 2 and resumed["resumes"][0]["resume"] is True
    )
    assert len(json.loads((run / HISTORY_FILE).read_text())["epochs"]) == 2
