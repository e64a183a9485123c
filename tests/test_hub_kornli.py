"""KorNLI through the hub: loose files at a pinned revision, each checked by its git blob id,
cached atomically, listed by ``download`` / ``cache`` and passed on by ``classroom mirror``.

Nothing is downloaded: made-up KorNLI-format files are served by a loopback HTTP server (or a
``file://`` mirror), and the registry entry is replaced by one pinning their blob ids.
"""

from __future__ import annotations

import http.server
import subprocess
from pathlib import Path

import pytest
from helpers.loopback import LoopbackServer

from bertnli import _cli_hub, hub
from bertnli.book import classroom, licenses
from bertnli.data import corpora, kornli

CONTENT = {
    "snli_1.0_train.ko.tsv": "sentence1\tsentence2\tgold_label\n남자가 걷는다.\t사람이 움직인다.\tentailment\n",
    "multinli.train.ko.tsv": 'sentence1\tsentence2\tgold_label\n"그건 아니에요\t누군가 말했다.\tneutral\n',
    "xnli.dev.ko.tsv": "sentence1\tsentence2\tgold_label\n아이가 웃는다.\t아이가 운다.\tcontradiction\n",
    "xnli.test.ko.tsv": "sentence1\tsentence2\tgold_label\n개가 뛴다.\t동물이 있다.\tentailment\n",
}
DATA = {name: text.encode("utf-8") for name, text in CONTENT.items()}


class Server(LoopbackServer):
    """Serves ``files`` (URL path -> bytes); a path in ``dying`` sends half its bytes and hangs up."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dying: set[str] = set()
        self.hits: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if self.path in server.dying else data)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def server(monkeypatch, isolated_cache):
    """The made-up files at ``/<revision>/KorNLI/<name>``, registered as the pinned KorNLI set."""
    srv = Server()
    revision = "0" * 40
    for name, data in DATA.items():
        srv.files[f"/{revision}/KorNLI/{name}"] = data
    pinned = tuple(hub.PinnedFile(name, kornli.git_blob_id(data)) for name, data in DATA.items())
    fs = hub.FileSet("kornli", revision, f"{srv.url}{revision}/KorNLI/", pinned, "KorNLI (test)")
    monkeypatch.setitem(hub.FILE_SETS, "kornli", fs)
    monkeypatch.delenv(hub.URL_ENV, raising=False)
    yield srv
    srv.stop()


def leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith("tmp") or "partial" in p.name
    )


def test_the_registry_pins_kakaobrains_revision_by_git_blob():
    fs = hub.FILE_SETS["kornli"]
    assert fs.url == (
        "https://raw.githubusercontent.com/kakaobrain/kor-nlu-datasets/"
        "0df0fe7d496eb61b092e022e238c2230b29f1cbc/KorNLI/"
    )
    assert [f.filename for f in fs.files] == [
        n for s in corpora.SPLITS for n in kornli.CORPUS.split_files[s]
    ]
    assert fs.blob("xnli.dev.ko.tsv") == "21305150d466aa35d42b14e1890b7dcd58084634"
    assert "kornli" in hub.names() and "kornli" in licenses.CREDITS
    assert (
        "Ham" in licenses.CREDITS["kornli"].source
        and licenses.CREDITS["kornli"].spdx == "CC-BY-SA-4.0"
    )


def test_git_blob_of_matches_git_hash_object(tmp_path):
    file = tmp_path / "x.tsv"
    file.write_bytes(DATA["xnli.dev.ko.tsv"])
    assert hub.git_blob_of(file) == kornli.git_blob_id(file.read_bytes())
    try:
        by_git = subprocess.run(
            ["git", "hash-object", str(file)], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not installed")
    assert hub.git_blob_of(file) == by_git.stdout.strip()


def test_first_fetch_downloads_each_file_from_the_pinned_revision_then_the_cache_answers(
    server, isolated_cache
):
    folder = hub.fetch("kornli")
    assert folder == isolated_cache / "kornli"
    assert {name: (folder / name).read_bytes() for name in DATA} == DATA
    assert sorted(server.hits) == sorted(server.files)
    assert hub.is_cached("kornli") and leftovers(folder) == []
    server.hits.clear()
    assert hub.fetch("kornli") == folder and server.hits == []  # no network the second time
    assert corpora.read_pairs("kornli-snli", "train")[0] == ["남자가 걷는다."]
    assert corpora.read_pairs("kornli", "train")[0] == ["남자가 걷는다.", '"그건 아니에요']


def test_a_wrong_file_is_not_kept_and_the_message_says_how_to_install_by_hand(
    server, isolated_cache
):
    path = next(p for p in server.files if p.endswith("xnli.dev.ko.tsv"))
    server.files[path] = DATA["xnli.dev.ko.tsv"].replace("웃는다".encode(), "운다".encode())
    with pytest.raises(hub.HubError) as err:
        hub.fetch("kornli")
    message = str(err.value)
    assert (
        "git blob id expected" in message
        and hub.FILE_SETS["kornli"].blob("xnli.dev.ko.tsv") in message
    )
    assert (
        str(isolated_cache / "kornli" / "xnli.dev.ko.tsv") in message
        and "git hash-object" in message
    )
    folder = isolated_cache / "kornli"
    assert not (folder / "xnli.dev.ko.tsv").exists() and not (folder / hub.COMPLETE).exists()
    assert leftovers(folder) == [] and not hub.is_cached("kornli")
    assert [e.kind for e in hub.cached() if e.name == "kornli"] == ["incomplete"]


def test_a_server_dying_mid_file_leaves_nothing_half_written(server, isolated_cache):
    server.dying.add(next(p for p in server.files if p.endswith("multinli.train.ko.tsv")))
    with pytest.raises(hub.HubError, match="kornli"):
        hub.fetch("kornli")
    folder = isolated_cache / "kornli"
    assert not (folder / "multinli.train.ko.tsv").exists() and leftovers(folder) == []
    server.dying.clear()
    server.hits.clear()
    hub.fetch("kornli")  # the verified file of the first try is kept, not fetched again
    assert not any(h.endswith("snli_1.0_train.ko.tsv") for h in server.hits)
    assert hub.is_cached("kornli")


def test_a_hand_placed_file_is_used_and_a_wrong_one_moved_aside(server, isolated_cache, capsys):
    folder = isolated_cache / "kornli"
    folder.mkdir(parents=True)
    (folder / "xnli.test.ko.tsv").write_bytes(DATA["xnli.test.ko.tsv"])
    (folder / "xnli.dev.ko.tsv").write_text("someone's own notes", encoding="utf-8")
    hub.fetch("kornli")
    assert not any(h.endswith("xnli.test.ko.tsv") for h in server.hits)
    assert (folder / "xnli.dev.ko.tsv").read_bytes() == DATA["xnli.dev.ko.tsv"]
    aside = [p for p in folder.iterdir() if p.name.startswith("xnli.dev.ko.tsv.blob-")]
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == "someone's own notes"
    assert "moved aside" in capsys.readouterr().err


def test_download_and_cache_commands_list_kornli(server, isolated_cache, capsys):
    assert _cli_hub.cmd_download("kornli") == 0
    assert capsys.readouterr().out.strip() == str(isolated_cache / "kornli")
    assert [(e.name, e.kind) for e in hub.cached()] == [("kornli", "folder")]
    assert _cli_hub.cmd_cache() == 0
    assert "kornli  folder" in capsys.readouterr().out


def test_the_mirror_passes_kornli_on_and_a_student_installs_from_it(server, tmp_path, monkeypatch):
    hub.fetch("kornli")
    m = classroom.mirror(tmp_path / "usb")
    usb = tmp_path / "usb"
    for name, data in DATA.items():
        assert (usb / name).read_bytes() == data and name in m.files
        notice = (usb / f"{name}{licenses.SUFFIX}").read_text(encoding="utf-8")
        assert "KorNLI" in notice and "License: CC-BY-SA-4.0" in notice
    readme = " ".join((usb / classroom.README_FILE).read_text(encoding="utf-8").split())
    assert (
        "python -m bertnli download kornli" in readme
        and "git blob id" in readme
        and "git 블롭" in readme
    )
    # A student's machine: an empty cache, no internet, the mirror on a stick.
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "student-cache"))
    monkeypatch.setenv(hub.URL_ENV, usb.as_uri())
    server.stop()
    assert corpora.read_pairs("kornli", "test")[0] == ["개가 뛴다."]
    assert hub.is_cached("kornli")


def test_a_damaged_cached_file_is_left_out_of_the_mirror(server, tmp_path, isolated_cache):
    hub.fetch("kornli")
    (isolated_cache / "kornli" / "xnli.test.ko.tsv").write_text("changed", encoding="utf-8")
    m = classroom.mirror(tmp_path / "usb")
    assert "xnli.test.ko.tsv" not in m.files and "xnli.dev.ko.tsv" in m.files
    assert any("not the verified xnli.test.ko.tsv" in s for s in m.skipped)
