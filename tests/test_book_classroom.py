"""``bertnli classroom``: student copies hide the solutions and still run; the mirror installs offline.

Nothing here downloads: the mirror is tested with the embedded sample checkpoint and with a
fake archive whose sha1 is patched into the hub's registry.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from helpers.cli_runs import run_cli

from bertnli import cli, hub, sample
from bertnli.book import classroom

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = classroom.chapter_sources(NOTEBOOKS) if NOTEBOOKS.is_dir() else []


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def read_source(path: Path):
    return jupytext.read(path, fmt="md:myst") if path.suffix == ".md" else jupytext.read(path)


def distinctive_solution_lines(nb) -> list[list[str]]:
    """Per solution cell: its lines (16+ characters) that no other cell of the notebook contains."""
    others = "\n".join(c.source for c in nb.cells if "solution" not in tags(c))
    return [
        [
            line.strip()
            for line in c.source.splitlines()
            if len(line.strip()) >= 16 and line.strip() not in others
        ]
        for c in nb.cells
        if "solution" in tags(c)
    ]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    assert SOURCES, f"no chapter notebooks in {NOTEBOOKS}: nothing to make student copies of"
    out = tmp_path_factory.mktemp("students")
    assert cli.main(["classroom", "student-copy", str(out), "--notebooks", str(NOTEBOOKS)]) == 0
    return out


def test_student_copies_have_no_solutions_and_no_outputs(student_dir):
    chapters_with_solutions = 0
    for source in SOURCES:
        original = read_source(source)
        copy = nbformat.read(student_dir / f"{source.stem}.ipynb", as_version=4)
        nbformat.validate(copy)
        text = "\n".join(c.source for c in copy.cells)
        for lines in distinctive_solution_lines(original):
            assert lines, f"{source.name}: a solution cell with nothing distinctive to look for"
            leaked = [line for line in lines if line in text]
            assert not leaked, f"{source.name}: solution text in the student copy: {leaked}"
        chapters_with_solutions += any("solution" in tags(c) for c in original.cells)
        assert not any("solution" in tags(c) for c in copy.cells)
        assert sum("exercise" in tags(c) for c in copy.cells) == sum(
            "exercise" in tags(c) for c in original.cells
        )
        for cell in copy.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, source.name
        assert "jupytext" not in copy.metadata, (
            "a student copy must not ask jupytext for a paired .md"
        )
        # Everything but the solutions survives, in order.
        kept = [c.source for c in original.cells if "solution" not in tags(c)]
        assert [c.source for c in copy.cells] == kept, source.name
    assert chapters_with_solutions >= 1, "no chapter has a solution cell: nothing was tested"


def _code(cells) -> list[str]:
    return [
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code"
    ]


@pytest.mark.slow
def test_student_copies_run_up_to_the_exercises(student_dir, executed_notebooks):
    """Chapters that lost solution cells run up to their first exercise without an error.

    Not by running them again: up to its first exercise a student copy holds exactly the code
    of its chapter, and the book build (this run's one execution of every chapter) ran that
    code without an error. A chapter without solution cells differs from its source only by
    cleared outputs (checked above).
    """
    ran = 0
    for source in SOURCES:
        if not any("solution" in tags(c) for c in read_source(source).cells):
            continue
        copy = nbformat.read(student_dir / f"{source.stem}.ipynb", as_version=4)
        first = next(i for i, c in enumerate(copy.cells) if "exercise" in tags(c))
        student_code = _code(copy.cells[: first + 1])
        executed = [
            c
            for c in executed_notebooks[f"notebooks/{source.stem}"]["cells"]
            if c["cell_type"] == "code"
        ]
        assert student_code and _code(executed[: len(student_code)]) == student_code, (
            f"{source.name}: the student copy's code before the exercise is not what the book build ran"
        )
        for cell in executed[: len(student_code)]:
            assert cell.get("execution_count") is not None, (
                f"{source.name}: a cell before the exercise did not run"
            )
            assert not [o for o in cell.get("outputs", []) if o["output_type"] == "error"], (
                source.name
            )
        ran += 1
    assert ran >= 1


def test_student_copy_refuses_an_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no chapter notebooks"):
        classroom.student_copy(tmp_path / "out", tmp_path)


@pytest.mark.parametrize("lang, gone", [("ko", "lang-en"), ("en", "lang-ko")])
def test_student_copy_in_one_language(tmp_path, lang, gone):
    """`--lang ko` hands out Korean-only notebooks: every English prose cell gone (Markdown, and the
    code cells whose output is an English sentence, bertnli.book.prose.say), all other code there."""
    if not SOURCES:
        pytest.skip("no chapter notebooks in notebooks/")
    out = tmp_path / lang
    assert (
        cli.main(
            ["classroom", "student-copy", str(out), "--notebooks", str(NOTEBOOKS), "--lang", lang]
        )
        == 0
    )
    kept_tag = {"lang-en": "lang-ko", "lang-ko": "lang-en"}[gone]
    for source in SOURCES:
        original = read_source(source)
        copy = nbformat.read(out / f"{source.stem}.ipynb", as_version=4)
        nbformat.validate(copy)
        assert not any(gone in tags(c) for c in copy.cells), (
            f"{source.name}: {gone} prose left in --lang {lang}"
        )
        prose = [c.source for c in original.cells if kept_tag in tags(c)]
        copied = [c.source for c in copy.cells if c.cell_type == "markdown" or kept_tag in tags(c)]
        assert prose and copied[1:] == prose, source.name
        title = copied[0]  # the chapter's bilingual title, in the chosen language only
        assert title.startswith("# ") and " · " not in title, title
        assert bool(re.search(r"[\uac00-\ud7a3]", title)) == (lang == "ko"), title
        code = [
            c.source
            for c in original.cells
            if c.cell_type == "code" and not {"solution", gone} & set(tags(c))
        ]
        assert [c.source for c in copy.cells if c.cell_type == "code"] == code, source.name


def test_student_copy_rejects_an_unknown_language(tmp_path, capsys):
    with pytest.raises(ValueError, match="--lang 'fr'"):
        classroom.student_copy(tmp_path / "out", NOTEBOOKS, lang="fr")
    with pytest.raises(SystemExit):
        cli.main(["classroom", "student-copy", str(tmp_path / "out"), "--lang", "fr"])
    assert "invalid choice: 'fr'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- mirror

FAKE = "bert.fake"
FAKE_FILE = "bert.fake.zip"


def make_fake_archive(path: Path) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bert.fake/vocab.json", '["<unk>", "<pad>", "hello"]')
        zf.writestr("bert.fake/pretrained.params", os.urandom(4096))
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_mirror_packs_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "empty-cache"))
    out = tmp_path / "usb"
    assert cli.main(["classroom", "mirror", str(out)]) == 0
    ckpt = sample.checkpoint_path()
    assert (out / ckpt.name).read_bytes() == ckpt.read_bytes()
    sums = (out / classroom.SUMS_FILE).read_text().split()
    assert sums == [hub.sha1_of(ckpt), ckpt.name]
    readme = (out / classroom.README_FILE).read_text(encoding="utf-8")
    assert f"BERTNLI_HUB_URL={out.resolve().as_uri()}/" in readme
    assert "이 폴더에서 설치하기" in readme


def test_mirror_round_trip_installs_offline(tmp_path, monkeypatch):
    archive = tmp_path / "made" / FAKE_FILE
    archive.parent.mkdir()
    sha1 = make_fake_archive(archive)
    monkeypatch.setitem(
        hub.REGISTRY, FAKE, hub.Resource(FAKE, FAKE_FILE, sha1, "vocab.json", "a fake checkpoint")
    )

    # The instructor's machine: the archive is in the cache (placed by hand, as the hub allows),
    # next to a corrupt copy of another registered archive that must not be packed.
    teacher = tmp_path / "teacher-cache"
    teacher.mkdir()
    (teacher / FAKE_FILE).write_bytes(archive.read_bytes())
    (teacher / hub.REGISTRY["bert.small"].filename).write_bytes(b"not the real zip")
    monkeypatch.setenv("BERTNLI_CACHE", str(teacher))
    m = classroom.mirror(tmp_path / "usb")
    assert m.files[FAKE_FILE] == sha1
    assert not (tmp_path / "usb" / hub.REGISTRY["bert.small"].filename).exists()
    assert any("bert.small" in note for note in m.skipped)
    assert f"{sha1}  {FAKE_FILE}" in (tmp_path / "usb" / classroom.SUMS_FILE).read_text()
    assert (
        f"python -m bertnli download {FAKE}"
        in (tmp_path / "usb" / classroom.README_FILE).read_text()
    )

    # A student's machine: empty cache, no internet, the mirror on a stick.
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "student-cache"))
    monkeypatch.setenv("BERTNLI_HUB_URL", (tmp_path / "usb").resolve().as_uri() + "/")
    assert not hub.is_cached(FAKE)
    payload = hub.fetch(FAKE, progress=False)
    assert (payload / "vocab.json").read_text() == '["<unk>", "<pad>", "hello"]'
    assert hub.sha1_of(hub.archive_path(FAKE)) == sha1


# --------------------------------------------------------------------------- a person's files (issue 21, item 4)


def tiny_chapters(folder: Path) -> Path:
    """Two small MyST chapters, one with a solution cell."""
    folder.mkdir(parents=True, exist_ok=True)
    head = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n"
    (folder / "01_one.md").write_text(
        head + "# One\n\n```{code-cell} ipython3\nx = 1\n```\n\nText.\n"
    )
    (folder / "02_two.md").write_text(
        head + "# Two\n\n```{code-cell} ipython3\n:tags: [exercise]\n\ny = None\n```\n\n"
        "```{code-cell} ipython3\n:tags: [solution]\n\ny = 2\n```\n"
    )
    return folder


def test_student_copy_again_keeps_a_notebook_a_student_edited(tmp_path, capsys):
    src, out = tiny_chapters(tmp_path / "nb"), tmp_path / "class"
    assert cli.main(["classroom", "student-copy", str(out), "--notebooks", str(src)]) == 0
    edited = nbformat.read(out / "02_two.ipynb", as_version=4)
    edited.cells[1].source = "y = 42  # my answer"
    nbformat.write(edited, out / "02_two.ipynb")
    mine = (out / "02_two.ipynb").read_bytes()
    (src / "01_one.md").write_text(
        (src / "01_one.md").read_text().replace("x = 1", "x = 10")
    )  # a new edition
    capsys.readouterr()
    assert cli.main(["classroom", "student-copy", str(out), "--notebooks", str(src)]) == 0
    captured = capsys.readouterr()
    assert (out / "02_two.ipynb").read_bytes() == mine  # the student's work is still there
    assert f"kept {out / '02_two.ipynb'}" in captured.err and "--force" in captured.err
    assert "x = 10" in (out / "01_one.ipynb").read_text()  # the untouched copy follows the source
    assert (
        cli.main(["classroom", "student-copy", str(out), "--notebooks", str(src), "--force"]) == 0
    )
    assert "my answer" not in (out / "02_two.ipynb").read_text()


def test_student_copy_keeps_a_notebook_it_did_not_write(tmp_path, capsys):
    src, out = tiny_chapters(tmp_path / "nb"), tmp_path / "class"
    out.mkdir()
    (out / "01_one.ipynb").write_text("a file of the same name, not written by bertnli")
    copies = classroom.student_copy(out, src)
    assert [c.status for c in copies] == ["kept", "written"]
    assert (out / "01_one.ipynb").read_text() == "a file of the same name, not written by bertnli"


def test_student_copies_have_the_same_cell_ids_on_every_run(tmp_path):
    src = tiny_chapters(tmp_path / "nb")
    classroom.student_copy(tmp_path / "a", src)
    classroom.student_copy(tmp_path / "b", src)
    for name in ("01_one.ipynb", "02_two.ipynb"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        ids = [c["id"] for c in nbformat.read(tmp_path / "a" / name, as_version=4).cells]
        assert ids == [f"{name[:-6]}-{i:03d}" for i in range(len(ids))]


def test_mirror_keeps_the_owners_readme_and_sums(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "empty-cache"))
    out = tmp_path / "usb"
    out.mkdir()
    (out / classroom.README_FILE).write_text("# My USB stick\nPhotos of the class trip.\n")
    (out / classroom.SUMS_FILE).write_text("abc  photo.jpg\n")
    assert cli.main(["classroom", "mirror", str(out)]) == 0
    err = capsys.readouterr().err
    assert (
        out / classroom.README_FILE
    ).read_text() == "# My USB stick\nPhotos of the class trip.\n"
    assert (out / classroom.SUMS_FILE).read_text() == "abc  photo.jpg\n"
    assert (
        f"kept {out / classroom.README_FILE}" in err and f"kept {out / classroom.SUMS_FILE}" in err
    )
    assert (out / sample.checkpoint_path().name).is_file()  # the mirror's own files are there
    assert cli.main(["classroom", "mirror", str(out), "--force"]) == 0
    assert "BERTNLI_HUB_URL" in (out / classroom.README_FILE).read_text()


def test_mirror_run_again_refreshes_only_its_own_files(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "empty-cache"))
    out = tmp_path / "usb"
    first = classroom.mirror(out)
    assert not first.kept
    (out / classroom.README_FILE).write_text(
        (out / classroom.README_FILE).read_text() + "\nold edition\n"
    )
    second = classroom.mirror(out)  # an owner's change to the README is theirs now
    assert second.kept and "old edition" in (out / classroom.README_FILE).read_text()
    name = sample.checkpoint_path().name
    (out / name).write_bytes(b"someone else's file with the same name")
    third = classroom.mirror(out)
    assert (out / name).read_bytes() == b"someone else's file with the same name"
    assert (
        name not in (out / classroom.SUMS_FILE).read_text()
    )  # never listed with a sha1 it does not have
    assert any(name in note for note in third.skipped)


def test_a_damaged_record_of_what_was_written_keeps_every_changed_file(tmp_path):
    """Probe: a garbled ``.bertnli-written.json`` means nothing there is known to be ours: keep what differs."""
    src, out = tiny_chapters(tmp_path / "nb"), tmp_path / "class"
    classroom.student_copy(out, src)
    (out / "02_two.ipynb").write_text(
        (out / "02_two.ipynb").read_text().replace("y = None", "y = 7")
    )
    (out / classroom.MANIFEST_FILE).write_text("{not json")
    copies = classroom.student_copy(out, src)
    assert [c.status for c in copies] == ["unchanged", "kept"] and "y = 7" in (
        out / "02_two.ipynb"
    ).read_text()


def test_a_folder_named_like_a_notebook_is_refused_before_anything_is_written(tmp_path):
    src, out = tiny_chapters(tmp_path / "nb"), tmp_path / "class"
    (out / "02_two.ipynb").mkdir(parents=True)
    (out / "02_two.ipynb" / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ValueError, match="02_two.ipynb is a folder where a student notebook goes"):
        classroom.student_copy(out, src, force=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "02_two.ipynb"
    ]  # 01 not written either; the photo kept
    assert (out / "02_two.ipynb" / "photo.jpg").read_bytes() == b"\xff\xd8"


@pytest.mark.parametrize("action", ["student-copy", "mirror"])
def test_an_output_that_is_a_file_is_refused(tmp_path, monkeypatch, capsys, action):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    (tmp_path / "out").write_text("my notes")
    extra = ["--notebooks", str(tiny_chapters(tmp_path / "nb"))] if action == "student-copy" else []
    assert cli.main(["classroom", action, str(tmp_path / "out"), *extra]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "my notes"


# ----------------------------------------------------------------------------- student-copy never writes into its sources

CHAPTER_MD = """---
jupytext:
  formats: ipynb,md:myst
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# A chapter

```{code-cell} ipython3
:tags: [exercise]
answer = ...
```

```{code-cell} ipython3
:tags: [solution]
answer = 42
```
"""


@pytest.fixture
def chapters(tmp_path) -> Path:
    """A notebooks folder with one paired chapter (.md + .ipynb), solution cell included."""
    import jupytext

    folder = tmp_path / "book" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_chapter.md").write_text(CHAPTER_MD, encoding="utf-8")
    jupytext.write(jupytext.reads(CHAPTER_MD, fmt="md:myst"), folder / "01_chapter.ipynb")
    return folder


@pytest.mark.usefixtures(
    "isolated_cache"
)  # conftest.py (as in test_cli_finetune.py, where these began)
@pytest.mark.parametrize("where", ["is", "inside", "contains", "symlink"])
def test_student_copy_never_writes_into_its_sources(chapters, capsys, where):
    out = {
        "is": chapters,
        "inside": chapters / "students",
        "contains": chapters.parent,
        "symlink": chapters.parent / "link",
    }[where]
    if where == "symlink":
        out.symlink_to(chapters, target_is_directory=True)
    before = {p: p.read_bytes() for p in chapters.parent.rglob("*") if p.is_file()}
    code, _, err = run_cli(
        capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters)
    )
    assert code == 2 and str(out) in err and "notebooks folder it copies from" in err
    after = {p: p.read_bytes() for p in chapters.parent.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing stripped
    assert "answer = 42" in (chapters / "01_chapter.ipynb").read_text()


@pytest.mark.usefixtures(
    "isolated_cache"
)  # conftest.py (as in test_cli_finetune.py, where these began)
def test_student_copy_next_to_the_sources_works(chapters, capsys):
    out = chapters.parent / "students"
    code, _, _ = run_cli(
        capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters)
    )
    assert code == 0 and "answer = 42" not in (out / "01_chapter.ipynb").read_text()


@pytest.mark.usefixtures(
    "isolated_cache"
)  # conftest.py (as in test_cli_finetune.py, where these began)
def test_a_malformed_chapter_means_no_student_copy_at_all(chapters, capsys):
    """All chapters are read and checked before the first copy is written: never half a class set."""
    (chapters / "02_broken.ipynb").write_text('{"cells": [')
    out = chapters.parent / "students"
    code, _, err = run_cli(
        capsys, "classroom", "student-copy", str(out), "--notebooks", str(chapters)
    )
    assert (
        code == 2 and str(chapters / "02_broken.ipynb") in err and "not a readable notebook" in err
    )
    assert not out.exists()
