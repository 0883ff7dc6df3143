"""The course's drawing vocabulary: one palette, one box, one arrow, one node.

Every figure in ``media/`` is drawn by ``scripts/make_media.py`` with these few
functions, so that one colour means one thing in every chapter:

    inputs x       blue        hidden states h   green
    cell state C   orange      gates             purple
    outputs o, y   grey/dark   gradients         red, dashed

A figure is a canvas measured in inches (``canvas(w, h)``): a point (x, y) is x
inches from the left and y inches from the bottom of the saved picture, so sizes
in the figure code are sizes on the page.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, Polygon  # noqa: E402

from helpers.plots.plotting import use_chinese_font  # noqa: E402

# role -> fill colour and line colour. Text is drawn in INK unless a role says otherwise.
PALETTE = {
    "x":     {"fill": "#dbeafe", "line": "#1d4ed8"},  # inputs x_t
    "h":     {"fill": "#dcfce7", "line": "#15803d"},  # hidden states h_t (and candidates of h)
    "C":     {"fill": "#ffedd5", "line": "#c2410c"},  # LSTM cell state C_t (and its candidate g_t)
    "gate":  {"fill": "#f3e8ff", "line": "#7e22ce"},  # sigmoid gates f, i, o, r, z
    "o":     {"fill": "#e5e7eb", "line": "#374151"},  # outputs o_t / y_t / losses
    "grad":  {"fill": "#fee2e2", "line": "#dc2626"},  # gradients (always dashed)
    "op":    {"fill": "#ffffff", "line": "#111827"},  # pointwise operators (x, +, tanh, 1-)
    "plain": {"fill": "#ffffff", "line": "#6b7280"},  # neutral boxes (map leaves, linear maps)
    "area":  {"fill": "#f8fafc", "line": "#94a3b8"},  # background of a cell / panel
    "ink":   {"fill": "#111827", "line": "#111827"},  # text and forward arrows
    "muted": {"fill": "#f3f4f6", "line": "#6b7280"},  # secondary text, ellipses
}
INK = PALETTE["ink"]["line"]
MIN_FONT = 11        # points at the saved size: readable when projected
FONT = 13            # default label size
SALT = "seqcourse"   # svg.hashsalt: element ids do not change between runs


def setup() -> str:
    """Chinese font, text as outlines, deterministic SVG; missing glyphs are errors."""
    font = use_chinese_font()
    matplotlib.rcParams.update({
        "svg.fonttype": "path",
        "svg.hashsalt": SALT,
        "mathtext.fontset": "dejavusans",
        "font.size": FONT,
        "path.simplify": True,
    })
    warnings.filterwarnings("error", message="Glyph")
    return font


def canvas(width: float, height: float):
    """A blank figure of ``width`` x ``height`` inches whose data units are inches."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def save(fig, out: Path, name: str, png_dir: Path | None = None) -> Path:
    """Write ``out/name.svg`` byte-for-byte reproducibly (and a PNG preview if asked)."""
    path = Path(out) / f"{name}.svg"
    fig.savefig(path, format="svg", metadata={"Date": None})
    if png_dir is not None:
        fig.savefig(Path(png_dir) / f"{name}.png", format="png", dpi=80)
    plt.close(fig)
    return path


def label(ax, x, y, text, size=FONT, role="ink", ha="center", va="center",
          weight="normal", bg=False, **kw):
    """Text at (x, y) in inches; ``role`` picks its colour from PALETTE."""
    if size < MIN_FONT:
        raise ValueError(f"font size {size} < {MIN_FONT} pt is unreadable when projected")
    if bg:
        kw["bbox"] = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"}
    return ax.text(x, y, text, size=size, color=PALETTE[role]["line"], ha=ha, va=va,
                   weight=weight, zorder=5, linespacing=1.25, **kw)


def box(ax, x, y, text="", role="h", w=0.62, h=0.44, size=FONT, weight="normal",
        lw=1.6, dashed=False, fill=True, round_=0.06, text_role="ink", z=3):
    """A rounded box centred at (x, y), ``w`` x ``h`` inches, coloured by ``role``."""
    c = PALETTE[role]
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                           boxstyle=f"round,pad=0,rounding_size={round_}",
                           fc=c["fill"] if fill else "none", ec=c["line"], lw=lw,
                           ls=(0, (4, 3)) if dashed else "-", zorder=z)
    ax.add_patch(patch)
    if text:
        label(ax, x, y, text, size=size, role=text_role, weight=weight)
    patch.geom = ("rect", x, y, w, h)
    return patch


def node(ax, x, y, text="", role="op", r=0.17, size=FONT, lw=1.6):
    """A circle centred at (x, y): pointwise operators (x, +, tanh) and junctions."""
    c = PALETTE[role]
    patch = Circle((x, y), r, fc=c["fill"], ec=c["line"], lw=lw, zorder=4)
    ax.add_patch(patch)
    if text:
        label(ax, x, y, text, size=size)
    patch.geom = ("circle", x, y, r)
    return patch


def _centre(p):
    return (p.geom[1], p.geom[2]) if hasattr(p, "geom") else (float(p[0]), float(p[1]))


def _edge(p, toward, gap=0.03):
    """Where the straight line from the centre of ``p`` to ``toward`` leaves ``p``."""
    cx, cy = _centre(p)
    dx, dy = toward[0] - cx, toward[1] - cy
    n = math.hypot(dx, dy)
    if not hasattr(p, "geom") or n == 0:
        return (cx, cy)
    if p.geom[0] == "circle":
        t = (p.geom[3] + gap) / n
    else:
        _, _, _, w, h = p.geom
        t = min((w / 2 + gap) / abs(dx) if dx else math.inf,
                (h / 2 + gap) / abs(dy) if dy else math.inf)
    return (cx + t * dx, cy + t * dy)


def arrow(ax, a, b, role="ink", via=(), bend=0.0, text=None, at=0.5, off=(0.0, 0.16),
          text_role=None, size=FONT - 1, lw=1.6, dashed=None, head=True, z=2):
    """An arrow from ``a`` to ``b``: each a point (x, y) or a patch made by box()/node().

    ``via`` lists corner points of a polyline; ``bend`` (inches, + is to the left of
    the direction of travel) curves a two-point arrow. ``role="grad"`` is red and dashed.
    ``text`` is written at fraction ``at`` of the way, shifted by ``off`` inches.
    """
    colour = PALETTE[role]["line"]
    dashed = (role == "grad") if dashed is None else dashed
    pa, pb = _centre(a), _centre(b)
    if via:
        pts = [pa, *via, pb]
    elif bend:
        mx, my = (pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2
        dx, dy = pb[0] - pa[0], pb[1] - pa[1]
        n = math.hypot(dx, dy)
        ctrl = (mx - 2 * bend * dy / n, my + 2 * bend * dx / n)
        pts = [((1 - s) ** 2 * pa[0] + 2 * (1 - s) * s * ctrl[0] + s * s * pb[0],
                (1 - s) ** 2 * pa[1] + 2 * (1 - s) * s * ctrl[1] + s * s * pb[1])
               for s in (i / 24 for i in range(25))]
    else:
        pts = [pa, pb]
    # clip the ends at the outlines of the boxes / circles they start and end in
    if hasattr(a, "geom"):
        k = 1
        while k < len(pts) - 1 and _inside(a, pts[k]):
            k += 1
        pts = [_edge(a, pts[k])] + pts[k:]
    if hasattr(b, "geom"):
        k = len(pts) - 2
        while k > 0 and _inside(b, pts[k]):
            k -= 1
        pts = pts[:k + 1] + [_edge(b, pts[k])]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if head:
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        n = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / n, (y1 - y0) / n
        hl, hw = 0.13, 0.055
        bx, by = x1 - hl * ux, y1 - hl * uy
        ax.add_patch(Polygon([(x1, y1), (bx - hw * uy, by + hw * ux), (bx + hw * uy, by - hw * ux)],
                             closed=True, fc=colour, ec=colour, lw=0.8, zorder=z + 0.5))
        xs[-1], ys[-1] = x1 - 0.8 * hl * ux, y1 - 0.8 * hl * uy
    ax.plot(xs, ys, color=colour, lw=lw, ls=(0, (4, 3)) if dashed else "-",
            solid_capstyle="butt", solid_joinstyle="round", zorder=z)
    if text:
        tx, ty = _along(pts, at)
        label(ax, tx + off[0], ty + off[1], text, size=size,
              role=text_role or ("grad" if role == "grad" else "ink"), bg=True)
    return pts


def _inside(p, q):
    g = p.geom
    if g[0] == "circle":
        return math.hypot(q[0] - g[1], q[1] - g[2]) <= g[3]
    return abs(q[0] - g[1]) <= g[3] / 2 and abs(q[1] - g[2]) <= g[4] / 2


def _along(pts, frac):
    """The point at fraction ``frac`` of the length of a polyline."""
    seg = [math.hypot(q[0] - p[0], q[1] - p[1]) for p, q in zip(pts, pts[1:])]
    goal, run = frac * sum(seg), 0.0
    for (p, q), s in zip(zip(pts, pts[1:]), seg):
        if run + s >= goal and s > 0:
            t = (goal - run) / s
            return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
        run += s
    return pts[-1]


def line(ax, pts, role="ink", lw=1.6, dashed=False, z=2):
    """A plain polyline (no head): buses, wires, brackets."""
    return arrow(ax, pts[0], pts[-1], role=role, via=pts[1:-1], lw=lw, dashed=dashed,
                 head=False, z=z)
