import pytest
import torch

from helpers import seq2seq as s2s

KNOWN = {
    0: "零", 1: "一", 10: "十", 11: "十一", 20: "二十", 100: "一百", 101: "一百零一", 110: "一百一十",
    112: "一百一十二", 1000: "一千", 1001: "一千零一", 1010: "一千零一十", 1100: "一千一百",
    2048: "二千零四十八", 10000: "一万", 10001: "一万零一", 10010: "一万零一十", 10030: "一万零三十",
    10300: "一万零三百", 100000: "十万", 100010: "十万零一十", 110000: "十一万", 200002: "二十万零二",
    1100000: "一百一十万", 12345678: "一千二百三十四万五千六百七十八", 99999999: "九千九百九十九万九千九百九十九",
}


@pytest.mark.parametrize("n, reading", KNOWN.items())
def test_number_to_chinese_known_cases(n, reading):
    assert s2s.number_to_chinese(n) == reading


def test_number_to_chinese_never_doubles_zero_or_ends_with_zero():
    for n in range(1, 100_001, 7):
        r = s2s.number_to_chinese(n)
        assert "零零" not in r and not r.endswith("零"), (n, r)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (10**12, ValueError), (2.0, TypeError), (True, TypeError), ("5", TypeError)])
def test_number_to_chinese_rejects_bad_input(bad, err):
    with pytest.raises(err):
        s2s.number_to_chinese(bad)


def test_numeral_pairs_distinct_reproducible_and_in_range():
    a = s2s.numeral_pairs(50, 0, 999, seed=3)
    assert a == s2s.numeral_pairs(50, 0, 999, seed=3)
    assert len({x for x, _ in a}) == 50 and all(0 <= int(x) <= 999 for x, _ in a)
    assert all(y == s2s.number_to_chinese(int(x)) for x, y in a)
    with pytest.raises(ValueError, match="distinct"):
        s2s.numeral_pairs(11, 0, 9)
    with pytest.raises(ValueError):
        s2s.numeral_pairs(1, 5, 4)


def test_vocab_encode_batch_and_decode():
    v = s2s.make_vocab(["十二", "二十"])
    assert v[s2s.BOS] > 1 and v[s2s.EOS] > 1 and v.itos[:2] == ["<pad>", "<unk>"]
    ids, lengths = s2s.encode_batch(["十二", "二"], v, bos=True, eos=True)
    assert ids.shape == (2, 4) and lengths.tolist() == [4, 3]
    assert ids[1, 3] == 0                                       # padded
    assert s2s.decode_ids(ids[0].tolist(), v) == "十二"
    rev, _ = s2s.encode_batch(["十二"], v, reverse=True)
    assert v.decode(rev[0].tolist()) == ["二", "十"]
    with pytest.raises(ValueError):
        s2s.encode_batch([], v)
    with pytest.raises(TypeError):
        s2s.make_vocab("十二")


def _tiny_data():
    pairs = s2s.numeral_pairs(8, 0, 99, seed=0)
    sv = s2s.make_vocab([a for a, _ in pairs])
    tv = s2s.make_vocab([b for _, b in pairs])
    src, src_len = s2s.encode_batch([a for a, _ in pairs], sv, reverse=True)
    tin, _ = s2s.encode_batch([b for _, b in pairs], tv, bos=True)
    tout, _ = s2s.encode_batch([b for _, b in pairs], tv, eos=True)
    return pairs, sv, tv, src, src_len, tin, tout


def test_seq2seq_shapes_and_padding_does_not_change_encoding():
    torch.manual_seed(0)
    pairs, sv, tv, src, src_len, tin, tout = _tiny_data()
    m = s2s.Seq2Seq(len(sv), len(tv), emb_size=8, hidden_size=16)
    assert m(src, src_len, tin).shape == (8, tin.shape[1], len(tv))
    assert m.encode(src, src_len).shape == (1, 8, 16)
    # extra padding columns must not change c
    padded = torch.cat([src, torch.zeros(8, 3, dtype=torch.long)], dim=1)
    assert torch.allclose(m.encode(padded, src_len), m.encode(src, src_len), atol=1e-6)
    loss = s2s.seq2seq_loss(m, src, src_len, tin, tout)
    assert loss.dim() == 0 and loss.item() > 0
    out = m.greedy_decode(src, src_len, tv[s2s.BOS], tv[s2s.EOS], max_len=5)
    assert out.shape[0] == 8 and out.shape[1] <= 5
    assert len(s2s.translate(m, ["12", "7"], sv, tv, max_len=5)) == 2


def test_seq2seq_can_memorise_a_few_examples():
    torch.manual_seed(0)
    pairs, sv, tv, src, src_len, tin, tout = _tiny_data()
    m = s2s.Seq2Seq(len(sv), len(tv), emb_size=8, hidden_size=32)
    opt = torch.optim.Adam(m.parameters(), lr=0.03)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # tiny tensors: one thread is much faster on a busy CPU
    try:
        for _ in range(60):
            loss = s2s.seq2seq_loss(m, src, src_len, tin, tout)
            opt.zero_grad(); loss.backward(); opt.step()
    finally:
        torch.set_num_threads(threads)
    pred = s2s.translate(m, [a for a, _ in pairs], sv, tv)
    assert s2s.exact_match(pred, [b for _, b in pairs]) == 1.0


def test_exact_match():
    assert s2s.exact_match(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ValueError):
        s2s.exact_match(["a"], [])


YI = {100_000_000: "一亿", 100_000_001: "一亿零一", 100_010_000: "一亿零一万", 100_100_000: "一亿零一十万",
      110_000_000: "一亿一千万", 1_000_000_000: "十亿", 2_000_010_000: "二十亿零一万", 100_001_000: "一亿零一千",
      123_456_789_012: "一千二百三十四亿五千六百七十八万九千零一十二",
      999_999_999_999: "九千九百九十九亿九千九百九十九万九千九百九十九"}


@pytest.mark.parametrize("n, reading", YI.items())
def test_number_to_chinese_yi(n, reading):
    assert s2s.number_to_chinese(n) == reading


def test_readings_of_large_numbers_never_double_zero():
    r = __import__("random").Random(0)
    for _ in range(3000):
        n = r.randrange(10 ** r.randint(1, 12))
        reading = s2s.number_to_chinese(n)
        assert "零零" not in reading and (n == 0 or not reading.endswith("零")), (n, reading)


def test_numeral_pairs_by_length_and_hold_out():
    pairs = s2s.numeral_pairs_by_length(20, range(1, 13), seed=0)
    assert len(pairs) == 10 + 11 * 20
    train, test = s2s.hold_out(pairs, 5, min_test_length=3, seed=0)
    assert {len(a) for a, _ in test} == set(range(3, 13)) and len(test) == 50
    assert not {a for a, _ in train} & {a for a, _ in test}
    assert len(train) + len(test) == len(pairs)
    with pytest.raises(ValueError, match="lengths must be in 1..12"):
        s2s.numeral_pairs_by_length(5, [13])


def test_attention_seq2seq_shapes_weights_and_padding():
    torch.manual_seed(0)
    pairs, sv, tv, src, src_len, tin, tout = _tiny_data()
    m = s2s.AttentionSeq2Seq(len(sv), len(tv), emb_size=8, hidden_size=16)
    assert m(src, src_len, tin).shape == (8, tin.shape[1], len(tv))
    w = m.attention_weights(src, src_len, tin)
    assert w.shape == (8, tin.shape[1], src.shape[1])
    assert torch.allclose(w.sum(-1), torch.ones(8, tin.shape[1]))
    for i, n in enumerate(src_len.tolist()):
        assert (w[i, :, n:] == 0).all()                         # padding gets no attention
    padded = torch.cat([src, torch.zeros(8, 3, dtype=torch.long)], dim=1)
    assert torch.allclose(m(padded, src_len, tin), m(src, src_len, tin), atol=1e-6)
    assert len(s2s.translate(m, ["12", "7"], sv, tv, max_len=5)) == 2


def test_reading_alignment_points_each_digit_and_unit_at_its_digit():
    assert s2s.reading_alignment("2048") == [0, 0, None, 2, 2, 3]
    assert s2s.reading_alignment("12") == [0, 1]
    assert s2s.reading_alignment("100010") == [0, None, None, 4, 4]
    r = __import__("random").Random(1)
    units = {"十": 1, "百": 2, "千": 3}
    for _ in range(2000):
        n = str(r.randrange(1, 10 ** r.randint(1, 12)))
        reading, align = s2s.number_to_chinese(int(n)), s2s.reading_alignment(n)
        assert len(align) == len(reading)
        for ch, i in zip(reading, align):
            if ch in s2s.DIGITS[1:]:
                assert s2s.DIGITS[int(n[i])] == ch, (n, reading, align)
            elif ch in units:
                assert (len(n) - 1 - i) % 4 == units[ch], (n, reading, align)
            else:
                assert i is None
    with pytest.raises(ValueError):
        s2s.reading_alignment("12a")
