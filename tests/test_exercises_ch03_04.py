"""Exercise checkers of chapters 03 and 04: the right answer passes, each common mistake gets its hint."""
import torch

from helpers.exercises import ch03, ch04


def _run(checker, answer, capsys):
    ok = checker(answer)
    return ok, capsys.readouterr().out


def test_unanswered_prints_and_returns_false(capsys):
    for checker in (ch03.check_param_count, ch03.check_rnn_step, ch03.check_bmes,
                    ch04.check_delta_step, ch04.check_must_vanish, ch04.check_clip_factor):
        ok, out = _run(checker, None, capsys)
        assert ok is False and "⏳" in out


def test_param_count(capsys):
    rnn = torch.nn.RNN(10, 20, num_layers=2, bidirectional=True)
    right = sum(p.numel() for p in rnn.parameters())
    assert ch03.rnn_param_count(10, 20, 2, True) == right
    assert _run(ch03.check_param_count, right, capsys)[0]
    for wrong, hint in [(ch03.rnn_param_count(10, 20, 2, False), "两套"), (right - 2 * 2 * 20, "b_hh"),
                        (2 * 2 * (20 * 10 + 400 + 40), "2×hidden_size"), ("1", "整数"), (7, "逐层")]:
        ok, out = _run(ch03.check_param_count, wrong, capsys)
        assert not ok and hint in out, (wrong, out)


def test_rnn_step(capsys):
    assert _run(ch03.check_rnn_step, lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b), capsys)[0]
    cases = [(lambda x, h, U, W, b: x @ U.T + h @ W.T + b, "激活"),
             (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W + b), "W 用反"),
             (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T), "偏置"),
             (lambda x, h, U, W, b: torch.tanh(x @ U.T + b), "循环项"),
             (lambda x, h, U, W, b: torch.sigmoid(x @ U.T + h @ W.T + b), "sigmoid"),
             (lambda x, h, U, W, b: U @ x, "运行出错"),
             (lambda x, h, U, W, b: h, "数值不对"),
             (3, "函数")]
    for fn, hint in cases:
        ok, out = _run(ch03.check_rnn_step, fn, capsys)
        assert not ok and hint in out, (hint, out)


def test_bmes(capsys):
    assert _run(ch03.check_bmes, "BESBMMEBME", capsys)[0]
    for wrong, hint in [("besbmmebme", "大写"), ("BES", "每个字"), ("BEBBMMEBME", "单字"),
                        ("BMSBMMEBME", "多字词"), (5, "字符串")]:
        ok, out = _run(ch03.check_bmes, wrong, capsys)
        assert not ok and hint in out, (wrong, out)


def test_delta_step(capsys):
    assert _run(ch04.check_delta_step, ch04.delta_step, capsys)[0]
    cases = [(lambda d, h, W: d @ W, "(1 − h_k²)"), (lambda d, h, W: (1 - h ** 2) * (d @ W.T), "转置"),
             (lambda d, h, W: (1 - h) * (d @ W), "1 − h。"), (lambda d, h, W: h * (1 - h) * (d @ W), "sigmoid"),
             (lambda d, h, W: (1 - h ** 2) * d, "Wᵀ"), (lambda d, h, W: W @ d, "运行出错"),
             (lambda d, h, W: d, "数值不对")]
    for fn, hint in cases:
        ok, out = _run(ch04.check_delta_step, fn, capsys)
        assert not ok and hint in out, (hint, out)


def test_delta_step_matches_bptt_recursion():
    from helpers import bptt
    p = bptt.RNNParams.random(2, 4, 1, seed=1)
    x, y = torch.randn(5, 3, 2, dtype=torch.float64), torch.randn(5, 3, 1, dtype=torch.float64)
    r = bptt.bptt(p, x, y, steps=[4])                  # only the last loss: δ_k = δ_{4,k}
    h, _ = bptt.forward(p, x)
    for k in range(4):
        assert torch.allclose(ch04.delta_step(r.delta[k + 1], h[k + 1], p.W), r.delta[k], atol=1e-12)


def test_must_vanish(capsys):
    right = [ch04.must_vanish(s, a) for s, _, a in ch04.VANISH_CASES]
    assert right == [True, False, True, False, False]
    assert _run(ch04.check_must_vanish, right, capsys)[0]
    ok, out = _run(ch04.check_must_vanish, [True, False, False, False, False], capsys)
    assert not ok and "1/4" in out
    ok, out = _run(ch04.check_must_vanish, [True, True, True, False, False], capsys)
    assert not ok and "谱半径" in out
    ok, out = _run(ch04.check_must_vanish, [True, False, True, True, False], capsys)
    assert not ok and "不保证" in out
    ok, out = _run(ch04.check_must_vanish, [True], capsys)
    assert not ok and "列表" in out


def test_clip_factor(capsys):
    assert _run(ch04.check_clip_factor, 0.02, capsys)[0]
    for wrong, hint in [(50.0, "倒过来"), (5, "裁剪后的范数"), (0.5, "max_norm / ‖g‖"), ("a", "一个数")]:
        ok, out = _run(ch04.check_clip_factor, wrong, capsys)
        assert not ok and hint in out, (wrong, out)
