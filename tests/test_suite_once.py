"""once_per_run: what `built_book` relies on to build the book once per run under pytest-xdist."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.once import MadeBeforeAndFailed, once_per_run

TESTS = Path(__file__).resolve().parent

# A process that asks for the shared result, as an xdist worker's `built_book` does.
CALLER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from helpers.once import once_per_run

    def make(folder):
        with open(folder.parent / "made-by.txt", "a") as log:
            log.write(sys.argv[1] + "\\n")
        time.sleep(1.0)  # long enough for the other callers to arrive while it works
        (folder / "result.txt").write_text("built")

    once_per_run(Path(sys.argv[2]), make)
    print((Path(sys.argv[2]) / "result.txt").read_text())
""")


def test_concurrent_callers_make_it_once_and_all_see_it(tmp_path):
    shared = tmp_path / "book"
    script = CALLER.format(tests=str(TESTS))
    callers = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"worker{i}", str(shared)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [c.communicate(timeout=120) for c in callers]
    assert [c.returncode for c in callers] == [0, 0, 0], [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["built"] * 3
    assert len((tmp_path / "made-by.txt").read_text().splitlines()) == 1


def test_a_failure_is_raised_to_every_later_caller_and_not_retried(tmp_path):
    calls = []

    def broken(folder):
        calls.append(folder)
        pytest.fail("book build failed: chapter 3", pytrace=False)

    with pytest.raises(pytest.fail.Exception):
        once_per_run(tmp_path / "book", broken)
    for _ in range(2):
        with pytest.raises(MadeBeforeAndFailed, match="book build failed: chapter 3"):
            once_per_run(tmp_path / "book", broken)
    assert len(calls) == 1


def test_a_result_is_reused_without_calling_again(tmp_path):
    calls = []
    for _ in range(2):
        once_per_run(tmp_path / "made", calls.append)
    assert calls == [tmp_path / "made"]
