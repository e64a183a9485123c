"""Reading SNLI: same pairs as d2l, explicit UTF-8, errors that point at the line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bertnli import sample
from bertnli.snli import LABELS, read_snli, read_snli_with_stats
from d2l_compat import d2l_torch
from needs import sample_snli_dir
from snli_files import HEADER, ROWS, row_line, write_corpus, write_snli

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
    with pytest.raises(ValueError, match=r"snli_1\.0_train\.txt, line 3: expected at least 3 .*found 2"):
        read_snli(tmp_path, "train")


def test_unknown_label_names_file_and_line(tmp_path):
    lines = [HEADER, row_line(*ROWS[0]), row_line(*ROWS[1]), row_line("entailed", "A b .", "C d .")]
    (tmp_path / "snli_1.0_test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"snli_1\.0_test\.txt, line 4: unknown gold label 'entailed'"):
        read_snli(tmp_path, "test")


def test_bad_split_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="split"):
        read_snli(tmp_path, "validation")
    with pytest.raises(FileNotFoundError, match="snli_1.0_dev.txt"):
        read_snli(tmp_path, "dev")


def test_reads_utf8_whatever_the_locale(tmp_path):
    write_corpus(tmp_path)
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", PYTHONPATH=str(SRC))
    code = (
        "import locale, sys; from bertnli.snli import read_snli\n"
        "assert locale.getpreferredencoding(False).lower() not in ('utf-8', 'utf8'), locale.getpreferredencoding(False)\n"
        f"p, h, y = read_snli({str(tmp_path)!r}, 'train'); print(p[2].encode('unicode_escape').decode())"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
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
    with pytest.raises(ValueError, match=r"snli_1.0_train.txt, line 2, column 1: byte 0xff is not UTF-8"):
        read_snli(archive, "train")
