"""Fixtures shared by the whole test run.

The book is built once per run (``built_book``), and that build is the one execution of
every chapter: the chapter tests read its executed notebooks, the browser tests serve its
HTML, the classroom tests compare student copies with it. The build goes to a fresh folder,
so nothing comes from an earlier run's execution cache (which is keyed on the code cells
only and would not notice a change in ``bertnli`` itself).

Helpers that are not fixtures live in the ``tests/helpers/`` package (``helpers.needs``,
``helpers.tiny_task``, ``helpers.snli_files``, ...), never in a test module.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from helpers.needs import missing
from helpers.once import MadeBeforeAndFailed, once_per_run

REPO = Path(__file__).resolve().parents[1]
# Set BERTNLI_BOOK_ROOT to test another checkout's book (development only).
BOOK_ROOT = Path(os.environ.get("BERTNLI_BOOK_ROOT", REPO)).resolve()
CHROMIUM = Path(os.environ.get("BERTNLI_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BERTNLI_CHROMEDRIVER", "/usr/bin/chromedriver"))
# What `make book` sets (tests/test_book_ext.py checks that the Makefile agrees): the
# sample profile, one PyTorch thread, no progress bars (a static page cannot show one).
# The suite reads the command line's English words; a Korean locale must not change them (the
# Korean ones are tested by setting BERTNLI_LANG=ko: tests/test_cli_messages.py).
os.environ["BERTNLI_LANG"] = "en"
BOOK_ENV = {"BERTNLI_PROFILE": "sample", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def pytest_configure(config):
    """Under pytest-xdist, each worker's PyTorch (and every process it starts) gets its share of
    the cores, not all of them: two workers of two threads each on two cores made the training
    fixtures about 10 times slower (a module's two-epoch training fixture took 238 s, against 25 s with one
    thread each under a heavier load): OpenMP threads spin while they wait for a busy core.
    An OMP_NUM_THREADS set by the caller is kept."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and "OMP_NUM_THREADS" not in os.environ:
        cores = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
        os.environ["OMP_NUM_THREADS"] = str(max(1, cores // int(workers)))
        if "torch" in sys.modules:  # read at import: too late for the variable alone
            sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group marks
def pytest_collection_modifyitems(config, items):
    """A test that uses the book build or the browser is slow; one that drives the browser is `browser`.

    Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup``) the book's users are one group,
    run by one worker: the other worker runs everything else meanwhile, instead of waiting for
    the build (``built_book`` also builds once per run whichever way the tests are spread)."""
    in_groups = config.pluginmanager.hasplugin("xdist")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))  # with the fixtures those fixtures use
        if "built_book" in fixtures:  # site, server, browser, executed_notebooks all need it
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.timeout(1800))  # the first of them builds the book
            if "browser" in fixtures:
                item.add_marker(pytest.mark.browser)
            if in_groups:
                item.add_marker(pytest.mark.xdist_group("book"))


# --------------------------------------------------------------------------- one run's surroundings


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own, and no BERTNLI_PROFILE / BERTNLI_DEBUG from the
    caller's shell: what the command-line, run-folder and signal tests start from."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BERTNLI_CACHE", str(folder))
    monkeypatch.delenv("BERTNLI_PROFILE", raising=False)
    monkeypatch.delenv("BERTNLI_DEBUG", raising=False)
    return folder


@pytest.fixture
def clean_run_env(tmp_path, monkeypatch):
    """No ``BERTNLI_*`` size override, profile or ``TQDM_DISABLE`` from the caller's shell, and a
    cache and runs folder of the test's own: what the real-run tests (profiles, progress bars,
    the command line on stand-in files) start from."""
    from bertnli.run.profiles import ENV_OVERRIDES

    for variable in [*ENV_OVERRIDES, "BERTNLI_PROFILE", "TQDM_DISABLE"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BERTNLI_RUNS", str(tmp_path / "runs"))


# --------------------------------------------------------------------------- the book, built once


@pytest.fixture(scope="session")
def book_env() -> dict[str, str]:
    """The environment the book is built in (by ``make book`` and by ``built_book``)."""
    return dict(BOOK_ENV)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """``jupyter-book build -W`` of the whole book, every chapter executed once; returns its ``_build``.

    ``BERTNLI_BUILT_BOOK=<a _build folder>`` reuses a build made earlier (development only: that
    build may be older than the code)."""
    if os.environ.get("BERTNLI_BUILT_BOOK"):
        earlier = Path(os.environ["BERTNLI_BUILT_BOOK"]).resolve()
        if not (earlier / "html" / "index.html").is_file():
            pytest.fail(
                f"BERTNLI_BUILT_BOOK={earlier}: no html/index.html there; give a book build's _build folder",
                pytrace=False,
            )
        return earlier
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build_book(tmp_path_factory.mktemp("book"))
    # Under pytest-xdist each worker has its own session: the first to get here builds into the
    # run's shared temporary folder (the workers' basetemps sit in it), the others wait and reuse.
    shared = tmp_path_factory.getbasetemp().parent / "book"
    try:
        once_per_run(shared, _build_book)
    except MadeBeforeAndFailed as error:
        pytest.fail(f"(in another worker) {error}", pytrace=False)
    return shared / "_build"


def _build_book(out: Path) -> Path:
    """Build the whole book into ``out`` (``out/_build``), in the environment of ``make book``."""
    jb = Path(sys.executable).with_name("jupyter-book")
    env = {
        **os.environ,
        **BOOK_ENV,
        "BERTNLI_CACHE": str(out / "bertnli-cache"),  # a private cache ...
        "BERTNLI_RUNS": str(out / "runs"),  # chapters 3 and 4 train, not resume an old run
        "BERTNLI_HUB_URL": "http://127.0.0.1:9/",
    }  # ... and nothing downloads
    run = subprocess.run(
        [str(jb), "build", str(BOOK_ROOT), "-W", "--keep-going", "--path-output", str(out)],
        cwd=BOOK_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    if run.returncode != 0:
        pytest.fail(
            f"book build failed:\n{run.stdout[-6000:]}\n{run.stderr[-6000:]}", pytrace=False
        )
    return out / "_build"


@pytest.fixture(scope="session")
def site(built_book: Path) -> Path:
    """The built site, ``_build/html``."""
    return built_book / "html"


@pytest.fixture(scope="session")
def executed_notebooks(built_book: Path) -> dict[str, dict]:
    """The build's executed chapters with their outputs: ``{"notebooks/03_fine_tuning": notebook}``."""
    folder = built_book / "jupyter_execute"
    found = {
        str(p.relative_to(folder).with_suffix("")): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.rglob("*.ipynb"))
    }
    assert found, f"the book build left no executed notebook in {folder}"
    return found


@pytest.fixture(scope="session")
def server(site: Path):
    """The site on a loopback HTTP server; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def browser(server):
    """Headless Chromium (Debian's package) that can reach nothing but the loopback server."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing(
            f"{CHROMIUM} or {CHROMEDRIVER} missing",
            "run `make system-deps` (tools/ensure_chromium.sh)",
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bertnli-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=en-US",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
        # Nothing leaves the machine: every host but the loopback server fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
