"""Licenses and credits (issue 19 item 8): the code and the prose each have a license, stated in
pyproject.toml and on the site; every data source is credited with its license in both languages;
``classroom mirror`` passes each file on with its license beside it."""

from __future__ import annotations

import hashlib
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from bertnli import hub, sample
from bertnli.book import classroom, licenses

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "book" / "references.md"


def test_the_repository_has_a_license_for_the_code_and_one_for_the_prose():
    mit = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert mit.startswith("MIT License") and mit == licenses.license_text("MIT")
    prose = (ROOT / "LICENSE-TEXT.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in prose and licenses.license_text("CC-BY-SA-4.0").strip() in prose


def test_pyproject_states_both_licenses_and_ships_their_texts():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT AND CC-BY-SA-4.0"
    data = project["tool"]["setuptools"]["package-data"]["bertnli"]
    assert "book/licenses/*.txt" in data
    assert {p.name for p in licenses.TEXTS.glob("*.txt")} == {"MIT.txt", "CC-BY-SA-4.0.txt"}


def _footer() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["html"][
        "extra_footer"
    ]


def test_every_page_footer_names_both_licenses_in_both_languages():
    footer = _footer()
    for lang in ("lang-en", "lang-ko"):
        block = re.search(rf'<p class="{lang}[^"]*">(.*?)</p>', footer, flags=re.S)
        assert block, f"no {lang} paragraph in html.extra_footer"
        assert (
            "MIT" in block[1]
            and "CC BY-SA 4.0" in block[1]
            and "references.html#licenses" in block[1]
        )


def _section(lang: str) -> str:
    text = REFERENCES.read_text(encoding="utf-8")
    assert "(licenses)=" in text, "references.md: no (licenses)= target for the footer's link"
    after = text.split("(licenses)=", 1)[1]
    block = re.search(rf"^::::\{{div\}} {lang}\n(.*?)^::::$", after, flags=re.M | re.S)
    assert block, f"references.md: no {lang} block under the licenses heading"
    return block[1]


@pytest.mark.parametrize("lang", ["lang-en", "lang-ko"])
@pytest.mark.parametrize(
    "source, license_name",
    [
        ("SNLI", "CC BY-SA 4.0"),
        ("d2l", "CC BY-SA 4.0"),
        ("bert.small", "CC BY-SA 4.0"),
        ("LICENSE-SAMPLECODE", "MIT"),
        ("NanumGothic|나눔고딕", "SIL"),
        ("koreanize-matplotlib", "MIT"),
        ("LICENSE-TEXT.md", "CC BY-SA 4.0"),
        ("`LICENSE`", "MIT"),
    ],
)
def test_references_credit_every_source_with_its_license(lang, source, license_name):
    """Each source is named, with its license, in the same list item of each language."""
    items = re.split(r"\n- ", _section(lang))
    item = next((i for i in items if re.search(source, i)), None)
    assert item is not None, f"references.md [{lang}]: {source} is not credited"
    assert license_name in item, (
        f"references.md [{lang}]: {source} without its license {license_name}"
    )


def test_every_registered_download_has_a_credit():
    assert set(hub.REGISTRY) | {"sample"} <= set(licenses.CREDITS)


# --------------------------------------------------------------------------- the mirror


def test_mirror_puts_the_samples_license_beside_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "empty-cache"))
    m = classroom.mirror(tmp_path / "usb")
    ckpt = sample.checkpoint_path()
    assert ckpt.name in m.files
    notice = (tmp_path / "usb" / f"{ckpt.name}{licenses.SUFFIX}").read_text(encoding="utf-8")
    assert (
        notice.startswith(ckpt.name)
        and "License: MIT" in notice
        and licenses.license_text("MIT") in notice
    )
    readme = (tmp_path / "usb" / "README.md").read_text(encoding="utf-8")
    assert (
        f"<file>{licenses.SUFFIX}" in readme
    )  # the README tells where the licenses are, in both languages
    (tmp_path / "usb" / f"{ckpt.name}{licenses.SUFFIX}").write_text(
        "the owner's note", encoding="utf-8"
    )
    again = classroom.mirror(
        tmp_path / "usb"
    )  # run again: an edited notice is the owner's now, and kept
    assert (tmp_path / "usb" / f"{ckpt.name}{licenses.SUFFIX}").read_text(
        encoding="utf-8"
    ) == "the owner's note"
    assert any(licenses.SUFFIX in note for note in again.kept)


def _fake_snli(path: Path) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("snli_1.0/snli_1.0_train.txt", "gold_label\tsentence1\tsentence2\n")
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_mirror_puts_each_downloads_license_beside_it(tmp_path, monkeypatch):
    """A registered download gets its source and license; one bertnli has no record of says so."""
    cache = tmp_path / "cache"
    cache.mkdir()
    sha1 = _fake_snli(cache / "snli_1.0.zip")
    real = hub.REGISTRY["snli"]
    monkeypatch.setitem(
        hub.REGISTRY,
        "snli",
        hub.Resource("snli", real.filename, sha1, real.marker, real.description),
    )
    (cache / "other.zip").write_bytes((cache / "snli_1.0.zip").read_bytes())
    other_sha1 = hashlib.sha1((cache / "other.zip").read_bytes()).hexdigest()
    monkeypatch.setitem(
        hub.REGISTRY, "other", hub.Resource("other", "other.zip", other_sha1, "x", "unknown origin")
    )
    monkeypatch.setenv("BERTNLI_CACHE", str(cache))
    m = classroom.mirror(tmp_path / "usb")
    assert m.files["snli_1.0.zip"] == sha1 and "other.zip" in m.files
    snli = (tmp_path / "usb" / "snli_1.0.zip.LICENSE.txt").read_text(encoding="utf-8")
    assert "Bowman" in snli and "License: CC-BY-SA-4.0" in snli
    assert "Attribution-ShareAlike 4.0 International Public License" in snli
    unknown = (tmp_path / "usb" / "other.zip.LICENSE.txt").read_text(encoding="utf-8")
    assert "no license on record" in unknown and "라이선스 기록이 없습니다" in unknown
    # The license files are beside the data, not in the checksums list the students verify.
    sums = (tmp_path / "usb" / classroom.SUMS_FILE).read_text()
    assert ".LICENSE.txt" not in sums


def test_an_unknown_license_text_is_a_clear_error():
    with pytest.raises(ValueError, match="no license text 'GPL-3.0'.*known"):
        licenses.license_text("GPL-3.0")
