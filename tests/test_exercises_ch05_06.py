"""Exercise checkers of chapters 05 and 06: the right answer passes, each common mistake gets its hint."""
import torch

from helpers.exercises import ch05, ch06
from helpers.lstm import lstm_cell


def _run(checker, answer, capsys):
    ok = checker(answer)
    return ok, capsys.readouterr().out


def test_unanswered_prints_and_returns_false(capsys):
    for checker in (ch05.check_lstm_step, ch05.check_direct_path, ch06.check_gru_step, ch06.check_param_counts):
        ok, out = _run(checker, None, capsys)
        assert ok is False and "⏳" in out


# ----------------------------------------------------------------------------- LSTM step
def _lstm(order="ifgo", bias=True, gate=torch.sigmoid, cand=torch.tanh, rec_g=True, tanh_c=True, use_i=True,
          swap_out=False):
    """A student's LSTM step, written out by hand (not through the checker's own variant code)."""
    def fn(x, h, c, W_ih, W_hh, b_ih, b_hh):
        pre = x @ W_ih.T + h @ W_hh.T + ((b_ih + b_hh) if bias else 0)
        blocks = dict(zip(order, pre.chunk(4, dim=1)))
        if not rec_g:
            k = order.index("g")
            blocks["g"] = blocks["g"] - h @ W_hh.chunk(4)[k].T
        i, f, o, g = gate(blocks["i"]), gate(blocks["f"]), gate(blocks["o"]), cand(blocks["g"])
        c_new = f * c + (i * g if use_i else g)
        h_new = o * (torch.tanh(c_new) if tanh_c else c_new)
        return (c_new, h_new) if swap_out else (h_new, c_new)
    return fn


def test_lstm_step_accepts_the_right_step(capsys):
    ok, out = _run(ch05.check_lstm_step, _lstm(), capsys)
    assert ok and "✅" in out
    reference = lambda x, h, c, *w: lstm_cell(x, (h, c), *w)
    assert _run(ch05.check_lstm_step, reference, capsys)[0]


def test_lstm_step_names_each_mistake(capsys):
    cases = [(_lstm(order="ifog"), "第三块是候选 g"), (_lstm(order="figo"), "第一块是输入门 i"),
             (_lstm(bias=False), "漏了偏置"), (_lstm(cand=torch.sigmoid), "候选 g = C̃_t 要用 tanh"),
             (_lstm(gate=torch.tanh), "三个门 i, f, o 要用 sigmoid"),
             (_lstm(gate=torch.tanh, cand=torch.sigmoid), "tanh 和 sigmoid 用反了"),
             (_lstm(rec_g=False), "漏了循环项 W_hg"), (_lstm(tanh_c=False), "先过 tanh"),
             (_lstm(use_i=False), "乘输入门"), (_lstm(swap_out=True), "返回顺序反了"),
             (lambda *a: a[0] @ a[3], "运行出错"), (lambda *a: a[1], "两个张量"), (3, "函数"),
             (lambda *a: (a[1], a[2]), "数值不对")]
    for fn, hint in cases:
        ok, out = _run(ch05.check_lstm_step, fn, capsys)
        assert not ok and hint in out, (hint, out)


# ----------------------------------------------------------------------------- direct cell path
def test_direct_path_matches_autograd_on_the_cell_recursion():
    f = ch05._forget_gates()
    c0 = torch.randn(f.shape[1], dtype=torch.float64, requires_grad=True)
    c = c0
    for t in range(len(f)):
        c = f[t] * c + 0.3                   # only the direct path: C_t = f_t ⊙ C_{t-1} + (input term)
    c.sum().backward()
    assert torch.allclose(c0.grad, ch05.direct_path_factor(f))


def test_direct_path_checker(capsys):
    assert _run(ch05.check_direct_path, lambda f: f.prod(0), capsys)[0]
    cases = [(lambda f: f.sum(0), "不是加"), (lambda f: f[-1], "最后一步"), (lambda f: f[1:].prod(0), "少乘了一步"),
             (lambda f: (1 - f).prod(0), "不是 1 − f_t"), (lambda f: f.prod(1), "形状"),
             (lambda f: f.mean(0), "数值不对"), (lambda f: f.foo(), "运行出错")]
    for fn, hint in cases:
        ok, out = _run(ch05.check_direct_path, fn, capsys)
        assert not ok and hint in out, (hint, out)


# ----------------------------------------------------------------------------- GRU step
def _gru(order="rzn", bias=True, gate=torch.sigmoid, cand=torch.tanh, reset="pytorch", swap_z=False):
    def fn(x, h, W_ih, W_hh, b_ih, b_hh):
        gi = x @ W_ih.T + (b_ih if bias else 0)
        gh = h @ W_hh.T + (b_hh if bias else 0)
        i_, h_ = dict(zip(order, gi.chunk(3, 1))), dict(zip(order, gh.chunk(3, 1)))
        r, z = gate(i_["r"] + h_["r"]), gate(i_["z"] + h_["z"])
        if reset == "pytorch":
            n = cand(i_["n"] + r * h_["n"])
        elif reset == "cho":
            W_hn, b_hn = W_hh.chunk(3)[2], b_hh.chunk(3)[2]
            n = cand(i_["n"] + (r * h) @ W_hn.T + b_hn)
        elif reset == "all":
            n = cand(r * (i_["n"] + h_["n"]))
        else:
            n = cand(i_["n"] + h_["n"])
        return (1 - z) * h + z * n if swap_z else z * h + (1 - z) * n
    return fn


def test_gru_step_accepts_the_right_step_and_torch_agrees(capsys):
    assert _run(ch06.check_gru_step, _gru(), capsys)[0]
    x, h, W_ih, W_hh, b_ih, b_hh = ch06._data()
    layer = torch.nn.GRUCell(4, 5).double()
    with torch.no_grad():
        for p, v in zip((layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
            p.copy_(v)
    assert torch.allclose(layer(x, h), _gru()(x, h, W_ih, W_hh, b_ih, b_hh), atol=1e-12)


def test_gru_step_names_each_mistake(capsys):
    cases = [(_gru(swap_z=True), "z 和 1 − z 用反了"), (_gru(reset="cho"), "重置门放错了位置"),
             (_gru(reset="all"), "不乘输入部分"), (_gru(reset="none"), "漏了重置门"),
             (_gru(order="zrn"), "第一块是重置门 r"), (_gru(bias=False), "漏了偏置"),
             (_gru(cand=torch.sigmoid), "候选 h̃ 要用 tanh"), (_gru(gate=torch.tanh), "门 r 和 z 要用 sigmoid"),
             (_gru(gate=torch.tanh, cand=torch.sigmoid), "tanh 和 sigmoid 用反了"),
             (_gru(swap_z=True, reset="cho"), "两处不同"),
             (lambda *a: a[0] @ a[2], "运行出错"), (lambda *a: a[1][:, :2], "形状"), ("gru", "函数"),
             (lambda *a: a[1], "数值不对")]
    for fn, hint in cases:
        ok, out = _run(ch06.check_gru_step, fn, capsys)
        assert not ok and hint in out, (hint, out)


# ----------------------------------------------------------------------------- parameter counts
def test_param_count_formula_matches_torch():
    I, H = ch06.PARAM_CASE
    assert ch06.gate_param_count(4, I, H) == sum(p.numel() for p in torch.nn.LSTM(I, H).parameters())
    assert ch06.gate_param_count(3, I, H) == sum(p.numel() for p in torch.nn.GRU(I, H).parameters())


def test_param_count_checker(capsys):
    I, H = ch06.PARAM_CASE
    right = {"lstm": 4 * (H * I + H * H + 2 * H), "gru": 3 * (H * I + H * H + 2 * H)}
    assert _run(ch06.check_param_counts, right, capsys)[0]
    cases = [({"lstm": right["gru"], "gru": right["lstm"]}, "对调"),
             ({"lstm": 4 * (H * I + H * H + H), "gru": right["gru"]}, "两个偏置"),
             ({"lstm": right["lstm"], "gru": 3 * (H * I + H * H)}, "漏了偏置"),
             ({"lstm": H * I + H * H + 2 * H, "gru": right["gru"]}, "只算了一块"),
             ({"lstm": right["lstm"], "gru": right["lstm"] + 1}, "不对"),
             ({"lstm": right["lstm"] + H + 1, "gru": right["gru"]}, "输出层"),
             ({"lstm": 1.0, "gru": 2}, "int"), ([1, 2], "字典")]
    for answer, hint in cases:
        ok, out = _run(ch06.check_param_counts, answer, capsys)
        assert not ok and hint in out, (hint, out)
