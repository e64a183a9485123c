"""The real run (issue 11): size controls and overrides, the laptop profile, dev during
training and test once at the end, progress bars, run folders that resume, SNLI from a zip,
a mismatching cache file moved aside, displays at 128, one vocabulary-size constant.

Everything runs on files made here: a bert.small-shaped checkpoint with a tiny vocabulary
(random weights, d2l format) and SNLI-format corpora from ``benchmarks/standins.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from standins import write_checkpoint, write_corpus  # noqa: E402

from bertnli import BERTClassifier, SNLIBERTDataset, fine_tune, make_loader, read_snli  # noqa: E402
from bertnli import hub  # noqa: E402
from bertnli.book import plots  # noqa: E402
from bertnli.run import costs
from bertnli.distributed import DistInfo  # noqa: E402
from bertnli.run.profiles import ENV_OVERRIDES, PROFILES, Profile, get_profile  # noqa: E402
from bertnli.run.recipe import chapter_run, load_datasets, read_split, subset_indices  # noqa: E402
from bertnli.run.train import History  # noqa: E402

from helpers.tiny_task import VOCAB, tiny_bert, tiny_data  # noqa: E402

TINY_VOCAB = 200


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for variable in [*ENV_OVERRIDES, "BERTNLI_PROFILE", "TQDM_DISABLE"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BERTNLI_RUNS", str(tmp_path / "runs"))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint (folder and zip) and a small SNLI-format corpus (folder and zip)."""
    root = tmp_path_factory.mktemp("standins")
    model = write_checkpoint(root / "bert.small", vocab_size=TINY_VOCAB)
    data = write_corpus(root / "snli_1.0", {"train": 300, "dev": 90, "test": 90}, vocab_size=TINY_VOCAB)
    zips = {}
    for name, folder in (("model", model), ("data", data)):
        zips[name] = root / f"{name}.zip"
        with zipfile.ZipFile(zips[name], "w") as zf:
            for f in sorted(folder.iterdir()):
                zf.write(f, f"inner/{folder.name}/{f.name}")
    return {"model": model, "data": data, "model_zip": zips["model"], "data_zip": zips["data"], "root": root}


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
        "laptop", model, data, 3, 1234, 56, base)
    assert p.max_len == PROFILES["laptop"].max_len  # what is not overridden stays
    banner = p.banner()
    for variable in ENV_OVERRIDES:
        assert variable in banner, variable
    assert "epochs=3 (BERTNLI_EPOCHS)" in banner and "train_pairs=1234 (BERTNLI_TRAIN_PAIRS)" in banner


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
    seconds = costs.laptop_cpu_seconds(costs.LAPTOP_REFERENCE, train_pairs=costs.SNLI_PAIRS["train"], epochs=2,
                                       evaluated_pairs=2 * costs.SNLI_PAIRS["dev"] + costs.SNLI_PAIRS["test"],
                                       max_len=bigger.max_len)
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
    seconds = costs.laptop_cpu_seconds(costs.LAPTOP_REFERENCE, train_pairs=laptop.train_pairs, epochs=laptop.epochs,
                                       evaluated_pairs=costs.SNLI_PAIRS["dev"] + costs.SNLI_PAIRS["test"],
                                       max_len=laptop.max_len)
    assert 8 <= seconds / 60 <= 12  # "~10 minutes of chapter 3"


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5"])
def test_a_bad_override_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("BERTNLI_TRAIN_PAIRS", value)
    with pytest.raises(ValueError, match=r"\$BERTNLI_TRAIN_PAIRS.*positive integer"):
        get_profile("sample")


def test_profile_round_trips_through_run_json_and_ignores_unknown_keys():
    p = get_profile("laptop").with_overrides("--epochs", epochs=4).with_overrides("--epochs", epochs=5)
    assert p.overrides == ("epochs=5 (--epochs)",)  # the latest value, listed once
    again = Profile.from_dict(json.loads(json.dumps({**p.to_dict(), "from_a_newer_version": 1})))
    assert again == p


def test_laptop_profile_is_real_bert_small_on_a_subset_of_real_snli():
    laptop = PROFILES["laptop"]
    assert (laptop.model, laptop.data) == ("bert.small", "snli")
    assert laptop.train_pairs and laptop.max_len <= 128 and laptop.epochs >= 1
    assert laptop.train_pairs < 549_367 and laptop.lr == PROFILES["full"].lr
    assert laptop.test_pairs is None  # all of dev and test: its test accuracy compares with the reference's


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
    data = write_corpus(tmp_path / "big", {"train": n, "dev": 90, "test": 40}, vocab_size=TINY_VOCAB)
    monkeypatch.setenv("BERTNLI_DATA", str(data))
    monkeypatch.setenv("BERTNLI_TEST_PAIRS", "50")
    profile = get_profile("laptop")
    full = read_snli(str(data), "train")
    assert len(full[2]) > laptop.train_pairs
    vocab = __import__("bertnli").Vocab(json.loads((write_checkpoint(tmp_path / "ckpt", vocab_size=TINY_VOCAB)
                                                    / "vocab.json").read_text()))
    sets = load_datasets(profile, vocab, splits=("train", "dev", "test"), cache=False)
    assert len(sets["train"]) == laptop.train_pairs
    assert len(sets["dev"]) == 50
    assert len(sets["test"]) == len(read_snli(str(data), "test")[2]) < 50  # fewer than test_pairs: all of them
    premises, _, labels = read_split(profile, "train")
    keep = subset_indices(len(full[2]), laptop.train_pairs, "train")
    assert premises[:5] == [full[0][i] for i in keep[:5]] and labels == [full[2][i] for i in keep]


def test_snli_from_a_zip_reads_like_the_folder(files):
    for split in ("train", "dev", "test"):
        assert read_snli(str(files["data_zip"]), split) == read_snli(str(files["data"]), split)
    with pytest.raises(FileNotFoundError, match="snli_1.0_train.txt"):
        read_snli(str(files["model_zip"]), "train")


def test_chapter_run_folder_depends_on_every_setting(tmp_path):
    p = get_profile("sample")
    a, b = chapter_run(p, "chapter3"), chapter_run(p.with_overrides("BERTNLI_EPOCHS", epochs=6), "chapter3")
    assert a.path == b.path  # the same value: the same run (where it came from does not matter)
    assert chapter_run(p.with_overrides(train_pairs=10), "chapter3").path != a.path
    assert chapter_run(p, "chapter4-proportional").path != a.path
    assert a.path.parent == tmp_path / "runs" and a.config["profile"]["name"] == "sample"


# ----------------------------------------------------------------------------- dev during training, test at the end

@pytest.fixture
def loaders():
    make = lambda n, seed: make_loader(SNLIBERTDataset(tiny_data(n, seed), VOCAB, max_len=32, cache=False), 16,  # noqa: E731
                                       shuffle=seed == 0, seed=0)
    return make(64, 0), make(32, 1), make(32, 2)


def test_dev_every_epoch_test_once_at_the_end(loaders, tmp_path, capsys):
    train, dev, test = loaders
    run = tmp_path / "run"
    history = fine_tune(BERTClassifier(tiny_bert()), train, test, valid_loader=dev, epochs=2, lr=3e-3,
                        device="cpu", checkpoint_dir=run, progress=False)
    assert all(e.valid_acc is not None and e.test_acc is None for e in history.epochs)
    assert history.test_acc is not None and 0 <= history.test_acc <= 1
    out = capsys.readouterr().out
    assert out.count("dev acc") == 2 and out.count("test acc") == 1 and "measured once" in out
    saved = History.load(run / "history.json")
    assert saved.test_acc == history.test_acc and saved["valid_acc"] == history["valid_acc"]
    assert "dev acc" in history.summary() and f"test acc {history.test_acc:.3f}" in history.summary()


def test_the_old_positional_form_still_records_test_per_epoch(loaders):
    train, _, test = loaders
    history = fine_tune(BERTClassifier(tiny_bert()), train, test, epochs=2, device="cpu", progress=False)
    assert all(e.test_acc is not None and e.valid_acc is None for e in history.epochs)
    assert History.from_dict({"epochs": [{k: v for k, v in history.to_dict()["epochs"][0].items()
                                          if k != "valid_acc"}]}).epochs[0].valid_acc is None  # old files load


def test_resuming_a_finished_run_redraws_and_measures_test_again(loaders, tmp_path):
    train, dev, test = loaders
    kwargs = dict(valid_loader=dev, epochs=1, lr=3e-3, device="cpu", checkpoint_dir=tmp_path / "r", progress=False)
    first = fine_tune(BERTClassifier(tiny_bert()), train, test, **kwargs)
    seen = []
    again = fine_tune(BERTClassifier(tiny_bert()), train, test, resume=True, callbacks=[seen.append], **kwargs)
    assert len(seen) == 1 and seen[0]["train_loss"] == first["train_loss"]  # the live plot gets the history
    assert again.test_acc == pytest.approx(first.test_acc)


def test_plot_history_shows_dev_and_the_final_test():
    import matplotlib
    matplotlib.use("Agg")
    history = History.from_dict({"epochs": [
        {"epoch": i, "train_loss": 1 / i, "train_acc": 0.5, "test_acc": None, "examples_per_sec": 1.0,
         "seconds": 1.0, "device": "cpu", "valid_acc": 0.4 + i / 10} for i in (1, 2)], "test_acc": 0.61})
    labels = [t.get_text() for t in plots.plot_history(history).get_legend().get_texts()]
    assert any(label.startswith("dev acc") for label in labels)
    assert any("0.610" in label for label in labels) and not any(label.startswith("test acc ·") for label in labels)


# ----------------------------------------------------------------------------- progress bars

def test_progress_bar_shows_batches_rate_and_loss(loaders, capsys, monkeypatch):
    import bertnli.run.train as train_module
    monkeypatch.setattr(train_module, "BAR_SECONDS", 0.0)  # refresh every batch for the test
    train, dev, _ = loaders
    fine_tune(BERTClassifier(tiny_bert()), train, None, valid_loader=dev, epochs=1, device="cpu", progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "examples/s" in err and re.search(r"loss \d\.\d{3}", err)


def test_no_bar_when_nobody_watches_or_tqdm_is_disabled(loaders, capsys, monkeypatch):
    train, _, _ = loaders
    fine_tune(BERTClassifier(tiny_bert()), train, None, epochs=1, device="cpu")  # stderr is not a TTY here
    assert "epoch 1/1" not in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fine_tune(BERTClassifier(tiny_bert()), train, None, epochs=1, device="cpu", progress=True)
    assert "epoch 1/1" not in capsys.readouterr().err


def test_no_bar_on_other_ranks(loaders, capsys):
    train, _, _ = loaders
    rank1 = DistInfo(torch.device("cpu"), rank=1)
    fine_tune(BERTClassifier(tiny_bert()), train, None, epochs=1, device=rank1, progress=True)
    captured = capsys.readouterr()
    assert "epoch 1/1" not in captured.err and captured.out == ""


def test_a_log_gets_at_most_about_a_line_a_second(tmp_path):
    """--progress into a file: tqdm redraws at most once per BAR_SECONDS (+ the first and last)."""
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT / 'tests')!r})
import torch
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data
from bertnli import BERTClassifier, SNLIBERTDataset, fine_tune, make_loader
loader = make_loader(SNLIBERTDataset(tiny_data(400, 0), VOCAB, max_len=32, cache=False), 4, shuffle=True)
start = time.time()
fine_tune(BERTClassifier(tiny_bert()), loader, None, epochs=1, device="cpu", progress=True)
print(time.time() - start)
"""
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        done = subprocess.run([sys.executable, "-c", script], stderr=f, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=300)
    assert done.returncode == 0, log.read_text()[-2000:]
    seconds = float(done.stdout.strip().splitlines()[-1])
    draws = log.read_text().count("epoch 1/1")
    assert 1 <= draws <= seconds / 1.0 + 3, (draws, seconds)


# ----------------------------------------------------------------------------- the command line

def _cli(args, env, tmp_path):
    done = subprocess.run([sys.executable, "-m", "bertnli", *args], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1", **env), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_cli_size_controls_dev_and_test_and_resume(files, tmp_path):
    env = {"BERTNLI_CACHE": str(tmp_path / "cache"), "BERTNLI_MODEL": str(files["model_zip"]),
           "BERTNLI_DATA": str(files["data_zip"])}
    out = tmp_path / "run"
    done = _cli(["finetune", "--profile", "laptop", "--epochs", "1", "--batch-size", "32", "--train-pairs", "100",
                 "--test-pairs", "40", "--out", str(out), "--no-progress"], env, tmp_path)
    text = done.stdout
    assert "BERTNLI_MODEL" in text and "BERTNLI_DATA" in text and "train_pairs=100 (--train-pairs)" in text
    assert re.search(r"epoch 1/1: .*dev acc \d\.\d{3}", text) and "test acc" in text.split("epoch 1/1")[1]
    config = json.loads((out / "run.json").read_text())["config"]["profile"]
    assert (config["train_pairs"], config["test_pairs"], config["model"]) == (100, 40, str(files["model_zip"]))
    history = json.loads((out / "history.json").read_text())
    assert history["test_acc"] is not None and history["epochs"][0]["valid_acc"] is not None
    # resume with more epochs: the subset comes from run.json, the same pairs
    done = _cli(["finetune", "--out", str(out), "--resume", "--epochs", "2", "--no-progress"],
                {"BERTNLI_CACHE": env["BERTNLI_CACHE"]}, tmp_path)
    assert "resuming" in done.stdout and "epoch 2/2" in done.stdout and "train pairs 100" in done.stdout
    info = _cli(["info"], env, tmp_path).stdout
    assert f"model {files['model_zip']}" in info and "256 hidden" in info


# ----------------------------------------------------------------------------- hub: a local copy that is not the hub's bytes

def test_a_mismatching_cache_file_is_moved_aside_with_how_to_use_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BERTNLI_HUB_URL", "http://127.0.0.1:9/")  # nothing listens: the download fails fast
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    archive = hub.archive_path("bert.small")
    archive.write_bytes(b"my own re-zipped copy")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("bert.small")
    aside = list(archive.parent.glob("bert.small.torch.sha1-*.zip"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"my own re-zipped copy" and not archive.exists()
    message = str(err.value)
    assert str(aside[0]) in message and f"--model {aside[0]}" in message and "BERTNLI_MODEL" in message
    assert "moved aside, not deleted" in message and "moved aside" in capsys.readouterr().err
    archive.write_bytes(b"another")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("snli")  # SNLI: --data / BERTNLI_DATA
    snli_archive = hub.archive_path("snli")
    assert not snli_archive.exists() or "--data" in str(err.value)


def test_snli_mismatch_points_at_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_HUB_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    hub.archive_path("snli").write_bytes(b"not snli")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("snli")
    assert "--data" in str(err.value) and "BERTNLI_DATA" in str(err.value)


def test_an_unreachable_mirror_names_the_mirror_and_the_original(monkeypatch):
    monkeypatch.setenv("BERTNLI_HUB_URL", "http://127.0.0.1:9/mirror/")
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    with pytest.raises(hub.HubError) as err:
        hub.fetch("bert.small")
    message = str(err.value)
    assert "http://127.0.0.1:9/mirror/bert.small.torch.zip" in message
    assert hub.DEFAULT_URL + "bert.small.torch.zip" in message


# ----------------------------------------------------------------------------- displays and constants

def test_equal_marks_merge_into_one():
    assert plots.merge_marks([(128, "reference"), (128, "profile")]) == [(128, "reference / profile")]
    assert plots.merge_marks([(128, "reference"), (64, "profile")]) == [(128, "reference"), (64, "profile")]


def test_same_shape_ignores_only_the_vocabulary(files):
    from bertnli import KNOWN_CONFIGS, load_pretrained
    bert, vocab = load_pretrained(files["model"])
    assert len(vocab) == TINY_VOCAB
    assert costs.same_shape(bert.config, KNOWN_CONFIGS["bert.small"])
    assert not costs.same_shape(bert.config, KNOWN_CONFIGS["bert.base"])
    exact = costs.parameters_from_config(bert.config)["total"]
    assert exact == sum(p.numel() for p in bert.parameters())
    assert costs.parameters_from_config(KNOWN_CONFIGS["bert.small"])["total"] != exact  # the assumed vocabulary


def test_one_vocabulary_size_constant():
    """The size appears in one place only: costs.DEFAULT_VOCAB_SIZE and its comment."""
    pattern = re.compile(r"\b(20[,_]?256|60[,_]?005)\b")
    hits = {str(p.relative_to(ROOT)) for p in sorted((ROOT / "src").rglob("*.py"))
            if pattern.search(p.read_text(encoding="utf-8"))}
    assert hits == {"src/bertnli/run/costs.py"}, hits
    lines = (ROOT / "src/bertnli/run/costs.py").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("DEFAULT_VOCAB_SIZE =") for line in lines) == 1
    assert "NOT verified" in (ROOT / "src/bertnli/run/costs.py").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the chapters on made-up real-shaped files

@pytest.mark.slow
def test_chapters_run_with_overrides_and_chapter3_resumes(files, tmp_path):
    """All five chapters in the full profile (max_len 128: the equal-marks case) with every
    override pointing at files made here; then chapter 3 again resumes from its run folder."""
    env = dict(os.environ, BERTNLI_PROFILE="full", BERTNLI_CACHE=str(tmp_path / "cache"),
               BERTNLI_RUNS=str(tmp_path / "runs"), BERTNLI_MODEL=str(files["model"]),
               BERTNLI_BASE_MODEL=str(files["model_zip"]), BERTNLI_DATA=str(files["data_zip"]),
               BERTNLI_EPOCHS="1", BERTNLI_TRAIN_PAIRS="200", BERTNLI_TEST_PAIRS="60", TQDM_DISABLE="1",
               OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    out = tmp_path / "executed"
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks + [ROOT / "notebooks" / "03_fine_tuning.ipynb"]:
        done = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--output-dir",
                               str(out), "--ExecutePreprocessor.timeout=600", str(nb)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{nb.name}:\n{done.stderr[-4000:]}"
    texts = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.ipynb")}
    assert "BERTNLI_TRAIN_PAIRS" in texts["01_pretrained_bert"]  # the banner lists the overrides
    assert texts["02_snli_dataset"].count("pairs longer than 128") == 1  # reference and profile: one row
    assert "bert.small, loaded" in texts["01_pretrained_bert"] and "bert.base, estimate" in texts["01_pretrained_bert"]
    assert "resuming from" in texts["03_fine_tuning"]  # the second run of chapter 3
    assert len(list((tmp_path / "runs").glob("chapter3-full-*"))) == 1
    assert len(list((tmp_path / "runs").glob("chapter4-*"))) == 2


def test_chapter_4_trains_with_a_progress_bar_like_chapter_3():
    """Issue 21, item 8: chapter 4's two runs passed progress=False, so a reader watched a silent
    cell for minutes; now its finetune_job call leaves the bar to the same rule as chapter 3's
    fine_tune (on in a notebook, off in the book build through TQDM_DISABLE)."""
    import ast

    def training_calls(chapter: str, function: str) -> list[ast.Call]:
        text = (ROOT / "notebooks" / chapter).read_text(encoding="utf-8")
        cells = re.findall(r"```\{code-cell\} ipython3\n(?:---\n.*?\n---\n)?(.*?)```", text, re.S)
        code = "\n".join("\n".join(line for line in cell.splitlines() if not line.startswith((":", "%", "!")))
                          for cell in cells)
        return [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == function]

    def progress_of(call: ast.Call):
        return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "progress"), None)

    chapter3, chapter4 = training_calls("03_fine_tuning.md", "fine_tune"), training_calls(
        "04_exercise_truncation.md", "finetune_job")
    assert chapter3 and chapter4
    assert {progress_of(c) for c in chapter4} == {progress_of(c) for c in chapter3} == {None}


@pytest.mark.slow
def test_bench_train_measures_at_the_max_len_it_is_given(files, tmp_path):
    """Issue 21, item 8: ``bench_train.py --max-len`` (the laptop profile trains at 64, not 128)."""
    bench = [sys.executable, str(ROOT / "benchmarks" / "bench_train.py")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(bench + ["--max-len", "32", "--batch-size", "8", "--warmup", "1", "--windows", "1",
                                   "--steps-per-window", "1", "--data", str(files["data"])],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| bert.small |")]
    assert len(rows) == 3 and "pad to 32" in rows[0] and "max_len 32" in done.stdout
    refused = subprocess.run(bench + ["--max-len", "1000"], capture_output=True, text=True, timeout=120, env=env)
    assert refused.returncode == 2 and "--max-len: must be between 4 and the checkpoints' max_len 512" in refused.stderr
