"""The book site in a real browser: headless Chromium (Debian's package) via selenium.

The site is built first (``jupyter-book build . -W``; incremental, and the notebooks'
execution cache makes a rebuild with nothing changed quick), served from a loopback
HTTP server, and every page of the table of contents is visited in English and in
Korean. We check what a reader would notice: JavaScript errors, missing figures,
broken widgets, a language switch that forgets or hides the wrong blocks, and a
search that cannot find Korean. Screenshots land in ``test-artifacts/screenshots/``.

``tools/ensure_chromium.sh`` installs the browser and its driver when missing.
Set ``BERTNLI_BOOK_ROOT`` to test another checkout's book (development only).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[1]
ROOT = Path(os.environ.get("BERTNLI_BOOK_ROOT", REPO)).resolve()
HTML = ROOT / "_build" / "html"
SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("BERTNLI_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BERTNLI_CHROMEDRIVER", "/usr/bin/chromedriver"))
HANGUL = re.compile(r"[\uac00-\ud7af]")
# Terms the search must find, with a page expected among the hits.
SEARCHES = {"premise": "book/intro", "가설": "book/intro"}
# Rendered-output priority for HTML (as configured in _config.yml): widget views are dropped.
HTML_PRIORITY = ["application/javascript", "text/html", "image/svg+xml", "image/png", "image/gif",
                 "image/jpeg", "text/markdown", "text/latex", "text/plain"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# --------------------------------------------------------------------------- fixtures


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


@pytest.fixture(scope="module")
def site() -> Path:
    """Build the book (incrementally) and return ``_build/html``."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} missing: run tools/ensure_chromium.sh")
    jb = Path(sys.executable).with_name("jupyter-book")
    # As `make book`: the sample profile, one PyTorch thread (see the Makefile).
    env = {"OMP_NUM_THREADS": "1", **os.environ, "BERTNLI_PROFILE": "sample"}
    started = time.monotonic()
    run = subprocess.run([str(jb), "build", ".", "-W", "--keep-going"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1500)
    if run.returncode != 0:
        pytest.fail(f"book build failed after {time.monotonic() - started:.0f}s:\n{run.stdout[-6000:]}\n{run.stderr[-6000:]}")
    return HTML


@pytest.fixture(scope="module")
def server(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bertnli-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--lang=en-US", "--window-size=1280,900",
                 f"--user-data-dir={profile}",
                 # Nothing leaves the machine: every host but the loopback server fails to resolve.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- helpers


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


# Visibility of the language-marked blocks and of code, measured in one script per page.
VISIBILITY_JS = r"""
const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const pick = sel => Array.from(document.querySelectorAll(sel))
  .filter(el => !el.closest('.cell, details, .toggle-hidden, nav, .bd-toc, .bd-sidebar-secondary'));
const count = (els) => ({total: els.length, shown: els.filter(shown).length});
const code = Array.from(document.querySelectorAll('.cell'))
  .filter(c => !/tag_(hide|remove)-(cell|input)/.test(c.className) && c.querySelector('.cell_input'));
const outputs = Array.from(document.querySelectorAll('.cell'))
  .filter(c => !/tag_(hide|remove)-(cell|output)/.test(c.className) && c.querySelector('.cell_output'));
const h1 = Array.from(document.querySelectorAll('article h1, main h1')).find(shown);
return {
  en: count(pick('.tag_lang-en, .lang-en')),
  ko: count(pick('.tag_lang-ko, .lang-ko')),
  code: count(code.map(c => c.querySelector('.cell_input'))),
  outputs: count(outputs.map(c => c.querySelector('.cell_output'))),
  mode: document.documentElement.getAttribute('data-bertnli-lang'),
  stored: localStorage.getItem('bertnli-lang'),
  h1: h1 ? h1.innerText : '',
  title: document.title,
  nav: Array.from(document.querySelectorAll('.bd-sidenav a')).filter(shown).map(a => a.innerText),
};
"""

IMAGES_JS = r"""
return Array.from(document.querySelectorAll('.cell_output img, .output img')).map(img => ({
  src: img.getAttribute('src').slice(0, 80), complete: img.complete, width: img.naturalWidth}));
"""


def executed_notebook(doc: str) -> dict | None:
    """The executed notebook behind ``doc`` (from the build's jupyter-cache), or None for a page."""
    source = next((p for p in (ROOT / f"{doc}.md", ROOT / f"{doc}.ipynb") if p.exists()), None)
    if source is None:
        return None
    import jupytext
    from jupyter_cache import get_cache

    if source.suffix == ".md":
        if "kernelspec:" not in source.read_text(encoding="utf-8").split("\n---", 1)[0]:
            return None  # a plain MyST page, not a notebook
        nb = jupytext.read(source, fmt="md:myst")
    else:
        nb = jupytext.read(source)
    try:
        _, merged = get_cache(ROOT / "_build" / ".jupyter_cache").merge_match_into_notebook(nb)
    except KeyError:
        pytest.fail(f"{doc}: no executed copy in the build's jupyter-cache")
    return json.loads(json.dumps(merged))


def rendered_mime(output: dict) -> str | None:
    data = output.get("data", {})
    return next((m for m in HTML_PRIORITY if m in data), None)


def expected_images(nb: dict) -> int:
    return sum(1 for cell in nb["cells"] if cell["cell_type"] == "code"
               for out in cell.get("outputs", []) if (rendered_mime(out) or "").startswith("image/"))


def widget_outputs(nb: dict) -> list[dict]:
    return [out for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})]


def screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 16000)")
    driver.set_window_size(1280, max(900, int(height)))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def check_language(state: dict, mode: str, where: str) -> None:
    """The blocks of the chosen language show, the others hide, code and outputs always show."""
    assert state["mode"] == mode, where
    en, ko = state["en"], state["ko"]
    if mode in ("en", "both"):
        assert en["shown"] == en["total"], f"{where}: English blocks hidden in mode {mode}: {en}"
    else:
        assert en["shown"] == 0, f"{where}: English blocks shown in mode {mode}: {en}"
    if mode in ("ko", "both"):
        assert ko["shown"] == ko["total"], f"{where}: Korean blocks hidden in mode {mode}: {ko}"
    else:
        assert ko["shown"] == 0, f"{where}: Korean blocks shown in mode {mode}: {ko}"
    assert state["code"]["shown"] == state["code"]["total"], f"{where}: code hidden in mode {mode}"
    assert state["outputs"]["shown"] == state["outputs"]["total"], f"{where}: outputs hidden in mode {mode}"
    if mode == "en":
        assert not HANGUL.search(state["h1"]), f"{where}: Korean in the English title {state['h1']!r}"
    if mode == "ko" and HANGUL.search(state["title"]):
        assert " · " not in state["h1"], f"{where}: bilingual h1 not split: {state['h1']!r}"


# --------------------------------------------------------------------------- tests


def test_every_page(browser, server):
    """Each TOC page, in English then Korean: no errors, figures loaded, switch right, no broken widget."""
    docs = toc_documents()
    assert docs, "empty _toc.yml"
    open_page(browser, page_url(server, docs[0]))
    browser.execute_script("localStorage.setItem('bertnli-lang', 'en')")
    browser.get_log("browser")  # start clean
    problems: list[str] = []
    for doc in docs:
        url = page_url(server, doc)
        name = doc.replace("/", "_")
        for mode in ("en", "ko"):
            browser.execute_script(f"localStorage.setItem('bertnli-lang', '{mode}')")
            open_page(browser, url)
            assert browser.find_elements("css selector", ".bertnli-lang-switch button"), f"{doc}: no language switch"
            state = browser.execute_script(VISIBILITY_JS)
            check_language(state, mode, f"{doc} [{mode}]")
            screenshot(browser, f"{name}.{mode}")
        problems += [f"{doc}: {m}" for m in severe_errors(browser)]

        nb = executed_notebook(doc)
        if nb is None:
            continue
        images = browser.execute_script(IMAGES_JS)
        want = expected_images(nb)
        assert want > 0, f"{doc}: the executed notebook has no figure"
        assert len(images) >= want, f"{doc}: {len(images)} images on the page, {want} figures executed"
        broken = [img for img in images if not (img["complete"] and img["width"] > 0)]
        assert not broken, f"{doc}: images that did not load: {broken}"
        check_widgets(browser, doc, nb)
    assert not problems, "console errors:\n" + "\n".join(problems)


def visible_words(html: str, n: int = 4) -> str:
    """The first ``n`` words a browser would show for an HTML snippet."""
    text = re.sub(r"(?s)<(style|script).*?</\1>", "", html)
    return " ".join(re.sub(r"<[^>]+>|&[a-z]+;|&#\d+;", " ", text).split()[:n])


def check_widgets(driver, doc: str, nb: dict) -> None:
    """Every widget shows a static stand-in: never a widget view, a 'Loading widget' or a bare repr.

    Widgets with their own ``text/html`` (bertnli.widgets) show it; the others (tqdm's
    progress bars) are drawn from their saved final state by book/_ext/widgetstatic.py.
    """
    assert not driver.find_elements("css selector", "script[type*='widget-view'], .jupyter-widgets-disconnected"), doc
    outputs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output .output')).map(o => o.textContent.trim());")
    joined = re.sub(r"\s+", " ", "\n".join(outputs))
    drawn = len(driver.find_elements("css selector", ".cell_output .bertnli-widget-static"))
    need_drawing = 0
    for out in widget_outputs(nb):
        data = out["data"]
        plain = "".join(data.get("text/plain", "")).strip()
        assert plain not in outputs, f"{doc}: a widget shows as its text repr {plain[:60]!r}"
        if "text/html" in data:
            probe = visible_words("".join(data["text/html"]))
            assert probe and probe in joined, f"{doc}: stand-in {probe!r} not on the page"
        else:
            need_drawing += 1
    assert drawn >= need_drawing, f"{doc}: {need_drawing} widgets without a stand-in, {drawn} drawn from their state"
    body = driver.find_element("tag name", "body").text
    assert "Loading widget" not in body and "Error displaying widget" not in body, doc


def test_switch_survives_page_change_and_follows_browser(browser, server):
    docs = toc_documents()
    # No stored choice: the browser's language decides (English for this en-US browser).
    open_page(browser, page_url(server, docs[0]))
    browser.execute_script("localStorage.clear()")
    open_page(browser, page_url(server, docs[0]))
    assert browser.execute_script("return document.documentElement.getAttribute('data-bertnli-lang')") == "en"

    set_language(browser, "ko")
    state = browser.execute_script(VISIBILITY_JS)
    check_language(state, "ko", f"{docs[0]} after a click")
    assert state["stored"] == "ko"
    assert any(HANGUL.search(t) for t in state["nav"]), f"navigation not in Korean: {state['nav']}"
    assert all(" · " not in t for t in state["nav"]), f"bilingual navigation not split: {state['nav']}"

    # Follow the "next" link, as a reader would: the choice stays.
    next_link = browser.find_element("css selector", "a.right-next")
    browser.execute_script("arguments[0].click();", next_link)
    time.sleep(0.5)
    state = browser.execute_script(VISIBILITY_JS)
    assert browser.current_url.rstrip("/") != page_url(server, docs[0])
    check_language(state, "ko", f"{browser.current_url} after a page change")

    set_language(browser, "both")
    check_language(browser.execute_script(VISIBILITY_JS), "both", browser.current_url)
    set_language(browser, "en")
    check_language(browser.execute_script(VISIBILITY_JS), "en", browser.current_url)

    # A Korean browser with no stored choice gets Korean.
    browser.execute_script("localStorage.clear()")
    ua = browser.execute_script("return navigator.userAgent")
    browser.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "ko-KR"})
    try:
        open_page(browser, page_url(server, docs[0]))
        assert browser.execute_script("return navigator.language").lower().startswith("ko")
        assert browser.execute_script("return document.documentElement.getAttribute('data-bertnli-lang')") == "ko"
    finally:
        browser.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "en-US"})
    assert not severe_errors(browser)


@pytest.mark.parametrize("term", sorted(SEARCHES))
def test_search_finds(browser, server, term):
    from urllib.parse import quote

    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("localStorage.setItem('bertnli-lang', 'en')")
    open_page(browser, f"{server}search.html?q={quote(term)}")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("const s = document.querySelector('#search-results .search-summary, "
                                   "#search-results p'); return s && s.textContent.trim().length > 0;"))
    WebDriverWait(browser, 10).until(lambda d: d.find_elements("css selector", "#search-results ul.search li"))
    hits = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
        ".map(a => a.getAttribute('href'));")
    assert any(SEARCHES[term] in h for h in hits), f"search for {term!r} found {hits}"
    screenshot(browser, f"search.{term}")
    assert not severe_errors(browser)


# --------------------------------------------------------------------------- readers: phones, links, search, labels

PHONE = (400, 860)


def phone_screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"phone.{name}.png"))


OVERFLOW_JS = r"""
const width = document.documentElement.clientWidth;  // the window less its scrollbar
const wide = Array.from(document.querySelectorAll('body *')).filter(el => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') return false;
  if (el.closest('dialog:not([open])')) return false;
  // inside a box that scrolls by itself (code, tables, math), or fixed off-screen (a closed
  // sidebar): the page does not scroll because of it
  let p = el;
  while (p && p !== document.body) {
    const style = getComputedStyle(p);
    if (style.position === 'fixed') return false;
    if (p !== el && ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) return false;
    p = p.parentElement;
  }
  return r.right > width + 1 || r.left < -1;
}).slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right));
const sw = document.getElementById('bertnli-none') || document.querySelector('.bertnli-lang-switch');
const swRect = sw ? sw.getBoundingClientRect() : null;
// The article header's items (☰, the switch, the icons) in one row: none overlaps another or the title.
const items = Array.from(document.querySelectorAll(
  '.bd-header-article .header-article-items__start > *, .bertnli-lang-switch, .article-header-buttons > *'))
  .filter(e => e.getClientRects().length > 0 && !e.contains(document.querySelector('.bertnli-lang-switch')))
  .map(e => [e.className.split(' ')[0] || e.tagName, e.getBoundingClientRect()]);
const overlaps = [];
for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
  const [a, ra] = items[i], [b, rb] = items[j];
  if (ra.left < rb.right - 1 && rb.left < ra.right - 1 && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1) overlaps.push(a + '/' + b);
}
const header = document.querySelector('.bd-header-article');
const h1 = document.querySelector('article h1');
if (header && h1 && items.some(([, r]) => r.bottom > h1.getBoundingClientRect().top + 1)) overlaps.push('header/h1');
window.scrollTo(10000, 0);
const scrolled = window.scrollX;
window.scrollTo(0, 0);
return {width: width, scrollWidth: document.documentElement.scrollWidth, scrolled: scrolled, overlaps: overlaps,
        wide: wide, switchLeft: swRect && swRect.left, switchRight: swRect && swRect.right,
        switchButtons: sw ? Array.from(sw.querySelectorAll('button')).filter(b => b.getClientRects().length > 0
          && b.getBoundingClientRect().right <= width + 1 && b.getBoundingClientRect().left >= -1).length : 0};
"""

MENU_JS = r"""
const dialog = document.getElementById('pst-primary-sidebar-modal');
const links = dialog ? Array.from(dialog.querySelectorAll('.bd-sidenav a')).filter(a => a.getClientRects().length > 0) : [];
return {open: !!(dialog && dialog.open), links: links.length,
        inside: links.every(a => a.getBoundingClientRect().right <= window.innerWidth + 1)};
"""


def test_phone_menu_opens_and_closes_and_nothing_scrolls_sideways(browser, server):
    """At 400 px: the ☰ button opens the chapter menu and it closes again; no page is wider than the screen."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(*PHONE)
    try:
        assert browser.execute_script("return window.innerWidth") <= PHONE[0]
        # The menu, on a chapter page in Korean.
        chapter = next(d for d in toc_documents() if d.startswith("notebooks/"))
        browser.execute_script("localStorage.setItem('bertnli-lang', 'ko')")
        open_page(browser, page_url(server, chapter))
        toggles = [b for b in browser.find_elements("css selector", ".primary-toggle") if b.is_displayed()]
        assert toggles, "no visible menu (☰) button at phone width"
        assert not browser.execute_script(MENU_JS)["open"]
        toggles[0].click()
        WebDriverWait(browser, 5).until(lambda d: d.execute_script(MENU_JS)["open"],
                                        "the ☰ button did not open the chapter menu (pydata-sphinx-theme 0.17 bug?)")
        menu = browser.execute_script(MENU_JS)
        assert menu["links"] >= len(toc_documents()) - 1 and menu["inside"], f"menu opened without its chapters: {menu}"
        phone_screenshot(browser, "menu-open")
        browser.find_element("css selector", "#pst-primary-sidebar-modal").send_keys(Keys.ESCAPE)
        WebDriverWait(browser, 5).until(lambda d: not d.execute_script(MENU_JS)["open"], "the menu did not close")
        # ... and opens again (the second time is where a half-wired toggle fails).
        toggles[0].click()
        WebDriverWait(browser, 5).until(lambda d: d.execute_script(MENU_JS)["open"], "the menu did not open again")
        browser.find_element("css selector", "#pst-primary-sidebar-modal").send_keys(Keys.ESCAPE)
        WebDriverWait(browser, 5).until(lambda d: not d.execute_script(MENU_JS)["open"])
        phone_screenshot(browser, "menu-closed")
        problems = []
        for doc in toc_documents():
            for mode in ("en", "ko"):
                browser.execute_script(f"localStorage.setItem('bertnli-lang', '{mode}')")
                open_page(browser, page_url(server, doc))
                state = browser.execute_script(OVERFLOW_JS)
                if state["scrollWidth"] > state["width"] or state["scrolled"] > 0 or state["wide"]:
                    problems.append(f"{doc} [{mode}]: page {state['scrollWidth']} px wide at {state['width']} px: "
                                    f"{state['wide']}")
                if state["overlaps"]:
                    problems.append(f"{doc} [{mode}]: header items overlap: {state['overlaps']}")
                if state["switchButtons"] != 3:
                    problems.append(f"{doc} [{mode}]: language switch does not fit: {state}")
            name = doc.replace("/", "_")
            phone_screenshot(browser, name)
        assert not problems, "\n".join(problems)
        assert not severe_errors(browser)
    finally:
        browser.set_window_size(1280, 900)


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_chapters_link_to_their_notebook_download_and_colab(browser, server):
    """Every chapter: an .ipynb download that is a notebook, and a Colab link to the chapter's tracked notebook."""
    import urllib.parse
    import urllib.request

    import nbformat

    repo = _config()["repository"]
    owner_repo = urllib.parse.urlparse(repo["url"]).path.strip("/")
    chapters = [d for d in toc_documents() if d.startswith("notebooks/")]
    assert len(chapters) == 5
    browser.execute_script("localStorage.setItem('bertnli-lang', 'en')")
    for doc in chapters:
        open_page(browser, page_url(server, doc))
        download = browser.find_elements("css selector", "a.btn-download-notebook-button")
        assert download, f"{doc}: no .ipynb download"
        href = download[0].get_attribute("href")
        assert href.endswith(f"{doc}.ipynb"), href
        with urllib.request.urlopen(href, timeout=10) as response:
            nb = nbformat.reads(response.read().decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        assert any(c.cell_type == "code" and c.outputs for c in nb.cells), f"{doc}: the download has no outputs"

        colab = [a.get_attribute("href") for a in browser.find_elements("css selector", "a[href*='colab.research']")]
        assert len(colab) == 1, f"{doc}: Colab links {colab}"
        prefix = f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/"
        assert colab[0].startswith(prefix), f"{doc}: {colab[0]} is not in {repo['url']} at {repo['branch']}"
        target = ROOT / colab[0][len(prefix):]
        assert target == ROOT / f"{doc}.ipynb" and target.is_file(), f"{doc}: Colab opens {target}, which is missing"
        tracked = nbformat.read(target, as_version=4)
        assert all(not c.get("outputs") for c in tracked.cells if c.cell_type == "code")
        assert "install-bertnli" in next(c for c in tracked.cells if c.cell_type == "code").metadata.get("tags", [])
    assert not severe_errors(browser)


def _page_words(html: str) -> set[str]:
    text = re.sub(r"(?s)<(script|style)\b.*?</\1>|<[^>]+>", " ", html)
    return set(re.findall(r"\w+", text))


def test_korean_search_finds_a_word_with_a_particle_attached(browser, server, site):
    """A page that writes a word only with particles (가설은, 가설에게) is found by the bare word."""
    from urllib.parse import quote

    from selenium.webdriver.support.ui import WebDriverWait

    sys.path.insert(0, str(REPO / "book" / "_ext"))
    try:
        import koreansearch
    finally:
        sys.path.pop(0)
    cases = []  # (bare word, page) where the page has the word only with a particle
    for doc in toc_documents():
        words = _page_words((site / f"{doc}.html").read_text(encoding="utf-8"))
        stems = {koreansearch.stem(w) for w in words} - {None}
        cases += [(s, doc) for s in sorted(stems - words) if s in {"가설", "전제", "모델", "토큰", "문장", "정확도"}]
    assert cases, "no page writes a glossary word only with a particle: nothing to test"
    browser.execute_script("localStorage.setItem('bertnli-lang', 'ko')")
    for word, doc in cases[:3]:
        open_page(browser, f"{server}search.html?q={quote(word)}")
        WebDriverWait(browser, 30).until(lambda d: d.find_elements("css selector", "#search-results ul.search li"))
        hits = browser.execute_script(
            "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
            ".map(a => a.getAttribute('href'));")
        assert any(doc in h for h in hits), f"search for {word!r} missed {doc} (which has it with a particle): {hits}"
    screenshot(browser, f"search.particle.{cases[0][0]}")
    summary = browser.find_element("css selector", "#search-results").text
    assert "검색" in summary and "Search Results" not in summary, f"search page not in Korean: {summary[:200]!r}"
    assert not severe_errors(browser)


THEME_JS = r"""
const text = sel => Array.from(document.querySelectorAll(sel)).map(e => e.textContent.trim());
const ko = document.querySelector('p.tag_lang-ko, .tag_lang-ko p');
const cell = document.querySelector('.cell_output table td.num');
const padded = document.querySelector('.cell_output table td');
return {contents: text('.onthispage'), prevnext: text('.prev-next-subtitle'),
        placeholder: (document.querySelector('input[name=q]') || {}).placeholder,
        wordBreak: ko ? getComputedStyle(ko).wordBreak : null,
        numAlign: cell ? getComputedStyle(cell).textAlign : null,
        padding: padded ? parseFloat(getComputedStyle(padded).paddingLeft) : null};
"""


def test_theme_labels_follow_the_language_and_tables_read_well(browser, server):
    chapter = "notebooks/03_fine_tuning"
    browser.execute_script("localStorage.setItem('bertnli-lang', 'ko')")
    open_page(browser, page_url(server, chapter))
    ko = browser.execute_script(THEME_JS)
    assert ko["contents"] == ["목차"], ko
    assert ko["prevnext"] == ["이전", "다음"], ko
    assert ko["placeholder"] == "이 책에서 검색...", ko
    assert ko["wordBreak"] == "keep-all", ko
    assert ko["numAlign"] == "right" and ko["padding"] >= 6, f"output table cells not padded/aligned: {ko}"
    screenshot(browser, "theme.ko")
    set_language(browser, "en")
    en = browser.execute_script(THEME_JS)
    assert en["contents"] == ["Contents"] and en["prevnext"] == ["previous", "next"], en
    assert en["placeholder"] == "Search this book...", en
    assert not severe_errors(browser)


def test_no_figure_on_the_site_was_drawn_with_missing_glyphs(browser, server, site):
    """Every executed chapter drew its figures with a Hangul font: no glyph message anywhere, and the
    execution cache's figures were drawn with the font this machine uses now."""
    from bertnli.fonts import font_stamp

    stamp_file = ROOT / "_build" / "bertnli-figure-font.txt"
    assert stamp_file.is_file(), "the build did not record the figures' font (book/_ext/hangulfigures.py)"
    stamp = stamp_file.read_text(encoding="utf-8").strip()
    assert stamp != "none" and stamp == font_stamp(), f"figures drawn with {stamp!r}, now {font_stamp()!r}"
    figures = 0
    for doc in toc_documents():
        nb = executed_notebook(doc)
        if nb is None:
            continue
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                text = json.dumps(out.get("text", "")) + json.dumps(out.get("traceback", ""))
                assert "missing from font" not in text, f"{doc}: {text[:300]}"
                figures += "image/png" in out.get("data", {})
        open_page(browser, page_url(server, doc))
        assert "missing from font" not in browser.find_element("tag name", "body").text, doc
    assert figures >= 3
