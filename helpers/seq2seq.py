"""Many-to-many of unequal length: a small GRU encoder-decoder (notes 一 §2.2).

The task is generated, so it needs no download: read an Arabic numeral aloud in Chinese,
2048 -> 二千零四十八. Input and output lengths differ (4 digits -> 6 characters), which is
exactly the case the notes give to the encoder-decoder (Encoder-Decoder, Sutskever et al. 2014;
Cho et al. 2014)::

    encoder:  h_t = GRU(e(x_t), h_{t-1}),          c = h_T       (the whole input in one vector)
    decoder:  s_0 = c,  s_j = GRU(e(y_{j-1}), s_{j-1}),  p(y_j | y_<j, x) = softmax(V s_j + b)

Training feeds the true previous character y_{j-1} (teacher forcing); at test time the decoder
feeds its own most likely character back (greedy decoding) until it writes <eos>.

Reading convention: this course uses 二 by convention everywhere (二千零四十八, 二万, 二亿);
everyday speech often says 两 before 千/万/亿 (两千零四十八), which is also correct.
A leading 一十 is shortened to 十 (10 -> 十, 12 -> 十二, 100000 -> 十万) but kept inside a
number (110 -> 一百一十); inner zeros are read as one 零 (1001 -> 一千零一, 100000001 -> 一亿零一).
Numbers go up to 999,999,999,999 (九千九百九十九亿…): the digits are read in sections of four,
亿 (10^8) and 万 (10^4) name the sections.

Chapter 07 adds attention (Luong et al. 2015, dot-product form, scaled as in the Transformer):
the decoder no longer has only c = h_T, it looks back at every encoder state h_1..h_S::

    a_j = softmax_i(s_j · h_i / √H),   ctx_j = Σ_i a_ji h_i,
    p(y_j | y_<j, x) = softmax(V tanh(W_c [s_j; ctx_j] + b_c) + b)
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import checks
from .nn.attention import scaled_dot_product_attention
from .train import sequence_cross_entropy
from .vocab import Vocab
from .env import rng

DIGITS = "零一二三四五六七八九"
UNITS = ("", "十", "百", "千")
MAX_NUMBER = 10**12 - 1
BOS, EOS = "<bos>", "<eos>"


def _section(n: int, leading: bool) -> str:
    """Reading of 1 <= n <= 9999 (one 万-section); ``leading``: this section starts the number."""
    out, started, zero_pending = "", False, False
    for pos in (3, 2, 1, 0):
        d = n // 10**pos % 10
        if d == 0:
            zero_pending = started          # a zero between non-zero digits is read once
            continue
        if zero_pending:
            out += "零"
            zero_pending = False
        if d == 1 and pos == 1 and not started and leading:
            out += "十"                      # 12 -> 十二, not 一十二 (only at the very start)
        else:
            out += DIGITS[d] + UNITS[pos]
        started = True
    return out


def number_to_chinese(n: int) -> str:
    """Chinese reading of an integer 0 <= n <= 999,999,999,999: 10 -> 十, 2048 -> 二千零四十八, 10**8 -> 一亿."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__} {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"n must be in [0, {MAX_NUMBER}], got {n}")
    if n == 0:
        return "零"
    sections = ((n // 10**8, "亿"), (n // 10**4 % 10**4, "万"), (n % 10**4, ""))
    out, started, gap = "", False, False
    for value, unit in sections:
        if value == 0:
            gap = started               # a whole section of zeros inside the number: one 零 later
            continue
        if started and (gap or value < 1000):
            out += "零"                 # 10030 -> 一万零三十, 100000001 -> 一亿零一
        out += _section(value, leading=not started) + unit
        started, gap = True, False
    return out


def reading_alignment(numeral: str) -> list[int | None]:
    """For each character of the reading, the index in ``numeral`` of the digit it names.

    '2048' -> 二千零四十八 -> [0, 0, None, 2, 2, 3]: a digit and its unit (十百千) point at that
    digit; 零, 万 and 亿 name no single digit (None). Used to score attention alignments.
    """
    if not (isinstance(numeral, str) and numeral.isdigit() and numeral.isascii()):
        raise ValueError(f"numeral must be a string of digits 0-9, got {numeral!r}")
    reading = number_to_chinese(int(numeral))
    digits = str(int(numeral))
    shift = len(numeral) - len(digits)                   # leading zeros in numeral
    place = {}                                           # place value p -> index in numeral
    for i in range(len(digits)):
        place[len(digits) - 1 - i] = i + shift
    out, p = [], len(digits) - 1                         # walk the reading, tracking the place
    chars = list(reading)
    j = 0
    while j < len(chars):
        ch = chars[j]
        if ch in "零万亿":
            out.append(None)
            j += 1
            continue
        if ch == "十" and (j == 0 or chars[j - 1] in "零万亿"):
            # a leading 十 (12 -> 十二): the digit 1 of the tens place, written as its unit alone
            while int(digits[len(digits) - 1 - p]) == 0 or p % 4 != 1:
                p -= 1
            out.append(place[p])
            p -= 1
            j += 1
            continue
        d = DIGITS.index(ch)
        while int(digits[len(digits) - 1 - p]) != d or (p > 0 and int(digits[len(digits) - 1 - p]) == 0):
            p -= 1
        out.append(place[p])
        j += 1
        if j < len(chars) and chars[j] in "十百千":
            out.append(place[p])                         # the unit names the same digit
            j += 1
        p -= 1
    return out


def numeral_pairs(n: int, low: int = 0, high: int = 99_999, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct random numbers in [low, high] as (digits, reading) pairs, e.g. ('2048', '二千零四十八')."""
    checks.positive_int(n, "n")
    if isinstance(low, bool) or isinstance(high, bool) or not isinstance(low, int) or not isinstance(high, int):
        raise TypeError(f"low and high must be ints, got {low!r} and {high!r}")
    if not 0 <= low <= high <= MAX_NUMBER:
        raise ValueError(f"need 0 <= low <= high <= {MAX_NUMBER}, got low={low}, high={high}")
    if n > high - low + 1:
        raise ValueError(f"cannot draw {n} distinct numbers from [{low}, {high}] ({high - low + 1} numbers)")
    numbers = rng(seed).sample(range(low, high + 1), n)
    return [(str(k), number_to_chinese(k)) for k in numbers]


def numeral_pairs_by_length(n_per_length: int, lengths: Sequence[int], seed: int = 0) -> list[tuple[str, str]]:
    """``n_per_length`` distinct random numbers with each number of digits in ``lengths`` (1..12).

    Drawing per length (not uniformly from [0, 10^12)) gives short and long numbers equal weight;
    uniform draws would be almost all 12 digits long.
    """
    checks.positive_int(n_per_length, "n_per_length")
    out = []
    for k, length in enumerate(lengths):
        checks.positive_int(length, "length")
        if length > len(str(MAX_NUMBER)):
            raise ValueError(f"lengths must be in 1..{len(str(MAX_NUMBER))}, got {length}")
        low, high = (0 if length == 1 else 10 ** (length - 1)), 10**length - 1
        out += numeral_pairs(min(n_per_length, high - low + 1), low, high, seed=seed * 1000 + k)
    return out


def hold_out(pairs: Sequence[tuple[str, str]], n_test: int, min_test_length: int = 1,
             seed: int = 0) -> tuple[list, list]:
    """Split pairs into (train, test) with ``n_test`` numbers of each length >= ``min_test_length`` in
    test (at most half of a length's numbers). Train is shuffled; test stays grouped by length."""
    checks.positive_int(n_test, "n_test")
    checks.positive_int(min_test_length, "min_test_length")
    by_length: dict[int, list] = {}
    for p in pairs:
        by_length.setdefault(len(p[0]), []).append(p)
    train, test = [], []
    for length in sorted(by_length):
        group = by_length[length]
        k = min(n_test, len(group) // 2) if length >= min_test_length else 0
        test += group[:k]
        train += group[k:]
    rng(seed).shuffle(train)
    return train, test


def make_vocab(strings: Sequence[str]) -> Vocab:
    """Character vocabulary of ``strings`` plus <bos> and <eos> (index 0 = <pad>, 1 = <unk>)."""
    if isinstance(strings, str):
        raise TypeError("strings must be a list of strings, got a single str")
    return Vocab([[BOS, EOS]] + [list(s) for s in strings])


def encode_batch(strings: Sequence[str], vocab: Vocab, bos: bool = False, eos: bool = False,
                 reverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad character sequences to one tensor: (B, T_max) of indices (0 = <pad>) and lengths (B,).

    reverse=True reads each string backwards ('2048' -> '8402'), the trick of Sutskever et al.
    (2014): the first digits, which the decoder needs first, are then the last the encoder saw.
    """
    if isinstance(strings, str) or len(strings) == 0:
        raise ValueError(f"strings must be a non-empty list of strings, got {strings!r}")
    seqs = [([vocab[BOS]] if bos else []) + vocab.encode(list(s[::-1] if reverse else s))
            + ([vocab[EOS]] if eos else []) for s in strings]
    lengths = torch.tensor([len(s) for s in seqs])
    out = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out, lengths


def decode_ids(ids: Sequence[int], vocab: Vocab) -> str:
    """Indices back to a string, stopping at <eos> and skipping <pad>/<bos>."""
    out = []
    for tok in vocab.decode(ids):
        if tok == EOS:
            break
        if tok not in (Vocab.PAD, BOS):
            out.append(tok)
    return "".join(out)


class Seq2Seq(nn.Module):
    """GRU encoder + GRU decoder; the encoder's last state starts the decoder (no attention)."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, emb_size: int = 32, hidden_size: int = 128):
        super().__init__()
        for value, name in ((src_vocab_size, "src_vocab_size"), (tgt_vocab_size, "tgt_vocab_size"),
                            (emb_size, "emb_size"), (hidden_size, "hidden_size")):
            checks.positive_int(value, name)
        self.src_emb = nn.Embedding(src_vocab_size, emb_size, padding_idx=0)
        self.encoder = nn.GRU(emb_size, hidden_size, batch_first=True)
        self.tgt_emb = nn.Embedding(tgt_vocab_size, emb_size, padding_idx=0)
        self.decoder = nn.GRU(emb_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)                  # W_y, b_y

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> torch.Tensor:
        """c = h_S, the encoder's state after the last real (non-pad) input.  (B, S) -> (1, B, H)."""
        checks.shape(src, "src", (None, None), ("B", "S"))
        # packing makes the GRU stop at each sequence's own length, so padding never enters c
        packed = pack_padded_sequence(self.src_emb(src), src_len.cpu(), batch_first=True, enforce_sorted=False)
        _, c = self.encoder(packed)                     # (1, B, H)
        return c

    def encode_all(self, src: torch.Tensor, src_len: torch.Tensor):
        """(c, memory): the decoder's start state and what else it may read -- nothing here (the bottleneck)."""
        return self.encode(src, src_len), None

    def readout(self, states: torch.Tensor, memory) -> torch.Tensor:
        """Logits from decoder states.  (B, T, H) -> (B, T, V)."""
        # p(y_j | y_<j, x) = softmax(W_y s_j + b_y)
        return self.out(states)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position.  tgt_in (B, T) = <bos> y_1 .. y_{T-1} -> (B, T, V)."""
        checks.shape(tgt_in, "tgt_in", (src.shape[0], None), ("B", "T"))
        s_0, memory = self.encode_all(src, src_len)     # (1, B, H)
        states, _ = self.decoder(self.tgt_emb(tgt_in), s_0)   # (B, T, H)
        return self.readout(states, memory)             # (B, T, V)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_len: torch.Tensor, bos_id: int, eos_id: int,
                      max_len: int = 20) -> torch.Tensor:
        """Feed back the most likely character until every sequence wrote <eos>.  -> (B, ≤ max_len)."""
        checks.positive_int(max_len, "max_len")
        s, memory = self.encode_all(src, src_len)       # (1, B, H)
        y = torch.full((src.shape[0], 1), bos_id, dtype=torch.long)
        done = torch.zeros(src.shape[0], dtype=torch.bool)
        out = []
        for _ in range(max_len):
            state, s = self.decoder(self.tgt_emb(y), s)     # (B, 1, H)
            y = self.readout(state, memory).argmax(-1)      # (B, 1)
            out.append(y)
            done |= y[:, 0] == eos_id
            if bool(done.all()):
                break
        return torch.cat(out, dim=1)


class AttentionSeq2Seq(Seq2Seq):
    """The same GRU encoder-decoder, plus scaled dot-product attention over every encoder state."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, emb_size: int = 32, hidden_size: int = 128):
        super().__init__(src_vocab_size, tgt_vocab_size, emb_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)     # W_c, b_c

    def encode_all(self, src: torch.Tensor, src_len: torch.Tensor):
        """(c, memory): c = h_S as before, memory = every encoder state h_1..h_S (B, S, H) and which
        positions are real (B, S), so that padding gets no attention."""
        checks.shape(src, "src", (None, None), ("B", "S"))
        packed = pack_padded_sequence(self.src_emb(src), src_len.cpu(), batch_first=True, enforce_sorted=False)
        enc, c = self.encoder(packed)
        enc, _ = pad_packed_sequence(enc, batch_first=True, total_length=src.shape[1])   # (B, S, H)
        real = torch.arange(src.shape[1])[None, :] < src_len[:, None]                     # (B, S)
        return c, (enc, real)

    def attend(self, states: torch.Tensor, memory) -> tuple[torch.Tensor, torch.Tensor]:
        """a_j = softmax_i(s_j · h_i / √H) over real positions; ctx_j = Σ_i a_ji h_i.  -> (B, T, H), (B, T, S).

        Cross-attention: the query is the decoder state s_j, keys and values are the encoder states h_i.
        """
        enc, real = memory
        # real (B, S) is True at real positions (SDPA's convention: True = allowed), so padding gets weight 0
        return scaled_dot_product_attention(states, enc, enc, attn_mask=real[:, None, :])

    def readout(self, states: torch.Tensor, memory) -> torch.Tensor:
        context, _ = self.attend(states, memory)                   # (B, T, H)
        # p(y_j | y_<j, x) = softmax(W_y tanh(W_c [s_j; ctx_j] + b_c) + b_y)
        return self.out(torch.tanh(self.combine(torch.cat([states, context], dim=-1))))

    @torch.no_grad()
    def attention_weights(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """The weights a_ji with teacher forcing: (B, T_out, S), row j = where output j looked."""
        s_0, memory = self.encode_all(src, src_len)
        states, _ = self.decoder(self.tgt_emb(tgt_in), s_0)
        return self.attend(states, memory)[1]


def seq2seq_loss(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
                 tgt_out: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the next character, padding ignored: −mean_j log p(y_j | y_<j, x)."""
    logits = model(src, src_len, tgt_in)                # (B, T, V)
    return sequence_cross_entropy(logits, tgt_out, ignore_index=0)


def translate(model: Seq2Seq, numerals: Sequence[str], src_vocab: Vocab, tgt_vocab: Vocab,
              max_len: int = 30, reverse_source: bool = True) -> list[str]:
    """Greedy readings of a list of numerals, e.g. ['2048'] -> ['二千零四十八'] once trained.

    reverse_source must match how the training inputs were encoded.
    """
    src, src_len = encode_batch(list(numerals), src_vocab, reverse=reverse_source)
    model.eval()
    ids = model.greedy_decode(src, src_len, tgt_vocab[BOS], tgt_vocab[EOS], max_len=max_len)
    return [decode_ids(row.tolist(), tgt_vocab) for row in ids]


def exact_match(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Fraction of predictions equal to their target, character for character."""
    if len(predictions) != len(targets) or not targets:
        raise ValueError(f"predictions and targets must be non-empty and of equal length, "
                         f"got {len(predictions)} and {len(targets)}")
    return sum(p == t for p, t in zip(predictions, targets)) / len(targets)
