"""Tests for cs231n/solver.py with tiny models defined here (plain numpy)."""
import copy
import json
import os
import re

import numpy as np
import pytest

from cs231n import solver as solver_module
from cs231n.solver import InvalidDataError, Solver, TrainingDivergedError

C, D = 3, 4


# ---------------------------------------------------------------------------
# test models
# ---------------------------------------------------------------------------
class Softmax:
    """Softmax regression ``scores = (X - mu) W + b``, with optional model state.

    ``state=True`` adds what real models carry besides params: a running mean of
    the inputs in ``bn_params[0]`` (used to centre X at test time, updated in
    training like batch norm) and an input dropout driven by a generator stored
    in ``dropout_param['rng']``.
    """

    def __init__(self, seed=0, dtype=np.float64, state=False):
        r = np.random.default_rng(seed)
        self.params = {"W": r.normal(0, 0.01, (D, C)).astype(dtype), "b": np.zeros(C, dtype)}
        self.state = state
        self.train_calls = 0
        if state:
            self.bn_params = [{"mode": "train", "momentum": 0.5, "running_mean": np.zeros(D)}]
            self.dropout_param = {"mode": "train", "p": 0.7, "rng": np.random.default_rng(seed + 100)}

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        if self.state:
            if y is None:
                X = X - self.bn_params[0]["running_mean"]
            else:
                bn = self.bn_params[0]
                bn["running_mean"] = bn["momentum"] * bn["running_mean"] + (1 - bn["momentum"]) * X.mean(0)
                keep = self.dropout_param["rng"].random(X.shape) < self.dropout_param["p"]
                X = X * keep / self.dropout_param["p"]
        W, b = self.params["W"], self.params["b"]
        scores = X @ W + b
        if y is None:
            return scores
        self.train_calls += 1
        n = X.shape[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        dscores = p.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class Scripted:
    """Scalar parameter ``w`` that grows by 1 per SGD step (lr 1, gradient -1).

    At test time it predicts class 0 (every label is 0) only while ``w`` equals
    ``target``, so the validation accuracy peaks exactly when ``w == target``.
    """

    def __init__(self, target):
        self.target = target
        self.params = {"w": np.zeros(1)}

    def loss(self, X, y=None):
        n = X.shape[0]
        good = self.params["w"][0] == self.target
        if y is None:
            scores = np.zeros((n, 2))
            scores[:, 0 if good else 1] = 1.0
            return scores
        return 1.0, {"w": np.array([-1.0])}


class NanAt(Softmax):
    """Softmax regression whose k-th training loss is nan."""

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k
        self.params_at_call = None

    def loss(self, X, y=None):
        if y is None:
            return super().loss(X)
        self.params_at_call = {k: v.copy() for k, v in self.params.items()}
        loss, grads = super().loss(X, y)
        return (np.nan if self.train_calls == self.k else loss), grads


def blobs(seed=1, n_train=60, n_val=30):
    r = np.random.default_rng(seed)
    centers = r.normal(0, 2, (C, D))

    def make(n):
        y = r.integers(0, C, n)
        return centers[y] + r.normal(0, 1, (n, D)), y

    X_train, y_train = make(n_train)
    X_val, y_val = make(n_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def zeros_data(n_train=4, n_val=3):
    return {"X_train": np.zeros((n_train, 2)), "y_train": np.zeros(n_train, dtype=int),
            "X_val": np.zeros((n_val, 2)), "y_val": np.zeros(n_val, dtype=int)}


def quiet(**kwargs):
    kwargs.setdefault("verbose", False)
    kwargs.setdefault("progress", False)
    return kwargs


def assert_same_params(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------
def test_defaults_match_spec():
    s = Solver(Softmax(), blobs())
    assert s.update_rule is solver_module.optim.sgd
    assert s.optim_config == {}
    assert (s.lr_decay, s.batch_size, s.num_epochs) == (1.0, 100, 10)
    assert (s.num_train_samples, s.num_val_samples) == (1000, None)
    assert (s.checkpoint_name, s.print_every, s.verbose) == (None, 10, True)
    assert (s.epoch, s.best_val_acc) == (0, 0)
    assert s.loss_history == [] and s.train_acc_history == [] and s.val_acc_history == []


def test_unknown_kwarg_and_rule():
    with pytest.raises(ValueError, match="learning_rat"):
        Solver(Softmax(), blobs(), learning_rat=1e-3)
    for bad in ("adagrad", "np", "_check_args", "check_int"):
        with pytest.raises(ValueError, match="update_rule"):
            Solver(Softmax(), blobs(), update_rule=bad)
    with pytest.raises(TypeError, match="update_rule"):
        Solver(Softmax(), blobs(), update_rule=3)


@pytest.mark.parametrize("kwargs,exc,word", [
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"num_epochs": -1}, ValueError, "num_epochs"),
    ({"lr_decay": 0.0}, ValueError, "lr_decay"),
    ({"print_every": 0}, ValueError, "print_every"),
    ({"num_train_samples": 0}, ValueError, "num_train_samples"),
    ({"num_val_samples": "all"}, TypeError, "num_val_samples"),
    ({"optim_config": [("learning_rate", 1)]}, TypeError, "optim_config"),
    ({"seed": "zero"}, TypeError, "seed"),
    ({"progress": "yes"}, TypeError, "progress"),
    ({"checkpoint_name": 5}, TypeError, "checkpoint_name"),
])
def test_bad_kwarg_values(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        Solver(Softmax(), blobs(), **kwargs)


def test_model_must_follow_the_api():
    class NoParams:
        def loss(self, X, y=None):
            return X

    with pytest.raises(TypeError, match="params"):
        Solver(NoParams(), blobs())
    model = Softmax()
    model.params["W"] = model.params["W"].tolist()
    with pytest.raises(TypeError, match="W"):
        Solver(model, blobs())


def _bad_data_cases():
    d = blobs()
    cases = {}
    cases["missing key"] = {k: v for k, v in d.items() if k != "y_val"}
    cases["length mismatch"] = dict(d, y_train=d["y_train"][:-1])
    cases["float labels"] = dict(d, y_train=d["y_train"].astype(float))
    cases["negative label"] = dict(d, y_val=np.where(np.arange(30) == 3, -1, d["y_val"]))
    cases["label beyond score width"] = dict(d, y_train=np.where(np.arange(60) == 5, C, d["y_train"]))
    cases["sample shapes differ"] = dict(d, X_val=np.zeros((30, D + 1)))
    cases["empty training set"] = dict(d, X_train=d["X_train"][:0], y_train=d["y_train"][:0])
    cases["labels not 1-d"] = dict(d, y_val=d["y_val"][:, None])
    cases["X not an array"] = dict(d, X_train=d["X_train"].tolist())
    cases["X one-dimensional"] = dict(d, X_val=np.zeros(30))
    return cases


@pytest.mark.parametrize("case", list(_bad_data_cases()))
def test_malformed_data_raises_value_error_before_training(case):
    data = _bad_data_cases()[case]
    model = Softmax()
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError) as info:
        Solver(model, data)
    assert "data" in str(info.value)
    assert model.train_calls == 0
    assert_same_params(model.params, before)


def test_data_error_messages_are_specific():
    cases = _bad_data_cases()
    with pytest.raises(InvalidDataError, match="y_val"):
        Solver(Softmax(), cases["missing key"])
    with pytest.raises(TypeError, match="integer"):  # also a TypeError (wrong kind)
        Solver(Softmax(), cases["float labels"])
    with pytest.raises(ValueError, match=r"label 3 .* 3 classes"):
        Solver(Softmax(), cases["label beyond score width"])
    with pytest.raises(ValueError, match=r"\(4,\).*\(5,\)"):
        Solver(Softmax(), cases["sample shapes differ"])
    with pytest.raises(ValueError, match="empty"):
        Solver(Softmax(), cases["empty training set"])
    with pytest.raises(TypeError, match="dict"):
        Solver(Softmax(), [1, 2, 3])


def test_extra_data_keys_are_ignored():
    d = dict(blobs(), X_test=np.zeros(3), y_test="anything")
    s = Solver(Softmax(), d, **quiet(num_epochs=1))
    s.train()
    assert len(s.loss_history) > 0 and np.all(np.isfinite(s.loss_history))
    assert s.val_acc_history and 0.0 <= s.val_acc_history[-1] <= 1.0


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n_train,batch,epochs", [(60, 10, 3), (60, 60, 3), (60, 100, 2), (61, 20, 2)])
def test_history_lengths(n_train, batch, epochs):
    s = Solver(Softmax(), blobs(n_train=n_train), **quiet(batch_size=batch, num_epochs=epochs, seed=0))
    s.train()
    ipe = max(n_train // batch, 1)
    assert len(s.loss_history) == epochs * ipe == s.iteration
    # first iteration + each epoch end (the first one coincides when ipe == 1)
    checks = epochs + (1 if ipe > 1 else 0)
    assert len(s.train_acc_history) == len(s.val_acc_history) == checks
    assert s.epoch == epochs
    assert s.model.train_calls == epochs * ipe


def test_training_reduces_loss_and_learns():
    s = Solver(Softmax(), blobs(), **quiet(update_rule="adam", optim_config={"learning_rate": 0.05},
                                            num_epochs=5, batch_size=10, seed=0))
    s.train()
    assert np.mean(s.loss_history[-6:]) < 0.7 * s.loss_history[0]
    assert s.best_val_acc > 0.6  # three well separated blobs; chance is 1/3


def test_lr_decay_applied_to_every_param_after_each_epoch():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    s = Solver(Softmax(), blobs(), **quiet(update_rule=recording_sgd, optim_config={"learning_rate": 0.1},
                                            lr_decay=0.5, num_epochs=3, batch_size=20, seed=0))
    s.train()
    # 3 steps per epoch, 2 params per step; step i of epoch e uses 0.1 * 0.5**e
    assert seen == [0.1 * 0.5**e for e in range(3) for _ in range(3 * 2)]
    for p in ("W", "b"):
        assert s.optim_configs[p]["learning_rate"] == 0.1 * 0.5**3
    assert s.optim_config == {"learning_rate": 0.1}  # the user's dict is not modified


def test_optim_configs_are_per_parameter():
    base = {"learning_rate": 1e-2, "velocity_hint": np.zeros(2)}
    s = Solver(Softmax(), blobs(), **quiet(update_rule="sgd_momentum", optim_config=base,
                                            num_epochs=1, batch_size=20, seed=0))
    assert s.optim_configs["W"] is not s.optim_configs["b"]
    assert s.optim_configs["W"]["velocity_hint"] is not s.optim_configs["b"]["velocity_hint"]
    s.train()
    assert s.optim_configs["W"]["velocity"].shape == (D, C)
    assert s.optim_configs["b"]["velocity"].shape == (C,)
    assert "velocity" not in base


def test_custom_rule_without_learning_rate_is_left_alone():
    def sign_step(w, dw, config):
        return w - 1e-3 * np.sign(dw), config

    s = Solver(Softmax(), blobs(), **quiet(update_rule=sign_step, lr_decay=0.5, num_epochs=2, seed=0))
    s.train()
    assert s.optim_configs["W"] == {}


def test_best_params_restored_from_the_peak_epoch():
    # 4 samples, batch 2: 2 steps per epoch, so w == 2 * epochs_done; peak at epoch 2.
    model = Scripted(target=4.0)
    s = Solver(model, zeros_data(), **quiet(optim_config={"learning_rate": 1.0}, batch_size=2,
                                              num_epochs=5, seed=0))
    s.train()
    assert s.val_acc_history == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # iteration 1, epochs 1..5
    assert s.best_val_acc == 1.0
    assert model.params["w"][0] == 4.0  # not the final 10
    assert s.best_params["w"][0] == 4.0
    assert model.params["w"] is not s.best_params["w"]


def test_best_params_are_copies_even_with_an_in_place_rule():
    def inplace_sgd(w, dw, config):
        w -= dw  # mutates the model's array
        return w, config

    model = Scripted(target=4.0)
    s = Solver(model, zeros_data(), **quiet(update_rule=inplace_sgd, batch_size=2, num_epochs=5, seed=0))
    s.train()
    assert s.best_params["w"][0] == 4.0
    assert model.params["w"][0] == 4.0
    # training further never writes into best_params
    s.num_epochs = 6
    s.train()
    assert s.best_params["w"][0] == 4.0


def test_params_never_wiped_when_val_acc_stays_zero():
    model = Scripted(target=-1.0)  # never reached: val acc always 0
    s = Solver(model, zeros_data(), **quiet(optim_config={"learning_rate": 1.0}, batch_size=2,
                                              num_epochs=3, seed=0))
    s.train()
    assert max(s.val_acc_history) == 0.0
    assert list(model.params) == ["w"]
    assert model.params["w"][0] == 0.0  # the initial value, kept as "best"


def test_train_again_continues_to_num_epochs():
    s = Solver(Softmax(), blobs(), **quiet(num_epochs=2, batch_size=20, seed=0))
    s.train()
    s.train()  # already done: nothing more
    assert len(s.loss_history) == 6
    s.num_epochs = 3
    s.train()
    assert len(s.loss_history) == 9 and s.epoch == 3


def test_check_accuracy_against_direct_computation():
    data = blobs()
    model = Softmax(seed=3)
    model.params["W"] = np.random.default_rng(9).normal(size=(D, C))
    s = Solver(model, data, **quiet(seed=0))
    X, y = data["X_val"], data["y_val"]
    expected = np.mean(np.argmax(X @ model.params["W"] + model.params["b"], axis=1) == y)
    assert s.check_accuracy(X, y) == expected
    assert s.check_accuracy(X, y, batch_size=7) == expected  # 7 does not divide 30
    sub = s.check_accuracy(X, y, num_samples=10)
    assert sub * 10 == round(sub * 10)  # a fraction of exactly 10 samples
    with pytest.raises(ValueError, match="num_samples"):
        s.check_accuracy(X, y, num_samples=0)
    with pytest.raises(ValueError, match="labels"):
        s.check_accuracy(X, y[:-1])


def test_seed_reproducibility_and_global_state_untouched():
    state = np.random.get_state()[1].copy()

    def run(seed):
        s = Solver(Softmax(), blobs(), **quiet(num_epochs=2, batch_size=10, num_train_samples=20,
                                                seed=seed))
        s.train()
        return s

    a, b, c = run(7), run(7), run(8)
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert_same_params(a.model.params, b.model.params)
    assert a.loss_history != c.loss_history
    d = run(np.random.default_rng(7))  # a Generator works like its seed
    assert d.loss_history == a.loss_history
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_verbose_output_format(capsys):
    s = Solver(Softmax(), blobs(), num_epochs=2, batch_size=20, print_every=2, seed=0, progress=False)
    s.train()
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    L, A = s.loss_history, list(zip(s.train_acc_history, s.val_acc_history))
    expected = [
        "(Iteration 1 / 6) loss: %f" % L[0],
        "(Epoch 0 / 2) train acc: %f; val_acc: %f" % A[0],
        "(Iteration 3 / 6) loss: %f" % L[2],
        "(Epoch 1 / 2) train acc: %f; val_acc: %f" % A[1],
        "(Iteration 5 / 6) loss: %f" % L[4],
        "(Epoch 2 / 2) train acc: %f; val_acc: %f" % A[2],
    ]
    assert lines == expected
    assert err == ""  # no progress bar
    assert re.fullmatch(r"\(Iteration 1 / 6\) loss: \d+\.\d{6}", lines[0])


def test_not_verbose_prints_nothing(capsys):
    Solver(Softmax(), blobs(), **quiet(num_epochs=1, seed=0)).train()
    assert capsys.readouterr() == ("", "")


def test_progress_bar_switch(capsys, monkeypatch):
    Solver(Softmax(), blobs(), verbose=False, progress=True, num_epochs=1, batch_size=20, seed=0).train()
    out, err = capsys.readouterr()
    assert "Training" in err and "3/3" in err and out == ""
    # progress=None: on only when verbose and stderr is a terminal (or a notebook)
    monkeypatch.setattr(solver_module, "_stderr_isatty", lambda: False)
    Solver(Softmax(), blobs(), num_epochs=1, seed=0).train()
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(solver_module, "_stderr_isatty", lambda: True)
    Solver(Softmax(), blobs(), num_epochs=1, seed=0).train()
    out, err = capsys.readouterr()
    assert "Training" in err and "(Iteration 1 / 1)" in out
    Solver(Softmax(), blobs(), verbose=False, num_epochs=1, seed=0).train()
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------
def test_nan_loss_stops_training_and_names_the_iteration(tmp_path):
    model = NanAt(k=5)
    ckpt = str(tmp_path / "run")
    s = Solver(model, blobs(), **quiet(update_rule="sgd_momentum", optim_config={"learning_rate": 0.1},
                                        batch_size=20, num_epochs=3, seed=0, checkpoint_name=ckpt))
    with pytest.raises(TrainingDivergedError, match=r"iteration 5 / 9 \(during epoch 2 / 3\)") as info:
        s.train()
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.iteration, err.epoch, err.param) == (5, 2, None) and np.isnan(err.loss)
    assert "nan" in str(err)
    # the failing update was not applied: the model keeps the params of the failing call
    assert_same_params(model.params, model.params_at_call)
    assert all(np.isfinite(v).all() for v in model.params.values())
    assert all(np.isfinite(v).all() for v in s.best_params.values())
    assert s.best_params["W"] is not model.params["W"]
    assert len(s.loss_history) == 4 == s.iteration and np.isfinite(s.loss_history).all()
    # checkpoints written before the failure are intact; none after it
    assert sorted(os.listdir(tmp_path)) == ["run_epoch_0.json", "run_epoch_0.npz",
                                            "run_epoch_1.json", "run_epoch_1.npz"]
    resumed = Solver.from_checkpoint(Softmax(), blobs(), ckpt + "_epoch_1.npz")
    assert resumed.epoch == 1 and resumed.iteration == 3


def test_non_finite_update_names_the_parameter():
    class Exploding(Scripted):
        def loss(self, X, y=None):
            if y is None:
                return super().loss(X)
            return 1.0, {"w": np.array([-1e308])}

    model = Exploding(target=0.0)
    s = Solver(model, zeros_data(), **quiet(update_rule="sgd_momentum",
                                              optim_config={"learning_rate": 10.0},
                                              batch_size=2, num_epochs=2, seed=0))
    with pytest.raises(TrainingDivergedError, match="'w'") as info, np.errstate(over="ignore"):
        s.train()
    assert info.value.iteration == 1 and info.value.param == "w"
    assert model.params["w"][0] == 0.0  # unchanged, finite
    assert s.optim_configs["w"] == {"learning_rate": 10.0}  # config not advanced (no velocity)


@pytest.mark.parametrize("k", [1, 3])
def test_divergence_rolls_back_what_the_forward_pass_wrote(k):
    # batch norm's running statistics and dropout's generator are written by the
    # forward pass of the failing step; they must come back as they were
    from cs231n.classifiers.fc_net import FullyConnectedNet

    class BlowsUpAt(FullyConnectedNet):
        def loss(self, X, y=None):
            if y is None:
                return super().loss(X)
            self.calls = getattr(self, "calls", 0) + 1
            self.state_at_call = copy.deepcopy((self.bn_params, self.dropout_param))
            if self.calls == k:
                X = X * np.inf                         # inf and nan statistics, nan loss
            return super().loss(X, y)

    model = BlowsUpAt([6, 5], input_dim=D, num_classes=C, normalization="batchnorm",
                      dropout_keep_ratio=0.5, seed=np.random.default_rng(4))
    s = Solver(model, blobs(), **quiet(batch_size=20, num_epochs=2, seed=0))
    with pytest.raises(TrainingDivergedError), np.errstate(all="ignore"):
        s.train()
    bn_before, dropout_before = model.state_at_call
    for now, before in zip(model.bn_params, bn_before):
        assert set(now) == set(before)                 # no key the failed step added
        for key in before:
            np.testing.assert_array_equal(now[key], before[key])
        if k > 1:
            assert np.isfinite(now["running_mean"]).all() and np.isfinite(now["running_var"]).all()
    assert set(model.dropout_param) == set(dropout_before)
    if "rng" in dropout_before:
        assert (model.dropout_param["rng"].bit_generator.state
                == dropout_before["rng"].bit_generator.state)


@pytest.mark.parametrize("cut", [1, 2, 3, 6])
def test_train_again_after_an_interrupted_accuracy_check(cut):
    # Ctrl-C in a notebook while an accuracy check scores the data (the cut-th
    # scoring call: 1-2 are the checks after step 1, 3 and 6 fall in epoch-end
    # checks), then train() again: the same run as without the interruption
    class Interrupted(Softmax):
        scoring_calls = None                           # not counting yet

        def loss(self, X, y=None):
            if y is None and self.scoring_calls is not None:
                self.scoring_calls += 1
                if self.scoring_calls == cut:
                    raise KeyboardInterrupt
            return super().loss(X, y)

    kw = quiet(update_rule="sgd_momentum", optim_config={"learning_rate": 0.1}, lr_decay=0.5,
               batch_size=20, num_epochs=3, seed=0)
    straight = Solver(Softmax(), blobs(), **kw)
    straight.train()
    model = Interrupted()
    s = Solver(model, blobs(), **kw)                   # (its constructor scores one sample)
    model.scoring_calls = 0
    with pytest.raises(KeyboardInterrupt):
        s.train()
    s.train()
    assert len(s.val_acc_history) == len(straight.val_acc_history) == 4
    _assert_same_run(straight, s)


def _bad_step_cases():
    def wrong_shape(w, dw, config=None):
        return np.zeros(w.size + 1), config

    def wrong_dtype(w, dw, config=None):
        return (w - 0.1 * dw).astype(np.float64), config

    class NoGradForB(Softmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            return out if y is None else (out[0], {"W": out[1]["W"]})

    class GainsAParam(Softmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            if y is not None:
                self.params["extra"] = np.zeros(2, self.params["W"].dtype)
                out[1]["extra"] = np.zeros(2, self.params["W"].dtype)
            return out

    return [
        (Softmax(dtype=np.float32), dict(update_rule=wrong_shape),
         r"^the update rule returned shape \(13,\) and dtype float64 for parameter 'W' of shape \(4, 3\)"),
        (Softmax(dtype=np.float32), dict(update_rule=wrong_dtype),
         r"^the update rule returned shape \(4, 3\) and dtype float64 for parameter 'W' of shape "
         r"\(4, 3\) and dtype float32$"),
        (NoGradForB(), {}, r"^model.loss returned no gradient for parameter 'b'$"),
        (GainsAParam(), {}, r"^model.params has a parameter 'extra' the Solver was not built with"),
    ]


@pytest.mark.parametrize("k", range(4))
def test_a_step_that_cannot_be_applied_names_the_parameter_and_changes_nothing(k):
    model, extra, pattern = _bad_step_cases()[k]
    s = Solver(model, blobs(), **quiet(batch_size=20, num_epochs=1, seed=0, **extra))
    before = {name: w.copy() for name, w in model.params.items()}
    with pytest.raises(ValueError, match=pattern):
        s.train()
    for name, w in before.items():
        np.testing.assert_array_equal(model.params[name], w)
        assert model.params[name].dtype == w.dtype
    assert s.loss_history == [] and s.iteration == 0


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------
def _run_kwargs(tmp_path, name, **extra):
    kw = dict(update_rule="adam", optim_config={"learning_rate": 0.05}, lr_decay=0.9,
              batch_size=10, num_epochs=4, num_train_samples=20, num_val_samples=15, seed=0,
              checkpoint_name=str(tmp_path / name))
    kw.update(extra)
    return quiet(**kw)


def _assert_same_run(a, b):
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    assert a.best_val_acc == b.best_val_acc
    assert a.epoch == b.epoch and a.iteration == b.iteration
    assert_same_params(a.model.params, b.model.params)
    assert_same_params(a.best_params, b.best_params)
    for p in a.optim_configs:
        ca, cb = a.optim_configs[p], b.optim_configs[p]
        assert set(ca) == set(cb)
        for k in ca:
            np.testing.assert_array_equal(ca[k], cb[k])


@pytest.mark.parametrize("state", [False, True])
def test_resume_reproduces_the_uninterrupted_run(tmp_path, state):
    data = blobs()
    straight = Solver(Softmax(state=state), data, **_run_kwargs(tmp_path, "straight"))
    straight.train()

    # k = 2 epochs, then a new Solver built from the checkpoint finishes the run
    first = Solver(Softmax(state=state), data, **_run_kwargs(tmp_path, "part", num_epochs=2))
    first.train()
    model = Softmax(seed=42, state=state)  # different initial values: all come from the file
    resumed = Solver.from_checkpoint(model, data, tmp_path / "part_epoch_2.npz", num_epochs=4)
    assert resumed.epoch == 2 and resumed.update_rule_name == "adam" and resumed.lr_decay == 0.9
    resumed.train()
    _assert_same_run(straight, resumed)
    if state:
        np.testing.assert_array_equal(model.bn_params[0]["running_mean"],
                                      straight.model.bn_params[0]["running_mean"])

    # resuming from the mid-epoch checkpoint written after iteration 1 works too
    again = Solver.from_checkpoint(Softmax(state=state), data, tmp_path / "straight_epoch_0.npz")
    assert again.iteration == 1
    again.train()
    _assert_same_run(straight, again)


def test_resume_overrides_of_the_optimiser(tmp_path):
    data = blobs()
    first = Solver(Softmax(), data, **_run_kwargs(tmp_path, "part", num_epochs=2))
    first.train()
    path = tmp_path / "part_epoch_2.npz"
    saved = first.optim_configs
    # a new learning rate reaches every parameter's config; Adam's moments are kept
    lower = Solver.from_checkpoint(Softmax(), data, path, optim_config={"learning_rate": 1e-4})
    for p, config in lower.optim_configs.items():
        assert config["learning_rate"] == 1e-4
        assert config["t"] == saved[p]["t"] > 0
        np.testing.assert_array_equal(config["m"], saved[p]["m"])
        np.testing.assert_array_equal(config["v"], saved[p]["v"])
    # the same rule, by name or as the function, is fine; another rule is refused
    from cs231n import optim
    for same in ("adam", optim.adam):
        assert Solver.from_checkpoint(Softmax(), data, path, update_rule=same).epoch == 2
    with pytest.raises(ValueError, match=r"trained with update_rule 'adam'; its optimiser state"):
        Solver.from_checkpoint(Softmax(), data, path, update_rule="sgd_momentum")


def test_resume_without_model_state_would_differ(tmp_path, monkeypatch):
    """Shows the model-state part of the resume test above can fail."""
    data = blobs()
    straight = Solver(Softmax(state=True), data, **_run_kwargs(tmp_path, "s"))
    straight.train()
    monkeypatch.setattr(solver_module, "_MODEL_STATE_ATTRS", ())
    first = Solver(Softmax(state=True), data, **_run_kwargs(tmp_path, "p", num_epochs=2))
    first.train()
    resumed = Solver.from_checkpoint(Softmax(seed=42, state=True), data, tmp_path / "p_epoch_2.npz",
                                     num_epochs=4)
    resumed.train()
    assert resumed.loss_history != straight.loss_history


def test_load_checkpoint_into_existing_solver(tmp_path):
    data = blobs()
    a = Solver(Softmax(), data, **_run_kwargs(tmp_path, "a", num_epochs=1))
    a.train()
    b = Solver(Softmax(seed=5), data, **_run_kwargs(tmp_path, "b", seed=123))
    b.load_checkpoint(str(tmp_path / "a_epoch_1.json"))  # the sidecar's name works too
    assert b.loss_history == a.loss_history and b.epoch == 1
    assert b.rng.bit_generator.state == a.rng.bit_generator.state
    assert b.optim_configs["W"]["t"] == a.optim_configs["W"]["t"] == 6


def test_checkpoint_files_need_no_pickle(tmp_path):
    s = Solver(Softmax(dtype=np.float32), blobs(), **_run_kwargs(tmp_path, "c", num_epochs=1))
    s.train()
    with np.load(tmp_path / "c_epoch_1.npz", allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)
    with open(tmp_path / "c_epoch_1.json") as f:
        meta = json.load(f)
    assert meta["epoch"] == 1 and meta["iteration"] == 6
    assert meta["hyperparameters"]["update_rule"] == "adam"
    assert len(meta["loss_history"]) == 6
    assert meta["rng"]["__generator__"]["bit_generator"] == "PCG64"
    r = Solver.from_checkpoint(Softmax(dtype=np.float32), blobs(), tmp_path / "c_epoch_1.npz")
    assert r.model.params["W"].dtype == np.float32
    assert r.optim_configs["W"]["m"].dtype == np.float32


def test_pickled_or_foreign_files_are_refused(tmp_path):
    evil = tmp_path / "evil.npz"
    np.savez(evil, __meta__=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        Solver.from_checkpoint(Softmax(), blobs(), evil)
    other = tmp_path / "other.npz"
    np.savez(other, W=np.zeros(3))
    with pytest.raises(ValueError, match="not a Solver checkpoint"):
        Solver.from_checkpoint(Softmax(), blobs(), other)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError):
        Solver.from_checkpoint(Softmax(), blobs(), garbage)


def test_mismatched_checkpoint_leaves_solver_untouched(tmp_path):
    data = blobs()
    a = Solver(Softmax(), data, **_run_kwargs(tmp_path, "a", num_epochs=1))
    a.train()
    path = tmp_path / "a_epoch_1.npz"

    class Wider(Softmax):
        def __init__(self):
            super().__init__()
            self.params["W"] = np.zeros((D, C + 1))
            self.params["b"] = np.zeros(C + 1)

    wider = Wider()
    b = Solver(wider, data, **_run_kwargs(tmp_path, "b"))
    with pytest.raises(ValueError, match="shape"):
        b.load_checkpoint(path)
    assert b.epoch == 0 and b.loss_history == [] and not wider.params["W"].any()

    c = Solver(Softmax(seed=9), data, **_run_kwargs(tmp_path, "c", batch_size=20))
    before = {k: v.copy() for k, v in c.model.params.items()}
    with pytest.raises(ValueError, match="steps per epoch"):
        c.load_checkpoint(path)
    assert_same_params(c.model.params, before)
    with pytest.raises(ValueError, match="X_train"):
        Solver.from_checkpoint(Softmax(), blobs(n_train=50), path)


def test_custom_rule_must_be_passed_again(tmp_path):
    def my_sgd(w, dw, config):
        return w - 0.01 * dw, config

    s = Solver(Softmax(), blobs(), **_run_kwargs(tmp_path, "u", update_rule=my_sgd, num_epochs=1))
    s.train()
    with pytest.raises(ValueError, match="update_rule"):
        Solver.from_checkpoint(Softmax(), blobs(), tmp_path / "u_epoch_1.npz")
    r = Solver.from_checkpoint(Softmax(), blobs(), tmp_path / "u_epoch_1.npz", update_rule=my_sgd)
    assert r.update_rule is my_sgd


def test_interrupted_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    s = Solver(Softmax(), blobs(), **_run_kwargs(tmp_path, "run", num_epochs=1))
    s.train()
    final = tmp_path / "run_epoch_1.npz"
    good_bytes = final.read_bytes()
    files_before = sorted(os.listdir(tmp_path))

    def crash(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")  # some bytes reach the disk, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        s.save_checkpoint(final)  # overwrite an existing checkpoint
    with pytest.raises(OSError, match="disk full"):
        s.save_checkpoint(tmp_path / "fresh.npz")  # a new name
    # a training run whose checkpoint save crashes
    s2 = Solver(Softmax(), blobs(), **_run_kwargs(tmp_path, "other", num_epochs=1))
    with pytest.raises(OSError, match="disk full"):
        s2.train()
    monkeypatch.undo()

    assert sorted(os.listdir(tmp_path)) == files_before  # no partial or temporary file
    assert final.read_bytes() == good_bytes
    r = Solver.from_checkpoint(Softmax(), blobs(), final)
    assert r.loss_history == s.loss_history


def test_checkpoint_directory_is_created(tmp_path):
    s = Solver(Softmax(), blobs(), **_run_kwargs(tmp_path, "deep/dir/run", num_epochs=1))
    s.train()
    assert (tmp_path / "deep" / "dir" / "run_epoch_1.npz").is_file()


def test_verbose_reports_checkpoint(tmp_path, capsys):
    s = Solver(Softmax(), blobs(), **_run_kwargs(tmp_path, "v", num_epochs=1, verbose=True))
    s.train()
    out = capsys.readouterr().out
    assert 'Saving checkpoint to "%s"' % (tmp_path / "v_epoch_1.npz") in out


def test_divergence_error_survives_pickle():
    import pickle

    err = TrainingDivergedError("boom at iteration 3", iteration=3, epoch=1, loss=float("inf"), param="W")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err)
    assert (back.iteration, back.epoch, back.loss, back.param) == (3, 1, float("inf"), "W")
