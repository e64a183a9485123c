"""Pages of the built site as a reader visits them: the helpers the browser tests share.

(The fixtures ``site``, ``server`` and ``browser`` are in conftest.py.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("BERTNLI_BOOK_ROOT", REPO)).resolve()  # as conftest's BOOK_ROOT
SHOTS = REPO / "test-artifacts" / "screenshots"


def toc_documents() -> list[str]:
    """Every document of ``_toc.yml`` in order (``book/intro``, ``notebooks/01_...``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return docs


def page_url(base: str, doc: str) -> str:
    return f"{base}{doc}.html"


def open_page(driver, url: str) -> None:
    driver.get(url)
    driver.execute_script("return document.readyState")  # waits for load under the default strategy


def set_language(driver, mode: str) -> None:
    """Press the switch's button for ``mode`` (as a reader would)."""
    button = driver.find_element("css selector", f".bertnli-lang-switch button[data-lang='{mode}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def severe_errors(driver) -> list[str]:
    """Console errors, less what only the missing internet causes in this sandbox."""
    out = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        msg = entry.get("message", "")
        urls = re.findall(r"https?://[^\s\"']+", msg)
        external = urls and all(not u.startswith("http://127.0.0.1") for u in urls)
        if external and ("net::ERR_NAME_NOT_RESOLVED" in msg or "Failed to load resource" in msg):
            continue  # a CDN or remote resource; readers online get it, the test has no internet
        if "favicon.ico" in msg:
            continue
        out.append(msg)
    return out


def screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 16000)")
    driver.set_window_size(1280, max(900, int(height)))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)
