"""The site as readers meet it beyond a desktop browser: a phone, the way to a notebook
(download, Colab), Korean search with particles, the theme's labels in Korean, and figures
drawn with a Hangul font.

Fixtures (``site``, ``server``, ``browser``, ``built_book``, ``executed_notebooks``) are in
conftest.py, page helpers in helpers/site_pages.py. Screenshots land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
import yaml
from helpers.site_pages import (
    REPO,
    ROOT,
    SHOTS,
    open_page,
    page_url,
    screenshot,
    set_language,
    severe_errors,
    toc_documents,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

PHONE = (400, 860)


def remember_language(driver, server: str, mode: str) -> None:
    """Store the reader's language choice (localStorage belongs to the site's origin: be on it first)."""
    if not driver.current_url.startswith(server):
        open_page(driver, f"{server}index.html")
    driver.execute_script(f"localStorage.setItem('bertnli-lang', '{mode}')")


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
        remember_language(browser, server, "ko")
        open_page(browser, page_url(server, chapter))
        toggles = [
            b for b in browser.find_elements("css selector", ".primary-toggle") if b.is_displayed()
        ]
        assert toggles, "no visible menu (☰) button at phone width"
        assert not browser.execute_script(MENU_JS)["open"]
        toggles[0].click()
        WebDriverWait(browser, 5).until(
            lambda d: d.execute_script(MENU_JS)["open"],
            "the ☰ button did not open the chapter menu (pydata-sphinx-theme 0.17 bug?)",
        )
        menu = browser.execute_script(MENU_JS)
        assert menu["links"] >= len(toc_documents()) - 1 and menu["inside"], (
            f"menu opened without its chapters: {menu}"
        )
        phone_screenshot(browser, "menu-open")
        browser.find_element("css selector", "#pst-primary-sidebar-modal").send_keys(Keys.ESCAPE)
        WebDriverWait(browser, 5).until(
            lambda d: not d.execute_script(MENU_JS)["open"], "the menu did not close"
        )
        # ... and opens again (the second time is where a half-wired toggle fails).
        toggles[0].click()
        WebDriverWait(browser, 5).until(
            lambda d: d.execute_script(MENU_JS)["open"], "the menu did not open again"
        )
        browser.find_element("css selector", "#pst-primary-sidebar-modal").send_keys(Keys.ESCAPE)
        WebDriverWait(browser, 5).until(lambda d: not d.execute_script(MENU_JS)["open"])
        WebDriverWait(browser, 5).until(
            lambda d: d.execute_script(MENU_JS)["links"] == 0, "the menu stays visible"
        )
        time.sleep(0.5)  # the closing slide, so the screenshot shows the page
        phone_screenshot(browser, "menu-closed")
        problems = []
        for doc in toc_documents():
            for mode in ("en", "ko"):
                remember_language(browser, server, mode)
                open_page(browser, page_url(server, doc))
                state = browser.execute_script(OVERFLOW_JS)
                if state["scrollWidth"] > state["width"] or state["scrolled"] > 0 or state["wide"]:
                    problems.append(
                        f"{doc} [{mode}]: page {state['scrollWidth']} px wide at {state['width']} px: "
                        f"{state['wide']}"
                    )
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
    assert len(chapters) == 6
    remember_language(browser, server, "en")
    for doc in chapters:
        open_page(browser, page_url(server, doc))
        download = browser.find_elements("css selector", "a.btn-download-notebook-button")
        assert download, f"{doc}: no .ipynb download"
        href = download[0].get_attribute("href")
        assert href.endswith(f"{doc}.ipynb"), href
        with urllib.request.urlopen(href, timeout=10) as response:
            nb = nbformat.reads(response.read().decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        assert any(c.cell_type == "code" and c.outputs for c in nb.cells), (
            f"{doc}: the download has no outputs"
        )

        colab = [
            a.get_attribute("href")
            for a in browser.find_elements("css selector", "a[href*='colab.research']")
        ]
        assert len(colab) == 1, f"{doc}: Colab links {colab}"
        prefix = f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/"
        assert colab[0].startswith(prefix), (
            f"{doc}: {colab[0]} is not in {repo['url']} at {repo['branch']}"
        )
        target = ROOT / colab[0][len(prefix) :]
        assert target == ROOT / f"{doc}.ipynb" and target.is_file(), (
            f"{doc}: Colab opens {target}, which is missing"
        )
        tracked = nbformat.read(target, as_version=4)
        assert all(not c.get("outputs") for c in tracked.cells if c.cell_type == "code")
        assert "install-bertnli" in next(
            c for c in tracked.cells if c.cell_type == "code"
        ).metadata.get("tags", [])
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
        cases += [
            (s, doc)
            for s in sorted(stems - words)
            if s in {"가설", "전제", "모델", "토큰", "문장", "정확도"}
        ]
    assert cases, "no page writes a glossary word only with a particle: nothing to test"
    remember_language(browser, server, "ko")
    for word, doc in cases[:3]:
        open_page(browser, f"{server}search.html?q={quote(word)}")
        # Sphinx lists the hits one by one (5 ms apart) and fills the summary line last: wait for it,
        # not for the first hit, or a page further down the ranking is missed.
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script(
                "const s = document.querySelector('#search-results p.search-summary'); return s && s.innerText.trim();"
            )
        )
        hits = browser.execute_script(
            "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
            ".map(a => a.getAttribute('href'));"
        )
        assert any(doc in h for h in hits), (
            f"search for {word!r} missed {doc} (which has it with a particle): {hits}"
        )
    screenshot(browser, f"search.particle.{word}")
    summary = browser.find_element("css selector", "#search-results").text
    assert "검색" in summary and "Search Results" not in summary, (
        f"search page not in Korean: {summary[:200]!r}"
    )
    heading = browser.find_element("css selector", ".bd-search-container > h1").text
    assert heading == "검색", f"search page title not in Korean: {heading!r}"
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
    remember_language(browser, server, "ko")
    open_page(browser, page_url(server, chapter))
    ko = browser.execute_script(THEME_JS)
    assert ko["contents"] == ["목차"], ko
    assert ko["prevnext"] == ["이전", "다음"], ko
    assert ko["placeholder"] == "이 책에서 검색...", ko
    assert ko["wordBreak"] == "keep-all", ko
    assert ko["numAlign"] == "right" and ko["padding"] >= 6, (
        f"output table cells not padded/aligned: {ko}"
    )
    screenshot(browser, "theme.ko")
    set_language(browser, "en")
    en = browser.execute_script(THEME_JS)
    assert en["contents"] == ["Contents"] and en["prevnext"] == ["previous", "next"], en
    assert en["placeholder"] == "Search this book...", en
    assert not severe_errors(browser)


def test_no_figure_on_the_site_was_drawn_with_missing_glyphs(
    browser, server, built_book, executed_notebooks
):
    """Every executed chapter drew its figures with a Hangul font: no glyph message anywhere, and the
    build recorded the font this machine uses now (book/_ext/hangulfigures.py)."""
    from bertnli.book.fonts import font_stamp

    stamp_file = built_book / "bertnli-figure-font.txt"
    assert stamp_file.is_file(), (
        "the build did not record the figures' font (book/_ext/hangulfigures.py)"
    )
    stamp = stamp_file.read_text(encoding="utf-8").strip()
    assert stamp != "none" and stamp == font_stamp(), (
        f"figures drawn with {stamp!r}, now {font_stamp()!r}"
    )
    figures = 0
    chapters = [d for d in toc_documents() if d.startswith("notebooks/")]
    for doc in chapters:
        nb = executed_notebooks[doc]
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                text = json.dumps(out.get("text", "")) + json.dumps(out.get("traceback", ""))
                assert "missing from font" not in text, f"{doc}: {text[:300]}"
                figures += "image/png" in out.get("data", {})
        open_page(browser, page_url(server, doc))
        assert "missing from font" not in browser.find_element("tag name", "body").text, doc
    assert figures >= 3


# --------------------------------------------------------------------------- a phone shows whole tables

TABLES_JS = r"""
const width = document.documentElement.clientWidth;
const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const problems = [];
for (const table of Array.from(document.querySelectorAll('article table')).filter(shown)) {
  const r = table.getBoundingClientRect();
  const name = (table.querySelector('th, td') || {innerText: ''}).innerText.trim().slice(0, 30);
  if (r.right > width + 1 || r.left < -1) problems.push(`table "${name}" spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
  // a box around it that scrolls: the table fits only if the box need not scroll
  for (let p = table.parentElement; p && p !== document.body; p = p.parentElement) {
    if (p.scrollWidth > p.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) {
      problems.push(`table "${name}" scrolls sideways in its box (${p.scrollWidth} > ${p.clientWidth} px)`);
      break;
    }
  }
  // no cell so narrow that its words stand one per line
  for (const cell of Array.from(table.querySelectorAll('td')).filter(shown)) {
    const words = cell.innerText.trim().split(/\s+/).filter(w => w.length > 1);
    const lines = Math.round(cell.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight || 20));
    if (words.length >= 4 && lines >= words.length) problems.push(`cell "${cell.innerText.trim().slice(0, 30)}": one word per line`);
  }
}
return {width: width, problems: problems.slice(0, 8)};
"""

GLOSSARY_JS = r"""
const width = document.documentElement.clientWidth;
const table = Array.from(document.querySelectorAll('article table')).find(t => t.getClientRects().length > 0);
const headers = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
const row = table.querySelector('tbody tr');
const cells = Array.from(row.children).map((td, i) => {
  const r = td.getBoundingClientRect();
  return {header: headers[i], text: td.innerText.trim().slice(0, 20), shown: td.getClientRects().length > 0,
          left: Math.round(r.left), right: Math.round(r.right)};
});
return {width: width, cells: cells};
"""


def test_phone_tables_fit_the_screen_in_either_language(browser, server):
    """At 400 px no table of any page needs sideways scrolling to be read, in English or in Korean."""
    browser.set_window_size(*PHONE)
    try:
        problems = []
        for doc in toc_documents():
            for mode in ("en", "ko"):
                remember_language(browser, server, mode)
                open_page(browser, page_url(server, doc))
                state = browser.execute_script(TABLES_JS)
                problems += [f"{doc} [{mode}]: {p}" for p in state["problems"]]
            phone_screenshot(browser, f"tables.{doc.replace('/', '_')}.ko")
        assert not problems, "\n".join(problems)
    finally:
        browser.set_window_size(1280, 900)


def test_phone_glossary_in_korean_shows_the_terms_and_the_korean_explanation(browser, server):
    browser.set_window_size(*PHONE)
    try:
        remember_language(browser, server, "ko")
        open_page(browser, page_url(server, "book/glossary"))
        state = browser.execute_script(GLOSSARY_JS)
        by_header = {c["header"]: c for c in state["cells"]}
        for header in ("English", "한국어", "설명"):
            cell = by_header[header]
            assert cell["shown"] and 0 <= cell["left"] and cell["right"] <= state["width"] + 1, (
                f"glossary [ko] at {state['width']} px: column {header!r} is off screen: {cell}"
            )
        assert not by_header["Explanation"]["shown"], (
            "glossary [ko]: the English explanation takes the room"
        )
        phone_screenshot(browser, "glossary.ko")
        remember_language(browser, server, "en")
        open_page(browser, page_url(server, "book/glossary"))
        by_header = {c["header"]: c for c in browser.execute_script(GLOSSARY_JS)["cells"]}
        assert by_header["Explanation"]["shown"] and not by_header["설명"]["shown"]
    finally:
        browser.set_window_size(1280, 900)


OUTPUTS_JS = r"""
const width = document.documentElement.clientWidth;
const banner = Array.from(document.querySelectorAll('.cell_output pre')).find(p => p.innerText.includes('profile: '));
const images = Array.from(document.querySelectorAll('article .cell_output img')).map(img => ({
  alt: img.getAttribute('alt') || '', link: img.closest('a') ? img.closest('a').getAttribute('href') : null,
  src: img.getAttribute('src')}));
const pair = document.querySelector('.bn-pair');
const bars = Array.from(document.querySelectorAll('.bn-bar')).filter(b => b.getClientRects().length > 0)
  .map(b => Math.round(b.getBoundingClientRect().right));
return {width: width, bannerFits: banner ? banner.scrollWidth <= banner.clientWidth + 1 : null,
        images: images, pair: pair ? pair.innerText : null, bars: bars,
        indexLinks: document.querySelectorAll("a[href*='genindex'], link[rel='index']").length,
        icon: (document.querySelector("link[rel~='icon']") || {}).href || null};
"""


@pytest.mark.parametrize("size", [PHONE, (1280, 900)], ids=["phone", "desktop"])
def test_chapter_outputs_read_well_at_any_width(browser, server, site, size):
    """The profile banner wraps; figures have a description in the page's language (not a file path) and
    open full size when tapped; chapter 3's prediction says which pair; no index page; a favicon."""
    import urllib.request

    assert not (site / "genindex.html").exists(), "an empty genindex page is built"
    browser.set_window_size(*size)
    try:
        problems = []
        for doc in [d for d in toc_documents() if d.startswith("notebooks/")]:
            for mode in ("en", "ko"):
                remember_language(browser, server, mode)
                open_page(browser, page_url(server, doc))
                state = browser.execute_script(OUTPUTS_JS)
                where = f"{doc} [{mode}] at {state['width']} px"
                if state["bannerFits"] is False:
                    problems.append(f"{where}: the profile banner runs past its box")
                for image in state["images"]:
                    alt = image["alt"]
                    if not alt or re.search(r"\.(png|jpe?g|svg)\b|_images/", alt):
                        problems.append(f"{where}: figure alt text {alt!r} is a file name")
                    elif (
                        not alt.startswith("Figure" if mode == "en" else "그림")
                        or " · " in alt
                        or (mode == "en" and re.search(r"[\uac00-\ud7a3]", alt))
                    ):
                        problems.append(
                            f"{where}: figure alt text {alt[:60]!r} is not in the page's language"
                        )
                    if image["link"] != image["src"]:
                        problems.append(
                            f"{where}: figure {image['src'][-20:]} does not open full size"
                        )
                if state["indexLinks"]:
                    problems.append(f"{where}: links to the (empty) index")
                if doc.endswith("03_fine_tuning"):
                    if not (
                        state["pair"]
                        and "Premise" in state["pair"]
                        and "Hypothesis" in state["pair"]
                    ):
                        problems.append(
                            f"{where}: the prediction does not say which pair: {state['pair']!r}"
                        )
                    if any(right > state["width"] + 1 for right in state["bars"]):
                        problems.append(
                            f"{where}: probability bars past the screen: {state['bars']}"
                        )
        icon = browser.execute_script(OUTPUTS_JS)["icon"]
        assert icon, "no favicon link"
        with urllib.request.urlopen(icon, timeout=10) as response:
            assert response.status == 200 and response.headers.get_content_type().startswith(
                "image/"
            )
        assert not problems, "\n".join(problems)
    finally:
        browser.set_window_size(1280, 900)
