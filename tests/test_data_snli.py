"""Reading SNLI: same pairs as d2l, explicit UTF-8, errors that point at the line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.d2l_compat import d2l_torch
from helpers.needs import sample_snli_dir
from helpers.snli_files import HEADER, ROWS, row_line, write_corpus, write_snli
from helpers.standin_files import standin_files

from bertnli import sample
from bertnli.data.snli import LABELS, read_snli, read_snli_with_stats

SRC = Path(__file__).resolve().parents[1] / "src"


def test_reads_pairs_labels_and_drops_no_consensus(tmp_path):
    write_corpus(tmp_path)
    (premises, hypotheses, labels), stats = read_snli_with_stats(tmp_path, "train")
    kept = [row for row in ROWS if row[0] != "-"]
    assert premises == [p for _, p, _ in kept]
    assert hypotheses == [h for _, _, h in kept]
    assert labels == [LABELS.index(g) for g, _, _ in kept]
    assert LABELS == ("entailment", "contradiction", "neutral")
    assert stats.pairs == len(kept) and stats.dropped_no_consensus == 2
    assert stats.file == tmp_path / "snli_1.0_train.txt"
    assert "1\u00a01/2" in premises[3]  # a single no-break space is left alone, as d2l does


@pytest.mark.parametrize("split, is_train", [("train", True), ("test", False)])
def test_same_pairs_as_d2l_on_a_tiny_corpus(tmp_path, split, is_train):
    d2l = d2l_torch()
    write_corpus(tmp_path)
    assert read_snli(tmp_path, split) == tuple(d2l.read_snli(str(tmp_path), is_train))


@pytest.mark.parametrize("split, is_train", [("train", True), ("test", False)])
def test_same_pairs_as_d2l_on_the_sample_corpus(split, is_train):
    d2l = d2l_torch()
    folder = sample_snli_dir()
    ours = read_snli(folder, split)
    assert ours == tuple(d2l.read_snli(str(folder), is_train))
    assert len(ours[0]) > 100 and set(ours[2]) == {0, 1, 2}


def test_dev_split_and_crlf_files(tmp_path):
    write_snli(tmp_path / "lf", "dev")
    write_snli(tmp_path / "crlf", "dev", newline="\r\n")
    assert read_snli(tmp_path / "crlf", "dev") == read_snli(tmp_path / "lf", "dev")


def test_blank_lines_are_skipped(tmp_path):
    file = write_snli(tmp_path, "train")
    file.write_text(file.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    assert len(read_snli(tmp_path, "train")[0]) == 8


def test_too_few_columns_names_file_and_line(tmp_path):
    lines = [HEADER, row_line(*ROWS[0]), "entailment\tonly two columns", row_line(*ROWS[1])]
    (tmp_path / "snli_1.0_train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"snli_1\.0_train\.txt, line 3: expected at least 3 .*found 2"
    ):
        read_snli(tmp_path, "train")


def test_unknown_label_names_file_and_line(tmp_path):
    lines = [HEADER, row_line(*ROWS[0]), row_line(*ROWS[1]), row_line("entailed", "A b .", "C d .")]
    (tmp_path / "snli_1.0_test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"snli_1\.0_test\.txt, line 4: unknown gold label 'entailed'"
    ):
        read_snli(tmp_path, "test")


def test_bad_split_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="split"):
        read_snli(tmp_path, "validation")
    with pytest.raises(FileNotFoundError, match="snli_1.0_dev.txt"):
        read_snli(tmp_path, "dev")


def test_reads_utf8_whatever_the_locale(tmp_path):
    write_corpus(tmp_path)
    env = dict(
        os.environ,
        LC_ALL="C",
        LANG="C",
        PYTHONUTF8="0",
        PYTHONCOERCECLOCALE="0",
        PYTHONPATH=str(SRC),
    )
    code = (
        "import locale, sys; from bertnli.data.snli import read_snli\n"
        "assert locale.getpreferredencoding(False).lower() not in ('utf-8', 'utf8'), locale.getpreferredencoding(False)\n"
        f"p, h, y = read_snli({str(tmp_path)!r}, 'train'); print(p[2].encode('unicode_escape').decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "caf\\xe9" in out.stdout


def test_none_means_the_hub_and_sample_means_the_embedded_corpus(tmp_path, monkeypatch):
    from bertnli import hub

    write_corpus(tmp_path)
    asked = []
    monkeypatch.setattr(hub, "fetch", lambda name, **kw: asked.append(name) or tmp_path)
    assert read_snli(None, "dev") == read_snli(tmp_path, "dev")
    assert asked == ["snli"]

    notices = []
    monkeypatch.setattr(sample, "notice", lambda **kw: notices.append(1))
    monkeypatch.setattr(sample, "snli_dir", lambda: tmp_path)
    assert read_snli("sample", "test") == read_snli(tmp_path, "test")
    assert notices == [1]


def test_a_byte_that_is_not_utf8_inside_a_zip_is_named_with_its_line(tmp_path):
    """SNLI read straight from its zip reports a bad byte as it does for a folder, not as a crash."""
    import zipfile

    folder = write_corpus(tmp_path / "snli_1.0")
    train = folder / "snli_1.0_train.txt"
    train.write_bytes(train.read_bytes().replace(b"\n", b"\n\xff", 1))  # the first data row, line 2
    archive = tmp_path / "snli_1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"snli_1.0/{file.name}")
    with pytest.raises(
        ValueError, match=r"snli_1.0_train.txt, line 2, column 1: byte 0xff is not UTF-8"
    ):
        read_snli(archive, "train")


# --------------------------------------------------------------------------- one file per split (issue 21, item 2)


def test_a_second_train_file_in_a_subfolder_is_refused_naming_both(tmp_path):
    write_corpus(tmp_path)
    older = write_snli(tmp_path / "old", "train", ROWS[:3])
    with pytest.raises(ValueError) as err:
        read_snli(tmp_path, "train")
    assert str(tmp_path / "snli_1.0_train.txt") in str(err.value) and str(older) in str(err.value)
    assert read_snli(tmp_path, "dev")  # only the split with two files is refused


def test_a_folder_holding_the_unpacked_zip_is_read(tmp_path):
    write_corpus(tmp_path / "snli_1.0")
    assert read_snli(tmp_path, "train") == read_snli(tmp_path / "snli_1.0", "train")


def _zip(path, members):
    import warnings
    import zipfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name": that is the point
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members:
                zf.writestr(name, data)
    return path


def test_a_zip_with_two_train_files_or_one_stored_twice_is_refused(tmp_path):
    text = write_snli(tmp_path / "c", "train").read_bytes()
    two = _zip(
        tmp_path / "two.zip",
        [("snli_1.0/snli_1.0_train.txt", text), ("backup/snli_1.0_train.txt", text)],
    )
    with pytest.raises(ValueError) as err:
        read_snli(two, "train")
    assert "snli_1.0/snli_1.0_train.txt" in str(err.value) and "backup/snli_1.0_train.txt" in str(
        err.value
    )
    twice = _zip(
        tmp_path / "twice.zip",
        [
            ("snli_1.0/snli_1.0_train.txt", text),
            ("snli_1.0/snli_1.0_train.txt", text[: len(text) // 2]),
        ],
    )
    with pytest.raises(ValueError, match="stores snli_1.0/snli_1.0_train.txt 2 times"):
        read_snli(twice, "train")
    macos = _zip(
        tmp_path / "mac.zip",
        [
            ("snli_1.0/snli_1.0_train.txt", text),
            ("__MACOSX/snli_1.0/snli_1.0_train.txt", b"\x00\x05"),
        ],
    )
    assert read_snli(macos, "train") == read_snli(
        tmp_path / "c", "train"
    )  # macOS junk is no second file


def test_the_txt_is_read_beside_the_jsonl_and_a_lone_jsonl_is_named(tmp_path):
    """The documented precedence: SNLI's .txt is read, the .jsonl beside it ignored."""
    write_corpus(tmp_path)
    (tmp_path / "snli_1.0_train.jsonl").write_text('{"gold_label": "neutral"}\n')
    (premises, _, _), stats = read_snli_with_stats(tmp_path, "train")
    assert stats.file == tmp_path / "snli_1.0_train.txt" and premises
    (tmp_path / "snli_1.0_train.txt").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"only snli_1.0_train.jsonl is there: bertnli reads SNLI's .txt"
    ):
        read_snli(tmp_path, "train")


def test_a_folder_that_is_no_corpus_is_refused_without_walking_it(tmp_path, monkeypatch):
    import pathlib

    for i in range(45):
        sub = tmp_path / "home" / f"d{i}"
        sub.mkdir(parents=True)
        for j in range(50):
            (sub / f"f{j}").write_bytes(b"")
    monkeypatch.setattr(pathlib.Path, "rglob", lambda *a, **k: pytest.fail("the tree was walked"))
    with pytest.raises(ValueError, match="is not an SNLI folder"):
        read_snli(tmp_path / "home", "train")


def test_the_train_file_itself_is_refused_naming_its_folder(tmp_path):
    """Probe: ``--data .../snli_1.0_train.txt`` used to say ``.../snli_1.0_train.txt/snli_1.0_train.txt does not exist``."""
    file = write_snli(tmp_path / "snli_1.0", "train")
    with pytest.raises(
        ValueError,
        match=rf"is a file, not a folder or a zip; give the folder that holds it: "
        rf"{re.escape(str(tmp_path / 'snli_1.0'))}$",
    ):
        read_snli(file, "train")


# ----------------------------------------------------------------------------- a zip reads like the folder


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_snli_from_a_zip_reads_like_the_folder(files):
    for split in ("train", "dev", "test"):
        assert read_snli(str(files["data_zip"]), split) == read_snli(str(files["data"]), split)
    with pytest.raises(FileNotFoundError, match="snli_1.0_train.txt"):
        read_snli(str(files["model_zip"]), "train")
