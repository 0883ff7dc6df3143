"""The from-scratch RNN / LSTM / GRU equal torch.nn.RNN / LSTM / GRU (float64, ~1e-10)."""
import random

import pytest
import torch

from helpers.nn.gru import GRU, gru_cell
from helpers.nn.lstm import LSTM, lstm_cell
from helpers.nn.rnn import RNN, rnn_cell

TOL = 1e-10
PAIRS = {"rnn": (RNN, torch.nn.RNN), "lstm": (LSTM, torch.nn.LSTM), "gru": (GRU, torch.nn.GRU)}


def random_config(kind: str, seed: int) -> dict:
    rng = random.Random(seed)
    cfg = dict(input_size=rng.randint(1, 6), hidden_size=rng.randint(1, 7), num_layers=rng.randint(1, 3),
               bias=rng.random() < 0.75, batch_first=rng.random() < 0.5, bidirectional=rng.random() < 0.5)
    if kind == "rnn":
        cfg["nonlinearity"] = rng.choice(["tanh", "relu"])
    return cfg


def make_pair(kind, cfg, seed):
    Scratch, Torch = PAIRS[kind]
    torch.manual_seed(seed)
    ref = Torch(**cfg).double()
    ours = Scratch(**cfg).double()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def flat_states(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", list(PAIRS))
@pytest.mark.parametrize("seed", range(12))
def test_matches_pytorch(kind, seed):
    cfg = random_config(kind, seed)
    ours, ref = make_pair(kind, cfg, seed)
    rng = random.Random(1000 + seed)
    T, B = rng.randint(1, 6), rng.randint(1, 4)
    shape = (B, T, cfg["input_size"]) if cfg["batch_first"] else (T, B, cfg["input_size"])
    x = torch.randn(*shape, dtype=torch.float64)
    D = 2 if cfg["bidirectional"] else 1
    hx = None
    if rng.random() < 0.5:
        h0 = torch.randn(cfg["num_layers"] * D, B, cfg["hidden_size"], dtype=torch.float64)
        hx = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    out_o, st_o = ours(x, hx)
    out_r, st_r = ref(x, hx)
    assert out_o.shape == out_r.shape
    assert torch.allclose(out_o, out_r, atol=TOL, rtol=0)
    for a, b in zip(flat_states(st_o), flat_states(st_r)):
        assert a.shape == b.shape and torch.allclose(a, b, atol=TOL, rtol=0)
    # gradients of every parameter through a random linear read-out of outputs and final states
    weights = [torch.randn_like(t) for t in [out_r, *flat_states(st_r)]]
    loss = lambda out, st: sum((w * t).sum() for w, t in zip(weights, [out, *flat_states(st)]))
    loss(out_o, st_o).backward()
    loss(out_r, st_r).backward()
    g_ref = dict(ref.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(g_ref), "same parameter names in the same order as PyTorch"
    for name, p in ours.named_parameters():
        assert torch.allclose(p.grad, g_ref[name].grad, atol=TOL, rtol=0), name


@pytest.mark.parametrize("kind", list(PAIRS))
def test_state_dict_both_ways_and_unbatched(kind):
    cfg = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    Scratch, Torch = PAIRS[kind]
    torch.manual_seed(0)
    ours = Scratch(**cfg).double()
    ref = Torch(**cfg).double()
    ref.load_state_dict(ours.state_dict())               # ours -> torch
    x = torch.randn(5, 3, dtype=torch.float64)            # unbatched (T, I)
    out_o, st_o = ours(x)
    out_r, st_r = ref(x)
    assert out_o.shape == out_r.shape == (5, 8)
    assert torch.allclose(out_o, out_r, atol=TOL, rtol=0)
    for a, b in zip(flat_states(st_o), flat_states(st_r)):
        assert a.shape == b.shape == (4, 4)
        assert torch.allclose(a, b, atol=TOL, rtol=0)


@pytest.mark.parametrize("kind", list(PAIRS))
def test_float32(kind):
    ours, ref = make_pair(kind, dict(input_size=3, hidden_size=5, num_layers=2), 0)
    ours, ref = ours.float(), ref.float()
    x = torch.randn(7, 2, 3)
    assert torch.allclose(ours(x)[0], ref(x)[0], atol=1e-5)


def test_cells_match_torch_cells():
    torch.manual_seed(0)
    x, h, c = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    for Cell, fn, state in ((torch.nn.RNNCell, rnn_cell, h), (torch.nn.GRUCell, gru_cell, h)):
        cell = Cell(4, 5).double()
        assert torch.allclose(fn(x, state, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                              cell(x, state), atol=TOL)
    cell = torch.nn.LSTMCell(4, 5).double()
    h1, c1, gates = lstm_cell(x, (h, c), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, return_gates=True)
    h2, c2 = cell(x, (h, c))
    assert torch.allclose(h1, h2, atol=TOL) and torch.allclose(c1, c2, atol=TOL)
    assert set(gates) == {"i", "f", "g", "o"} and all(g.shape == (3, 5) for g in gates.values())


def test_dropout_only_in_training():
    torch.manual_seed(0)
    layer = LSTM(3, 4, num_layers=2, dropout=0.5).double()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    layer.eval()
    assert torch.equal(layer(x)[0], layer(x)[0])
    layer.train()
    assert not torch.equal(layer(x)[0], layer(x)[0])
