"""Several processes, one cache: four processes fetch the same resource at once.

torchrun's ranks on a fresh cache, or two notebooks started together, all call
``hub.fetch`` for the same archive at the same moment. Each must end with the same
complete files, and none may fail (or delete a folder another one is reading).
The archive comes from a ``file://`` mirror and a loopback HTTP server: nothing leaves
the machine.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers.loopback import LoopbackServer, closed_port_url

PROCESSES = 4
MEMBERS = 1000  # enough files that unpacking takes a while: the processes overlap

# One racing process: register the test resource, wait for the start signal, fetch, then
# read every file of the payload a few times (a reader whose folder vanished would fail).
RACER = r"""
import hashlib, json, os, sys, time
from pathlib import Path
from bertnli import hub

name, filename, sha1, go, delay = sys.argv[1:6]
hub.REGISTRY[name] = hub.Resource(name, filename, sha1, "vocab.json", "race test")
while not os.path.exists(go):
    time.sleep(0.001)
time.sleep(float(delay))  # staggered starts: each finishes while the ones before it are reading
payload = hub.fetch(name, progress=False)
digests = []
until = time.monotonic() + 1.5  # keep reading while the others finish: their work must not disturb ours
while len(digests) < 3 or time.monotonic() < until:
    h = hashlib.sha1()
    for p in sorted(payload.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(payload).as_posix().encode())
            h.update(p.read_bytes())
    digests.append(h.hexdigest())
print(json.dumps({"payload": str(payload), "digests": digests}))
"""


class FolderServer(LoopbackServer):
    """Serves ``folder`` on 127.0.0.1 and counts the requests per path."""

    def __init__(self, folder: Path):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(functools.partial(Handler, directory=str(folder)))


def make_archive(folder: Path) -> tuple[str, str, str]:
    """A zip like d2l's: ``NAME/vocab.json`` plus many parameter files; returns (file, sha1, content digest)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bert.race.zip"
    members = {"bert.race/vocab.json": b'["<unk>", "<pad>"]'}
    for i in range(MEMBERS):
        members[f"bert.race/params/{i:04d}.bin"] = hashlib.sha256(str(i).encode()).digest() * 64
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    h = hashlib.sha1()
    for name in sorted(members):
        h.update(name.removeprefix("bert.race/").encode())
        h.update(members[name])
    return path.name, hashlib.sha1(path.read_bytes()).hexdigest(), h.hexdigest()


def race(tmp_path: Path, url: str, filename: str, sha1: str) -> list[subprocess.CompletedProcess]:
    go = tmp_path / "go"
    env = {
        **os.environ,
        "BERTNLI_CACHE": str(tmp_path / "cache"),
        "BERTNLI_HUB_URL": url,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, "bert.race", filename, sha1, str(go), str(0.1 * i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    time.sleep(3.0)  # let every process import bertnli and wait at the line
    go.write_text("go")
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def check(results, cache: Path, digest: str) -> None:
    for r in results:
        assert r.returncode == 0, r.stderr[-2000:]
        assert "Traceback" not in r.stderr
    answers = [json.loads(r.stdout.strip().splitlines()[-1]) for r in results]
    assert len({a["payload"] for a in answers}) == 1
    assert all(
        d == digest for a in answers for d in a["digests"]
    )  # the same complete files, every time
    left = sorted(
        p.name for p in cache.iterdir() if not (p.name.startswith(".") and p.name.endswith(".lock"))
    )
    assert left == ["bert.race", "bert.race.zip"]  # no partial folders, no temporary downloads


@pytest.mark.slow
def test_four_processes_fetch_from_a_file_mirror_at_once(tmp_path):
    filename, sha1, digest = make_archive(tmp_path / "mirror")
    results = race(tmp_path, (tmp_path / "mirror").as_uri() + "/", filename, sha1)
    check(results, tmp_path / "cache", digest)


@pytest.mark.slow
def test_four_processes_download_over_http_at_once(tmp_path):
    filename, sha1, digest = make_archive(tmp_path / "served")
    server = FolderServer(tmp_path / "served")
    try:
        results = race(tmp_path, server.url, filename, sha1)
    finally:
        server.stop()
    check(results, tmp_path / "cache", digest)
    assert (
        server.hits.count("/" + filename) == 1
    )  # one process downloaded; the others waited and reused it


def test_the_lock_is_released_when_a_fetch_fails(tmp_path, monkeypatch):
    """A failed fetch (server down) leaves no lock behind: the next fetch runs, it does not wait."""
    from bertnli import hub

    filename, sha1, _ = make_archive(tmp_path / "mirror")
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(
        hub.REGISTRY, "bert.race", hub.Resource("bert.race", filename, sha1, "vocab.json", "t")
    )
    monkeypatch.setenv("BERTNLI_HUB_URL", closed_port_url())
    with pytest.raises(hub.HubError):
        hub.fetch("bert.race", progress=False)
    monkeypatch.setenv("BERTNLI_HUB_URL", (tmp_path / "mirror").as_uri() + "/")
    assert (hub.fetch("bert.race", progress=False) / "vocab.json").is_file()
