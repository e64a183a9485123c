"""Run folders: safe loading (no unpickling), plain RNG states, run.json, atomic writes."""

import ast
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.malicious import WritesAFile
from helpers.tiny_task import VOCAB, tiny_bert, tiny_loader

from bertnli import BERTClassifier, fine_tune
from bertnli.run.checkpoint import (
    CHECKPOINT_FILE,
    FORMAT,
    RUN_FILE,
    RunFolder,
    atomic_write,
    load_checkpoint,
    model_from_checkpoint,
    read_run,
    rng_state,
    save_checkpoint,
    set_rng_state,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "bertnli"
# ((tokens, segments, valid_lens), labels): one pair "<cls> man <sep> woman <sep>", label 1
ONE_BATCH = [
    (
        [torch.tensor([[3, 6, 4, 7, 4]]), torch.tensor([[0, 0, 0, 1, 1]]), torch.tensor([5])],
        torch.tensor([1]),
    )
]


def _malicious_run(folder: Path, target: Path) -> None:
    """A run folder whose checkpoint looks right but carries a pickled payload."""
    folder.mkdir(parents=True)
    model = BERTClassifier(tiny_bert())
    payload = {
        "format": FORMAT,
        "model": model.state_dict(),
        "model_description": model.describe(),
        "vocab": VOCAB.idx_to_token,
        "epoch": 1,
        "rng": WritesAFile(target),
    }
    torch.save(payload, folder / CHECKPOINT_FILE)
    (folder / RUN_FILE).write_text(
        json.dumps(
            {
                "format": FORMAT,
                "epoch": 1,
                "config": {
                    "profile": {
                        "name": "sample",
                        "model": "sample",
                        "data": "sample",
                        "epochs": 1,
                        "batch_size": 8,
                        "max_len": 32,
                        "lr": 1e-3,
                    }
                },
                "model_description": model.describe(),
                "vocab_size": len(VOCAB),
            }
        )
    )


def test_a_pickled_object_in_a_checkpoint_never_runs(tmp_path):
    run, target = tmp_path / "run", tmp_path / "side-effect.txt"
    _malicious_run(run, target)
    with pytest.raises(ValueError, match="refusing to load.*could run code"):
        load_checkpoint(run)
    with pytest.raises(ValueError, match=str(run)):
        model_from_checkpoint(run)
    with pytest.raises(ValueError, match="refusing"):  # resuming from it
        fine_tune(
            BERTClassifier(tiny_bert()),
            ONE_BATCH,
            None,
            epochs=2,
            device="cpu",
            checkpoint_dir=run,
            resume=True,
        )
    for command in (
        ["evaluate", str(run)],
        ["predict", str(run), "A dog runs.", "An animal moves."],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bertnli", *command], capture_output=True, text=True, timeout=120
        )
        assert (
            done.returncode == 2
            and "refusing to load" in done.stderr
            and "Traceback" not in done.stderr
        )
    assert not target.exists()
    # The payload is live: an unsafe load (what the package never does) would have run it.
    torch.load(run / CHECKPOINT_FILE, weights_only=False)
    assert target.read_text() == "ran"


def test_the_package_loads_with_weights_only_everywhere():
    """Every ``torch.load`` call in the package passes ``weights_only=True``; no pickle, no allow_pickle."""
    calls = []
    for file in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = f"{getattr(node.func.value, 'id', '?')}.{node.func.attr}"
                keywords = {k.arg: k.value for k in node.keywords}
                if name == "torch.load":
                    calls.append(file.name)
                    flag = keywords.get("weights_only")
                    assert isinstance(flag, ast.Constant) and flag.value is True, (
                        f"{file.name}:{node.lineno}"
                    )
                assert name not in ("pickle.load", "pickle.loads"), f"{file.name}:{node.lineno}"
                if name == "np.load":
                    flag = keywords.get("allow_pickle")
                    assert isinstance(flag, ast.Constant) and flag.value is False, (
                        f"{file.name}:{node.lineno}"
                    )
    assert "checkpoint.py" in calls and "pretrained.py" in calls


def test_rng_states_are_plain_data_and_restore_exactly(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.randn(), torch.rand(1)  # numpy now holds a cached gaussian
    state = rng_state()
    torch.save(state, tmp_path / "rng.pt")
    expected = (random.random(), np.random.randn(3).tolist(), torch.rand(3).tolist())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), np.random.randn(3).tolist(), torch.rand(3).tolist()) == expected


def test_run_json_describes_the_run_without_the_weights(tmp_path):
    model = BERTClassifier(tiny_bert())
    fine_tune(
        model,
        ONE_BATCH,
        None,
        epochs=2,
        device="cpu",
        checkpoint_dir=RunFolder(
            tmp_path, config={"profile": {"max_len": 32}, "seed": 4}, vocab=VOCAB
        ),
    )
    settings = read_run(tmp_path)
    segments = [
        {
            "from_epoch": 1,
            "epochs": 2,
            "lr": 1e-4,
            "device": "cpu",
            "world_size": 1,
            "amp": None,
            "progress": False,
        }
    ]  # the settings epochs 1 on ran with
    assert settings == {
        "format": FORMAT,
        "epoch": 2,
        "config": {"profile": {"max_len": 32}, "seed": 4},
        "model_description": model.describe(),
        "vocab_size": len(VOCAB),
        "segments": segments,
    }
    assert load_checkpoint(tmp_path)["epoch"] == 2
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "elsewhere")):
        read_run(tmp_path / "elsewhere")


def test_atomic_write_replaces_whole_files_or_nothing(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    atomic_write(target, "första 첫째\n")
    assert target.read_text(encoding="utf-8") == "första 첫째\n"
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"

    def fails(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_bytes() == b"\x00\x01" and os.listdir(target.parent) == ["file.txt"]


def test_no_module_renames_its_own_temporary_files():
    """One writer: only ``files.atomic_write`` renames temporary files over targets
    (``hub`` renames a whole extracted folder into place, which is not a file write)."""
    renamers = {f.name for f in SRC.rglob("*.py") if "os.replace(" in f.read_text(encoding="utf-8")}
    assert renamers == {"files.py", "hub.py"}


def test_an_old_or_foreign_file_is_a_clear_error(tmp_path):
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(tmp_path)
    torch.save({"format": "something-else", "model": {}}, tmp_path / CHECKPOINT_FILE)
    with pytest.raises(ValueError, match="not a bertnli fine-tuning checkpoint"):
        load_checkpoint(tmp_path)
    save_checkpoint(tmp_path / CHECKPOINT_FILE, BERTClassifier(tiny_bert()), epoch=3)
    assert load_checkpoint(tmp_path)["epoch"] == 3


def test_a_run_folder_keeps_files_that_are_not_the_runs(tmp_path):
    """Probe: ``finetune --out`` a folder holding someone's notes, then ``--overwrite``: the run's three
    files are written and replaced, the notes are never touched."""
    from helpers.tiny_task import tiny_bert

    from bertnli import BERTClassifier, fine_tune

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    data = tiny_loader()
    for overwrite in (False, True):
        fine_tune(
            BERTClassifier(tiny_bert()),
            data,
            None,
            epochs=1,
            device="cpu",
            checkpoint_dir=folder,
            overwrite=overwrite,
        )
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.pt",
        "history.json",
        "notes.txt",
        "run.json",
    ]
