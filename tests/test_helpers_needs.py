"""A missing prerequisite skips a test on a developer's machine and fails it in CI."""

import pytest
from helpers.needs import in_ci, missing


@pytest.mark.parametrize(
    "value, expected", [("true", True), ("1", True), ("", False), ("false", False), ("0", False)]
)
def test_ci_is_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_missing_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="d2l.*pip install.*CI runs every test"):
        missing("d2l is not installed", "pip install d2l")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="d2l is not installed: pip install d2l"):
        missing("d2l is not installed", "pip install d2l")
