"""Matplotlib set-up so that Chinese labels render on any machine.

The course pins ``pylopdf-fonts-zh-cn`` (Noto Sans SC, SIL Open Font Licence), so
one CJK font is always installed with the other packages. We prefer it over
system fonts: every student, on Linux, Windows or macOS, then sees the same
glyphs, and the figures in ``media/`` come out byte-identical everywhere.
If that package is missing, a CJK font that the system already has is used.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# Fonts that ship with common systems, tried when the bundled font is missing.
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC",
    "STHeiti", "Arial Unicode MS",
)

_chosen: str | None = None


def bundled_font_path() -> Path | None:
    """Path of the Noto Sans SC file installed by ``pylopdf-fonts-zh-cn``, or None."""
    spec = importlib.util.find_spec("pylopdf_fonts_zh_cn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "NotoSansSC-Regular.otf"
    return path if path.exists() else None


def find_chinese_font() -> str:
    """Name of a font that has Chinese glyphs (registering the bundled one if needed)."""
    path = bundled_font_path()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in SYSTEM_CJK_FONTS:
        if name in available:
            return name
    raise RuntimeError(
        "no font with Chinese glyphs found: expected the package 'pylopdf-fonts-zh-cn' "
        "(pip install -r requirements.txt) or one of the system fonts "
        f"{', '.join(SYSTEM_CJK_FONTS)}; got none of them"
    )


def use_chinese_font() -> str:
    """Make matplotlib draw Chinese text; returns the font's name. Safe to call again."""
    global _chosen
    if _chosen is None:
        _chosen = find_chinese_font()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [_chosen, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # ASCII '-' renders in every font
    return _chosen


def style() -> None:
    """The course's plot style: Chinese font, readable sizes when projected."""
    use_chinese_font()
    matplotlib.rcParams.update({
        "figure.dpi": 100,
        "figure.figsize": (7.0, 3.6),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 11,
    })
