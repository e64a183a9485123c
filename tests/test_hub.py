"""Tests for bertnli.hub and the download/cache CLI commands.

Nothing here touches the internet: archives are built in ``tmp_path`` and served by
a loopback HTTP server whose handler can also answer 404/500 or die mid-file.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import time
import zipfile
from pathlib import Path

import pytest
from helpers.loopback import LoopbackServer, closed_port_url

from bertnli import _cli_hub, hub
from bertnli._jupyter import want_progress

NAME = "bert.test"
FILENAME = "bert.test.zip"
VOCAB = b'["<unk>", "<pad>", "hello"]'
PARAMS = os.urandom(64 * 1024)


def make_zip(path: Path, members: dict[str, bytes]) -> tuple[Path, str]:
    """Write a zip with exactly the given member names; return it and its sha1."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path, hashlib.sha1(path.read_bytes()).hexdigest()


def good_members() -> dict[str, bytes]:
    return {
        "bert.test/vocab.json": VOCAB,
        "bert.test/pretrained.params": PARAMS,
        "__MACOSX/bert.test/vocab.json": b"apple resource fork",
    }


def register(monkeypatch, sha1: str, name: str = NAME, filename: str = FILENAME) -> hub.Resource:
    res = hub.Resource(name, filename, sha1, "vocab.json", "test resource")
    monkeypatch.setitem(hub.REGISTRY, name, res)
    return res


class Server(LoopbackServer):
    """A loopback HTTP server: ``files`` maps URL paths to bytes, ``modes`` to 404/500/'die'."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, object] = {}
        self.hits: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                mode = server.modes.get(self.path)
                data = server.files.get(self.path)
                if isinstance(mode, int) or data is None:
                    self.send_error(mode if isinstance(mode, int) else 404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if mode == "die":  # promise everything, send half, hang up
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    """For every test: an empty cache folder, a hub URL that refuses connections
    (so a test that forgets to set one cannot reach the internet), short timeouts,
    and no proxy between us and 127.0.0.1."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BERTNLI_CACHE", str(folder))
    monkeypatch.setenv("BERTNLI_HUB_URL", closed_port_url())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(hub, "TIMEOUT", 5.0)
    return folder


@pytest.fixture
def server(cache, monkeypatch):
    srv = Server()
    monkeypatch.setenv("BERTNLI_HUB_URL", srv.url)
    yield srv
    srv.stop()


@pytest.fixture
def good(tmp_path, monkeypatch) -> tuple[Path, str]:
    """The good test archive, registered as ``bert.test``."""
    path, sha1 = make_zip(tmp_path / FILENAME, good_members())
    register(monkeypatch, sha1)
    return path, sha1


def cache_names(cache: Path) -> list[str]:
    """What the cache holds, without the (empty) lock files that let processes take turns."""
    if not cache.exists():
        return []
    return sorted(
        p.name for p in cache.iterdir() if not (p.name.startswith(".") and p.name.endswith(".lock"))
    )


def assert_manual_hint(err: hub.HubError, res_sha1: str) -> None:
    message = str(err)
    assert str(hub.archive_path(NAME)) in message
    assert res_sha1 in message


# ----------------------------------------------------------------------------- downloads


def test_first_download_extracts_and_returns_payload(cache, server, good):
    zip_path, sha1 = good
    server.files["/" + FILENAME] = zip_path.read_bytes()

    payload = hub.fetch(NAME)

    assert payload == cache / NAME / "bert.test"  # not the __MACOSX copy
    assert (payload / "vocab.json").read_bytes() == VOCAB
    assert (payload / "pretrained.params").read_bytes() == PARAMS
    assert (cache / NAME / hub.COMPLETE).read_text().strip() == sha1
    assert hub.sha1_of(hub.archive_path(NAME)) == sha1
    assert cache_names(cache) == sorted([FILENAME, NAME])  # no temporary leftovers
    assert server.hits == ["/" + FILENAME]


def test_cache_hit_needs_no_server(cache, server, good):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    first = hub.fetch(NAME)
    server.stop()

    assert hub.is_cached(NAME)
    assert hub.fetch(NAME) == first
    # Without the extraction, the cached zip is unpacked again, still offline.
    (cache / NAME / hub.COMPLETE).unlink()
    assert hub.fetch(NAME) == first
    assert server.hits == ["/" + FILENAME]


def test_hand_placed_archive_is_used_without_network(cache, good, monkeypatch):
    zip_path, _ = good
    monkeypatch.setenv("BERTNLI_HUB_URL", closed_port_url())
    target = hub.archive_path(NAME)
    target.write_bytes(zip_path.read_bytes())

    assert hub.is_cached(NAME)
    assert (hub.fetch(NAME) / "vocab.json").read_bytes() == VOCAB


def test_sha1_mismatch_keeps_nothing(cache, server, good):
    _, sha1 = good
    server.files["/" + FILENAME] = b"not the archive you are looking for"

    with pytest.raises(hub.HubError) as info:
        hub.fetch(NAME)

    message = str(info.value)
    assert sha1 in message
    assert hashlib.sha1(b"not the archive you are looking for").hexdigest() in message
    assert cache_names(cache) == []


def test_wrong_hand_placed_file_is_replaced(cache, server, good):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    hub.archive_path(NAME).write_bytes(b"truncated junk")

    assert not hub.is_cached(NAME)
    assert (hub.fetch(NAME) / "vocab.json").read_bytes() == VOCAB


@pytest.mark.parametrize("status", [404, 500])
def test_http_error_explains_manual_install(cache, server, good, status):
    _, sha1 = good
    server.modes["/" + FILENAME] = status

    with pytest.raises(hub.HubError) as info:
        hub.fetch(NAME)

    assert server.url + FILENAME in str(info.value)
    assert str(status) in str(info.value)
    assert_manual_hint(info.value, sha1)
    assert cache_names(cache) == []


def test_no_network_explains_manual_install(cache, good, monkeypatch):
    _, sha1 = good
    url = closed_port_url()
    monkeypatch.setenv("BERTNLI_HUB_URL", url)

    with pytest.raises(hub.HubError) as info:
        hub.fetch(NAME)

    assert url + FILENAME in str(info.value)
    assert_manual_hint(info.value, sha1)
    assert cache_names(cache) == []


def test_server_dying_mid_file_leaves_nothing(cache, server, good):
    zip_path, sha1 = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    server.modes["/" + FILENAME] = "die"

    with pytest.raises(hub.HubError) as info:
        hub.fetch(NAME)
    assert_manual_hint(info.value, sha1)
    assert cache_names(cache) == []

    del server.modes["/" + FILENAME]  # the network is back: a retry works
    assert (hub.fetch(NAME) / "pretrained.params").read_bytes() == PARAMS


def test_progress_bar_does_not_break_download(cache, server, good, capsys):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    assert hub.fetch(NAME, progress=True).is_dir()
    assert "100%" in capsys.readouterr().err


def test_progress_bar_is_closed_when_download_fails(cache, server, good, capsys):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    server.modes["/" + FILENAME] = "die"
    with pytest.raises(hub.HubError):
        hub.fetch(NAME, progress=True)
    assert FILENAME in capsys.readouterr().err  # drawn and closed now, not at exit


def test_no_progress_bar_by_default_when_nobody_watches(cache, server, good, capsys):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    assert not want_progress()  # pytest captures stderr; not a kernel
    hub.fetch(NAME)
    assert "%|" not in capsys.readouterr().err


# ----------------------------------------------------------------------------- mirrors


def test_base_url_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("BERTNLI_HUB_URL", raising=False)
    assert hub.base_url() == hub.DEFAULT_URL
    monkeypatch.setenv("BERTNLI_HUB_URL", "https://mirror.example/d2l")
    assert hub.base_url() == "https://mirror.example/d2l/"
    monkeypatch.setenv("BERTNLI_HUB_URL", str(tmp_path))
    assert hub.base_url() == tmp_path.as_uri() + "/"


@pytest.mark.parametrize("style", ["file-url", "file-url-no-slash", "plain-folder"])
def test_file_mirror(cache, good, tmp_path, monkeypatch, style):
    zip_path, _ = good
    mirror = tmp_path / "mirror folder"  # a space, to exercise URL quoting
    mirror.mkdir()
    (mirror / FILENAME).write_bytes(zip_path.read_bytes())
    value = {
        "file-url": mirror.as_uri() + "/",
        "file-url-no-slash": mirror.as_uri(),
        "plain-folder": str(mirror),
    }
    monkeypatch.setenv("BERTNLI_HUB_URL", value[style])

    assert (hub.fetch(NAME) / "vocab.json").read_bytes() == VOCAB
    assert cache_names(cache) == sorted([FILENAME, NAME])


def test_file_mirror_missing_file(cache, good, tmp_path, monkeypatch):
    _, sha1 = good
    monkeypatch.setenv("BERTNLI_HUB_URL", (tmp_path / "empty").as_uri())
    with pytest.raises(hub.HubError) as info:
        hub.fetch(NAME)
    assert (tmp_path / "empty").as_uri() + "/" + FILENAME in str(info.value)
    assert_manual_hint(info.value, sha1)
    assert cache_names(cache) == []


# ----------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    "member",
    ["../evil.txt", "bert.test/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt", "C:/evil.txt"],
)
def test_zip_slip_is_refused(cache, server, tmp_path, monkeypatch, member):
    members = good_members() | {member: b"gotcha"}
    zip_path, sha1 = make_zip(tmp_path / FILENAME, members)
    assert member in zipfile.ZipFile(zip_path).namelist()  # zipfile kept the hostile name
    register(monkeypatch, sha1)
    server.files["/" + FILENAME] = zip_path.read_bytes()

    with pytest.raises(hub.HubError, match="outside"):
        hub.fetch(NAME)

    assert cache_names(cache) == [FILENAME]  # the verified zip only; nothing extracted
    assert not (tmp_path / "evil.txt").exists()
    assert not any(p.name == "evil.txt" for p in tmp_path.rglob("*"))


def test_archive_without_marker_is_refused(cache, tmp_path, monkeypatch):
    zip_path, sha1 = make_zip(tmp_path / FILENAME, {"something/else.txt": b"x"})
    register(monkeypatch, sha1)
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())
    with pytest.raises(hub.HubError, match="vocab.json"):
        hub.fetch(NAME)
    assert cache_names(cache) == [FILENAME]


def test_interrupted_extraction_leaves_nothing(cache, good, monkeypatch):
    zip_path, _ = good
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())

    def extract_one_then_fail(self, path=None, members=None, pwd=None):
        self.extract(self.namelist()[0], path, pwd)
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(zipfile.ZipFile, "extractall", extract_one_then_fail)
        with pytest.raises(hub.HubError, match="No space left"):
            hub.fetch(NAME)
    assert cache_names(cache) == [FILENAME]  # no target folder, no partial folder

    assert (hub.fetch(NAME) / "vocab.json").read_bytes() == VOCAB


@pytest.mark.parametrize("marker", [None, "0" * 40])
def test_stale_extraction_is_redone(cache, good, marker):
    zip_path, _ = good
    stale = cache / NAME / "bert.test"
    stale.mkdir(parents=True)
    (stale / "vocab.json").write_bytes(b"half written")
    (stale / "leftover.bin").write_bytes(b"junk")
    if marker is not None:
        (cache / NAME / hub.COMPLETE).write_text(marker)
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())

    payload = hub.fetch(NAME)

    assert (payload / "vocab.json").read_bytes() == VOCAB
    assert not (payload / "leftover.bin").exists()


def test_old_leftovers_are_swept_young_ones_kept(cache, server, good):
    zip_path, _ = good
    server.files["/" + FILENAME] = zip_path.read_bytes()
    cache.mkdir(parents=True)
    old_tmp, young_tmp = cache / "tmpab12cd_3", cache / "tmpzz99yy88"
    old_part = cache / f".{NAME}{hub.PARTIAL}old"
    old_tmp.write_bytes(b"partial download")
    young_tmp.write_bytes(b"someone else's download in progress")
    old_part.mkdir()
    (old_part / "x").write_bytes(b"x")
    ancient = time.time() - 2 * hub.STALE_AFTER_S
    for p in (old_tmp, old_part):
        os.utime(p, (ancient, ancient))

    hub.fetch(NAME)

    assert not old_tmp.exists() and not old_part.exists()
    assert young_tmp.exists()


# ----------------------------------------------------------------------------- registry & listing


def test_unknown_name_lists_known_ones(cache):
    with pytest.raises(hub.HubError) as info:
        hub.fetch("bert.huge")
    for name in ("bert.small", "bert.base", "snli"):
        assert name in str(info.value)


def test_registry_entries():
    assert set(hub.REGISTRY) >= {"bert.small", "bert.base", "snli"}
    assert hub.REGISTRY["snli"].filename == "snli_1.0.zip"
    assert hub.REGISTRY["snli"].marker == "snli_1.0_train.txt"
    assert all(len(r.sha1) == 40 and r.name == key for key, r in hub.REGISTRY.items())


def test_cache_dir_defaults_to_os_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("BERTNLI_CACHE", raising=False)
    monkeypatch.setattr(hub.pooch, "os_cache", lambda project: tmp_path / "os-cache" / project)
    assert hub.cache_dir() == tmp_path / "os-cache" / "bertnli"
    assert hub.cache_dir().is_dir()


def test_cached_lists_archives_and_folders(cache, good):
    zip_path, _ = good
    assert hub.cached() == []
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())
    hub.fetch(NAME)
    (cache / "bert.small").mkdir()  # an extraction without its completion marker

    entries = {(e.name, e.kind): e for e in hub.cached()}

    assert set(entries) == {(NAME, "archive"), (NAME, "folder"), ("bert.small", "incomplete")}
    assert entries[NAME, "archive"].size_bytes == zip_path.stat().st_size
    assert entries[NAME, "archive"].path == hub.archive_path(NAME)
    assert entries[NAME, "folder"].size_bytes >= len(VOCAB) + len(PARAMS)


# ----------------------------------------------------------------------------- CLI helpers


def test_cmd_download_prints_payload(cache, good, capsys):
    zip_path, _ = good
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())
    assert _cli_hub.cmd_download(NAME) == 0
    assert capsys.readouterr().out.strip() == str(cache / NAME / "bert.test")


def test_cmd_download_reports_errors(cache, good, monkeypatch, capsys):
    monkeypatch.setenv("BERTNLI_HUB_URL", closed_port_url())
    assert _cli_hub.cmd_download(NAME) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert str(hub.archive_path(NAME)) in err
    assert _cli_hub.cmd_download("nope") == 2
    assert "bert.small" in capsys.readouterr().err


def test_cmd_cache_prints_table(cache, good, capsys):
    assert _cli_hub.cmd_cache() == 0
    out = capsys.readouterr().out
    assert str(cache) in out and "(empty)" in out

    zip_path, _ = good
    hub.archive_path(NAME).write_bytes(zip_path.read_bytes())
    hub.fetch(NAME)
    assert _cli_hub.cmd_cache() == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"cache: {cache}"
    assert lines[1].split() == ["NAME", "KIND", "SIZE", "PATH"]
    assert any(
        line.split()[:2] == [NAME, "archive"] and str(hub.archive_path(NAME)) in line
        for line in lines
    )
    assert any(line.split()[:2] == [NAME, "folder"] and "kB" in line for line in lines)
    assert lines[-1].startswith("total: ")


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (44_200_000, "44.2 MB"),
        (5 * 10**12, "5000.0 GB"),
    ],
)
def test_human_size(n, text):
    assert _cli_hub.human_size(n) == text


# ----------------------------------------------------------------------------- a local copy that is not the hub's bytes


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_a_mismatching_cache_file_is_moved_aside_with_how_to_use_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(
        "BERTNLI_HUB_URL", "http://127.0.0.1:9/"
    )  # nothing listens: the download fails fast
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    archive = hub.archive_path("bert.small")
    archive.write_bytes(b"my own re-zipped copy")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("bert.small")
    aside = list(archive.parent.glob("bert.small.torch.sha1-*.zip"))
    assert (
        len(aside) == 1
        and aside[0].read_bytes() == b"my own re-zipped copy"
        and not archive.exists()
    )
    message = str(err.value)
    assert (
        str(aside[0]) in message and f"--model {aside[0]}" in message and "BERTNLI_MODEL" in message
    )
    assert "moved aside, not deleted" in message and "moved aside" in capsys.readouterr().err
    archive.write_bytes(b"another")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("snli")  # SNLI: --data / BERTNLI_DATA
    snli_archive = hub.archive_path("snli")
    assert not snli_archive.exists() or "--data" in str(err.value)


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_snli_mismatch_points_at_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_HUB_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    hub.archive_path("snli").write_bytes(b"not snli")
    with pytest.raises(hub.HubError) as err:
        hub.fetch("snli")
    assert "--data" in str(err.value) and "BERTNLI_DATA" in str(err.value)


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_an_unreachable_mirror_names_the_mirror_and_the_original(monkeypatch):
    monkeypatch.setenv("BERTNLI_HUB_URL", "http://127.0.0.1:9/mirror/")
    monkeypatch.setattr(hub, "TIMEOUT", 2.0)
    with pytest.raises(hub.HubError) as err:
        hub.fetch("bert.small")
    message = str(err.value)
    assert "http://127.0.0.1:9/mirror/bert.small.torch.zip" in message
    assert hub.DEFAULT_URL + "bert.small.torch.zip" in message
