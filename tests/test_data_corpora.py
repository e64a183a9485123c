"""The corpus table (``bertnli.data.corpora``): names, folders and zips recognised by their file
names, one corpus per folder, a corpus added by one line, and bad KorNLI rows named by file and line.

Every file here is made up in tmp_path (SNLI's text format, KorNLI's tab-separated one); nothing
is downloaded: a name that would download has ``hub.fetch`` replaced by a folder of made-up files.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers.snli_files import ROWS as SNLI_ROWS
from helpers.snli_files import write_corpus

from bertnli import hub, sample
from bertnli.data import corpora, kornli, snli
from bertnli.data.snli import LABELS

KO_ROWS = [
    ('그리고 그녀가 말했다, "다녀왔어요."', "그녀는 아무 말도 하지 않았다.", "contradiction"),
    (
        '"그건 제 잘못이 아니에요',
        "누군가 무언가를 부인했다.",
        "entailment",
    ),  # a quote that never closes
    ("남자가 공원에서 개를 산책시키고 있다.", '사람이 "밖에" 있다.', "entailment"),
    ("아이들이 눈사람을 만든다.", "날씨가 덥다.", "neutral"),
]
KO_FILES = {
    "snli_1.0_train.ko.tsv": KO_ROWS[:2],
    "multinli.train.ko.tsv": KO_ROWS[2:],
    "xnli.dev.ko.tsv": KO_ROWS[:1],
    "xnli.test.ko.tsv": KO_ROWS[1:],
}


def write_tsv(path: Path, rows, header: str = "sentence1\tsentence2\tgold_label") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")
    return path


def write_kornli(folder: Path) -> Path:
    for name, rows in KO_FILES.items():
        write_tsv(folder / name, rows)
    return folder


def zip_folder(folder: Path, archive: Path, prefix: str) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"{prefix}/{file.name}")
    return archive


# --------------------------------------------------------------------------- names, folders, zips


def test_the_table_registers_snli_and_kornli_with_the_contracts_names():
    assert [c.name for c in corpora.CORPORA] == ["snli", "kornli"]
    assert list(corpora.data_names()) == [
        "snli",
        "sample",
        "kornli",
        "kornli-snli",
        "kornli-sample",
    ]
    assert (
        corpora.corpus_of("sample").language == "en"
        and corpora.corpus_of("kornli-snli").language == "ko"
    )
    for corpus in corpora.CORPORA:
        assert set(corpus.split_files) == set(corpora.SPLITS)


def test_sample_by_name_reads_what_read_snli_reads():
    for split in corpora.SPLITS:
        assert corpora.read_pairs("sample", split) == snli.read_snli("sample", split)


def test_an_snli_folder_and_zip_are_read_as_snli(tmp_path):
    folder = write_corpus(tmp_path / "snli_1.0")
    kept = [r for r in SNLI_ROWS if r[0] != "-"]
    premises, _, labels = corpora.read_pairs(folder, "train")
    assert [LABELS[y] for y in labels] == [r[0] for r in kept] and len(premises) == len(kept)
    assert corpora.corpus_of(tmp_path).name == "snli"  # the unpacked zip's parent folder works too
    archive = zip_folder(folder, tmp_path / "snli_1.0.zip", "snli_1.0")
    assert corpora.read_pairs(archive, "dev") == corpora.read_pairs(folder, "dev")


def test_snlis_two_formats_are_one_corpus_read_from_its_txt(tmp_path):
    folder = write_corpus(tmp_path / "snli")
    for split in corpora.SPLITS:
        (folder / f"snli_1.0_{split}.jsonl").write_text('{"gold_label": "neutral"}\n')
    assert corpora.corpus_of(folder).name == "snli"
    assert corpora.read_pairs(folder, "test") == snli.read_snli(folder, "test")
    for split in corpora.SPLITS:
        (folder / f"snli_1.0_{split}.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"\.jsonl copies beside them are not"):
        corpora.read_pairs(folder, "train")


def test_a_kornli_folder_and_zip_are_read_as_kornli(tmp_path):
    folder = write_kornli(tmp_path / "KorNLI")
    premises, hypotheses, labels = corpora.read_pairs(folder, "train")
    assert premises == [r[0] for r in KO_ROWS] and hypotheses == [r[1] for r in KO_ROWS]
    assert [LABELS[y] for y in labels] == [r[2] for r in KO_ROWS]
    assert corpora.corpus_of(folder).language == "ko"
    archive = zip_folder(folder, tmp_path / "KorNLI.zip", "KorNLUDatasets-master/KorNLI")
    for split in corpora.SPLITS:
        assert corpora.read_pairs(archive, split) == corpora.read_pairs(folder, split)
    only_snli_ko = corpora.read_pairs(archive, "train", train_files=("snli_1.0_train.ko.tsv",))
    assert only_snli_ko[0] == [r[0] for r in KO_ROWS[:2]]


def test_kornli_names_read_the_hubs_folder_and_kornli_snli_only_snli_ko(tmp_path, monkeypatch):
    folder = write_kornli(tmp_path / "downloaded")
    fetched = []
    monkeypatch.setattr(hub, "fetch", lambda name, **_: fetched.append(name) or folder)
    assert corpora.read_pairs("kornli", "train")[0] == [r[0] for r in KO_ROWS]
    assert corpora.read_pairs("kornli-snli", "train")[0] == [r[0] for r in KO_ROWS[:2]]
    assert corpora.read_pairs("kornli-snli", "dev") == corpora.read_pairs("kornli", "dev")
    assert fetched == ["kornli"] * 4


def test_kornli_sample_reads_the_embedded_korean_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sample, "KORNLI_DIR", tmp_path / "KorNLI")
    monkeypatch.setattr(sample, "_announced_korean", False)
    write_kornli(tmp_path / "KorNLI")
    assert corpora.read_pairs("kornli-sample", "test")[0] == [r[0] for r in KO_ROWS[1:]]
    assert "SAMPLE" in capsys.readouterr().err  # the stand-in says so


def test_a_folder_of_no_corpus_is_refused_with_the_names_looked_for(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "train.csv").write_text("a,b\n")
    with pytest.raises(FileNotFoundError) as err:
        corpora.read_pairs(tmp_path / "notes", "train")
    message = str(err.value)
    assert "holds the files of no corpus" in message
    for corpus in corpora.CORPORA:
        for split in corpora.SPLITS:
            for name in corpus.split_files[split]:
                assert name in message


def test_a_folder_with_two_corpora_is_refused_naming_both(tmp_path):
    write_corpus(tmp_path / "both")
    write_tsv(tmp_path / "both" / "xnli.dev.ko.tsv", KO_ROWS)
    with pytest.raises(
        ValueError,
        match=r"holds the files of 2 corpora \(snli: snli_1\.0_train\.txt.*; "
        r"kornli: xnli\.dev\.ko\.tsv\)",
    ):
        corpora.corpus_of(tmp_path / "both")


def test_a_missing_split_file_names_what_the_split_needs(tmp_path):
    folder = write_kornli(tmp_path / "KorNLI")
    (folder / "multinli.train.ko.tsv").unlink()
    assert corpora.read_pairs(folder, "dev")  # the other splits still read
    with pytest.raises(
        FileNotFoundError,
        match=r"has no multinli\.train\.ko\.tsv; kornli's train split needs "
        r"snli_1\.0_train\.ko\.tsv, multinli\.train\.ko\.tsv",
    ):
        corpora.read_pairs(folder, "train")
    assert "multinli.train.ko.tsv" in corpora.data_problem(folder)
    assert corpora.data_problem(write_kornli(tmp_path / "whole")) is None


def test_bad_arguments_are_named(tmp_path):
    file = write_tsv(tmp_path / "xnli.dev.ko.tsv", KO_ROWS)
    with pytest.raises(ValueError, match="is a file, not a folder or a zip; give the folder"):
        corpora.read_pairs(file, "dev")
    with pytest.raises(ValueError, match="split must be one of"):
        corpora.read_pairs("sample", "validation")
    with pytest.raises(ValueError, match=r"nope\.tsv is not a training file of kornli"):
        corpora.read_pairs(tmp_path, "train", train_files=("nope.tsv",))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        corpora.corpus_of(tmp_path / "missing")


def test_the_command_lines_help_comes_from_the_table():
    from bertnli.cli import build_parser

    finetune = build_parser()._subparsers._group_actions[0].choices["finetune"]
    help_text = next(a.help for a in finetune._actions if a.dest == "data")
    assert help_text == corpora.data_help()
    for name, text in corpora.data_names().items():
        assert f"{name} ({text})" in help_text


# --------------------------------------------------------------------------- a corpus added by one line


class MadeUpCorpus:
    """A corpus in a made-up format: ``label|premise|hypothesis`` lines, files ``toy.<split>``."""

    name, language = "toy", "en"
    split_files = {split: (f"toy.{split}",) for split in corpora.SPLITS}
    format_note = ""
    names = {"toy": "a made-up corpus"}

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def source(self, name: str):
        return self.folder, None

    def read_file(self, file):
        rows = [line.split("|") for line in file.read_text(encoding="utf-8").splitlines()]
        return [r[1] for r in rows], [r[2] for r in rows], [LABELS.index(r[0]) for r in rows]


def test_a_corpus_is_added_by_one_line_in_the_table(tmp_path, monkeypatch):
    folder = tmp_path / "toy"
    folder.mkdir()
    for split in corpora.SPLITS:
        (folder / f"toy.{split}").write_text(
            f"neutral|a {split} premise|a hypothesis\n", encoding="utf-8"
        )
    monkeypatch.setattr(corpora, "CORPORA", [*corpora.CORPORA, MadeUpCorpus(folder)])
    assert corpora.read_pairs("toy", "dev") == (
        ["a dev premise"],
        ["a hypothesis"],
        [LABELS.index("neutral")],
    )
    assert corpora.corpus_of(folder).name == "toy"
    assert corpora.read_pairs(folder, "test")[0] == ["a test premise"]
    assert "toy (a made-up corpus)" in corpora.data_help()


# --------------------------------------------------------------------------- bad KorNLI input


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "문장 하나\t문장 둘",
            "line 3: expected 3 tab-separated fields (sentence1, sentence2, gold_label), found 2",
        ),
        (
            "하나\t둘\tneutral\t넷",
            "line 3: expected 3 tab-separated fields (sentence1, sentence2, gold_label), found 4",
        ),
        ("하나\t둘\tentails", "line 3: unknown gold_label 'entails'"),
        ("", "line 3: expected 3 tab-separated fields"),  # a blank line is a row of the wrong width
    ],
)
def test_a_bad_kornli_row_is_named_by_file_and_line_through_the_table(tmp_path, line, message):
    folder = write_kornli(tmp_path / "KorNLI")
    dev = folder / "xnli.dev.ko.tsv"
    dev.write_text(
        f"sentence1\tsentence2\tgold_label\n{chr(9).join(KO_ROWS[0])}\n{line}\n{chr(9).join(KO_ROWS[3])}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        corpora.read_pairs(folder, "dev")
    assert str(err.value).startswith(f"{dev}, line 3: ") and message in str(err.value)
    archive = zip_folder(folder, tmp_path / "k.zip", "KorNLI")
    with pytest.raises(ValueError, match=r"k\.zip/KorNLI/xnli\.dev\.ko\.tsv, line 3: "):
        corpora.read_pairs(archive, "dev")  # inside a zip, the member is named


def test_a_quote_that_would_swallow_lines_keeps_every_row(tmp_path):
    """Read with quoting on, the opening quote of line 2 runs to the next quote, lines away."""
    folder = write_kornli(tmp_path / "KorNLI")
    rows = [
        ('"그건 제 잘못이 아니에요', "누군가 부인했다.", "entailment"),
        *KO_ROWS[2:],
        ('그가 말했다, "좋아"', "그는 아무 말도 없었다.", "contradiction"),
    ]
    write_tsv(folder / "xnli.test.ko.tsv", rows)
    import csv

    text = (folder / "xnli.test.ko.tsv").read_text(encoding="utf-8")
    assert len(list(csv.reader(text.splitlines(), delimiter="\t"))) - 1 < len(
        rows
    )  # what quoting would do
    premises, _, labels = corpora.read_pairs(folder, "test")
    assert premises == [r[0] for r in rows] and len(labels) == len(text.splitlines()) - 1


def test_kornlis_pins_are_the_hubs():
    for entry in kornli.FILES.values():
        assert entry.git_blob == hub.FILE_SETS["kornli"].blob(entry.name)
    assert kornli.REVISION == hub.FILE_SETS["kornli"].revision


def test_the_readme_lists_every_data_name():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("# --data: "))
    assert (
        line
        == "# --data: "
        + ", ".join(corpora.data_names())
        + ", or a folder/zip whose file names are one"
    )


def test_the_korean_stand_in_corpus_announces_itself_as_korean(monkeypatch, capsys):
    """kornli-sample prints the Korean stand-in's notice, not the SNLI sample's."""
    monkeypatch.setattr(sample, "_announced_korean", False)
    monkeypatch.setattr(sample, "_announced", False)
    premises, _, labels = corpora.read_pairs("kornli-sample", "dev")
    err = capsys.readouterr().err
    assert premises and len(premises) == len(labels)
    assert sample.KOREAN_NOTICE in err and sample.NOTICE not in err
