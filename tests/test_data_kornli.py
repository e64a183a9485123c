"""KorNLI's tab-separated files: quotes kept, every line one row, bad rows named by file and line.

The files here are made up in KorNLI's format (no download); the header, the labels and the
file names are KorNLI's.
"""

from __future__ import annotations

import csv
import io

import pytest

from bertnli.data import kornli
from bertnli.data.snli import LABELS

ROWS = [
    ('그리고 그녀가 말했다, "다녀왔어요."', "그녀는 아무 말도 하지 않았다.", "contradiction"),
    (
        '"그건 제 잘못이 아니에요',
        "누군가 무언가를 부인했다.",
        "entailment",
    ),  # a quote that never closes
    ("남자가 공원에서 개를 산책시키고 있다.", '사람이 "밖에" 있다.', "entailment"),
    ("아이들이 눈사람을 만든다.", "날씨가 덥다.", "neutral"),
]


def write(path, rows=ROWS, header="sentence1\tsentence2\tgold_label"):
    path.write_text("\n".join([header] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")
    return path


def test_quotes_stay_in_the_sentences_and_every_line_is_a_row(tmp_path):
    file = write(tmp_path / "xnli.dev.ko.tsv")
    premises, hypotheses, labels = kornli.read_kornli_file(file)
    assert premises == [r[0] for r in ROWS] and hypotheses == [r[1] for r in ROWS]
    assert [LABELS[y] for y in labels] == [r[2] for r in ROWS]
    lines = file.read_text(encoding="utf-8").splitlines()
    assert len(labels) == len(lines) - 1
    # what a quote-honouring reader (csv's default) does to the same file: rows glued, pairs lost
    glued = list(csv.reader(io.StringIO(file.read_text(encoding="utf-8")), delimiter="\t"))
    assert len(glued) - 1 < len(labels)


def test_splits_and_training_subsets(tmp_path):
    folder = tmp_path / "KorNLI"
    folder.mkdir()
    write(folder / "snli_1.0_train.ko.tsv", ROWS[:2])
    write(folder / "multinli.train.ko.tsv", ROWS[2:])
    write(folder / "xnli.dev.ko.tsv", ROWS[:1])
    write(folder / "xnli.test.ko.tsv", ROWS[1:])
    assert kornli.read_kornli(tmp_path, "train")[0] == [
        r[0] for r in ROWS
    ]  # the repository's root works too
    assert kornli.read_kornli(folder, "train", train="snli")[0] == [r[0] for r in ROWS[:2]]
    assert kornli.read_kornli(folder, "train", train="mnli")[0] == [r[0] for r in ROWS[2:]]
    assert (
        len(kornli.read_kornli(folder, "dev")[2]) == 1
        and len(kornli.read_kornli(folder, "test")[2]) == 3
    )
    (folder / "multinli.train.ko.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="has no multinli.train.ko.tsv"):
        kornli.read_kornli(folder, "train")
    with pytest.raises(ValueError, match="split must be one of"):
        kornli.read_kornli(folder, "validation")


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "문장 하나\t문장 둘",
            "line 3: expected 3 tab-separated fields (sentence1, sentence2, gold_label), found 2",
        ),
        ("하나\t둘\tneutral\t넷", "line 3: expected 3 tab-separated fields"),
        ("하나\t둘\tunknown", "line 3: unknown gold_label 'unknown'"),
        ("하나\t둘\t-", "line 3: unknown gold_label '-'"),
        ("\t둘\tneutral", "line 3: sentence1 is empty"),
    ],
)
def test_a_bad_row_is_named_by_file_and_line(tmp_path, line, message):
    file = tmp_path / "xnli.test.ko.tsv"
    file.write_text(
        "sentence1\tsentence2\tgold_label\n" + "\t".join(ROWS[0]) + "\n" + line + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        kornli.read_kornli_file(file)
    assert str(err.value).startswith(f"{file}, ") and message in str(err.value)


def test_a_file_that_is_not_kornli_is_refused(tmp_path):
    snli_like = write(
        tmp_path / "xnli.dev.ko.tsv",
        header="gold_label\tsentence1_binary_parse\tsentence2_binary_parse",
    )
    with pytest.raises(
        ValueError, match="line 1: expected the header sentence1 / sentence2 / gold_label"
    ):
        kornli.read_kornli_file(snli_like)
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(ValueError, match="found 'an empty file'"):
        kornli.read_kornli_file(tmp_path / "empty.tsv")
    (tmp_path / "latin1.tsv").write_bytes(
        "sentence1\tsentence2\tgold_label\ncaf\xe9\tx\tneutral\n".encode("latin-1")
    )
    with pytest.raises(ValueError, match=r"latin1.tsv, line 2: byte 34 \(0xe9\) is not UTF-8"):
        kornli.read_kornli_file(tmp_path / "latin1.tsv")


def test_windows_line_endings_read_the_same(tmp_path):
    file = write(tmp_path / "xnli.dev.ko.tsv")
    crlf = tmp_path / "crlf.tsv"
    crlf.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))
    assert kornli.read_kornli_file(crlf) == kornli.read_kornli_file(file)


def test_pinned_hashes_are_what_git_computes(tmp_path):
    """The training files are checked by their git blob id at the pinned revision."""
    assert kornli.git_blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git's empty blob
    assert kornli.git_blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert all(len(f.git_blob) == 40 for f in kornli.FILES.values()) and len(kornli.REVISION) == 40
    assert kornli.FILES["dev"].rows + kornli.FILES["test"].rows == 7_500
