"""Korean figure labels on a machine without any Korean system font.

Each check runs in a fresh Python process with its own empty MPLCONFIGDIR (no cached
font list) and matplotlib's system-font search cut down to matplotlib's own fonts, so
the Noto CJK font installed on this machine is invisible, as on a fresh laptop or Colab.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Prelude of every child process: hide every font outside matplotlib's own folder.
HIDE_SYSTEM_FONTS = """
import json, sys, warnings
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager as fm
_find = fm.findSystemFonts
def only_matplotlibs(fontpaths=None, fontext="ttf"):
    return _find(fontpaths, fontext) if fontpaths else []
fm.findSystemFonts = only_matplotlibs
fm.fontManager = fm.FontManager()          # rebuilt without the system's fonts
fm.findfont = fm.fontManager.findfont      # (matplotlib binds this alias at import)
fm._get_font.cache_clear()
assert not any("CJK" in f.name or "Nanum" in f.name for f in fm.fontManager.ttflist)
"""


def run_child(code: str, tmp_path) -> subprocess.CompletedProcess:
    env_dir = tmp_path / "mplconfig"
    env_dir.mkdir(exist_ok=True)
    script = HIDE_SYSTEM_FONTS + textwrap.dedent(code)
    import os

    env = {**os.environ, "MPLCONFIGDIR": str(env_dir)}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )


def test_korean_figure_without_system_fonts_uses_the_bundled_font(tmp_path):
    out = tmp_path / "confusion.png"
    run = run_child(
        f"""
        from bertnli.book import fonts
        from bertnli.book import plots
        font = fonts.find_hangul_font()
        name = plots.use_hangul_font()
        ax = plots.plot_confusion([[5, 1, 0], [2, 7, 1], [0, 1, 9]])
        ax.figure.savefig({str(out)!r})          # a missing glyph would raise here
        used = fm.findfont(fm.FontProperties(family=matplotlib.rcParams["font.family"]))
        print(json.dumps({{"name": name, "source": font.source, "path": font.path, "used": used}}))
    """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout.strip().splitlines()[-1])
    assert info["source"] == "bundled" and info["name"] == "NanumGothic"
    assert info["used"] == info["path"] and info["path"].endswith("NanumGothic.ttf")
    assert out.stat().st_size > 5000
    assert "missing from font" not in run.stderr


def test_without_any_hangul_font_a_korean_figure_fails_loudly(tmp_path):
    """The same figure with the bundled font hidden too: an error, never silent boxes."""
    run = run_child(
        """
        from bertnli.book import fonts
        from bertnli.book import plots
        fonts.bundled_font_path = lambda: None
        try:
            plots.use_hangul_font()
        except RuntimeError as err:
            print("no font:", err)
        matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.set_title("혼동 행렬")
        try:
            fig.savefig("/dev/null", format="png")
        except UserWarning as err:
            print("raised:", err)
    """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "no font: no font with Hangul" in run.stdout and "koreanize-matplotlib" in run.stdout
    assert "raised: Glyph" in run.stdout and "missing from font" in run.stdout


def test_a_system_font_is_preferred_when_present():
    pytest.importorskip("matplotlib")
    from matplotlib import font_manager

    from bertnli.book import fonts

    system = [f for f in font_manager.fontManager.ttflist if f.name in fonts.SYSTEM_FAMILIES]
    if not system:
        pytest.skip(
            "this machine has no Korean system font (tools/ensure_chromium.sh installs one)"
        )
    font = fonts.find_hangul_font()
    assert font.source == "system" and fonts.covers_hangul(font.path)
    assert fonts.font_stamp().startswith("system:")


def test_covers_hangul_checks_the_glyphs():
    from matplotlib import get_data_path

    from bertnli.book import fonts

    assert fonts.covers_hangul(fonts.bundled_font_path())
    assert not fonts.covers_hangul(f"{get_data_path()}/fonts/ttf/DejaVuSans.ttf")
    assert not fonts.covers_hangul("/nonexistent.ttf")


def test_asking_for_the_font_again_registers_nothing_new(monkeypatch):
    """Every plot asks for the font; matplotlib's font list must not grow with each ask
    (here through the slow path: no known family yet, so the system's files are scanned)."""
    from matplotlib import font_manager as fm

    from bertnli.book import fonts

    monkeypatch.setattr(fonts, "SYSTEM_FAMILIES", ("No Such Family",))
    assert fonts.find_hangul_font() is not None
    registered = len(fm.fontManager.ttflist)
    for _ in range(3):
        fonts.find_hangul_font()
    assert len(fm.fontManager.ttflist) == registered
