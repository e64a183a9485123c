/* Language switch of the bilingual book: English, 한국어, or both.
 *
 * Prose carries a language mark: notebook cells are tagged lang-en / lang-ko (rendered as
 * the classes tag_lang-en / tag_lang-ko), book pages wrap blocks in divs with the classes
 * lang-en / lang-ko. This script only sets <html data-bertnli-lang="en|ko|both">; lang.css
 * does the hiding, so nothing flashes and code and outputs are never touched.
 * Bilingual titles ("Fine-tuning · 미세 조정") are split into two spans once, so headings,
 * the navigation and the window title show the chosen half.
 * The choice is kept in localStorage; without one, the browser's language decides.
 */
(function () {
  "use strict";

  var KEY = "bertnli-lang";
  var MODES = ["en", "ko", "both"];
  var LABELS = { en: "English", ko: "한국어", both: "English + 한국어" };
  var SHORT = { en: "EN", ko: "한", both: "EN+한" }; // phones (lang.css picks one)
  // The theme's own words (sphinx-book-theme, pydata-sphinx-theme, myst-nb, Sphinx's search),
  // shown in Korean when the page is: exact texts, and attributes that show as tooltips.
  var THEME_KO = {
    "Contents": "목차",
    "previous": "이전",
    "next": "다음",
    "previous page": "이전 페이지",
    "next page": "다음 페이지",
    "Search": "검색",
    "Search this book...": "이 책에서 검색...",
    "Search Results": "검색 결과",
    "Searching": "검색 중",
    "Toggle primary sidebar": "목차 열기/닫기",
    "Toggle secondary sidebar": "이 페이지의 목차 열기/닫기",
    "Launch interactive content": "실행하기",
    "Launch on Colab": "Colab에서 열기",
    "Source repository": "소스 저장소",
    "Download this page": "이 페이지 내려받기",
    "Download notebook file": "노트북 파일 내려받기",
    "Download source file": "소스 파일 내려받기",
    "Print to PDF": "PDF로 인쇄",
    "Fullscreen mode": "전체 화면",
    "Color mode": "색 모드",
    "Light": "밝게",
    "Dark": "어둡게",
    "System Settings": "시스템 설정",
    "Show code cell source": "코드 셀 보기",
    "Hide code cell source": "코드 셀 숨기기",
    "Show code cell content": "코드 셀 내용 보기",
    "Hide code cell content": "코드 셀 내용 숨기기",
    "Show code cell outputs": "코드 셀 출력 보기",
    "Hide code cell outputs": "코드 셀 출력 숨기기",
    "Link to this heading": "이 제목으로 연결"
  };
  var THEME_KO_PATTERNS = [
    [/^Search finished, found (\d+) page\(s\) matching the search query\.$/, "검색을 마쳤습니다. $1개 페이지를 찾았습니다."],
    [/^Your search did not match any documents\..*$/, "검색어와 맞는 페이지가 없습니다. 철자를 확인하거나 다른 낱말로 찾아보세요."]
  ];
  var THEME_TEXT = [".onthispage", ".prev-next-subtitle", ".search-button__default-text", "#search-results",
    ".search-summary", ".bd-search-container > h1", "details.hide summary", "#jb-print-toc h2", ".btn__text-container", ".theme-switch-button"];
  var THEME_ATTRS = ["title", "aria-label", "placeholder", "data-bs-original-title"];
  var SEP = " · ";
  var HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/;
  var TITLE_SELECTORS = [
    "h1", "h2", "h3", "h4", "h5", "h6",
    ".bd-sidenav a", ".bd-toc-nav a", ".page-toc a", ".toc-entry a", "nav.bd-links a", ".bd-links .caption-text",
    ".prev-next-title", ".navbar-brand", ".bd-breadcrumbs li", "p.caption .caption-text",
    "a.reference.internal", "th"
  ];
  var originalTitle = null;
  var ready = false; // <title> and <body> are parsed

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return MODES.indexOf(value) >= 0 ? value : null;
    } catch (err) {
      return null; // storage disabled (private mode, file:// in some browsers)
    }
  }

  function fromBrowser() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    return String(langs[0] || "").toLowerCase().indexOf("ko") === 0 ? "ko" : "en";
  }

  function current() {
    return stored() || fromBrowser();
  }

  function remember(mode) {
    try {
      window.localStorage.setItem(KEY, mode);
    } catch (err) {
      /* the choice then lasts for this page only */
    }
  }

  function titleFor(mode) {
    if (originalTitle === null) originalTitle = document.title;
    var parts = originalTitle.split(SEP);
    if (mode === "both" || parts.length < 2 || !HANGUL.test(parts.slice(1).join(SEP))) return originalTitle;
    // "English · 한국어 — Site English · 사이트 한국어": pick the half of every bilingual piece.
    return originalTitle.split(" — ").map(function (piece) {
      var halves = piece.split(SEP);
      if (halves.length < 2) return piece;
      return mode === "en" ? halves[0] : halves.slice(1).join(SEP);
    }).join(" — ");
  }

  function themeKo(text) {
    var trimmed = text.trim();
    if (!trimmed) return null;
    if (Object.prototype.hasOwnProperty.call(THEME_KO, trimmed)) return text.replace(trimmed, THEME_KO[trimmed]);
    for (var i = 0; i < THEME_KO_PATTERNS.length; i++) {
      if (THEME_KO_PATTERNS[i][0].test(trimmed)) return trimmed.replace(THEME_KO_PATTERNS[i][0], THEME_KO_PATTERNS[i][1]);
    }
    return null;
  }

  // The theme's words in Korean (korean=true) or back in English; originals are kept on the nodes.
  function translateTheme(korean) {
    if (!ready) return;
    var hosts = document.querySelectorAll(THEME_TEXT.join(","));
    for (var i = 0; i < hosts.length; i++) {
      var walker = document.createTreeWalker(hosts[i], NodeFilter.SHOW_TEXT, null);
      while (walker.nextNode()) {
        var node = walker.currentNode;
        if (node.parentNode.closest("ul.search li")) continue; // result titles and excerpts are content
        if (node.bertnliEn === undefined) {
          var ko = themeKo(node.nodeValue);
          if (ko === null) continue;
          node.bertnliEn = node.nodeValue;
          node.bertnliKo = ko;
        }
        node.nodeValue = korean ? node.bertnliKo : node.bertnliEn;
      }
    }
    var selector = THEME_ATTRS.map(function (a) { return "[" + a + "]"; }).join(",");
    var els = document.querySelectorAll(selector);
    for (var j = 0; j < els.length; j++) {
      if (els[j].closest("article .bd-content, #search-results")) {
        if (!els[j].matches("a.headerlink, details.hide summary")) continue; // the book's own text
      }
      THEME_ATTRS.forEach(function (attr) {
        var value = els[j].getAttribute(attr);
        if (value === null) return;
        var keep = "data-bertnli-en-" + attr;
        var en = els[j].getAttribute(keep);
        if (en === null) {
          if (themeKo(value) === null) return;
          en = value;
          els[j].setAttribute(keep, en);
        }
        els[j].setAttribute(attr, korean ? themeKo(en) : en);
      });
    }
  }

  function apply(mode) {
    var root = document.documentElement;
    root.setAttribute("data-bertnli-lang", mode);
    root.setAttribute("lang", mode === "ko" ? "ko" : "en");
    if (ready) document.title = titleFor(mode);
    var buttons = document.querySelectorAll(".bertnli-lang-switch button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-lang") === mode ? "true" : "false");
    }
    translateTheme(mode === "ko");
    if (ready) figureAlts(mode);
  }

  function choose(mode) {
    remember(mode);
    apply(mode);
  }

  // Wrap [nodes before " · "] and [nodes after it] of a bilingual title in spans.
  function splitTitle(el) {
    if (el.getAttribute("data-bertnli-split")) return;
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, null);
    var text = null;
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.parentNode.closest("[data-bertnli-split]")) continue; // split already (nested selectors)
      if (node.nodeValue.indexOf(SEP) >= 0) {
        text = walker.currentNode;
        break;
      }
    }
    if (!text) return;
    var after = text.nodeValue.slice(text.nodeValue.indexOf(SEP) + SEP.length);
    if (!HANGUL.test(after + (text.nextSibling ? text.nextSibling.textContent || "" : ""))) return;
    // The split happens among the children of the text node's parent (e.g. <a>, <h2>, <span>).
    var parent = text.parentNode;
    var before = text.nodeValue.slice(0, text.nodeValue.indexOf(SEP));
    var en = document.createElement("span");
    var sep = document.createElement("span");
    var ko = document.createElement("span");
    en.className = "bertnli-title-en";
    sep.className = "bertnli-title-sep";
    ko.className = "bertnli-title-ko";
    ko.setAttribute("lang", "ko");
    sep.textContent = SEP;
    var kids = Array.prototype.slice.call(parent.childNodes);
    var idx = kids.indexOf(text);
    var start = 0; // a section number ("2.1 ") stays visible in every language
    while (start < idx && kids[start].nodeType === 1 && kids[start].classList.contains("section-number")) start++;
    parent.insertBefore(en, kids[start]);
    for (var i = start; i < idx; i++) en.appendChild(kids[i]);
    en.appendChild(document.createTextNode(before));
    parent.insertBefore(sep, text);
    parent.insertBefore(ko, text);
    ko.appendChild(document.createTextNode(after));
    parent.removeChild(text);
    for (var j = idx + 1; j < kids.length; j++) {
      var kid = kids[j];
      if (kid.nodeType === 1 && kid.classList.contains("headerlink")) break; // keep the ¶ link outside
      ko.appendChild(kid);
    }
    el.setAttribute("data-bertnli-split", "1");
  }

  // A table-of-contents entry whose target heading is language-marked gets the same mark.
  function markTocEntries() {
    var links = document.querySelectorAll(".toc-entry a[href^='#'], .page-toc a[href^='#']");
    for (var i = 0; i < links.length; i++) {
      var id = decodeURIComponent(links[i].getAttribute("href").slice(1));
      var target = id && document.getElementById(id);
      if (!target) continue;
      var heading = target.matches("h1,h2,h3,h4,h5,h6") ? target : target.querySelector("h1,h2,h3,h4,h5,h6");
      if (!heading) continue;
      var item = links[i].closest("li") || links[i];
      ["tag_lang-en", "tag_lang-ko"].forEach(function (cls) {
        if (heading.classList.contains(cls)) item.classList.add(cls);
      });
    }
  }

  function markKoreanBlocks() {
    var blocks = document.querySelectorAll(".tag_lang-ko, .lang-ko");
    for (var i = 0; i < blocks.length; i++) blocks[i].setAttribute("lang", "ko");
  }

  // Every table cell learns its column's header (data-label, and -en / -ko halves of a
  // bilingual one), so lang.css can show a table as one card per row on a phone; a table
  // with many columns (a row per kind of value, a column per token) is marked "wide".
  function labelTables() {
    var tables = document.querySelectorAll("article table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.classList.contains("bn-att-table")) continue; // a heatmap, not a table of values
      var head = table.querySelector("thead tr") || table.querySelector("tr");
      if (!head) continue;
      var names = Array.prototype.map.call(head.children, function (th) {
        return th.tagName === "TH" ? th.textContent.replace(/\s+/g, " ").trim() : "";
      });
      if (names.every(function (n) { return !n; })) continue;
      table.classList.add("bertnli-labeled");
      if (names.length > 6) table.classList.add("bertnli-wide");
      var rows = table.querySelectorAll("tbody tr");
      for (var r = 0; r < rows.length; r++) {
        if (rows[r] === head) continue;
        for (var c = 0; c < rows[r].children.length && c < names.length; c++) {
          var halves = names[c].split(SEP);
          var bilingual = halves.length > 1 && HANGUL.test(halves.slice(1).join(SEP));
          var cell = rows[r].children[c];
          cell.setAttribute("data-label", names[c]);
          cell.setAttribute("data-label-en", bilingual ? halves[0] : names[c]);
          cell.setAttribute("data-label-ko", bilingual ? halves.slice(1).join(SEP) : names[c]);
        }
      }
    }
  }

  // A figure drawn smaller than its pixels opens full size when tapped (phones).
  function linkFigures() {
    var images = document.querySelectorAll("article .cell_output img");
    for (var i = 0; i < images.length; i++) {
      var img = images[i];
      var alt = img.getAttribute("alt") || "";
      var cut = alt.indexOf(SEP);
      if (cut > 0 && HANGUL.test(alt.slice(cut)) && !img.hasAttribute("data-alt-en")) {
        img.setAttribute("data-alt-en", alt.slice(0, cut));
        img.setAttribute("data-alt-ko", alt.slice(cut + SEP.length));
      }
      if (img.closest("a")) continue;
      var link = document.createElement("a");
      link.href = img.getAttribute("src");
      link.className = "bertnli-figure-link";
      link.setAttribute("title", "Open the full-size figure · 원래 크기로 보기");
      img.parentNode.insertBefore(link, img);
      link.appendChild(img);
    }
  }

  // The alt text of a figure in the chosen language (bilingual "English · 한국어" at build time).
  function figureAlts(mode) {
    var images = document.querySelectorAll("article img[data-alt-en]");
    for (var i = 0; i < images.length; i++) {
      var img = images[i];
      img.setAttribute("alt", mode === "both" ? img.getAttribute("data-alt-en") + SEP + img.getAttribute("data-alt-ko")
        : img.getAttribute("data-alt-" + mode));
    }
  }

  function buildSwitch() {
    if (document.querySelector(".bertnli-lang-switch")) return;
    var box = document.createElement("div");
    box.className = "bertnli-lang-switch";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Language · 언어");
    MODES.forEach(function (mode) {
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-lang", mode);
      button.setAttribute("title", LABELS[mode]);
      var long = document.createElement("span");
      long.className = "bertnli-long";
      long.textContent = LABELS[mode];
      var short = document.createElement("span");
      short.className = "bertnli-short";
      short.setAttribute("aria-hidden", "true");
      short.textContent = SHORT[mode];
      button.appendChild(long);
      button.appendChild(short);
      button.addEventListener("click", function () { choose(mode); });
      box.appendChild(button);
    });
    var host = document.querySelector(".article-header-buttons") ||
      document.querySelector(".header-article-items__end") ||
      document.querySelector(".bd-header-article");
    if (host) {
      host.insertBefore(box, host.firstChild);
    } else {
      box.classList.add("bertnli-lang-switch--floating");
      document.body.appendChild(box);
    }
  }

  function init() {
    ready = true;
    labelTables(); // before the titles are split: it reads the headers' text
    linkFigures();
    var els = document.querySelectorAll(TITLE_SELECTORS.join(","));
    for (var i = 0; i < els.length; i++) splitTitle(els[i]);
    markTocEntries();
    markKoreanBlocks();
    buildSwitch();
    apply(current());
    // Search results arrive after load: split their bilingual page titles too.
    var results = document.getElementById("search-results");
    if (results && window.MutationObserver) {
      var observer = new MutationObserver(function () {
        var links = results.querySelectorAll("a");
        for (var j = 0; j < links.length; j++) splitTitle(links[j]);
        observer.disconnect(); // our own changes below must not wake us again
        translateTheme(current() === "ko");
        observer.observe(results, { childList: true, subtree: true, characterData: true });
      });
      observer.observe(results, { childList: true, subtree: true, characterData: true });
    }
  }

  // Set the mode before the first paint (this file loads in <head>), then finish on DOM ready.
  apply(current());
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  // Another tab changed the choice: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY && MODES.indexOf(event.newValue) >= 0) apply(event.newValue);
  });
  window.bertnliLang = { current: current, choose: choose, modes: MODES.slice() };
})();
