import pytest
import torch

from helpers import embedding as E
from helpers.vocab import Vocab


def test_one_hot_rows_and_errors():
    oh = E.one_hot(torch.tensor([2, 0]), 4)
    assert oh.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]] and oh.dtype == torch.float32
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        E.one_hot(torch.tensor([4]), 4)
    with pytest.raises(TypeError):
        E.one_hot(torch.tensor([1.0]), 4)


def test_cosine_matrix_values():
    A = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    C = E.cosine_matrix(A)
    assert torch.allclose(C, torch.tensor([[1.0, 0, -1], [0, 1, 0], [-1, 0, 1]]))
    assert E.cosine_matrix(A, A[:1]).shape == (3, 1)
    with pytest.raises(ValueError):
        E.cosine_matrix(A, torch.zeros(2, 3))


def test_one_hot_vectors_are_orthogonal():
    C = E.cosine_matrix(E.one_hot(torch.arange(5), 5))
    assert torch.equal(C, torch.eye(5))


def test_keep_chinese_words():
    assert E.keep_chinese_words(["好", "，", "abc", "123", "CPU很", " "]) == ["好", "CPU很"]


def test_skipgram_pairs_window_and_unk():
    c, o = E.skipgram_pairs([[2, 3, 4]], window=1)
    assert sorted(zip(c.tolist(), o.tolist())) == [(2, 3), (3, 2), (3, 4), (4, 3)]
    c, o = E.skipgram_pairs([[2, 1, 3]], window=1)          # <unk> (1) is dropped first
    assert sorted(zip(c.tolist(), o.tolist())) == [(2, 3), (3, 2)]
    c, _ = E.skipgram_pairs([[2, 3, 4, 5]], window=2)
    assert len(c) == 2 + 3 + 3 + 2
    with pytest.raises(ValueError, match="no"):
        E.skipgram_pairs([[2]], window=2)


def test_subsample_drops_frequent_words_reproducibly():
    seqs = [["的"] * 50 + ["书"]] * 20
    v = Vocab(seqs)
    ids = [v.encode(s) for s in seqs]
    a = E.subsample(ids, v, t=1e-3, seed=0)
    assert a == E.subsample(ids, v, t=1e-3, seed=0)
    n_de = sum(s.count(v["的"]) for s in a)
    assert n_de < 0.5 * 50 * 20
    assert sum(s.count(v["书"]) for s in a) > 0
    with pytest.raises(ValueError):
        E.subsample(ids, v, t=0)


def test_skipgram_loss_shape_and_learning():
    torch.manual_seed(0)
    # words 2 and 3 share their contexts (6 _ 7), words 4 and 5 share theirs (8 _ 9)
    seqs = [[6, 2, 7], [6, 3, 7], [8, 4, 9], [8, 5, 9]] * 20
    c, o = E.skipgram_pairs(seqs, window=1)
    model = E.SkipGram(10, 8, counts=torch.tensor([0, 0] + [1.0] * 8), negatives=2)
    loss0 = model(c, o)
    assert loss0.dim() == 0
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        loss = model(c, o)
        opt.zero_grad(); loss.backward(); opt.step()
    assert loss.item() < loss0.item()
    C = E.cosine_matrix(model.vectors)
    assert C[2, 3] > C[2, 4] and C[4, 5] > C[4, 3]
    assert model.vectors.shape == (10, 8) and not model.vectors.requires_grad


def test_skipgram_rejects_bad_counts():
    with pytest.raises(ValueError, match="counts"):
        E.SkipGram(5, 4, counts=torch.ones(4))
    with pytest.raises(ValueError, match="positive"):
        E.SkipGram(3, 4, counts=torch.zeros(3))


def test_nearest_neighbors():
    v = Vocab([["猫", "狗", "车"]])
    vecs = torch.tensor([[9.0, 9], [9, -9], [1, 0], [0.9, 0.1], [0, 1]])   # <pad>, <unk>, 猫, 狗, 车
    nn_ = E.nearest_neighbors(vecs, v, "猫", k=2)
    assert [w for w, _ in nn_] == ["狗", "车"] and nn_[0][1] > nn_[1][1]
    with pytest.raises(KeyError):
        E.nearest_neighbors(vecs, v, "鱼")
    with pytest.raises(ValueError, match="one row per"):
        E.nearest_neighbors(vecs[:3], v, "猫")


def test_pca_2d_finds_the_main_direction_and_is_sign_stable():
    torch.manual_seed(0)
    t = torch.linspace(-1, 1, 20)
    X = torch.stack([10 * t, t, 0.01 * torch.randn(20)], dim=1)
    Z = E.pca_2d(X)
    assert Z.shape == (20, 2)
    assert torch.allclose(Z[:, 0].abs(), (X[:, :2] - X[:, :2].mean(0)).norm(dim=1), atol=1e-3)
    assert torch.allclose(E.pca_2d(-X), Z, atol=1e-5)             # flipping the data does not flip the plot
    with pytest.raises(ValueError):
        E.pca_2d(torch.zeros(1, 3))


# ----------------------------------------------------------------------------- domain checks (chapter 02 §5)
DOMAINS = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3"]}


def _domain_vectors():
    vocab = Vocab([["a1", "a2", "a3", "b1", "b2", "b3", "x"]])
    vectors = torch.zeros(len(vocab), 3)
    vectors[:, 2] = 0.1
    for d, ws in enumerate(DOMAINS.values()):
        for j, w in enumerate(ws):
            vectors[vocab[w], d] = 1.0 + 0.1 * j
    vectors[vocab["x"]] = torch.tensor([0.0, 0.0, 1.0])
    return vectors, vocab


def test_domain_cosines_counts_and_values():
    vectors, vocab = _domain_vectors()
    within, across = E.domain_cosines(vectors, vocab, DOMAINS)
    assert len(within) == 2 * 3 and len(across) == 3 * 3
    assert min(within) > 0.99 and max(across) < 0.05
    with pytest.raises(KeyError, match="not in the vocabulary"):
        E.domain_cosines(vectors, vocab, {"a": ["a1", "zz"]})


def test_neighbours_in_domain():
    vectors, vocab = _domain_vectors()
    # a1's two nearest words are a2, a3: both closer to domain a (a1 left out) than to b
    assert E.neighbours_in_domain(vectors, vocab, "a1", DOMAINS, k=2) == 1.0
    # with k = 5 the neighbours also hold b-words and x: only a2, a3 lean to a
    assert E.neighbours_in_domain(vectors, vocab, "a1", DOMAINS, k=5) == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="exactly one domain"):
        E.neighbours_in_domain(vectors, vocab, "x", DOMAINS)


def test_word_map_labels_do_not_overlap():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from helpers.plots.embedding_plots import word_map
    from helpers.plots.plotting import style

    style()                                             # the Chinese font (label sizes depend on it)
    groups = {"g1": ["读者", "故事", "作者", "小说"], "g2": ["差", "房间", "早餐"]}
    points = torch.tensor([[1.60, 0.55], [1.65, 0.55], [1.75, 0.60], [1.90, 0.52],     # a tight cluster
                           [-0.45, -1.2], [-0.45, -1.0], [-0.25, -1.15]])
    fig = word_map(points, groups, title="t")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 7
    for i in range(len(boxes)):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (ax.texts[i].get_text(), ax.texts[j].get_text())
    with pytest.raises(ValueError, match="one row per word"):
        word_map(points[:3], groups)
    plt.close("all")
