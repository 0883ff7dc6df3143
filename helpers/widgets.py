"""The gradient explorer of chapter 04: move a slider, watch ‖∂L/∂h_k‖ vanish or explode.

Two layers, so that the maths is testable without a browser:

- :func:`explorer_data` is a pure function: slider values in, the plotted arrays out
  (per model: k, ‖∂L/∂h_k‖, the envelope (γ σ_max)^(T−k), where the gradient is exactly 0 or inf).
- :func:`gradient_explorer` builds the ipywidgets (sliders + one JPEG image) around it.

Models (``models=`` of both): "rnn" (h_k = f(W h_{k−1} + x_k), U = I), "lstm", "gru" and
"attention" (one scaled dot-product self-attention layer read at the last position; its curve
is ‖∂L/∂x_k‖, flat in k, where the RNN's decays), and from chapter 10 "mingru" (∂h_t/∂h_{t−1} =
diag(1 − z_t): a product of gates, no W) and "linear_attention" (φ(q)·φ(k) instead of softmax; as
an RNN its matrix state is carried with ∂S_t/∂S_{t−1} = I, so its curve is flat like attention's).
Chapter 05 uses ("rnn", "lstm"), chapter 07 ("rnn", "lstm", "attention"), chapter 10 all but "gru".

Size. The image is rendered at 1000 px wide (text 20-22 px in the image) and shown with CSS
width 100% of the output area, so it fills the notebook's width and stays legible on a
projector (1280x720, Presentation Mode); the sliders sit in two columns of half that width.

Speed. A full matplotlib redraw of a log-scale axis costs ~60-130 ms on a slow 2-core laptop,
almost all of it laying out tick labels. So the figure is built once and its static part (frame,
axis titles, legend) is drawn once and kept as a bitmap; a slider move restores that bitmap,
draws the grid lines and the curves on top (``draw_artist``, "blitting"), writes the tick labels
with PIL and encodes a JPEG (~10x faster to encode than a PNG). LSTM/GRU profiles use
:func:`gated_profile_fast`, a NumPy re-implementation of :func:`helpers.bptt.gated_gradient_profile`
(same weights, hand-written backward pass; ~5x faster). Random draws that a slider move does not
change (the unscaled matrices, their σ_max and ρ, the gated layers' init) are cached in
:mod:`helpers.bptt`, so a move only rescales them.
"""
from __future__ import annotations

import io
import math
import time

import numpy as np
import torch
from matplotlib import ticker

from . import bptt, checks

MODELS = ("rnn", "lstm", "gru", "attention", "mingru", "linear_attention")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEFAULTS = {"scale": 1.0, "T": 100, "mode": "sigma", "activation": "tanh", "input_scale": 1.0,
            "hidden_size": 32, "dtype": "float64", "gate_bias": 0.0}
EXPLORER_ACTIVATIONS = ("tanh", "sigmoid", "identity", "relu")
COLORS = {"rnn": "#1f77b4", "lstm": "#d62728", "gru": "#2ca02c", "attention": "#9467bd",
          "mingru": "#ff7f0e", "linear_attention": "#8c564b"}
LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "attention": "注意力", "mingru": "minGRU",
          "linear_attention": "线性注意力"}
GATED = ("lstm", "gru", "mingru")                 # models with a gate bias slider
INPUT_CURVE = ("attention", "linear_attention")   # models whose curve is ‖∂L/∂x_k‖, k = 1..T
SCALE_RANGE = (0.1, 5.0)          # the weight-scale slider: reaches σ_max = 4, the sigmoid threshold 1/γ


# ----------------------------------------------------------------------------- fast LSTM/GRU profile
def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def gated_profile_fast(kind: str, T: int, hidden_size: int = 32, scale: float | None = None,
                       mode: str = "sigma", input_scale: float = 1.0, gate_bias: float = 0.0,
                       seed: int = 0, dtype: torch.dtype = torch.float64) -> bptt.GradientProfile:
    """Same result as :func:`helpers.bptt.gated_gradient_profile`, with the backward pass by hand in NumPy.

    The weights and inputs are drawn exactly as there (same generator calls), then::

        LSTM, going back from step t (gh = ∂L/∂h_t, gc = ∂L/∂C_t from the future):
            ∂L/∂C_t     = gc + gh ⊙ o ⊙ (1 − tanh²C_t)
            ∂L/∂C_{t−1} = f ⊙ ∂L/∂C_t           ← the additive path: no W, no f'
            ∂L/∂h_{t−1} = W_hhᵀ [∂a_i, ∂a_f, ∂a_g, ∂a_o]
        GRU (h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n):
            ∂L/∂h_{t−1} = z ⊙ gh + W_hhᵀ [∂a_r, ∂a_z, r ⊙ ∂a_n]
    """
    H = hidden_size
    w_ih, w_hh, b_ih, b_hh, z_in, v = bptt.gated_setup(kind, T, hidden_size, scale, mode, input_scale,
                                                       gate_bias, seed)
    npd = np.float32 if dtype == torch.float32 else np.float64
    w_ih, w_hh, b_ih, b_hh, v = (t.to(dtype).numpy().astype(npd) for t in (w_ih, w_hh, b_ih, b_hh, v))
    xs = z_in.to(dtype).numpy().astype(npd)[:, 0, :] @ w_ih.T + b_ih       # (T, G*H) input parts
    if kind == "lstm":
        xs = xs + b_hh                 # the LSTM adds b_hh outside the recurrence: fold it in once
    with np.errstate(all="ignore"):
        h, c = np.zeros(H, npd), np.zeros(H, npd)
        cache = []
        for t in range(T):
            if kind == "lstm":
                a = xs[t] + w_hh @ h                                         # (4H,), b_hh folded into xs
                sg = _sigmoid(a)                                             # i, f, o read their blocks
                i, f, o = sg[:H], sg[H:2 * H], sg[3 * H:]
                g = np.tanh(a[2 * H:3 * H])
                c_prev = c
                c = f * c_prev + i * g
                tc = np.tanh(c)
                h = o * tc
                cache.append((i, f, g, o, c_prev, tc))
            else:
                hh = w_hh @ h + b_hh                                         # (3H,)
                r = _sigmoid(xs[t, :H] + hh[:H])
                zg = _sigmoid(xs[t, H:2 * H] + hh[H:2 * H])
                n = np.tanh(xs[t, 2 * H:] + r * hh[2 * H:])
                cache.append((r, zg, n, h, hh[2 * H:]))
                h = zg * h + (1 - zg) * n
        gh, gc = v.copy(), np.zeros(H, npd)
        h_norms, c_norms = [gh], []                # the vectors; their norms in one call at the end
        for t in range(T - 1, -1, -1):
            if kind == "lstm":
                i, f, g, o, c_prev, tc = cache[t]
                gc = gc + gh * o * (1 - tc * tc)                             # ∂L/∂C_t (total)
                c_norms.append(gc)
                da = np.concatenate([gc * g * i * (1 - i), gc * c_prev * f * (1 - f),
                                     gc * i * (1 - g * g), gh * tc * o * (1 - o)])
                gh = w_hh.T @ da                                             # ∂L/∂h_{t−1}
                gc = gc * f                                                  # ∂L/∂C_{t−1} (via C only)
            else:
                r, zg, n, h_prev, hn = cache[t]
                dn = gh * (1 - zg) * (1 - n * n)
                da = np.concatenate([dn * hn * r * (1 - r), gh * (h_prev - n) * zg * (1 - zg), dn * r])
                gh = zg * gh + w_hh.T @ da
            h_norms.append(gh)
        if kind == "lstm":
            c_norms.append(gc)                                               # C_0
        norms = lambda vs: np.sqrt(np.einsum("ij,ij->i", *(2 * (np.array(vs[::-1]),)))).astype(np.float64)
    extra = {"cell_grad_norm": bptt._clean(norms(c_norms))} if kind == "lstm" else {}
    if scale is not None:             # block 2 is make_recurrent_matrix(H, scale, mode, seed + 3)
        s, r = bptt.recurrent_matrix_norms(H, scale, mode, seed + 3)
    else:
        Wh = torch.from_numpy(w_hh[2 * H:3 * H].astype(np.float64))
        s, r = bptt.sigma_max(Wh), bptt.spectral_radius(Wh)
    return bptt.GradientProfile(np.arange(T + 1), bptt._clean(norms(h_norms)),
                                None, None, s, r, 1.0, extra)


# ----------------------------------------------------------------------------- the pure update
def _check_models(models) -> tuple[str, ...]:
    if isinstance(models, str):
        models = (models,)
    models = tuple(models)
    if not models:
        raise ValueError(f"models must name at least one of {MODELS}, got an empty sequence")
    for m in models:
        checks.choice(m, "models entry", MODELS)
    return models


def _check_number(value, name: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}")
    return float(value)


def explorer_data(models=("rnn",), scale: float = 1.0, T: int = 100, mode: str = "sigma",
                  activation: str = "tanh", input_scale: float = 1.0, hidden_size: int = 32,
                  dtype: str = "float64", gate_bias: float = 0.0, seed: int = 0) -> dict:
    """What the explorer plots for one setting of its sliders, per model name.

    ``models``: one or more of ``MODELS`` (a name or a tuple), e.g.
    ``explorer_data(models=("rnn", "lstm", "attention"), scale=1.0, T=100)``.

    Returns ``{model: {...}}`` with, for each model:
      k, grad_norm: the curve. RNN/LSTM/GRU/minGRU: k = 0..T and grad_norm = ‖∂L/∂h_k‖ with
        L = vᵀh_T (so grad_norm[T] = 1). Attention and linear attention: k = 1..T and
        grad_norm = ‖∂L/∂x_k‖ with L = vᵀy_T.
      input_grad_norm: ‖∂L/∂x_k‖ for k = 1..T (RNN and attention; None for LSTM/GRU), the
        quantity to compare across RNN and attention (for the RNN, U = I: ∂L/∂x_k = f'(a_k) ⊙ ∂L/∂h_k),
      envelope (T+1,) = (γ σ_max)^(T−k) for the RNN (None otherwise),
      zero_k / inf_k: the k where the gradient under/overflowed to exactly 0 / inf,
      sigma_max, spectral_radius, gamma, ratio = grad_norm[0] (the gradient that reaches the
      first k: k = 0, or k = 1 for attention),
      saturated_fraction (RNN: share of |f'(a)| < 1e-3; None otherwise),
      far_near (RNN and attention: geometric mean of ‖∂L/∂x_k‖ over the farthest quarter of
        k = 1..T−1 divided by that over the nearest quarter; ≈ 1 means flat in distance).

    The models. "rnn": h_k = f(W h_{k−1} + x_k) (no input matrix: U = I), W a random Gaussian
    H×H matrix rescaled so that σ_max(W) (mode='sigma') or ρ(W) (mode='radius') = ``scale``.
    "lstm"/"gru": PyTorch-layout weights, every recurrent block rescaled to ``scale``;
    ``gate_bias`` is added to the LSTM forget-gate / GRU update-gate bias. "attention": one
    self-attention layer, y_T = Σ_k softmax_k(q_T·k_k/√H) W_v x_k with q = W_q x, k = W_k x,
    each of W_q, W_k, W_v drawn like the RNN's W at the same ``scale``/``mode``; the loss reads
    the last position only. "linear_attention": the same layer with φ(q)·φ(k), φ = elu + 1, in
    place of exp(q·k/√H) (:func:`helpers.bptt.linear_attention_gradient_profile`). "mingru":
    z_t = σ(W_z x_t − gate_bias), ∂L/∂h_k = v ⊙ Π_{t>k}(1 − z_t) (W_z drawn like the RNN's W;
    ``gate_keep`` = mean of 1 − z_t). Inputs x_k = ``input_scale``·z_k, z_k ~ N(0, I), the same sequence
    for the RNN and attention. ``activation`` applies to the RNN only. ``dtype`` is 'float64'
    or 'float32'. The random draws follow ``seed`` shifted by ``SEQCOURSE_SEED``.
    """
    models = _check_models(models)
    checks.positive_int(T, "T")
    checks.positive_int(hidden_size, "hidden_size")
    checks.choice(mode, "mode", bptt.SCALE_MODES)
    checks.choice(activation, "activation", EXPLORER_ACTIVATIONS)
    checks.choice(dtype, "dtype", tuple(DTYPES))
    scale = _check_number(scale, "scale")
    input_scale = _check_number(input_scale, "input_scale")
    if isinstance(gate_bias, bool) or not isinstance(gate_bias, (int, float)) or not math.isfinite(gate_bias):
        raise ValueError(f"gate_bias must be a finite number, got {gate_bias!r}")
    out = {}
    for m in models:
        inputs = None
        if m == "rnn":
            W = bptt.make_recurrent_matrix(hidden_size, scale, mode, seed)
            p = bptt.rnn_gradient_profile(W, T, activation, input_scale, seed, DTYPES[dtype], with_jacobian=False,
                                          norms=bptt.recurrent_matrix_norms(hidden_size, scale, mode, seed))
            env, inputs = p.envelope, p.extra["input_grad_norm"]
        elif m in INPUT_CURVE:
            profile = (bptt.attention_gradient_profile if m == "attention"
                       else bptt.linear_attention_gradient_profile)
            p = profile(T, hidden_size, scale, mode, input_scale, seed, DTYPES[dtype],
                        norms=bptt.recurrent_matrix_norms(hidden_size, scale, mode, seed + 1))   # W_q's
            env, inputs = None, p.grad_norm
        elif m == "mingru":
            p = bptt.mingru_gradient_profile(T, hidden_size, scale, mode, input_scale, gate_bias, seed, DTYPES[dtype])
            env = None
        else:
            p = gated_profile_fast(m, T, hidden_size, scale, mode, input_scale, gate_bias, seed, DTYPES[dtype])
            env = None
        g = p.grad_norm
        out[m] = {"k": p.k, "grad_norm": g, "envelope": env, "input_grad_norm": inputs,
                  "zero_k": p.k[g == 0], "inf_k": p.k[np.isinf(g)],
                  "sigma_max": p.sigma_max, "spectral_radius": p.spectral_radius, "gamma": p.gamma,
                  "ratio": float(g[0]), "saturated_fraction": p.extra.get("saturated_fraction"),
                  "far_near": None if inputs is None else far_near(inputs),
                  "gate_keep": p.extra.get("gate_keep")}
    return out


def far_near(input_grad_norm: np.ndarray) -> float:
    """How ‖∂L/∂x_k‖ changes with distance: geometric mean over the farthest quarter of k = 1..T−1
    divided by that over the nearest quarter (k = T, the loss position itself, is left out).

    ≈ 1: flat in distance (attention); ≪ 1: decays with distance (RNN). 0 if the far quarter
    underflowed to 0, inf if it overflowed, nan when T < 5.
    """
    g = np.asarray(input_grad_norm, dtype=np.float64)[:-1]
    q = len(g) // 4
    if q == 0:
        return float("nan")
    with np.errstate(all="ignore"):
        far, near = np.log(g[:q]).mean(), np.log(g[-q:]).mean()
        return float(np.exp(far - near))


def verdict(d: dict) -> str:
    """One line in Chinese: what theory guarantees for this RNN setting, and what was measured."""
    gs = d["gamma"] * d["sigma_max"]
    if gs < 1:
        theory = f"γ·σ_max = {gs:.2f} < 1：理论保证梯度消失（充分条件）"
    else:
        theory = f"γ·σ_max = {gs:.2f} ≥ 1：可能爆炸，但不保证（必要条件）"
    r = d["ratio"]
    if math.isinf(r) or len(d["inf_k"]):
        seen = "实测：溢出到 inf（爆炸）"
    elif r == 0 or len(d["zero_k"]):
        seen = "实测：下溢到 0（彻底消失）"
    elif r < 1e-3:
        seen = f"实测：消失（k=0 处 {r:.1e}）"
    elif r > 1e3:
        seen = f"实测：爆炸（k=0 处 {r:.1e}）"
    else:
        seen = f"实测：大致稳定（k=0 处 {r:.2g}）"
    return f"{theory}；{seen}"


# ----------------------------------------------------------------------------- the figure
_X_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)   # steps between two k labels
_Y_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)                    # decades between two y labels
Y_FLOOR, Y_CEIL = -320, 308                                    # float64: 1e-320 (subnormal) .. 1e308


def axis_limits(data: dict) -> tuple[int, int, int]:
    """(T, lo, hi): x from 0 to T, y from 10^lo to 10^hi (whole decades around the data)."""
    T = max(int(d["k"][-1]) for d in data.values())
    vals = [d["grad_norm"] for d in data.values()] + [d["envelope"] for d in data.values() if d["envelope"] is not None]
    v = np.concatenate(vals)
    v = v[np.isfinite(v) & (v > 0)]
    lo = math.floor(math.log10(v.min()) - 0.2) if v.size else -1
    hi = math.ceil(math.log10(v.max()) + 0.2) if v.size else 1
    return T, max(min(lo, -1), Y_FLOOR), min(max(hi, 1), Y_CEIL)


def x_ticks(T: int) -> list[int]:
    """k values to label on 0..T: at most 9, on multiples of a nice step."""
    step = next((s for s in _X_STEPS if T / s <= 8), _X_STEPS[-1])
    return list(range(0, T + 1, step))


def y_ticks(lo: int, hi: int) -> list[int]:
    """Decade exponents to label between 10^lo and 10^hi: at most 8, on multiples of a nice step."""
    step = next((s for s in _Y_STEPS if (hi - lo) / s <= 7), 100)
    return list(range(math.ceil(lo / step) * step, hi + 1, step))


class ExplorerFigure:
    """One persistent matplotlib figure; ``render(data) -> JPEG bytes`` by blitting.

    The static part (frame, axis titles, legend) is drawn once and kept as a bitmap. Both axis
    ranges follow the data on every move, so the grid lines are drawn with the curves
    (``draw_artist``) and the tick labels are written by PIL (matplotlib's text layout is what
    makes a full redraw slow).

    Size: ``width_px`` × ``height_px`` pixels; every text size is given in pixels of that image
    (ticks 20, legend 20, axis titles 22 at the default 1000 px). The widget shows it at the
    output area's width: measured in JupyterLab at 1280x720 in Presentation Mode, 802 px with
    the file browser open (ticks ≈ 16 px) and 1054 px with it closed (≈ 21 px).
    """

    def __init__(self, models: tuple[str, ...], width_px: int = 1000, height_px: int = 480,
                 dpi: int = 100, n_labels: int = 9):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib import font_manager
        from PIL import ImageFont

        from .plots.plotting import style

        style()
        self.models = models
        u = width_px / 1000                                  # text and lines scale with the width
        pt = lambda px: px * u * 72 / dpi                    # pixels of the image -> points
        self.fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_subplot(1, 1, 1)
        ax.set_yscale("log")
        ax.set_xlabel("时间步 k（损失 L 在最后一步 k = T 计算）", labelpad=pt(38), fontsize=pt(22))
        ylabel = (r"$\|\partial L/\partial h_k\|$（对数坐标）" if set(models) <= {"rnn", "lstm", "gru", "mingru"}
                  else "梯度范数（对数坐标）")
        ax.set_ylabel(ylabel, labelpad=pt(86), fontsize=pt(22))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(ticker.NullLocator())
            axis.set_minor_locator(ticker.NullLocator())
        ax.grid(False)
        self.pad = 8 * u
        self.label_font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size=int(round(20 * u)))
        lw = lambda px: pt(px)
        # all grid lines are one Line2D, its segments separated by NaN: one draw call instead of ~17
        # (each draw_artist costs ~0.5 ms of set-up on a slow laptop, whatever it draws)
        self.grid, = ax.plot([], [], color="0.85", lw=lw(1.2), animated=True)
        self.n_labels = n_labels
        self.one = ax.axhline(1.0, color="0.45", lw=lw(1.4), animated=True)
        self.lines, self.envs, self.zeros, self.infs = {}, {}, {}, {}
        handles = []
        ms = pt(13)
        for m in models:
            c = COLORS[m]
            if m == "rnn":
                self.envs[m], = ax.plot([], [], "--", color="0.35", lw=lw(2), animated=True)
            self.lines[m], = ax.plot([], [], color=c, lw=lw(3.5), animated=True)
            self.zeros[m], = ax.plot([], [], "v", color=c, ms=ms, mec="k", mew=0.5, clip_on=False, animated=True)
            self.infs[m], = ax.plot([], [], "^", color=c, ms=ms, mec="k", mew=0.5, clip_on=False, animated=True)
            what = r"$\|\partial L/\partial x_k\|$" if m in INPUT_CURVE else r"$\|\partial L/\partial h_k\|$"
            handles.append(Line2D([], [], color=c, lw=lw(3.5), label=f"{LABELS[m]}：{what} 实测"))
            if m == "rnn":
                handles.append(Line2D([], [], ls="--", color="0.35", lw=lw(2),
                                      label=r"上界 $(\gamma\,\sigma_{\max})^{T-k}$"))
        handles.append(Line2D([], [], ls="", marker="v", ms=ms, color="0.5", mec="k", mew=0.5,
                              label="下溢为 0（画在下边缘）"))
        handles.append(Line2D([], [], ls="", marker="^", ms=ms, color="0.5", mec="k", mew=0.5,
                              label="溢出为 inf（画在上边缘）"))
        ncol = 3 if len(handles) <= 6 else 4
        rows = -(-len(handles) // ncol)
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.02), fontsize=pt(20), ncol=ncol,
                  frameon=False, borderaxespad=0.0, handlelength=1.8, columnspacing=1.2)
        top = 1 - (rows * 30 * u + 22 * u) / height_px
        self.fig.subplots_adjust(left=(130 * u) / width_px, right=1 - 24 * u / width_px, top=top,
                                 bottom=(84 * u) / height_px)
        self.canvas.draw()                           # once: everything except the animated artists
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.full_redraws = 1
        self.limits = None

    def render(self, data: dict) -> bytes:
        """Draw ``explorer_data(...)`` output and return the figure as JPEG bytes.

        Curves and grid lines (one artist) by matplotlib (``draw_artist``); the labels by PIL (text layout
        is what makes a matplotlib redraw slow); JPEG because it encodes ~10x faster than PNG.
        """
        from PIL import Image, ImageDraw

        T, lo, hi = self.limits = axis_limits(data)
        bottom, top = 10.0 ** lo, 10.0 ** hi
        self.ax.set_xlim(0, T)
        self.ax.set_ylim(bottom, top)
        self.canvas.restore_region(self.background)
        draw = self.ax.draw_artist
        exps = y_ticks(lo, hi)[:self.n_labels]
        ks = x_ticks(T)[:self.n_labels]
        nan = float("nan")
        gx = [v for _ in exps for v in (0.0, T, nan)] + [v for k in ks for v in (k, k, nan)]
        gy = [v for e in exps for v in (10.0 ** e, 10.0 ** e, nan)] + [v for _ in ks for v in (bottom, top, nan)]
        self.grid.set_data(gx, gy)
        draw(self.grid)
        draw(self.one)
        for m in self.models:
            d = data[m]
            if m in self.envs:
                e = d["envelope"]
                self.envs[m].set_data(d["k"], np.clip(np.where(np.isfinite(e) & (e > 0), e, np.nan), bottom, top))
                draw(self.envs[m])
            g = d["grad_norm"]
            self.lines[m].set_data(d["k"], np.clip(np.where(np.isfinite(g) & (g > 0), g, np.nan), bottom, top))
            self.zeros[m].set_data(d["zero_k"], np.full(len(d["zero_k"]), bottom))
            self.infs[m].set_data(d["inf_k"], np.full(len(d["inf_k"]), top))
            draw(self.lines[m])
            if len(d["zero_k"]):                       # an empty marker set draws nothing: skip it
                draw(self.zeros[m])
            if len(d["inf_k"]):
                draw(self.infs[m])
        w, h = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        pen = ImageDraw.Draw(img)
        x0, y0 = self.ax.transAxes.transform((0.0, 0.0))
        for k in ks:
            x_pix = self.ax.transData.transform((k, bottom))[0]
            pen.text((x_pix, h - y0 + self.pad), str(k), fill=(40, 40, 40), font=self.label_font, anchor="mt")
        x_pix = x0 - self.pad
        for e in exps:
            y_pix = h - self.ax.transData.transform((0.0, 10.0 ** e))[1]     # PIL counts rows from the top
            pen.text((x_pix, y_pix), "1" if e == 0 else f"1e{e}", fill=(40, 40, 40), font=self.label_font, anchor="rm")
        buf = io.BytesIO()
        img.save(buf, format="jpeg", quality=92, subsampling=0)
        return buf.getvalue()


# ----------------------------------------------------------------------------- the widget
class Explorer:
    """The sliders, the image and the status line; ``update()`` recomputes and redraws."""

    def __init__(self, models=("rnn",), **defaults):
        import ipywidgets as w

        self.models = _check_models(models)
        unknown = set(defaults) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"gradient_explorer got unknown settings {sorted(unknown)}; expected some of {sorted(DEFAULTS)}")
        v = {**DEFAULTS, **defaults}
        explorer_data(self.models, **v)                     # validate the defaults early, with clear errors
        self.hidden_size = v["hidden_size"]
        style = {"description_width": "7.5em"}
        lay = w.Layout(width="98%")                          # of its column: half the plot's width
        self.scale = w.FloatSlider(value=v["scale"], min=SCALE_RANGE[0], max=SCALE_RANGE[1], step=0.05,
                                   description="循环权重尺度", style=style, layout=lay, readout_format=".2f")
        self.T = w.IntSlider(value=v["T"], min=10, max=300, step=10, description="序列长度 T", style=style, layout=lay)
        self.mode = w.ToggleButtons(options=[("σ_max（最大奇异值）", "sigma"), ("ρ（谱半径）", "radius")],
                                    value=v["mode"], description="尺度指的是",
                                    style={**style, "button_width": "auto"})
        self.activation = w.Dropdown(options=list(EXPLORER_ACTIVATIONS), value=v["activation"],
                                     description="激活函数 f", style=style, layout=w.Layout(width="auto"))
        self.input_scale = w.FloatSlider(value=v["input_scale"], min=0.0, max=5.0, step=0.1, description="输入尺度",
                                         style=style, layout=lay)
        self.dtype = w.ToggleButtons(options=["float64", "float32"], value=v["dtype"], description="精度",
                                     style={**style, "button_width": "6em"})
        self.gate_bias = w.FloatSlider(value=v["gate_bias"], min=-3.0, max=6.0, step=0.5, description="门偏置",
                                       style=style, layout=lay)
        self.controls = [self.scale, self.T, self.mode, self.activation, self.input_scale, self.dtype]
        if any(m in GATED for m in self.models):
            self.controls.append(self.gate_bias)
        # the image fills the output area's width (it is rendered at 1000 px, so it stays sharp)
        self.image = w.Image(format="jpeg", layout=w.Layout(width="100%", height="auto"))
        self.status = w.HTML(layout=w.Layout(width="100%"))
        self.figure = ExplorerFigure(self.models)
        self.data: dict = {}
        self.timings: list[float] = []
        for c in self.controls:
            c.observe(self._on_change, names="value")
        self.update()
        half = w.Layout(width="50%")
        self.widget = w.VBox([w.HBox([w.VBox(self.controls[:3], layout=half),
                                      w.VBox(self.controls[3:], layout=half)], layout=w.Layout(width="100%")),
                              self.image, self.status], layout=w.Layout(width="100%"))
        self.widget.explorer = self        # tests and later chapters reach the state through the widget

    def values(self) -> dict:
        return {"scale": float(self.scale.value), "T": int(self.T.value), "mode": self.mode.value,
                "activation": self.activation.value, "input_scale": float(self.input_scale.value),
                "hidden_size": self.hidden_size, "dtype": self.dtype.value, "gate_bias": float(self.gate_bias.value)}

    def _on_change(self, _change) -> None:
        self.update()

    def update(self) -> None:
        """Recompute the profiles, redraw the curves and the status line (one slider move)."""
        t0 = time.perf_counter()
        try:
            self.data = explorer_data(self.models, **self.values())
            self.image.value = self.figure.render(self.data)
            self.status.value = self._status_html()
        except Exception as err:   # a bad combination must never kill the widget in class
            self.status.value = f"<b style='color:#b00'>无法计算：{type(err).__name__}: {err}</b>"
        self.timings.append((time.perf_counter() - t0) * 1000)

    def _status_html(self) -> str:
        """One line per model; each clause is kept on one line (never wrapped inside a number)."""
        keep = lambda text: f"<span style='white-space:nowrap'>{text}</span>"
        rows = []
        for m in self.models:
            d = self.data[m]
            parts = [f"<b>{LABELS[m]}</b>：σ_max(W) = {d['sigma_max']:.3f}", f"ρ(W) = {d['spectral_radius']:.3f}"]
            if m == "rnn":
                parts[-1] += f"，γ = {d['gamma']:g}"
                parts += verdict(d).split("；")
                if d["saturated_fraction"] is not None and d["saturated_fraction"] > 0.05:
                    parts.append(f"{d['saturated_fraction']:.0%} 的 f'(a) < 1e-3（饱和）")
            elif m in INPUT_CURVE:
                parts[0] = f"<b>{LABELS[m]}</b>：σ_max(W_q) = {d['sigma_max']:.3f}"
                parts.append(f"最远输入 k=1 处 ‖∂L/∂x_1‖ = {d['ratio']:.2e}")
                parts.append(f"远/近 = {d['far_near']:.2g}（≈ 1：与距离无关）")
            elif m == "mingru":
                parts = [f"<b>{LABELS[m]}</b>：没有循环矩阵，∂h_t/∂h_(t−1) = diag(1 − z_t)",
                         f"1 − z_t 平均 {d['gate_keep']:.3f}", f"k=0 处梯度 {d['ratio']:.2e}"]
            else:
                parts[-1] += "（候选块）"
                parts.append(f"k=0 处梯度 {d['ratio']:.2e}")
            if len(d["zero_k"]):
                parts.append(f"<span style='color:#b00'>{len(d['zero_k'])} 个时间步下溢为 0</span>")
            if len(d["inf_k"]):
                parts.append(f"<span style='color:#b00'>{len(d['inf_k'])} 个时间步溢出为 inf</span>")
            rows.append("；".join(keep(p) for p in parts))
        return "<div style='font-size:1.05em;line-height:1.5'>" + "<br>".join(rows) + "</div>"


def gradient_explorer(models=("rnn",), **defaults):
    """The interactive explorer as an ipywidgets widget; ``defaults`` are initial slider values.

    ``models``: a tuple of "rnn", "lstm", "gru", "attention" (see :func:`explorer_data`), e.g.
    ``gradient_explorer(models=("rnn", "attention"))``; ``defaults``: any of ``DEFAULTS``
    (scale, T, mode, activation, input_scale, hidden_size, dtype, gate_bias).
    ``widget.explorer`` is the :class:`Explorer` (sliders as attributes, ``.data`` the last
    :func:`explorer_data` result, ``.timings`` the ms of every update).
    """
    return Explorer(models, **defaults).widget


# ----------------------------------------------------------------------------- latency
def benchmark_latency(n: int = 30, models=("rnn",), seed: int = 0) -> dict:
    """Time ``n`` slider moves (compute + redraw + JPEG) of a fresh explorer at the default size.

    Moves: the weight-scale slider to pseudo-random positions in [0.3, 2.5], with every fifth move
    on the T slider instead (50..300), starting from a cold background cache. Returns ms:
    {'p50_ms', 'p95_ms', 'max_ms', 'n', 'full_redraws', 'compute_p50_ms'}.
    """
    checks.positive_int(n, "n")
    ex = Explorer(models)
    ex.timings.clear()
    start_redraws = ex.figure.full_redraws
    rng = np.random.default_rng(seed)
    compute = []
    for i in range(n):
        if i % 5 == 4:
            ex.T.value = int(rng.integers(5, 31)) * 10          # triggers update()
        else:
            new = round(float(rng.integers(6, 51)) * 0.05, 2)
            if new == ex.scale.value:
                new = round(new + 0.05, 2)
            ex.scale.value = new
        t0 = time.perf_counter()
        explorer_data(ex.models, **ex.values())
        compute.append((time.perf_counter() - t0) * 1000)
    t = np.array(ex.timings[-n:])
    return {"p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
            "max_ms": float(t.max()), "n": n, "full_redraws": ex.figure.full_redraws - start_redraws,
            "compute_p50_ms": float(np.median(compute))}
