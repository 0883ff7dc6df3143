"""The adding problem as a benchmark: one small model and one trainer shared by chapters 04-06.

Task (Hochreiter & Schmidhuber 1997, see :func:`helpers.data.adding_problem`): read T pairs
(number, mark) and output the sum of the two marked numbers. One marked position lies in each
half of the sequence, so the model must carry a number across about T/2 steps. Predicting the
constant 1 gives MSE = 1/6 ≈ 0.167 (``ADDING_BASELINE_MSE``): a model that stays near that has
learned nothing.

Model: ``torch.nn.RNN`` (tanh) / ``nn.LSTM`` / ``nn.GRU`` with ``batch_first=True`` and a linear
head on the last hidden state::

    h_1 .. h_T = recurrent layer(x_1 .. x_T)
    ŷ          = w · h_T + b

Measured on this course's 2-core CPU while other jobs shared it, ``torch.set_num_threads(1)``
(for models this small one thread was 2-4x faster than two on a busy machine), defaults
``n_train=4000, epochs=8, hidden_size=32, batch_size=64, lr=1e-2, clip=1.0`` (500 Adam steps),
test set = 1000 fresh sequences; wall time per run under that load:

=====  ===  ==========================================  ========  =====================
kind   T    test MSE (seeds 0, 1, 2)                    time      verdict
=====  ===  ==========================================  ========  =====================
rnn    10   0.022, 0.027, 0.018                         ~3 s      learns (baseline 0.167)
rnn    30   0.162, 0.180                                ~8 s      stays at the baseline
lstm   30   0.0026, 0.0045, 0.0013                      ~8 s      solved (≤ 0.01)
lstm   30   0.0015, 0.0015, 0.0009 (forget_bias=1)      ~8 s      solved, a little earlier
gru    30   0.0005 (seed 0; solved by epoch 3)          ~8 s      solved
rnn    50   0.159                                       ~8 s      stays at the baseline
lstm   50   0.0033, 0.171, 0.159 (0.005, 0.003, 0.010   ~10 s     on the edge: the plateau
            with forget_bias=1)                                   ends at epoch 6-8
=====  ===  ==========================================  ========  =====================

So T = 30 is the length at which, with this budget, the plain RNN fails and the LSTM (and GRU)
reliably succeed. Every model first sits on the plateau at ≈ 0.167 (it predicts the mean) and
then drops suddenly once it has learned to find the marks.
"""
from __future__ import annotations

import torch
from torch import nn

from . import checks
from .data import ADDING_BASELINE_MSE, adding_problem
from .env import set_seed
from .train import History, fit

KINDS = ("rnn", "lstm", "gru")
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TEST_SEED_OFFSET = 10_000   # the test set is drawn from another seed than the training set

__all__ = ["ADDING_BASELINE_MSE", "AddingModel", "KINDS", "adding_loss", "evaluate", "train_adding"]


class AddingModel(nn.Module):
    """A one-layer recurrent network (``kind`` = 'rnn' | 'lstm' | 'gru') and a linear head on h_T.

    forward: x (B, T, input_size) -> ŷ (B,)
    """

    def __init__(self, kind: str = "lstm", hidden_size: int = 32, input_size: int = 2,
                 forget_bias: float = 0.0):
        super().__init__()
        self.kind = checks.choice(kind, "kind", KINDS)
        checks.positive_int(hidden_size, "hidden_size")
        checks.positive_int(input_size, "input_size")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise TypeError(f"forget_bias must be a number, got {type(forget_bias).__name__}")
        if forget_bias and kind != "lstm":
            raise ValueError(f"forget_bias is for kind='lstm' only, got kind={kind!r}")
        self.rnn = LAYERS[kind](input_size, hidden_size, batch_first=True)
        if forget_bias:
            H = hidden_size
            with torch.no_grad():   # gate order i, f, g, o: rows H..2H of b_hh are the forget gate's
                self.rnn.bias_hh_l0[H:2 * H] += forget_bias
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.float_tensor(x, "x")
        checks.shape(x, "x", (None, None, self.rnn.input_size), ("B", "T", f"input_size={self.rnn.input_size}"))
        out, _ = self.rnn(x)                   # (B, T, H)
        # ŷ = w · h_T + b
        return self.head(out[:, -1]).squeeze(-1)   # (B,)


def adding_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the model's prediction: mean_b (ŷ_b − y_b)²."""
    return nn.functional.mse_loss(model(x), y)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Test MSE of ``model`` on (x, y), in eval mode."""
    model.eval()
    return float(adding_loss(model, x, y))


def train_adding(kind: str, T: int, n_train: int = 4000, epochs: int = 8, hidden_size: int = 32,
                 lr: float = 1e-2, seed: int = 0, clip: float | None = 1.0, batch_size: int = 64,
                 n_test: int = 1000, forget_bias: float = 0.0, progress: bool = True) -> tuple[AddingModel, History, float]:
    """Train an :class:`AddingModel` on the adding problem of length ``T``.

    Returns (model, history, test_mse). ``history.metrics`` holds ``{'test_mse': ...}`` after
    every epoch, so learning curves can be plotted. Everything is seeded by ``seed``: the same
    call gives the same numbers.
    """
    checks.choice(kind, "kind", KINDS)
    checks.positive_int(T, "T")
    checks.positive_int(n_train, "n_train")
    checks.positive_int(n_test, "n_test")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    x, y = adding_problem(n_train, T, seed=seed)                       # (N, T, 2), (N,)
    x_test, y_test = adding_problem(n_test, T, seed=seed + TEST_SEED_OFFSET)
    set_seed(seed)
    model = AddingModel(kind, hidden_size, forget_bias=forget_bias)
    history = fit(model, adding_loss, (x, y), epochs=epochs, batch_size=batch_size, lr=lr, clip=clip,
                  seed=seed, eval_fn=lambda m: {"test_mse": evaluate(m, x_test, y_test)},
                  desc=f"{kind.upper()} T={T}", progress=progress)
    return model, history, evaluate(model, x_test, y_test)
