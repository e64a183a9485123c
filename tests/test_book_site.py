"""The book site in a real browser: headless Chromium (Debian's package) via selenium.

The site is the one book build of this test run (``built_book`` in conftest.py: every
chapter executed once), served from a loopback HTTP server, and every page of the table
of contents is visited in English and in Korean. We check what a reader would notice:
JavaScript errors, missing figures, broken widgets, a language switch that forgets or
hides the wrong blocks, and a search that cannot find Korean. Screenshots land in
``test-artifacts/screenshots/``.

The fixtures ``site``, ``server`` and ``browser`` live in conftest.py;
``tools/ensure_chromium.sh`` installs the browser and its driver when missing.
"""

from __future__ import annotations

import re

import pytest
from helpers.site_pages import (
    open_page,
    page_url,
    screenshot,
    set_language,
    severe_errors,
    toc_documents,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

HANGUL = re.compile(r"[\uac00-\ud7af]")
# Terms the search must find, with a page expected among the hits.
SEARCHES = {"premise": "book/intro", "가설": "book/intro"}
# Rendered-output priority for HTML (as configured in _config.yml): widget views are dropped.
HTML_PRIORITY = [
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/gif",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# --------------------------------------------------------------------------- helpers (the rest: helpers/site_pages.py)

# Visibility of the language-marked blocks and of code, measured in one script per page.
VISIBILITY_JS = r"""
const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
// Prose: language-marked blocks outside code cells, and the outputs of prose code cells
// (bertnli.book.prose.say: a code cell tagged lang-en / lang-ko whose output is the sentence).
const pick = sel => Array.from(document.querySelectorAll(sel))
  .filter(el => el.matches('.cell > .cell_output')
    || !el.closest('.cell, details, .toggle-hidden, nav, .bd-toc, .bd-sidebar-secondary'));
const count = (els) => ({total: els.length, shown: els.filter(shown).length});
const code = Array.from(document.querySelectorAll('.cell'))
  .filter(c => !/tag_(hide|remove)-(cell|input)/.test(c.className) && c.querySelector('.cell_input'));
const outputs = Array.from(document.querySelectorAll('.cell'))
  .filter(c => !/tag_(hide|remove)-(cell|output)|tag_lang-/.test(c.className) && c.querySelector('.cell_output'));
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


def rendered_mime(output: dict) -> str | None:
    data = output.get("data", {})
    return next((m for m in HTML_PRIORITY if m in data), None)


def expected_images(nb: dict) -> int:
    return sum(
        1
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if (rendered_mime(out) or "").startswith("image/")
    )


def widget_outputs(nb: dict) -> list[dict]:
    return [
        out
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    ]


def check_language(state: dict, mode: str, where: str) -> None:
    """The blocks of the chosen language show, the others hide, code and outputs always show."""
    assert state["mode"] == mode, where
    en, ko = state["en"], state["ko"]
    assert en["total"] > 0 and ko["total"] > 0, (
        f"{where}: no language-marked blocks to switch: {state}"
    )
    if mode in ("en", "both"):
        assert en["shown"] == en["total"], f"{where}: English blocks hidden in mode {mode}: {en}"
    else:
        assert en["shown"] == 0, f"{where}: English blocks shown in mode {mode}: {en}"
    if mode in ("ko", "both"):
        assert ko["shown"] == ko["total"], f"{where}: Korean blocks hidden in mode {mode}: {ko}"
    else:
        assert ko["shown"] == 0, f"{where}: Korean blocks shown in mode {mode}: {ko}"
    assert state["code"]["shown"] == state["code"]["total"], f"{where}: code hidden in mode {mode}"
    assert state["outputs"]["shown"] == state["outputs"]["total"], (
        f"{where}: outputs hidden in mode {mode}"
    )
    if mode == "en":
        assert not HANGUL.search(state["h1"]), (
            f"{where}: Korean in the English title {state['h1']!r}"
        )
    if mode == "ko" and HANGUL.search(state["title"]):
        assert " · " not in state["h1"], f"{where}: bilingual h1 not split: {state['h1']!r}"


# --------------------------------------------------------------------------- tests


def test_every_page(browser, server, executed_notebooks):
    """Each TOC page, in English then Korean: no errors, figures loaded, switch right, no broken widget."""
    docs = toc_documents()
    assert docs, "empty _toc.yml"
    open_page(browser, page_url(server, docs[0]))
    browser.execute_script("localStorage.setItem('bertnli-lang', 'en')")
    browser.get_log("browser")  # start clean
    problems: list[str] = []
    widgets = 0
    for doc in docs:
        url = page_url(server, doc)
        name = doc.replace("/", "_")
        for mode in ("en", "ko"):
            browser.execute_script(f"localStorage.setItem('bertnli-lang', '{mode}')")
            open_page(browser, url)
            assert browser.find_elements("css selector", ".bertnli-lang-switch button"), (
                f"{doc}: no language switch"
            )
            state = browser.execute_script(VISIBILITY_JS)
            check_language(state, mode, f"{doc} [{mode}]")
            screenshot(browser, f"{name}.{mode}")
        problems += [f"{doc}: {m}" for m in severe_errors(browser)]

        nb = executed_notebooks.get(doc)
        if nb is None:
            assert not doc.startswith("notebooks/"), (
                f"{doc}: the book build executed no such chapter"
            )
            continue
        images = browser.execute_script(IMAGES_JS)
        want = expected_images(nb)
        assert want > 0, f"{doc}: the executed notebook has no figure"
        assert len(images) >= want, (
            f"{doc}: {len(images)} images on the page, {want} figures executed"
        )
        broken = [img for img in images if not (img["complete"] and img["width"] > 0)]
        assert not broken, f"{doc}: images that did not load: {broken}"
        check_widgets(browser, doc, nb)
        widgets += len(widget_outputs(nb))
    assert widgets >= 2, (
        f"{widgets} widgets in the executed chapters: the widget checks had nothing to check"
    )
    assert not problems, "console errors:\n" + "\n".join(problems)


def visible_words(html: str, n: int = 4) -> str:
    """The first ``n`` words a browser would show for an HTML snippet."""
    text = re.sub(r"(?s)<(style|script).*?</\1>", "", html)
    return " ".join(re.sub(r"<[^>]+>|&[a-z]+;|&#\d+;", " ", text).split()[:n])


def check_widgets(driver, doc: str, nb: dict) -> None:
    """Every widget shows its static stand-in: never a widget view, a 'Loading widget' or a bare repr.

    The book's widgets (bertnli.book.widgets) carry a ``text/html`` stand-in; the build runs with
    ``TQDM_DISABLE=1``, so no progress bar (a widget without one) is left in a page.
    """
    assert not driver.find_elements(
        "css selector", "script[type*='widget-view'], .jupyter-widgets-disconnected"
    ), doc
    outputs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output .output')).map(o => o.textContent.trim());"
    )
    joined = re.sub(r"\s+", " ", "\n".join(outputs))
    for out in widget_outputs(nb):
        data = out["data"]
        plain = "".join(data.get("text/plain", "")).strip()
        assert "text/html" in data, f"{doc}: a widget without a static stand-in: {plain[:60]!r}"
        assert plain not in outputs, f"{doc}: a widget shows as its text repr {plain[:60]!r}"
        probe = visible_words("".join(data["text/html"]))
        assert probe and probe in joined, f"{doc}: stand-in {probe!r} not on the page"
    body = driver.find_element("tag name", "body").text
    assert "Loading widget" not in body and "Error displaying widget" not in body, doc


def test_switch_survives_page_change_and_follows_browser(browser, server):
    docs = toc_documents()
    # No stored choice: the browser's language decides (English for this en-US browser).
    open_page(browser, page_url(server, docs[0]))
    browser.execute_script("localStorage.clear()")
    open_page(browser, page_url(server, docs[0]))
    assert (
        browser.execute_script("return document.documentElement.getAttribute('data-bertnli-lang')")
        == "en"
    )

    set_language(browser, "ko")
    state = browser.execute_script(VISIBILITY_JS)
    check_language(state, "ko", f"{docs[0]} after a click")
    assert state["stored"] == "ko"
    assert any(HANGUL.search(t) for t in state["nav"]), f"navigation not in Korean: {state['nav']}"
    assert all(" · " not in t for t in state["nav"]), (
        f"bilingual navigation not split: {state['nav']}"
    )

    # Follow the "next" link, as a reader would: the choice stays.
    from selenium.webdriver.support.ui import WebDriverWait

    next_link = browser.find_element("css selector", "a.right-next")
    browser.execute_script("arguments[0].click();", next_link)
    WebDriverWait(browser, 30).until(
        lambda d: (
            d.current_url.rstrip("/") != page_url(server, docs[0])
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    state = browser.execute_script(VISIBILITY_JS)
    check_language(state, "ko", f"{browser.current_url} after a page change")

    set_language(browser, "both")
    check_language(browser.execute_script(VISIBILITY_JS), "both", browser.current_url)
    set_language(browser, "en")
    check_language(browser.execute_script(VISIBILITY_JS), "en", browser.current_url)

    # A Korean browser with no stored choice gets Korean.
    browser.execute_script("localStorage.clear()")
    ua = browser.execute_script("return navigator.userAgent")
    browser.execute_cdp_cmd(
        "Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "ko-KR"}
    )
    try:
        open_page(browser, page_url(server, docs[0]))
        assert browser.execute_script("return navigator.language").lower().startswith("ko")
        assert (
            browser.execute_script(
                "return document.documentElement.getAttribute('data-bertnli-lang')"
            )
            == "ko"
        )
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "en-US"}
        )
    assert not severe_errors(browser)


@pytest.mark.parametrize("term", sorted(SEARCHES))
def test_search_finds(browser, server, term):
    from urllib.parse import quote

    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("localStorage.setItem('bertnli-lang', 'en')")
    open_page(browser, f"{server}search.html?q={quote(term)}")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const s = document.querySelector('#search-results .search-summary, "
            "#search-results p'); return s && s.textContent.trim().length > 0;"
        )
    )
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements("css selector", "#search-results ul.search li")
    )
    hits = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
        ".map(a => a.getAttribute('href'));"
    )
    assert any(SEARCHES[term] in h for h in hits), f"search for {term!r} found {hits}"
    screenshot(browser, f"search.{term}")
    assert not severe_errors(browser)
