"""A Hangul font for matplotlib on any machine: the system's when it has one, else a bundled one.

Why: the figures' labels are bilingual. A machine without a Korean font (a fresh laptop,
Windows without Malgun Gothic, Colab, a CI image) would draw the Korean half as empty
boxes. ``koreanize-matplotlib`` (a dependency) ships NanumGothic under the SIL Open Font
License; we only use its font *file*. Importing that package would run its ``koreanize()``
(which needs ``distutils``, gone from Python 3.12) and rewrite rcParams as a side effect,
so we locate the file without importing it and register it with matplotlib ourselves.

A figure drawn with a missing glyph is an error, not a warning: ``GLYPH_WARNING`` is the
pattern of matplotlib's message, and ``bertnli.book.plots.use_hangul_font`` turns it into one.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

# System fonts with Hangul, in order of preference (family names as matplotlib lists them).
SYSTEM_FAMILIES = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "UnDotum",
    "Baekmuk Gulim",
)
# File names that may hold one of them, for fonts installed after matplotlib cached its list.
_SYSTEM_FILES = re.compile(
    r"(NotoSansCJK|NotoSansKR|Nanum|malgun|AppleSDGothic|AppleGothic|UnDotum|gulim)", re.IGNORECASE
)
BUNDLED_PACKAGE = "koreanize_matplotlib"
BUNDLED_FILE = "fonts/NanumGothic.ttf"
GLYPH_WARNING = r"Glyph \d+ .*missing from font"
PROBE = "가힣"  # first and last Hangul syllables: a font with both covers the block


@dataclass(frozen=True)
class HangulFont:
    """The font the figures use: its matplotlib family name, its file, and where it came from."""

    name: str
    path: str
    source: str  # "system" or "bundled"

    def stamp(self) -> str:
        """Identifies this choice; a figure drawn under another stamp must be drawn again."""
        size = Path(self.path).stat().st_size if Path(self.path).is_file() else -1
        return f"{self.source}:{self.name}:{self.path}:{size}"


def covers_hangul(path: str | Path) -> bool:
    """Whether the font file has glyphs for the Hangul syllables (checked, not guessed from the name)."""
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(str(path)).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in PROBE)


def bundled_font_path() -> Path | None:
    """NanumGothic.ttf inside the installed koreanize-matplotlib (the package is not imported)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / BUNDLED_FILE
        if path.is_file():
            return path
    return None


def _register(font_manager, path) -> None:
    """Add a font file to matplotlib's list once: ``addfont`` appends it again on every call
    (and every plot asks for the font)."""
    if str(path) not in {entry.fname for entry in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))


def _system_font(font_manager) -> HangulFont | None:
    by_name = {}
    for entry in font_manager.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    if not set(SYSTEM_FAMILIES) & set(by_name):
        # Installed after matplotlib built its font list (e.g. apt-get in the same session)?
        for path in font_manager.findSystemFonts():
            if _SYSTEM_FILES.search(Path(path).name):
                try:
                    _register(font_manager, path)
                except (OSError, RuntimeError, ValueError):
                    continue
        for entry in font_manager.fontManager.ttflist:
            by_name.setdefault(entry.name, entry.fname)
    for name in SYSTEM_FAMILIES:
        if name in by_name and covers_hangul(by_name[name]):
            return HangulFont(name, by_name[name], "system")
    return None


def find_hangul_font() -> HangulFont | None:
    """The system's Hangul font if there is one, else the bundled NanumGothic; registered with matplotlib.

    None only when neither exists (bertnli installed without its dependencies).
    """
    from matplotlib import font_manager

    system = _system_font(font_manager)
    if system is not None:
        return system
    path = bundled_font_path()
    if path is None or not covers_hangul(path):
        return None
    _register(font_manager, path)
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return HangulFont(name, str(path), "bundled")


def font_stamp() -> str:
    """The current choice as a string ("none" without a font), for caches of drawn figures."""
    font = find_hangul_font()
    return font.stamp() if font else "none"
