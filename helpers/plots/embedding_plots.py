"""Plots for chapter 02 (word vectors): a labelled 2-D scatter whose labels do not overlap."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

# Offsets (in points) tried for each label, nearest first: right, left, above, below, diagonals.
_OFFSETS = [(6, 4), (-6, 4), (6, -12), (-6, -12), (0, 10), (0, -16), (10, 14), (-10, 14),
            (10, -20), (-10, -20), (18, 0), (-18, 0), (0, 22), (0, -28), (22, 18), (-22, 18),
            (22, -26), (-22, -26), (30, 6), (-30, 6)]


def _overlaps(box, boxes, pad: float = 2.0) -> bool:
    return any(box.x0 - pad < b.x1 and b.x0 - pad < box.x1 and box.y0 - pad < b.y1 and b.y0 - pad < box.y1
               for b in boxes)


def place_labels(ax, xy: Sequence[Sequence[float]], labels: Sequence[str], fontsize: int = 14) -> list:
    """Write ``labels`` next to the points ``xy`` (data coordinates) so that no two labels overlap.

    Each label tries the offsets of ``_OFFSETS`` in turn and keeps the first whose text box meets no
    label placed before it and no marker; when none is free it keeps the least crowded one and
    draws a thin line back to its point. Returns the text objects.
    """
    if len(xy) != len(labels):
        raise ValueError(f"xy and labels must have the same length, got {len(xy)} and {len(labels)}")
    fig = ax.figure
    fig.canvas.draw()                                   # the renderer knows the text sizes
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    dot = 5.0                                           # half a marker, in pixels
    placed = []
    for (x, y) in xy:                                   # markers are obstacles too
        px, py = to_px((x, y))
        placed.append(type("Box", (), dict(x0=px - dot, x1=px + dot, y0=py - dot, y1=py + dot))())
    texts = []
    for (x, y), label in zip(xy, labels):
        best, best_hits = None, None
        for dx, dy in _OFFSETS:
            t = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            ha="left" if dx >= 0 else "right")
            box = t.get_window_extent(renderer)
            hits = sum(_overlaps(box, [b]) for b in placed)
            if best is None or hits < best_hits:
                if best is not None:
                    best[0].remove()
                best, best_hits = (t, box, dx, dy), hits
            else:
                t.remove()
            if hits == 0:
                break
        t, box, dx, dy = best
        if best_hits or abs(dx) + abs(dy) > 20:
            t.remove()
            t = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            ha="left" if dx >= 0 else "right",
                            arrowprops=dict(arrowstyle="-", lw=0.6, color="0.5"))
        placed.append(box)
        texts.append(t)
    return texts


def word_map(points: torch.Tensor, groups: Mapping[str, Sequence[str]], title: str = "",
             figsize=(9, 6.5), fontsize: int = 14):
    """Scatter 2-D word coordinates, one marker per group, with non-overlapping word labels.

    ``points`` (n, 2) holds the words of ``groups`` in order (group by group). Returns the figure.
    """
    words = [w for ws in groups.values() for w in ws]
    if tuple(points.shape) != (len(words), 2):
        raise ValueError(f"points must be ({len(words)}, 2), one row per word of groups, got {tuple(points.shape)}")
    fig, ax = plt.subplots(figsize=figsize)
    start = 0
    for (name, ws), marker in zip(groups.items(), "osD^vP*X"):
        p = points[start:start + len(ws)]
        ax.scatter(p[:, 0], p[:, 1], marker=marker, s=60, label=name)
        start += len(ws)
    ax.margins(0.15)                                    # room for labels at the edges
    place_labels(ax, points.tolist(), words, fontsize=fontsize)
    ax.set_xlabel("第一主成分", fontsize=fontsize)
    ax.set_ylabel("第二主成分", fontsize=fontsize)
    ax.set_title(title, fontsize=fontsize + 1)
    ax.tick_params(labelsize=fontsize - 2)
    ax.legend(fontsize=fontsize - 1, loc="best", framealpha=0.9)
    return fig
