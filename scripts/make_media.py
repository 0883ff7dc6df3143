"""Draw every figure of the course into media/ (SVG, text as outlines, reproducible).

    python scripts/make_media.py [--out DIR] [--png DIR] [--only NAME ...]

Running it twice gives byte-identical files; tests/test_media.py checks that the
committed figures are exactly what this script draws. The drawing vocabulary
(palette, box, arrow, node, label) lives in scripts/media_lib.py.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_lib import (  # noqa: E402
    FONT, PALETTE, arrow, box, canvas, label, line, node, save, setup,
)

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {}


def figure(fn):
    """Register a figure function; the figure is saved as media/<function name>.svg."""
    FIGURES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- small pictures
def wave(ax, x, y, w, h, phase=0.0, role="x", lw=1.4):
    """A short, deterministic sound-wave squiggle centred at (x, y)."""
    n = 40
    xs = [x - w / 2 + w * i / (n - 1) for i in range(n)]
    ys = [y + h / 2 * math.sin(2 * math.pi * (2.5 * i / (n - 1)) + phase)
          * math.sin(math.pi * i / (n - 1)) * (0.6 + 0.4 * math.cos(3 * i / n + phase))
          for i in range(n)]
    ax.plot(xs, ys, color=PALETTE[role]["line"], lw=lw, zorder=4)


def picture(ax, x, y, w, h):
    """A tiny landscape 'photo' (input image) centred at (x, y)."""
    box(ax, x, y, role="x", w=w, h=h, round_=0.03)
    ax.add_patch(__import__("matplotlib").patches.Polygon(
        [(x - w / 2 + 0.04, y - h / 2 + 0.04), (x - w / 8, y + h / 5), (x + w / 8, y - h / 10),
         (x + w / 3, y + h / 8), (x + w / 2 - 0.04, y - h / 2 + 0.04)],
        closed=True, fc=PALETTE["x"]["line"], ec="none", alpha=0.55, zorder=4))
    node(ax, x + w / 4, y + h / 4, role="o", r=min(w, h) / 9, lw=1.0)


def two_line_title(ax, x, y, zh, en, size=14):
    label(ax, x, y + 0.13, zh, size=size)
    label(ax, x, y - 0.17, en, size=11, role="muted")


def chain(ax, xs, y, texts, role="h", w=0.62, h=0.44, size=13,
          start=None, end=None, backward=False, arrow_role=None):
    """A row of state boxes joined by arrows (left to right, or right to left)."""
    boxes = [box(ax, x, y, t, role=role, w=w, h=h, size=size) for x, t in zip(xs, texts)]
    order = boxes[::-1] if backward else boxes
    for p, q in zip(order, order[1:]):
        arrow(ax, p, q, role=arrow_role or "ink")
    return boxes


# ---------------------------------------------------------------- chapter 1
@figure
def io_modes():
    fig, ax = canvas(10, 4.3)
    y_in, y_h, y_out = 0.95, 1.95, 2.95
    s, w, h = 0.6, 0.4, 0.38
    groups = [
        ("单对单", "One-to-One", "图像分类", 1, [0], [0]),
        ("单对多", "One-to-Many", "看图说话", 3, [0], [0, 1, 2]),
        ("多对一", "Many-to-One", "情感分析", 3, [0, 1, 2], [2]),
        ("多对多（等长）", "Many-to-Many", "分词、词性标注", 3, [0, 1, 2], [0, 1, 2]),
        ("多对多（不等长）", "Encoder-Decoder", "机器翻译", 5, [0, 1, 2], [3, 4]),
    ]
    alloc = [max(1.35, (g[3] - 1) * s + w) for g in groups]
    gap = (10 - 0.2 - sum(alloc)) / (len(groups) - 1)
    left = 0.1
    for (zh, en, example, n, ins, outs), a in zip(groups, alloc):
        cx = left + a / 2
        xs = [cx + (i - (n - 1) / 2) * s for i in range(n)]
        hs = chain(ax, xs, y_h, ["$h$"] * n, w=w, h=h)
        for k, i in enumerate(ins):
            arrow(ax, box(ax, xs[i], y_in, f"$x_{k + 1}$", role="x", w=w, h=h), hs[i])
        for k, i in enumerate(outs):
            arrow(ax, hs[i], box(ax, xs[i], y_out, f"$y_{k + 1}$", role="o", w=w, h=h))
        two_line_title(ax, cx, 3.75, zh, en, size=13)
        label(ax, cx, 0.3, example, size=12, role="muted")
        if n == 5:
            label(ax, (xs[0] + xs[2]) / 2, y_out, "编码器", size=11, role="h")
            label(ax, (xs[3] + xs[4]) / 2, y_in, "解码器", size=11, role="h")
        left += a + gap
    return fig


@figure
def tasks_seq2vec():
    fig, ax = canvas(10, 4.2)
    y_in, y_h, y_out = 1.15, 2.2, 3.2
    s = 0.72
    panels = [
        ("情感分类", "Sentiment Classification", ["这部", "电影", "真", "好看"], "正面", "评论的词序列 → 情感类别"),
        ("视频分类", "Video Classification", ["帧1", "帧2", "帧3", "帧4"], "跑步", "视频帧序列 → 动作类别"),
        ("语音分类", "Speech Classification", [None] * 4, "开灯", "语音片段序列 → 指令类别"),
    ]
    for p, (zh, en, items, out, foot) in enumerate(panels):
        cx = 1.75 + 3.25 * p
        xs = [cx - 0.2 + (i - 1.5) * s for i in range(4)]
        hs = chain(ax, xs, y_h, [f"$h_{i + 1}$" for i in range(4)], w=0.5)
        for i, (x, item) in enumerate(zip(xs, items)):
            b = box(ax, x, y_in, item or "", role="x", w=0.56, h=0.46)
            if item is None:
                wave(ax, x, y_in, 0.44, 0.3, phase=1.3 * i)
            arrow(ax, b, hs[i])
        o = box(ax, xs[-1], y_out, out, role="o", w=0.8, h=0.46)
        arrow(ax, hs[-1], o, text="$V$", off=(-0.2, 0))
        label(ax, xs[-1] - 0.5, y_out, "类别", size=11, role="muted", ha="right")
        two_line_title(ax, cx, 3.8, zh, en)
        label(ax, cx, 0.45, foot, size=12, role="muted")
    label(ax, 5.0, 0.1, "序列 → 向量（Sequence-to-Vector）：只用最后一个隐藏状态做分类",
          size=12)
    return fig



@figure
def tasks_equal_length():
    fig, ax = canvas(10, 4.5)
    y_in, y_h, y_out = 1.35, 2.35, 3.3

    def tagger(x0, step, tokens, tags, w_in, w_h, w_out):
        """One output per input: a token row, a hidden-state chain, a tag row."""
        xs = [x0 + step * i for i in range(len(tokens))]
        hs = chain(ax, xs, y_h, [f"$h_{i + 1}$" for i in range(len(tokens))], w=w_h)
        for x, tok, t, hb in zip(xs, tokens, tags, hs):
            arrow(ax, box(ax, x, y_in, tok, role="x", w=w_in, h=0.46), hb)
            arrow(ax, hb, box(ax, x, y_out, t, role="o", w=w_out, h=0.42))

    # left: character-level BMES word segmentation
    tagger(0.5, 0.72, list("我爱北京天安门"), ["S", "S", "B", "E", "B", "M", "E"], w_in=0.52, w_h=0.46, w_out=0.52)
    two_line_title(ax, 2.65, 3.95, "中文分词", "Chinese Word Segmentation")
    label(ax, 2.65, 0.75, "结果：我 / 爱 / 北京 / 天安门", size=12)
    label(ax, 2.65, 0.3, "B 词首  M 词中  E 词尾  S 单字成词", size=12, role="muted")
    # right: part-of-speech tagging of the segmented words
    tagger(6.2, 0.95, ["我", "爱", "北京", "天安门"], ["r", "v", "ns", "ns"], w_in=0.74, w_h=0.62, w_out=0.62)
    two_line_title(ax, 7.62, 3.95, "词性标注", "Part-of-Speech Tagging")
    label(ax, 7.62, 0.75, "r 代词   v 动词   ns 地名", size=12)
    label(ax, 7.62, 0.3, "（《人民日报》语料的标注集）", size=12, role="muted")
    line(ax, [(5.45, 0.2), (5.45, 4.3)], role="area", lw=1.0)
    return fig


@figure
def tasks_unequal_length():
    fig, ax = canvas(10, 6.9)
    rows = [
        ("语音生成", "Speech Generation", "text", ["你", "好"], None, 5),
        ("图像标注", "Image Captioning", "image", None, ["一只", "猫", "在", "晒太阳"], 4),
        ("文本生成", "Text Generation", "text", ["春天", "来了"], ["花儿", "都", "开", "了"], 4),
    ]
    s, w = 0.8, 0.62
    for r, (zh, en, kind, ins, outs, n_out) in enumerate(rows):
        yc = 5.55 - 2.2 * r
        y_in, y_h, y_out = yc - 0.72, yc, yc + 0.72
        two_line_title(ax, 0.85, yc, zh, en, size=13)
        if kind == "image":
            picture(ax, 2.4, y_in, 0.9, 0.52)
            enc = [box(ax, 2.4, y_h, "CNN", role="h", w=0.9, h=0.44)]
            arrow(ax, (2.4, y_in + 0.28), enc[0])
            x_enc = [2.4]
        else:
            x_enc = [2.1 + s * i for i in range(len(ins))]
            enc = chain(ax, x_enc, y_h, [f"$h_{i + 1}$" for i in range(len(ins))], w=w)
            for x, t, hb in zip(x_enc, ins, enc):
                arrow(ax, box(ax, x, y_in, t, role="x", w=w, h=0.44), hb)
        c = node(ax, x_enc[-1] + 0.95, y_h, "$c$", role="h", r=0.21)
        arrow(ax, enc[-1], c)
        x_dec = [x_enc[-1] + 1.9 + s * i for i in range(n_out)]
        dec = chain(ax, x_dec, y_h, [f"$s_{i + 1}$" for i in range(n_out)], w=w)
        arrow(ax, c, dec[0])
        for i, (x, hb) in enumerate(zip(x_dec, dec)):
            o = box(ax, x, y_out, outs[i] if outs else "", role="o", w=w + 0.08, h=0.44)
            if not outs:
                wave(ax, x, y_out, 0.5, 0.3, phase=0.9 * i, role="o")
            arrow(ax, hb, o)
        label(ax, (x_enc[0] + x_enc[-1]) / 2, y_out, "编码器", size=12, role="h")
        label(ax, (x_dec[0] + x_dec[-1]) / 2, y_in, "解码器", size=12, role="h")
        label(ax, c.geom[1], y_h - 0.42, "上下文向量", size=11, role="muted")
        n_in = 1 if kind == "image" else len(ins)
        unit = "张图" if kind == "image" else "个字" if r == 0 else "个词"
        out_unit = "帧波形" if r == 0 else "个词"
        label(ax, 9.95, y_in, f"输入 {n_in} {unit} → 输出 {n_out} {out_unit}", size=11,
              role="muted", ha="right")
        if r:
            line(ax, [(0.1, yc + 1.1), (9.9, yc + 1.1)], role="area", lw=1.0)
    return fig


@figure
def application_map():
    fig, ax = canvas(10, 6.0)
    centre = box(ax, 5.0, 3.0, "序列预测\nSequence Prediction", role="o", w=2.1, h=0.85,
                 size=14)
    cats = [
        ("自然语言处理\nNLP", 3.55, 4.65, 1.05,
         [("机器翻译", "Transformer"), ("文本摘要", "BART"), ("语音识别", "DeepSpeech")]),
        ("时间序列预测\nTime Series", 3.55, 1.35, 1.05,
         [("股票价格", ""), ("交通流量", ""), ("传感器异常检测", "")]),
        ("医疗诊断\nMedical", 6.45, 4.65, 8.95,
         [("心电图（ECG）分析", ""), ("疾病进展预测", "")]),
        ("对话系统\nDialogue", 6.45, 1.35, 8.95,
         [("智能客服", "如 ChatGPT"), ("语音助手", "如 Siri、小艺")]),
    ]
    for title, x, y, lx, leaves in cats:
        cb = box(ax, x, y, title, role="plain", w=1.75, h=0.8, size=13, lw=2.0)
        arrow(ax, centre, cb)
        n = len(leaves)
        for i, (zh, en) in enumerate(leaves):
            ly = y + (((n - 1) / 2) - i) * 0.82
            text = f"{zh}\n{en}" if en else zh
            lb = box(ax, lx, ly, text, role="plain", w=1.9, h=0.66 if en else 0.5,
                     size=12, lw=1.2)
            edge = cb.geom[1] + (-1 if lx < x else 1) * cb.geom[3] / 2
            elbow = edge + (-0.3 if lx < x else 0.3)
            line(ax, [(edge, y), (elbow, y), (elbow, ly), lb], lw=1.2)
    return fig

# ---------------------------------------------------------------- chapter 3: RNN
def arc_points(cx, cy, r, deg0, deg1, n=24):
    """Points on a circular arc, angles in degrees (counter-clockwise positive)."""
    return [(cx + r * math.cos(math.radians(deg0 + (deg1 - deg0) * i / n)),
             cy + r * math.sin(math.radians(deg0 + (deg1 - deg0) * i / n))) for i in range(n + 1)]


@figure
def rnn_folded_unrolled():
    fig, ax = canvas(10, 4.7)
    y_x, y_h, y_o = 1.5, 2.65, 3.8
    # folded: one cell with a self-loop W
    fx = 1.1
    xb = box(ax, fx, y_x, "$x$", role="x", w=0.7)
    hb = box(ax, fx, y_h, "$h$", role="h", w=0.7)
    ob = box(ax, fx, y_o, "$o$", role="o", w=0.7)
    arrow(ax, xb, hb, text="$U$", off=(-0.2, 0))
    arrow(ax, hb, ob, text="$V$", off=(-0.2, 0))
    loop = arc_points(fx + 0.62, y_h, 0.3, 140, -140)
    arrow(ax, loop[0], loop[-1], via=loop[1:-1])
    label(ax, fx + 1.08, y_h, "$W$", size=13)
    label(ax, fx, 4.4, "折叠 folded", size=13)
    # the unfold arrow
    arrow(ax, (2.45, y_h), (3.3, y_h), lw=2.6, text="按时间展开\nunfold", off=(0, 0.42), size=12)
    # unrolled through time
    cols = [(4.6, "t-1"), (6.3, "t"), (8.0, "t+1")]
    hs = []
    for x, t in cols:
        h = box(ax, x, y_h, f"$h_{{{t}}}$", role="h", w=0.8)
        arrow(ax, box(ax, x, y_x, f"$x_{{{t}}}$", role="x", w=0.8), h,
              text="$U$", off=(-0.2, 0))
        arrow(ax, h, box(ax, x, y_o, f"$o_{{{t}}}$", role="o", w=0.8), text="$V$", off=(-0.2, 0))
        hs.append(h)
    label(ax, 3.55, y_h, "⋯", size=14, role="muted")
    arrow(ax, (3.75, y_h), hs[0], text="$W$", off=(0, 0.18))
    for p, q in zip(hs, hs[1:]):
        arrow(ax, p, q, text="$W$", off=(0, 0.18))
    arrow(ax, hs[-1], (9.45, y_h), text="$W$", off=(0, 0.18))
    label(ax, 9.65, y_h, "⋯", size=14, role="muted")
    label(ax, 6.3, 4.4, "展开 unrolled：同一组参数在每个时间步重复使用", size=13)
    label(ax, 5.0, 0.75, r"$h_t = \tanh(U x_t + W h_{t-1} + b)\qquad o_t = V h_t + c$", size=15)
    label(ax, 5.0, 0.28, "U、W、V 和偏置 b、c 在所有时间步共享（b 没有下标 t；PyTorch 把 b 存成 b_ih + b_hh 两份）", size=12,
          role="muted")
    return fig


@figure
def rnn_unit():
    fig, ax = canvas(9.4, 4.4)
    y = 2.0
    box(ax, 4.35, y + 0.05, role="area", w=4.5, h=1.75, dashed=True, z=1)
    label(ax, 2.2, y + 0.75, "RNN 单元（一个时间步）", size=12, role="muted", ha="left")
    hp = box(ax, 0.8, y, "$h_{t-1}$", role="h", w=0.8)
    label(ax, 0.8, y - 0.45, "上一步的\n隐藏状态", size=11, role="muted")
    xb = box(ax, 3.3, 0.45, "$x_t$", role="x", w=0.8)
    label(ax, 3.85, 0.45, "当前输入", size=11, role="muted", ha="left")
    sb = box(ax, 3.3, y, r"$U x_t + W h_{t-1} + b$", role="plain", w=2.0, h=0.55)
    label(ax, 3.3, y + 0.45, "加权求和", size=12)
    arrow(ax, hp, sb, text="$W$", off=(0, 0.18))
    arrow(ax, xb, sb, text="$U$", at=0.8, off=(-0.2, 0))
    tb = box(ax, 5.55, y, "tanh", role="op", w=0.8, h=0.5)
    label(ax, 5.55, y + 0.45, "激活", size=12)
    arrow(ax, sb, tb, text="$a_t$", off=(0, 0.18))
    hb = box(ax, 7.3, y, "$h_t$", role="h", w=0.8)
    arrow(ax, tb, hb)
    ob = box(ax, 7.3, 3.65, r"$o_t = V h_t + c$", role="o", w=1.7, h=0.5)
    arrow(ax, hb, ob, text="$V$", off=(-0.2, 0))
    arrow(ax, hb, (9.25, y))
    label(ax, 8.55, y - 0.35, "下一时间步", size=11, role="muted")
    label(ax, 0.3, 3.9, r"$h_t = \tanh(U x_t + W h_{t-1} + b)$", size=15, ha="left")
    return fig


@figure
def rnn_deep():
    fig, ax = canvas(9.9, 6.2)
    cols = [1.75, 3.25, 4.75, 6.25]
    y_x, y_out = 0.95, 5.35
    layers = [2.05, 3.15, 4.25]
    for y, t in zip([y_x, *layers, y_out], ["输入", "第 1 层", "第 2 层", "第 3 层", "输出"]):
        label(ax, 0.55, y, t, size=12, role="muted")
    below = [box(ax, x, y_x, f"$x_{i + 1}$", role="x", w=0.7, h=0.46) for i, x in enumerate(cols)]
    for l, y in enumerate(layers, start=1):
        row = []
        for i, x in enumerate(cols):
            hi = (l, i) == (2, 1)
            row.append(box(ax, x, y, f"$h^{{({l})}}_{i + 1}$", role="h", w=0.75, h=0.5,
                           lw=3.2 if hi else 1.6))
        for i, (p, q) in enumerate(zip(row, row[1:])):
            hi = (l, i) == (2, 1)
            arrow(ax, p, q, role="h" if hi else "ink", lw=3.0 if hi else 1.6,
                  text="①" if hi else (f"$W^{{({l})}}$" if i == 0 else None), off=(0, 0.2))
        arrow(ax, row[-1], (6.95, y))
        label(ax, 7.15, y, "⋯", size=14, role="muted")
        for i, (p, q) in enumerate(zip(below, row)):
            hi = (l, i) == (3, 1)
            arrow(ax, p, q, role="h" if hi else "ink", lw=3.0 if hi else 1.6,
                  text="②" if hi else (f"$U^{{({l})}}$" if i == 0 else None), off=(-0.3, 0))
        below = row
    for i, (x, p) in enumerate(zip(cols, below)):
        arrow(ax, p, box(ax, x, y_out, f"$y_{i + 1}$", role="o", w=0.7, h=0.46),
              text="$V$" if i == 0 else None, off=(-0.25, 0))
    label(ax, 7.0, 5.55, "每个隐藏状态传到：", size=12, ha="left")
    label(ax, 7.0, 5.15, "① 当前层的下一个时间步", size=12, ha="left", role="h")
    label(ax, 7.0, 4.78, "② 当前时间步的下一层", size=12, ha="left", role="h")
    label(ax, 4.95, 0.25, r"$h^{(l)}_t = \tanh(U^{(l)} h^{(l-1)}_t + W^{(l)} h^{(l)}_{t-1}"
          r" + b^{(l)}),\quad h^{(0)}_t = x_t,\quad y_t = V h^{(3)}_t + c$", size=13)
    return fig


@figure
def rnn_bidirectional():
    fig, ax = canvas(9.6, 5.5)
    cols = [2.3, 4.1, 5.9, 7.7]
    y_x, y_f, y_b, y_o = 1.5, 2.6, 3.65, 4.8
    fw = [box(ax, x - 0.35, y_f, rf"$\overrightarrow{{h}}_{i + 1}$", role="h", w=0.62, h=0.5)
          for i, x in enumerate(cols)]
    bw = [box(ax, x + 0.35, y_b, rf"$\overleftarrow{{h}}_{i + 1}$", role="h", w=0.62, h=0.5)
          for i, x in enumerate(cols)]
    for i, x in enumerate(cols):
        box(ax, x, y_x, f"$x_{i + 1}$", role="x", w=0.8, h=0.46)
        ob = box(ax, x, y_o, rf"$[\overrightarrow{{h}}_{i + 1};\overleftarrow{{h}}_{i + 1}]$",
                 role="o", w=1.3, h=0.52)
        arrow(ax, (x - 0.2, y_x + 0.26), (x - 0.2, y_f - 0.28))
        arrow(ax, (x + 0.2, y_x + 0.26), (x + 0.2, y_b - 0.28))
        arrow(ax, (x - 0.2, y_f + 0.28), (x - 0.2, y_o - 0.29))
        arrow(ax, (x + 0.2, y_b + 0.28), (x + 0.2, y_o - 0.29))
    for p, q in zip(fw, fw[1:]):
        arrow(ax, p, q)
    for p, q in zip(bw[::-1], bw[-2::-1]):
        arrow(ax, p, q)
    label(ax, 1.4, y_f, "0", size=12, role="muted")
    arrow(ax, (1.5, y_f), fw[0])
    label(ax, 8.85, y_b, "0", size=12, role="muted")
    arrow(ax, (8.75, y_b), bw[-1])
    for y, t in [(y_x, "输入"), (y_f, "正向\nForward"), (y_b, "反向\nBackward"),
                 (y_o, "输出（拼接）")]:
        label(ax, 0.6, y, t, size=12, role="muted")
    label(ax, 4.8, 0.78, r"$\overrightarrow{h}_t = \tanh(U_f x_t + W_f \overrightarrow{h}_{t-1} + b_f)"
          r"\qquad \overleftarrow{h}_t = \tanh(U_b x_t + W_b \overleftarrow{h}_{t+1} + b_b)$", size=13)
    label(ax, 4.8, 0.3, "两个方向各有一套参数；nn.RNN(bidirectional=True) 的输出最后一维是 2 × hidden_size",
          size=12, role="muted")
    return fig


# ---------------------------------------------------------------- chapter 4: BPTT
@figure
def bptt_flow():
    fig, ax = canvas(10, 6.4)
    y_x, y_h, y_o, y_l = 2.45, 3.65, 4.75, 5.75
    cols = [(1.7, "k-1"), (3.5, "k"), (5.3, "k+1"), (7.8, "t")]
    hs = []
    for x, k in cols:
        h = box(ax, x, y_h, f"$h_{{{k}}}$", role="h", w=0.85, h=0.5)
        arrow(ax, box(ax, x, y_x, f"$x_{{{k}}}$", role="x", w=0.85, h=0.46), h,
              text="$U$", off=(-0.22, 0))
        label(ax, x + 0.45, y_h - 0.5, rf"$\delta_{{t,{k}}}$", size=13, role="grad")
        hs.append(h)
    label(ax, 0.45, y_h, "⋯", size=14, role="muted")
    arrow(ax, (0.65, y_h), hs[0], text="$W$", off=(0, -0.2))
    for p, q in zip(hs[:2], hs[1:3]):
        arrow(ax, p, q, text="$W$", off=(0, -0.2))
    arrow(ax, hs[2], (6.35, y_h), text="$W$", off=(0, -0.2))
    label(ax, 6.55, y_h, "⋯", size=14, role="muted")
    arrow(ax, (6.75, y_h), hs[3], text="$W$", off=(0, -0.2))
    ob = box(ax, 7.8, y_o, "$o_t$", role="o", w=0.85, h=0.46)
    lb = box(ax, 7.8, y_l, "$L_t$", role="o", w=0.85, h=0.46)
    arrow(ax, (7.62, y_h + 0.28), (7.62, y_o - 0.26), text="$V$", off=(-0.2, 0))
    arrow(ax, (7.62, y_o + 0.26), (7.62, y_l - 0.26))
    # gradients flow back: L_t -> o_t -> h_t -> ... -> h_k -> h_{k-1}
    arrow(ax, (7.98, y_l - 0.26), (7.98, y_o + 0.26), role="grad",
          text=r"$\partial L_t/\partial o_t$", off=(0.62, 0))
    arrow(ax, (7.98, y_o - 0.26), (7.98, y_h + 0.28), role="grad", text=r"$V^\top$",
          off=(0.3, 0))
    top = y_h + 0.28
    arrow(ax, (7.6, top), (6.75, top + 0.12), bend=-0.15, role="grad")
    arrow(ax, (6.35, top + 0.12), (5.5, top), bend=-0.15, role="grad")
    arrow(ax, (5.1, top), (3.7, top), bend=-0.3, role="grad",
          text=r"$\mathrm{diag}(1-h_k^2)\,W^\top$", off=(0, 0.22))
    arrow(ax, (3.3, top), (1.9, top), bend=-0.3, role="grad",
          text=r"$\mathrm{diag}(1-h_{k-1}^2)\,W^\top$", off=(0, 0.22))
    # legend
    arrow(ax, (0.3, 6.05), (0.95, 6.05))
    label(ax, 1.1, 6.05, "前向计算 forward", size=12, ha="left")
    arrow(ax, (0.95, 5.65), (0.3, 5.65), role="grad")
    label(ax, 1.1, 5.65, "梯度反传 gradient", size=12, ha="left", role="grad")
    # the equations the code computes
    eqs = [
        (0.3, 1.5, r"$a_k = U x_k + W h_{k-1} + b,\quad h_k = \tanh(a_k)$"),
        (0.3, 1.0, r"$\delta_{t,k} = \partial L_t/\partial a_k$（对第 k 步隐藏单元输入的梯度）"),
        (0.3, 0.5, r"$\delta_{t,t} = \mathrm{diag}(1-h_t^2)\,V^\top\,\partial L_t/\partial o_t$"),
        (5.2, 1.5, r"$\delta_{t,k} = \mathrm{diag}(1-h_k^2)\,W^\top\,\delta_{t,k+1}$"),
        (5.2, 1.0, r"$\partial h_k/\partial h_{k-1} = \mathrm{diag}(1-h_k^2)\,W$（雅可比矩阵）"),
        (5.2, 0.5, r"$\partial L_t/\partial W = \sum_{k\leq t}\delta_{t,k}\,h_{k-1}^\top,\ "
                   r"\partial L_t/\partial U = \sum_{k\leq t}\delta_{t,k}\,x_k^\top$"),
    ]
    for x, y, t in eqs:
        label(ax, x, y, t, size=13, ha="left")
    line(ax, [(0.2, 1.9), (9.8, 1.9)], role="area", lw=1.0)
    return fig


# ---------------------------------------------------------------- chapters 5-6: LSTM, GRU
def dot(ax, x, y, role="ink"):
    """A junction: a wire that splits (not a crossing)."""
    d = node(ax, x, y, role=role, r=0.05, lw=1.0)
    d.set_facecolor(PALETTE[role]["line"])
    return d


def equations(ax, rows, size=12):
    """Equation lines [(x, y, text)], left-aligned."""
    for x, y, t in rows:
        label(ax, x, y, t, size=size, ha="left")


@figure
def lstm_cell():
    fig, ax = canvas(10, 6.9)
    y_bus, y_g, y_m, y_c = 3.05, 3.95, 4.85, 5.8
    box(ax, 4.55, 4.55, role="area", w=6.9, h=3.75, z=0)
    label(ax, 4.55, 6.7, "LSTM 记忆单元（memory cell），一个时间步", size=13)
    # inputs and the bus that carries [h_{t-1}, x_t] to the four gates
    hp = box(ax, 0.55, y_bus, "$h_{t-1}$", role="h", w=0.75)
    xb = box(ax, 1.75, 2.35, "$x_t$", role="x", w=0.6, h=0.4)
    line(ax, [hp, (1.75, y_bus)], role="h")
    line(ax, [(1.75, y_bus), (6.25, y_bus)])
    arrow(ax, xb, (1.75, y_bus - 0.06), role="x")
    dot(ax, 1.75, y_bus)
    label(ax, 2.3, y_bus + 0.2, r"$h_{t-1},x_t$", size=11, role="muted")
    gates = [("f", 2.9, r"$\sigma$", "gate", "遗忘门\nForget Gate"),
             ("i", 3.95, r"$\sigma$", "gate", "输入门\nInput Gate"),
             ("g", 5.0, "tanh", "C", "候选记忆\nCandidate"),
             ("o", 6.25, r"$\sigma$", "gate", "输出门\nOutput Gate")]
    gb = {}
    for name, x, t, role, zh in gates:
        gb[name] = box(ax, x, y_g, t, role=role, w=0.66, h=0.44)
        arrow(ax, (x, y_bus), gb[name], role="ink")
        if x < 6:
            dot(ax, x, y_bus)
        label(ax, x, 2.3, zh, size=11, role=role)
    # the cell state: the additive conveyor belt along the top
    cp = box(ax, 0.55, y_c, "$C_{t-1}$", role="C", w=0.75)
    fx = node(ax, 2.9, y_c, r"$\times$", r=0.2)
    plus = node(ax, 5.0, y_c, "$+$", r=0.2)
    cn = box(ax, 9.3, y_c, "$C_t$", role="C", w=0.75)
    arrow(ax, cp, fx, role="C", lw=3.2)
    arrow(ax, fx, plus, role="C", lw=3.2)
    arrow(ax, plus, cn, role="C", lw=3.2)
    label(ax, 3.95, y_c + 0.3, "细胞状态 Cell State：只有 × 和 +（传送带）", size=11, role="C")
    arrow(ax, gb["f"], fx, text="$f_t$", off=(0.2, -0.05))
    ig = node(ax, 5.0, y_m, r"$\times$", r=0.2)
    arrow(ax, gb["i"], ig, via=[(3.95, y_m)], text="$i_t$", at=0.3, off=(-0.2, 0))
    arrow(ax, gb["g"], ig, text="$g_t$", off=(0.2, 0))
    arrow(ax, ig, plus, text=r"$i_t\odot g_t$", off=(0.45, -0.05))
    # h_t = o_t * tanh(C_t)
    dot(ax, 7.3, y_c, role="C")
    th = node(ax, 7.3, y_m, "tanh", r=0.27, size=11)
    arrow(ax, (7.3, y_c), th, role="C")
    ox = node(ax, 7.3, y_g, r"$\times$", r=0.2)
    arrow(ax, th, ox)
    arrow(ax, gb["o"], ox, text="$o_t$", off=(0, 0.18))
    hn = box(ax, 9.3, y_g, "$h_t$", role="h", w=0.75)
    arrow(ax, ox, hn, role="h")
    label(ax, 9.3, y_g - 0.55, "隐藏状态\n→ 输出与下一步", size=11, role="h")
    equations(ax, [
        (0.3, 1.6, r"$i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})$"),
        (0.3, 1.2, r"$f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})$"),
        (0.3, 0.8, r"$g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})$"),
        (5.3, 1.6, r"$o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})$"),
        (5.3, 1.2, r"$C_t = f_t \odot C_{t-1} + i_t \odot g_t$"),
        (5.3, 0.8, r"$h_t = o_t \odot \tanh(C_t)$"),
    ])
    label(ax, 0.3, 0.3, r"$g_t$ 即讲义里的 $\tilde{C}_t$。PyTorch 按 i, f, g, o 的顺序堆叠四组权重，"
          "每个门都有 x 的权重、h 的权重和两个偏置 b_ih、b_hh", size=11, role="muted", ha="left")
    return fig


@figure
def gru_cell():
    fig, ax = canvas(10, 7.5)
    y_bus, y_g, y_d, y_t, y_b, y_top = 2.95, 3.7, 4.45, 5.15, 5.9, 6.65
    box(ax, 4.6, 4.8, role="area", w=7.2, h=4.3, z=0)
    label(ax, 4.6, 7.2, "GRU 单元，一个时间步（没有细胞状态，只有 h）", size=13)
    hp = box(ax, 0.6, y_top, "$h_{t-1}$", role="h", w=0.8)
    xb = box(ax, 0.6, y_bus, "$x_t$", role="x", w=0.8)
    # h_{t-1} runs along the top; a copy goes down to the bus that feeds the gates
    zx = node(ax, 3.2, y_top, r"$\times$", r=0.2)
    plus = node(ax, 6.3, y_top, "$+$", r=0.2)
    hn = box(ax, 9.3, y_top, "$h_t$", role="h", w=0.8)
    arrow(ax, hp, zx, role="h", lw=3.2)
    arrow(ax, zx, plus, role="h", lw=3.2, text=r"$z_t\odot h_{t-1}$", off=(0, -0.22))
    arrow(ax, plus, hn, role="h", lw=3.2)
    dot(ax, 1.55, y_top, role="h")
    line(ax, [(1.55, y_top), (1.55, y_bus)], role="h")
    line(ax, [xb, (1.55, y_bus)], role="x")
    line(ax, [(1.55, y_bus), (7.4, y_bus)])
    dot(ax, 1.55, y_bus)
    label(ax, 2.15, y_bus + 0.2, r"$h_{t-1},x_t$", size=11, role="muted")
    # update gate z: keeps z of the old state, takes 1-z of the candidate
    zg = box(ax, 3.2, y_g, r"$\sigma$", role="gate", w=0.66, h=0.44)
    arrow(ax, (3.2, y_bus), zg)
    dot(ax, 3.2, y_bus)
    arrow(ax, zg, zx, text="$z_t$", at=0.2, off=(-0.2, 0))
    dot(ax, 3.2, y_b)
    one = node(ax, 4.1, y_b, "1−", r=0.2, size=12)
    arrow(ax, (3.2, y_b), one)
    bx = node(ax, 6.3, y_b, r"$\times$", r=0.2)
    arrow(ax, one, bx, text=r"$1-z_t$", off=(0, 0.2))
    arrow(ax, bx, plus)
    # candidate: tanh(W_in x + b_in + r * (W_hn h + b_hn)) -- the reset gate scales the recurrent term
    box(ax, 5.3, 4.45, role="h", w=2.85, h=2.05, dashed=True, fill=False, lw=1.2, z=1)
    lh = box(ax, 4.95, y_g, r"$W_{hn}h_{t-1}+b_{hn}$", role="plain", w=1.5, h=0.44, size=12)
    arrow(ax, (4.95, y_bus), lh)
    dot(ax, 4.95, y_bus)
    rx = node(ax, 6.3, y_g, r"$\times$", r=0.2)
    arrow(ax, lh, rx)
    rg = box(ax, 7.4, y_g, r"$\sigma$", role="gate", w=0.66, h=0.44)
    arrow(ax, (7.4, y_bus), rg)
    arrow(ax, rg, rx, text="$r_t$", off=(0, 0.2))
    wx = box(ax, 4.95, y_d, r"$W_{in}x_t+b_{in}$", role="plain", w=1.3, h=0.42, size=12)
    arrow(ax, (4.1, y_bus), wx, via=[(4.1, y_d)])
    dot(ax, 4.1, y_bus)
    add = node(ax, 6.3, y_d, "$+$", r=0.2)
    arrow(ax, wx, add)
    arrow(ax, rx, add)
    th = box(ax, 6.3, y_t, "tanh", role="h", w=0.7, h=0.38, size=12)
    arrow(ax, add, th)
    arrow(ax, th, bx, text=r"$\tilde{h}_t$", at=0.85, off=(0.25, 0.02))
    for x, zh, role in [(3.2, "更新门\nUpdate Gate", "gate"),
                        (5.3, "候选状态\nCandidate", "h"), (7.4, "重置门\nReset Gate", "gate")]:
        label(ax, x, 2.25, zh, size=11, role=role)
    equations(ax, [
        (0.3, 1.6, r"$r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})$"),
        (0.3, 1.2, r"$z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})$"),
        (5.0, 1.6, r"$\tilde{h}_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$"),
        (5.0, 1.2, r"$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t$"),
    ])
    label(ax, 0.3, 0.72, r"$z_t\approx 1$：保留旧状态 $h_{t-1}$；$z_t\approx 0$：换成候选 $\tilde{h}_t$。"
          r"PyTorch 把 $\tilde{h}_t$ 记作 $n_t$，门的顺序是 r, z, n。", size=11, ha="left")
    label(ax, 0.3, 0.3, r"另一种常见写法（如 Chung 等 2014、Olah 的博客）把 $z_t$ 与 $1-z_t$ 对调，"
          "含义正好相反；本图与 PyTorch 一致。",
          size=11, role="muted", ha="left")
    return fig


@figure
def seq2seq_encoder_decoder():
    fig, ax = canvas(10, 4.7)
    y_in, y_h, y_out = 1.3, 2.4, 3.5
    xe = [0.65 + 0.78 * i for i in range(4)]
    enc = chain(ax, xe, y_h, [f"$h_{i + 1}$" for i in range(4)], w=0.52)
    for x, t, hb in zip(xe, "2048", enc):
        arrow(ax, box(ax, x, y_in, t, role="x", w=0.52, h=0.46), hb)
    c = node(ax, 3.85, y_h, "$c$", role="h", r=0.22)
    arrow(ax, enc[-1], c)
    label(ax, 3.85, y_h - 0.45, "上下文向量", size=11, role="muted")
    outs = list("二千零四十八") + ["<eos>"]
    ins = ["<bos>"] + outs[:-1]
    xd = [4.7 + 0.82 * j for j in range(7)]
    dec = chain(ax, xd, y_h, [f"$s_{j + 1}$" for j in range(7)], w=0.56)
    arrow(ax, c, dec[0])
    for x, i, o, hb in zip(xd, ins, outs, dec):
        arrow(ax, box(ax, x, y_in, i, role="x", w=0.6, h=0.46, size=11 if "<" in i else 13), hb)
        arrow(ax, hb, box(ax, x, y_out, o, role="o", w=0.6, h=0.46, size=11 if "<" in o else 13))
    two_line_title(ax, (xe[0] + xe[-1]) / 2, 4.2, "编码器", "Encoder：读入 4 个数字")
    two_line_title(ax, (xd[0] + xd[-1]) / 2, 4.2, "解码器", "Decoder：逐字写出 7 个词元")
    label(ax, 5.0, 0.62, "解码器第 s 步的输入 = 第 s−1 步的输出（训练时可换成正确答案：teacher forcing）",
          size=12)
    label(ax, 5.0, 0.22, "输入 4 个词元、输出 7 个词元：长度不同，靠上下文向量 c 连接", size=12,
          role="muted")
    return fig


@figure
def lstm_vs_gru():
    fig, ax = canvas(10, 5.6)
    panels = [
        ("LSTM", 2.55, [("C", 4.3), ("h", 3.2)], [("f", "gate"), ("i", "gate"), ("g", "C"), ("o", "gate")],
         ["3 个门：遗忘门 f、输入门 i、输出门 o", "两个状态：细胞状态 C 与隐藏状态 h",
          "每层参数：4 × (HI + HH + 2H)", "I = H = 128 时：132,096 个"]),
        ("GRU", 7.45, [("h", 4.3)], [("r", "gate"), ("z", "gate"), (r"\tilde{h}", "h")],
         ["2 个门：重置门 r、更新门 z", "一个状态：只有隐藏状态 h",
          "每层参数：3 × (HI + HH + 2H)", "I = H = 128 时：99,072 个"]),
    ]
    for name, cx, states, gates, facts in panels:
        label(ax, cx, 5.25, name, size=15)
        box(ax, cx, 3.75, role="area", w=2.6, h=1.7, z=0)
        for st, y in states:
            arrow(ax, (cx - 1.75, y), (cx + 1.75, y), role=st, lw=3.2 if y > 4 else 2.2)
            label(ax, cx - 2.05, y, f"${st}_{{t-1}}$", size=13, role=st)
            label(ax, cx + 2.05, y, f"${st}_t$", size=13, role=st)
        arrow(ax, (cx - 0.9, 2.4), (cx - 0.9, 2.9), role="x")
        label(ax, cx - 0.9, 2.2, "$x_t$", size=13, role="x")
        n = len(gates)
        for k, (g, role) in enumerate(gates):
            box(ax, cx + (k - (n - 1) / 2) * 0.58, 3.75, f"${g}$", role=role, w=0.46, h=0.4)
        for k, t in enumerate(facts):
            label(ax, cx, 1.75 - 0.36 * k, t, size=12)
    label(ax, 5.0, 0.25, "H：隐藏单元数，I：输入维度。速度和精度要实测：Chung 等（2014）发现两者在多数任务上相当",
          size=11, role="muted")
    return fig


# ---------------------------------------------------------------- chapter 7
@figure
def seq2seq_attention():
    fig, ax = canvas(10, 4.9)
    y_in, y_h, y_out = 0.95, 2.0, 4.15
    xe = [0.7 + 0.8 * i for i in range(4)]
    enc = chain(ax, xe, y_h, [f"$h_{i + 1}$" for i in range(4)], w=0.52)
    for x, t, hb in zip(xe, "8402", enc):
        arrow(ax, box(ax, x, y_in, t, role="x", w=0.52, h=0.46), hb)
    label(ax, (xe[0] + xe[-1]) / 2, 0.42, "编码器（读反转的 2048）", size=12, role="muted")
    xd = [5.6 + 0.9 * j for j in range(4)]
    dec = chain(ax, xd, y_h, [f"$s_{j + 1}$" for j in range(4)], w=0.56)
    arrow(ax, enc[-1], dec[0], text="$c$", off=(0.0, 0.2))
    for x, i, hb in zip(xd, ["<bos>", "二", "千", "零"], dec):
        arrow(ax, box(ax, x, y_in, i, role="x", w=0.6, h=0.46, size=11 if "<" in i else 13), hb)
    label(ax, (xd[0] + xd[-1]) / 2, 0.42, "解码器（输入：上一个字）", size=12, role="muted")
    # step 2 (writing 千) looks back at every encoder state; the thickest line goes to the 千 digit
    j = 1
    ctx = node(ax, xd[j], 3.15, r"$\Sigma$", role="op", r=0.2)
    weights = [0.04, 0.03, 0.05, 0.88]          # reversed input: the 千 digit "2" is read last
    for hb, wgt in zip(enc, weights):
        arrow(ax, hb, ctx, role="gate", lw=0.8 + 4.0 * wgt, bend=0.25)
    label(ax, 3.55, 3.55, r"$a_{2i}=\mathrm{softmax}_i(s_2\cdot h_i/\sqrt{H})$", size=13, role="gate")
    arrow(ax, dec[j], ctx)
    out = box(ax, xd[j], y_out, "千", role="o", w=0.6, h=0.46)
    arrow(ax, ctx, out, text=r"$\mathrm{ctx}_2=\sum_i a_{2i}h_i$", off=(1.25, 0.0))
    label(ax, 5.0, 4.65, "注意力：写每个字时回看所有编码器状态，按权重 a 取加权平均（线越粗，权重越大）",
          size=12)
    return fig


@figure
def transformer_block():
    fig, ax = canvas(10, 5.6)
    cx = 3.4
    area = box(ax, cx, 2.85, role="area", w=3.3, h=3.9, z=0)
    x_in = box(ax, cx, 0.35, "输入 $x$（字向量 + 位置编码）", role="x", w=3.2, h=0.42, size=12)
    ln1 = box(ax, cx, 1.35, "层归一化 LayerNorm", role="plain", w=2.4, h=0.4, size=12)
    mha = box(ax, cx, 2.05, "多头自注意力（带掩码）", role="gate", w=2.4, h=0.48, size=12)
    add1 = node(ax, cx, 2.75, "+", r=0.17)
    ln2 = box(ax, cx, 3.35, "层归一化 LayerNorm", role="plain", w=2.4, h=0.4, size=12)
    ffn = box(ax, cx, 4.0, "前馈网络（逐位置）", role="h", w=2.4, h=0.48, size=12)
    add2 = node(ax, cx, 4.62, "+", r=0.17)
    y_out = box(ax, cx, 5.3, "输出（形状与输入相同）", role="o", w=3.2, h=0.42, size=12)
    arrow(ax, x_in, ln1)
    arrow(ax, ln1, mha)
    arrow(ax, mha, add1)
    arrow(ax, add1, ln2)
    arrow(ax, ln2, ffn)
    arrow(ax, ffn, add2)
    arrow(ax, add2, y_out)
    # residual connections around each sub-layer
    arrow(ax, (cx, 0.95), add1, via=[(cx - 1.45, 0.95), (cx - 1.45, 2.75)])
    arrow(ax, (cx, 3.0), add2, via=[(cx - 1.45, 3.0), (cx - 1.45, 4.62)])
    label(ax, cx - 1.58, 1.85, "残差", size=11, role="muted", ha="right")
    label(ax, cx - 1.58, 3.8, "残差", size=11, role="muted", ha="right")
    label(ax, cx + 1.75, 2.85, "× N", size=14, ha="left")
    rows = [("GPT-2 式：先归一化（pre-LN）", "ink"),
            (r"$x \leftarrow x + F(\mathrm{LN}(x))$；原文是 $x \leftarrow \mathrm{LN}(x + F(x))$", "muted"),
            (r"自注意力：每个头 $\mathrm{softmax}(QK^\top/\sqrt{d_k}+M)\,V$", "ink"),
            ("每个位置一步看到所有（允许的）位置", "muted"),
            (r"前馈：$W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2$，中间宽 $4d$", "ink"),
            ("每个位置各算各的；残差给梯度一条直通的路", "muted"),
            ("掩码 M：BERT 全部可见，GPT 只看过去", "ink"),
            ("堆完 N 层，再做一次层归一化", "muted")]
    for k, (t, role) in enumerate(rows):
        label(ax, 5.55, 5.05 - 0.6 * k, t, size=12, role=role, ha="left")
    return fig


@figure
def attention_masks():
    fig, ax = canvas(10, 4.6)
    chars = "我打了他"
    n, cell = 4, 0.62
    for p, (title, sub, causal, x0) in enumerate((("BERT：双向", "编码器，每个字看所有字", False, 0.9),
                                                  ("GPT：因果", "解码器，第 t 个字只看 1..t", True, 5.9))):
        y0 = 0.5
        label(ax, x0 + n * cell / 2, 4.2, title, size=15)
        label(ax, x0 + n * cell / 2, 3.82, sub, size=12, role="muted")
        for i in range(n):            # row i = the query (who looks)
            for j in range(n):        # column j = the key (who is looked at)
                allowed = not (causal and j > i)
                box(ax, x0 + (j + 0.5) * cell, y0 + (n - i - 0.5) * cell, "", role="h" if allowed else "plain",
                    w=cell - 0.06, h=cell - 0.06, round_=0.03, fill=allowed, dashed=not allowed, lw=1.2)
            label(ax, x0 - 0.25, y0 + (n - i - 0.5) * cell, chars[i], size=13)
            label(ax, x0 + (i + 0.5) * cell, y0 + n * cell + 0.22, chars[i], size=13)
        label(ax, x0 + n * cell + 0.25, y0 + n * cell + 0.22, "被看", size=11, role="muted", ha="left")
        label(ax, x0 - 0.55, y0 + n * cell / 2, "看\n的\n字", size=11, role="muted")
    box(ax, 4.1, 1.55, "", role="h", w=0.3, h=0.3, round_=0.03, lw=1.2)
    label(ax, 4.35, 1.55, "可以看", size=12, ha="left")
    box(ax, 4.1, 1.0, "", role="plain", w=0.3, h=0.3, round_=0.03, fill=False, dashed=True, lw=1.2)
    label(ax, 4.35, 1.0, "被遮住", size=12, ha="left")
    label(ax, 8.9, 0.25, "nn.MultiheadAttention 的布尔掩码：True = 被遮住", size=11, role="muted", ha="right")
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "media", help="output folder (media/)")
    ap.add_argument("--png", type=Path, default=None, help="also write PNG previews here")
    ap.add_argument("--only", nargs="*", default=None, help="draw only these figures")
    args = ap.parse_args(argv)
    setup()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for name, fn in FIGURES.items():
        if args.only and name not in args.only:
            continue
        path = save(fn(), args.out, name, args.png)
        print(f"{path.name:32s} {path.stat().st_size / 1024:6.1f} KB")
    print(f"{len(args.only or FIGURES)} figures in {time.perf_counter() - t0:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
