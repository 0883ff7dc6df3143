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


# ----------------------------------------------------------------------------- chapter 04 figures
# Plotting boilerplate kept out of the lesson: each returns the figure (the notebook shows it).
def _fig(figsize=(8.0, 3.8)):
    import matplotlib.pyplot as plt

    style()
    return plt.subplots(figsize=figsize)


def delta_heatmap(D):
    """log10 ‖δ_{t,k}‖ as an image: row t (the step of the loss), column k (where the gradient arrives)."""
    import numpy as np

    fig, ax = _fig((6.4, 4.8))
    shown = np.log10(np.where(D > 0, D, np.nan))
    im = ax.imshow(shown, origin="lower", cmap="viridis")
    ax.set_xlabel("k（梯度到达的时间步）")
    ax.set_ylabel("t（产生损失的时间步）")
    ax.set_title(r"$\log_{10}\|\delta_{t,k}\|$：离对角线越远越小")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label=r"$\log_{10}\|\delta_{t,k}\|$")
    return fig


def jacobian_products(profiles: dict):
    """‖∂h_T/∂h_k‖₂ (solid) and its bound (γσ_max)^(T−k) (dashed) per σ_max; ``profiles``: {σ_max: profile}."""
    fig, ax = _fig()
    for (s, prof), color in zip(profiles.items(), ("tab:blue", "tab:red", "tab:green")):
        ax.semilogy(prof.k, prof.jacobian_norm, color=color, lw=2,
                    label=rf"$\|\partial h_T/\partial h_k\|_2$，$\sigma_{{\max}}$ = {s}")
        ax.semilogy(prof.k, prof.envelope, "--", color=color, lw=1.2,
                    label=rf"上界 $(\gamma\sigma_{{\max}})^{{T-k}} = {s}^{{T-k}}$")
    ax.set_xlabel("k")
    ax.set_ylabel("谱范数（对数坐标）")
    ax.legend(fontsize=10, ncol=2, loc="lower left", bbox_to_anchor=(0.0, 1.02), frameon=False)
    return fig


def power_norms(norms, sigma: float, rho: float):
    """‖Wⁿ‖₂ measured, beside σ_maxⁿ (bound) and ρⁿ (long-run rate), for n = 1..len(norms)."""
    import numpy as np

    fig, ax = _fig()
    n = np.arange(1, len(norms) + 1)
    ax.semilogy(n, norms, "k", lw=2.5, label=r"$\|W^n\|_2$（实测）")
    ax.semilogy(n, sigma ** n, "--", lw=1.5, label=rf"$\sigma_{{\max}}^n = {sigma:.2f}^n$（上界）")
    ax.semilogy(n, rho ** n, ":", lw=2, label=rf"$\rho^n = {rho:.2f}^n$（长期增长率）")
    ax.set_xlabel("n（连乘的步数）")
    ax.set_ylabel("范数（对数坐标）")
    ax.legend(fontsize=10)
    return fig


def clipping_losses(loss_clip, loss_plain, max_norm: float):
    """Training loss with clipping (every step) and without (its finite steps only, as dots)."""
    import numpy as np

    fig, ax = _fig()
    ax.semilogy(loss_clip, lw=2, label=f"裁剪（max_norm = {max_norm:g}）")
    finite = np.isfinite(loss_plain)
    ax.semilogy(np.arange(len(loss_plain))[finite], np.asarray(loss_plain)[finite], "o", ms=9, color="tab:red",
                label=f"不裁剪（只画有限的 {int(finite.sum())} 步，之后是 inf / NaN）")
    ax.set_xlabel("更新步数")
    ax.set_ylabel("训练损失（对数坐标）")
    ax.legend()
    return fig


def learning_curves(curves: dict, baseline: float, ylabel: str = "测试 MSE"):
    """One line per run ({label: [metric per epoch]}) and a dashed baseline."""
    fig, ax = _fig()
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, "o-", lw=2, label=label)
    ax.axhline(baseline, color="gray", ls="--", label=f"永远猜 1（MSE = {baseline:.3f}）")
    ax.set_xlabel("训练轮数（epoch）")
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig
