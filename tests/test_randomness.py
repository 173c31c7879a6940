"""Randomness as in the course: ``np.random.seed`` repeats everything; seeds isolate.

With no seed, weight initialisation, the Solver's minibatches and accuracy
subsamples and dropout masks draw from numpy's global random state, in the order
the course's starter code draws (so the course's printed numbers come out); an
explicit ``seed=`` (int or Generator) makes a component independent of it.
The expected draws below are written out the course's way (``np.random.randn``,
``np.random.choice``) rather than taken from the code under test.
"""
import os
import re
from pathlib import Path

import numpy as np
import pytest

from cs231n.classifiers.cnn import ConvNet, ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.solver import Solver

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _restore_global_state():
    """These tests seed numpy's global state on purpose; put it back afterwards."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _blobs(n_train=60, n_val=40, D=6, C=3, seed=0):
    r = np.random.default_rng(seed)
    centres = 3 * r.standard_normal((C, D))
    y = r.integers(C, size=n_train + n_val)
    X = centres[y] + r.standard_normal((n_train + n_val, D))
    return {"X_train": X[:n_train], "y_train": y[:n_train],
            "X_val": X[n_train:], "y_val": y[n_train:]}


def _assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# --------------------------------------------------------------------------- #
# weight initialisation
# --------------------------------------------------------------------------- #
def test_fc_net_draws_its_weights_like_the_course():
    np.random.seed(231)
    model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2,
                              dtype=np.float64, normalization="batchnorm")
    np.random.seed(231)
    expected = [5e-2 * np.random.randn(15, 20), 5e-2 * np.random.randn(20, 30),
                5e-2 * np.random.randn(30, 10)]
    for i, W in enumerate(expected, start=1):
        np.testing.assert_array_equal(model.params[f"W{i}"], W)
    # the model drew nothing else: the global state is where the course leaves it
    after_model = np.random.rand()
    np.random.seed(231)
    for shape in ((15, 20), (20, 30), (30, 10)):
        np.random.randn(*shape)
    assert np.random.rand() == after_model


def test_three_layer_convnet_draws_its_weights_like_the_course():
    np.random.seed(231)
    model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=(3, 8, 8), hidden_dim=7,
                              weight_scale=0.1, dtype=np.float64)
    np.random.seed(231)
    W1 = 0.1 * np.random.randn(3, 3, 3, 3)
    W2 = 0.1 * np.random.randn(3 * 4 * 4, 7)
    W3 = 0.1 * np.random.randn(7, 10)
    for name, W in (("W1", W1), ("W2", W2), ("W3", W3)):
        np.testing.assert_array_equal(model.params[name], W)


@pytest.mark.parametrize("build", [
    lambda **kw: FullyConnectedNet([8, 8], input_dim=6, num_classes=3, dropout_keep_ratio=0.5,
                                   normalization="batchnorm", **kw),
    lambda **kw: ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, hidden_dim=5, **kw),
    lambda **kw: ConvNet(input_dim=(3, 8, 8), num_filters=(4,), hidden_dims=(5,), **kw),
], ids=["FullyConnectedNet", "ThreeLayerConvNet", "ConvNet"])
def test_global_seed_repeats_init_and_explicit_seeds_ignore_it(build):
    np.random.seed(231)
    a = build()
    np.random.seed(231)
    b = build()
    c = build()                              # the global state moved on: new weights
    _assert_same_params(a.params, b.params)
    assert not np.array_equal(a.params["W1"], c.params["W1"])

    for make_seed in (lambda: 7, lambda: np.random.default_rng(7)):
        np.random.seed(1)
        d = build(seed=make_seed())
        after_d = np.random.get_state()[1].copy()
        np.random.seed(2)
        e = build(seed=make_seed())
        _assert_same_params(d.params, e.params)
        np.random.seed(1)
        np.testing.assert_array_equal(np.random.get_state()[1], after_d)   # untouched


def test_where_dropout_masks_come_from():
    kw = dict(input_dim=6, num_classes=3, dropout_keep_ratio=0.5)
    unseeded = FullyConnectedNet([8], **kw)
    assert unseeded.dropout_param == {"mode": "train", "p": 0.5}      # global state
    assert FullyConnectedNet([8], seed=3, **kw).dropout_param == {"mode": "train", "p": 0.5,
                                                                  "seed": 3}
    gen = np.random.default_rng(3)
    assert FullyConnectedNet([8], seed=gen, **kw).dropout_param["rng"] is gen
    conv = ConvNet(input_dim=(3, 8, 8), num_filters=(4,), hidden_dims=(5,),
                   dropout_keep_ratio=0.5)
    assert conv.dropout_param == {"mode": "train", "p": 0.5}


def test_dropout_training_loss_repeats_under_the_global_seed():
    """Needs dropout_forward to draw from numpy's global state when the dict has no
    seed and no rng (the course's behaviour)."""
    data = _blobs()
    X, y = data["X_train"][:20], data["y_train"][:20]

    def losses():
        np.random.seed(231)
        model = FullyConnectedNet([30, 30], input_dim=6, num_classes=3, dropout_keep_ratio=0.5,
                                  dtype=np.float64)
        return [model.loss(X, y)[0] for _ in range(3)]

    a, b = losses(), losses()
    assert a == b
    assert len(set(a)) == 3                  # fresh masks on every call, same params


# --------------------------------------------------------------------------- #
# the Solver
# --------------------------------------------------------------------------- #
class _Recorder:
    """Softmax regression that records the minibatches it is trained on."""

    def __init__(self, D=6, C=3):
        self.params = {"W": np.zeros((D, C)), "b": np.zeros(C)}
        self.batches = []

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        self.batches.append(X.copy())
        p = np.exp(scores - scores.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        p[np.arange(len(y)), y] -= 1
        p /= len(y)
        return loss, {"W": X.T @ p, "b": p.sum(0)}


def test_solver_draws_minibatches_with_np_random_choice():
    data = _blobs()
    model = _Recorder()
    solver = Solver(model, data, batch_size=10, num_epochs=1, num_train_samples=20,
                    num_val_samples=15, verbose=False, progress=False)
    np.random.seed(5)
    solver.train()
    # the course's order: minibatch 1, the accuracy subsamples after step 1
    # (train then val), minibatches 2..6, then the end-of-epoch subsamples
    np.random.seed(5)
    masks = [np.random.choice(60, 10)]
    np.random.choice(60, 20), np.random.choice(40, 15)
    masks += [np.random.choice(60, 10) for _ in range(5)]
    assert len(model.batches) == 6
    for got, mask in zip(model.batches, masks):
        np.testing.assert_array_equal(got, data["X_train"][mask])


def test_check_accuracy_subsamples_with_np_random_choice():
    data = _blobs()
    model = _Recorder()
    model.params["W"] = np.random.default_rng(1).standard_normal((6, 3))
    solver = Solver(model, data, verbose=False)
    X, y = data["X_val"], data["y_val"]
    np.random.seed(9)
    got = solver.check_accuracy(X, y, num_samples=15)
    np.random.seed(9)
    mask = np.random.choice(40, 15)
    expected = np.mean(np.argmax(X[mask] @ model.params["W"], axis=1) == y[mask])
    assert got == expected


def _fc_run(seed=None, keep=1.0, normalization="batchnorm"):
    model = FullyConnectedNet([20, 20], input_dim=6, num_classes=3, normalization=normalization,
                              dropout_keep_ratio=keep, weight_scale=0.1, dtype=np.float64)
    solver = Solver(model, _blobs(), update_rule="adam", optim_config={"learning_rate": 1e-2},
                    batch_size=10, num_epochs=2, num_train_samples=30, num_val_samples=20,
                    verbose=False, progress=False, seed=seed)
    solver.train()
    return solver


def test_two_runs_after_the_same_global_seed_are_identical():
    np.random.seed(231)
    a = _fc_run()
    np.random.seed(231)
    b = _fc_run()
    c = _fc_run()                               # global state moved on
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    _assert_same_params(a.model.params, b.model.params)
    assert a.loss_history != c.loss_history


def test_two_runs_with_dropout_after_the_same_global_seed_are_identical():
    np.random.seed(231)
    a = _fc_run(keep=0.6)
    np.random.seed(231)
    b = _fc_run(keep=0.6)
    assert a.loss_history == b.loss_history
    assert a.val_acc_history == b.val_acc_history


def test_a_seeded_solver_ignores_and_keeps_the_global_state():
    np.random.seed(231)
    model_state = np.random.get_state()
    runs = []
    for global_seed in (1, 2):
        np.random.set_state(model_state)
        model = FullyConnectedNet([20], input_dim=6, num_classes=3, weight_scale=0.1,
                                  dtype=np.float64)   # same weights both times
        np.random.seed(global_seed)
        before = np.random.get_state()[1].copy()
        s = Solver(model, _blobs(), batch_size=10, num_epochs=2, num_train_samples=30,
                   verbose=False, progress=False, seed=np.random.default_rng(4))
        s.train()
        np.testing.assert_array_equal(np.random.get_state()[1], before)
        runs.append(s)
    assert runs[0].loss_history == runs[1].loss_history
    assert runs[0].train_acc_history == runs[1].train_acc_history


def test_resuming_an_unseeded_run_restores_the_global_state(tmp_path):
    data = _blobs()

    def solver(**kw):
        model = FullyConnectedNet([20], input_dim=6, num_classes=3, weight_scale=0.1,
                                  dtype=np.float64, dropout_keep_ratio=0.7)
        kw = {**dict(batch_size=10, num_epochs=3, num_train_samples=30, num_val_samples=20,
                     update_rule="adam", verbose=False, progress=False), **kw}
        return Solver(model, data, **kw)

    np.random.seed(3)
    straight = solver()
    straight.train()

    np.random.seed(3)
    first = solver(num_epochs=1, checkpoint_name=str(tmp_path / "run"))
    first.train()
    np.random.seed(12345)                       # anything drawn in between is forgotten
    np.random.rand(100)
    resumed = Solver.from_checkpoint(solver().model, data, tmp_path / "run_epoch_1.npz",
                                     num_epochs=3)
    assert resumed.rng is None
    resumed.train()
    assert resumed.loss_history == straight.loss_history
    assert resumed.val_acc_history == straight.val_acc_history
    _assert_same_params(resumed.model.params, straight.model.params)


# --------------------------------------------------------------------------- #
# a whole notebook
# --------------------------------------------------------------------------- #
def _stream_text(nb):
    """Everything the cells printed, with the kernel's name for a cell (in warnings)
    masked: it names a temporary file that differs from kernel to kernel."""
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.output_type == "stream")
    return re.sub(r"\S*ipykernel_\d+\S*\.py:\d+", "<cell>", text)


@pytest.mark.slow
def test_a_kit_notebook_prints_the_same_twice(cifar10_dir, monkeypatch):
    """The Dropout notebook, executed twice in fast mode, prints the same text."""
    import jupytext
    from nbclient import NotebookClient

    import cs231n

    monkeypatch.setenv("CS231N_FAST", "1")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(cifar10_dir))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    kit_root = str(Path(cs231n.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [kit_root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    texts = []
    for _ in range(2):
        nb = jupytext.read(REPO / "notebooks" / "Dropout.py")
        NotebookClient(nb, kernel_name="python3", timeout=600,
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
        texts.append(_stream_text(nb))
    # numbers were printed (losses, errors, accuracies), and the same ones both times
    assert len(re.findall(r"\d\.\d{3}", texts[0])) > 10
    assert texts[0] == texts[1]


def test_the_courses_printed_initial_losses_come_out():
    """The official FullyConnectedNets check, as the course writes it; the expected
    values are the ones the course's notebook prints."""
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    losses = []
    for reg in [0, 3.14]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64)
        losses.append(model.loss(X, y)[0])
    np.testing.assert_allclose(losses, [2.3004790897684924, 7.052114776533016], rtol=1e-12)
