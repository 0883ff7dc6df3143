"""Still frames of the gradient explorer for static pages (the offline book and the slides).

A static page cannot run the kernel behind the sliders, so the book shows the explorer's first
frame (its settings as the notebook created it) and a few frames for contrasting settings, each
with the status line the live explorer prints, and a note on how to run it live. Only the public
surface of :mod:`helpers.widgets` is used: ``widget.explorer``, its slider widgets, ``image`` and
``status``. Used by ``scripts/execute_notebooks.py``; not needed in class.
"""
from __future__ import annotations

import base64
import html

LIVE_NOTE = ("这里在 JupyterLab 中是可以拖动滑块的交互式梯度探索器；静态页面无法运行内核，"
             "下面是它的第一帧（本章创建它时的设置）和几组对照设置的截图。"
             "想亲手拖动滑块：用 <code>make lab</code>（或 Binder）打开本章笔记本，从头运行到这里。")


def contrasts(explorer) -> list[tuple[str, dict]]:
    """Settings that differ from the first frame in one teaching point each: (caption, changes)."""
    v = explorer.values()
    out = [("权重尺度 0.6：梯度随距离指数衰减（消失）", {"scale": 0.6}),
           ("权重尺度 1.6：尺度超过 1（状态行给出实测结果）", {"scale": 1.6})]
    if "rnn" in explorer.models and v["activation"] == "tanh":
        out.append(("权重尺度 1.6、激活函数 identity（线性，没有饱和）", {"scale": 1.6, "activation": "identity"}))
    if any(m != "rnn" for m in explorer.models) and explorer.gate_bias in explorer.controls:
        out.append(("门偏置 3（遗忘门 / 更新门更接近 1）", {"gate_bias": 3.0}))
    out.append(("序列长度 T = 300", {"T": 300}))
    return [(c, ch) for c, ch in out if any(v.get(k) != val for k, val in ch.items())]


def frames(explorer, settings=None) -> list[tuple[str, bytes, str, str]]:
    """[(caption, image bytes, image format, status HTML)]: the current frame, then ``settings``.

    ``settings`` defaults to :func:`contrasts`. The sliders are put back afterwards.
    """
    settings = contrasts(explorer) if settings is None else settings
    out = [("第一帧（本章创建探索器时的设置）", bytes(explorer.image.value), explorer.image.format,
            explorer.status.value)]
    original = {name: getattr(explorer, name).value for _, ch in settings for name in ch}
    try:
        for caption, changes in settings:
            for name, value in changes.items():
                getattr(explorer, name).value = value          # each change redraws (update())
            out.append((caption, bytes(explorer.image.value), explorer.image.format, explorer.status.value))
            for name, value in original.items():
                getattr(explorer, name).value = value
    finally:
        for name, value in original.items():
            getattr(explorer, name).value = value
    return out


def frames_html(explorer, settings=None) -> str:
    """The note and the frames as one HTML block (images inline as data URIs: no request)."""
    parts = [f"<div class='seqcourse-static-explorer'><p><b>交互式探索器（静态截图）</b>：{LIVE_NOTE}</p>"]
    for caption, data, fmt, status in frames(explorer, settings):
        b64 = base64.b64encode(data).decode()
        parts.append(f"<figure style='margin:1em 0'><img alt='{html.escape(caption)}' style='max-width:100%' "
                     f"src='data:image/{fmt};base64,{b64}'><figcaption><b>{html.escape(caption)}</b><br>"
                     f"<small>{status}</small></figcaption></figure>")
    parts.append("</div>")
    return "".join(parts)


def find_explorer(model_id: str):
    """The Explorer behind a displayed widget (by its model id), or None."""
    from ipywidgets.widgets.widget import _instances
    widget = _instances.get(model_id)
    return getattr(widget, "explorer", None)


def display_frames(model_id: str) -> bool:
    """Display the static frames of the explorer shown as ``model_id``; False if it is none."""
    from IPython.display import HTML, display
    explorer = find_explorer(model_id)
    if explorer is None:
        return False
    display(HTML(frames_html(explorer)))
    return True
