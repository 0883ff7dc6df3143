import pytest

from helpers.exercises import ch01, ch02
from helpers.vocab import Vocab


def _run(capsys, fn, *args, **kwargs):
    ok = fn(*args, **kwargs)
    return ok, capsys.readouterr().out


# ----------------------------------------------------------------------------- ch01
def test_window_count(capsys):
    ok, out = _run(capsys, ch01.check_window_count, None, T=100, input_len=24, horizon=12)
    assert ok is False and "⏳" in out
    ok, out = _run(capsys, ch01.check_window_count, 65, T=100, input_len=24, horizon=12)
    assert ok is True and "✅" in out


@pytest.mark.parametrize("wrong, hint", [(76, "H 个"), (77, "H 个"), (64, "off-by-one"), (100, "起点"),
                                         (2, "重叠"), (13, "不对"), ("abc", "整数")])
def test_window_count_hints(capsys, wrong, hint):
    ok, out = _run(capsys, ch01.check_window_count, wrong, T=100, input_len=24, horizon=12)
    assert ok is False and hint in out


def test_reading(capsys):
    assert _run(capsys, ch01.check_reading, "一万零一十", 10010)[0] is True
    assert _run(capsys, ch01.check_reading, None, 10010)[0] is False


@pytest.mark.parametrize("wrong, n, hint", [("一万零十", 10010, "一十"), ("一万一十", 10010, "零"),
                                            ("一万零零一十", 10010, "只读一个"), ("两千零四十八", 2048, "两"),
                                            ("一万", 10010, "不对"), (10010, 10010, "字符串")])
def test_reading_hints(capsys, wrong, n, hint):
    ok, out = _run(capsys, ch01.check_reading, wrong, n)
    assert ok is False and hint in out


def test_io_modes(capsys):
    right = {t: m for t, (m, _) in ch01.IO_TASKS.items()}
    assert _run(capsys, ch01.check_io_modes, right)[0] is True
    ok, out = _run(capsys, ch01.check_io_modes, {**right, "词性标注": "many-to-many-unequal", "看图说话": "many-to-one"})
    assert ok is False and "2 个任务" in out and "等长" not in out.split("词性标注")[0] and "一样长" in out
    ok, out = _run(capsys, ch01.check_io_modes, {"图像分类": "one-to-one"})
    assert ok is False and "还缺" in out
    ok, out = _run(capsys, ch01.check_io_modes, {**right, "机器翻译": "seq2seq"})
    assert ok is False and "只能是" in out
    ok, out = _run(capsys, ch01.check_io_modes, ["one-to-one"])
    assert ok is False and "字典" in out


# ----------------------------------------------------------------------------- ch02
WORDS = ["我", "毕业", "于", "我"]


def test_indices(capsys):
    v = Vocab([WORDS])
    assert _run(capsys, ch02.check_indices, v.encode(WORDS), WORDS, v)[0] is True
    assert _run(capsys, ch02.check_indices, None, WORDS, v)[0] is False


@pytest.mark.parametrize("wrong, hint", [([0, 1, 2, 0], "小了 2"), ([7, 5, 6, 7], "list(set"),
                                         ([2, 3], "应该有 4 个"), ([2, 3, 4, 5], "同一个词"), (5, "整数列表")])
def test_indices_hints(capsys, wrong, hint):
    v = Vocab([WORDS])
    ok, out = _run(capsys, ch02.check_indices, wrong, WORDS, v)
    assert ok is False and hint in out


def test_embedding_parameters(capsys):
    assert _run(capsys, ch02.check_embedding_parameters, 400, 100, 4)[0] is True
    assert _run(capsys, ch02.check_embedding_parameters, None, 100, 4)[0] is False


@pytest.mark.parametrize("wrong, hint", [(404, "偏置"), (500, "偏置"), (104, "是乘"), (10000, "one-hot"),
                                         (4, "向量长度"), (100, "行数"), (7, "不对"), ("x", "整数")])
def test_embedding_parameters_hints(capsys, wrong, hint):
    ok, out = _run(capsys, ch02.check_embedding_parameters, wrong, 100, 4)
    assert ok is False and hint in out
