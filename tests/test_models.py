"""Models: FullyConnectedNet, ThreeLayerConvNet and ConvNet.

Gradient checks compare every parameter's analytic gradient with centred
differences (float64, h = 1e-5). The error of a parameter is
``max|numeric - analytic| / max|numeric|`` (elementwise relative error is noise
for entries near zero, which a loss summed over a whole net has many of); the
tolerance is 1e-6 for the FC nets and 1e-5 for the conv nets, while a wrong
gradient scores O(1). Parameters whose true gradient is exactly zero (biases
followed by batch norm) are checked in absolute terms (|grad| < 1e-8).

Scores and losses are compared with expected values stored as data
(``tests/data/models.npz``: fixed parameters, inputs and running statistics, and
the scores a manual forward pass gives), to ``1e-10`` relative. The
regularisation term is checked as a property: ``loss(reg) - loss(0)`` must be
``0.5 * reg * sum(W**2)`` over every weight matrix, and the gradients must differ
by ``reg * W`` on the weights only.

Graded check groups (the rubric's): ``fc_net/init``,
``fc_net/scores`` (test-mode scores for every normalisation and with dropout,
train-mode loss), ``fc_net/test_mode``, ``fc_net/regularisation``,
``fc_net/gradients``, and the same for ``three_layer_convnet`` (without
``test_mode``). ConvNet (given code), seeds and argument checks are not graded.
"""
import itertools
import re

import numpy as np
import pytest
from conftest import assert_close, load_expected

from cs231n.classifiers.cnn import ConvNet, ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.gradient_check import eval_numerical_gradient

GRAD_TOL = 1e-6          # scaled error of a float64 gradient check
ZERO_GRAD_ATOL = 1e-8    # absolute bound where the true gradient is zero
RTOL = 1e-10             # scores and losses against the stored values
EXPECTED = load_expected("models")
FC = "FullyConnectedNet.loss"
CNN = "ThreeLayerConvNet.loss"


def _check_model_grads(model, X, y, tol=GRAD_TOL, function=FC, check="gradient check"):
    """Return {param: rel_error} after checking every gradient numerically."""
    __tracebackhide__ = True
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params), (
        f"{function} ({check}): grads has keys {sorted(grads)}, expected the keys of params "
        f"{sorted(model.params)}")
    errors = {}
    for name in sorted(model.params):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731
        num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        assert np.shape(grads[name]) == num.shape, (
            f"{function} ({check}): grads[{name!r}] has shape {np.shape(grads[name])}, "
            f"expected {num.shape}")
        if np.max(np.abs(num)) < ZERO_GRAD_ATOL:
            # true gradient zero (e.g. bias before batch norm): absolute check
            worst = float(np.max(np.abs(grads[name])))
            assert worst < ZERO_GRAD_ATOL, (
                f"{function} ({check}): grads[{name!r}] should be 0 (numerical gradient 0), "
                f"largest entry {worst:.1e}, expected < {ZERO_GRAD_ATOL:.0e}")
            errors[name] = 0.0
            continue
        errors[name] = np.max(np.abs(num - grads[name])) / np.max(np.abs(num))
        assert errors[name] < tol, (
            f"{function} ({check}): grads[{name!r}] differs from the numerical gradient by "
            f"{errors[name]:.1e} (relative to its largest entry), expected < {tol:.0e}")
    return errors


def _stored(prefix):
    """Parameters stored under ``<prefix>_param_<name>``."""
    tag = f"{prefix}_param_"
    return {k[len(tag):]: EXPECTED[k].copy() for k in EXPECTED if k.startswith(tag)}


def _check_regularisation(model, X, y, reg, function):
    """loss(reg) - loss(0) = 0.5 reg sum W^2 and grads(reg) - grads(0) = reg W on weights."""
    __tracebackhide__ = True
    model.reg = reg
    loss_r, grads_r = model.loss(X, y)
    model.reg = 0.0
    loss_0, grads_0 = model.loss(X, y)
    weights = sorted(k for k in model.params if re.fullmatch(r"W\d+", k))
    term = 0.5 * reg * sum(float(np.sum(model.params[k] ** 2)) for k in weights)
    check = f"regularisation, reg {reg}"
    assert_close(function, check, loss_r - loss_0, term, rtol=1e-10, atol=1e-12,
                 what="loss(reg) - loss(0)", against=f"0.5 * reg * sum(W**2) over {', '.join(weights)}")
    for k in sorted(model.params):
        expected = reg * model.params[k] if k in weights else np.zeros_like(model.params[k])
        assert_close(function, check, grads_r[k] - grads_0[k], expected, rtol=1e-9, atol=1e-12,
                     what=f"grads[{k!r}](reg) - grads[{k!r}](0)",
                     against="reg * W" if k in weights else "0 (only weights are regularised)")


# ----------------------------------------------------------------------------
# FullyConnectedNet
# ----------------------------------------------------------------------------

def fc_model(norm, keep=1.0, seed=0):
    """The stored FullyConnectedNet([7, 5], input_dim=6, num_classes=4) of case ``norm``."""
    model = FullyConnectedNet([7, 5], input_dim=6, num_classes=4, dtype=np.float64, seed=seed,
                              normalization=None if norm == "none" else norm,
                              dropout_keep_ratio=keep)
    model.params = _stored(f"fc_{norm}")
    if norm == "batchnorm":
        for i, bn_param in enumerate(model.bn_params):
            bn_param["running_mean"] = EXPECTED[f"fc_{norm}_running_mean{i}"].copy()
            bn_param["running_var"] = EXPECTED[f"fc_{norm}_running_var{i}"].copy()
    return model, EXPECTED[f"fc_{norm}_X"], EXPECTED[f"fc_{norm}_y"]


@pytest.mark.graded("fc_net", "gradients")
@pytest.mark.parametrize(
    "normalization, keep, reg",
    list(itertools.product([None, "batchnorm", "layernorm"], [1, 0.5], [0.0, 3.14])),
)
def test_fc_net_gradients(normalization, keep, reg):
    rng = np.random.default_rng(7)
    N, D, H1, H2, C = 8, 15, 20, 30, 10
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                              weight_scale=5e-2, dtype=np.float64,
                              normalization=normalization, dropout_keep_ratio=keep, seed=123)
    _check_model_grads(model, X, y, check=f"gradient check, {normalization}, keep {keep}, reg {reg}")


@pytest.mark.graded("fc_net", "init")
def test_fc_net_params_follow_spec():
    model = FullyConnectedNet([20, 30, 40], input_dim=15, num_classes=7,
                              normalization="batchnorm", weight_scale=0.1, seed=0)
    assert model.num_layers == 4
    dims = [15, 20, 30, 40, 7]
    expected_keys = {f"{n}{i}" for i in range(1, 5) for n in "Wb"} | {
        f"{n}{i}" for i in range(1, 4) for n in ("gamma", "beta")}
    assert set(model.params) == expected_keys, (
        f"FullyConnectedNet.__init__ (params): keys {sorted(model.params)}, expected "
        f"{sorted(expected_keys)} (no gamma/beta for the last, affine-only layer)")
    for i in range(1, 5):
        W = model.params[f"W{i}"]
        assert W.shape == (dims[i - 1], dims[i]) and W.dtype == np.float32, (
            f"FullyConnectedNet.__init__ (params): W{i} is {W.dtype} {W.shape}, "
            f"expected float32 {(dims[i - 1], dims[i])}")
        assert_close("FullyConnectedNet.__init__", "biases start at zero", model.params[f"b{i}"],
                     np.zeros(dims[i]), what=f"b{i}")
    for i in range(1, 4):
        assert_close("FullyConnectedNet.__init__", "gamma starts at one", model.params[f"gamma{i}"],
                     np.ones(dims[i]), what=f"gamma{i}")
        assert_close("FullyConnectedNet.__init__", "beta starts at zero", model.params[f"beta{i}"],
                     np.zeros(dims[i]), what=f"beta{i}")
    assert len(model.bn_params) == 3 and all(p["mode"] == "train" for p in model.bn_params)
    assert model.use_dropout is False and model.normalization == "batchnorm"
    # weights are N(0, weight_scale^2): sample std close to 0.1
    W = model.params["W2"]
    assert abs(W.std() - 0.1) < 0.01 and abs(W.mean()) < 0.01, (
        f"FullyConnectedNet.__init__ (weight_scale 0.1): W2 has mean {W.mean():.3g} and std "
        f"{W.std():.3g}, expected about 0 and 0.1 (+- 0.01)")


@pytest.mark.graded("fc_net", "init")
def test_fc_net_no_norm_has_no_gamma_and_dropout_param():
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, dropout_keep_ratio=0.7, seed=3)
    assert set(model.params) == {"W1", "b1", "W2", "b2"}, (
        f"FullyConnectedNet.__init__ (no normalisation): params has keys {sorted(model.params)}, "
        "expected W1, b1, W2, b2")
    assert model.use_dropout is True
    assert model.dropout_param == {"mode": "train", "p": 0.7, "seed": 3}
    assert model.bn_params == []


def test_fc_net_seed_reproducible_and_distinct():
    a = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=5)
    b = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=5)
    c = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=6)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


@pytest.mark.graded("fc_net", "scores")
@pytest.mark.parametrize("norm, keep", [("none", 1), ("batchnorm", 1), ("layernorm", 1),
                                        ("none", 0.5), ("batchnorm", 0.5)])
def test_fc_net_test_scores_expected_values(norm, keep):
    """Test mode: running statistics for batch norm, no dropout (the scores do not depend
    on the keep ratio)."""
    model, X, _ = fc_model(norm, keep)
    scores = model.loss(X.copy())
    assert_close(FC, f"test-mode scores, {norm}, keep {keep}", scores, EXPECTED[f"fc_{norm}_test_scores"],
                 rtol=RTOL, atol=1e-12, what="scores")


@pytest.mark.graded("fc_net", "scores")
@pytest.mark.parametrize("norm", ["none", "batchnorm", "layernorm"])
def test_fc_net_train_loss_expected_values(norm):
    """Train mode, reg 0, no dropout: the softmax loss of the forward pass (batch statistics)."""
    model, X, y = fc_model(norm)
    loss, _ = model.loss(X.copy(), y.copy())
    assert_close(FC, f"train-mode loss, {norm}, reg 0", loss, EXPECTED[f"fc_{norm}_train_loss"],
                 rtol=RTOL, what="loss")


@pytest.mark.graded("fc_net", "scores")
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fc_net_initial_loss_is_log_c(normalization):
    rng = np.random.default_rng(3)
    C = 10
    model = FullyConnectedNet([50, 50], input_dim=30, num_classes=C, weight_scale=1e-3,
                              normalization=normalization, seed=0, dtype=np.float64)
    X = rng.standard_normal((200, 30))
    y = rng.integers(0, C, 200)
    loss, _ = model.loss(X, y)
    assert abs(loss - np.log(C)) < 0.02, (
        f"{FC} (initial loss, {normalization}, weight_scale 1e-3): loss is {loss:.4g}, "
        f"expected log(10) = {np.log(C):.4g} +- 0.02")


@pytest.mark.graded("fc_net", "regularisation")
@pytest.mark.parametrize("norm", ["none", "batchnorm"])
def test_fc_net_regularisation_term(norm):
    model, X, y = fc_model(norm)
    _check_regularisation(model, X, y, 0.7, FC)


@pytest.mark.graded("fc_net", "test_mode")
def test_fc_net_test_mode_sets_modes_and_float32():
    rng = np.random.default_rng(4)
    model = FullyConnectedNet([8], input_dim=5, num_classes=3, normalization="batchnorm",
                              dropout_keep_ratio=0.5, seed=1)
    X = rng.standard_normal((4, 5))
    model.loss(X, np.array([0, 1, 2, 0]))
    assert model.dropout_param["mode"] == "train" and model.bn_params[0]["mode"] == "train"
    scores = model.loss(X)
    assert scores.dtype == np.float32 and scores.shape == (4, 3), (
        f"{FC} (test mode): scores are {scores.dtype} {scores.shape}, expected float32 (4, 3)")
    assert model.dropout_param["mode"] == "test" and model.bn_params[0]["mode"] == "test"
    # test mode is deterministic (no dropout, running statistics)
    assert_close(FC, "test mode is deterministic", model.loss(X), scores, what="scores",
                 against="the first call's scores")


@pytest.mark.graded("fc_net", "test_mode")
@pytest.mark.parametrize("norm", ["none", "batchnorm"])
def test_fc_net_test_mode_deterministic_with_unseeded_dropout(norm):
    """No seed: dropout masks would come from numpy's global state, so any dropout
    applied at test time changes the scores from call to call."""
    rng = np.random.default_rng(5)
    model = FullyConnectedNet([30, 30], input_dim=6, num_classes=4, dtype=np.float64,
                              normalization=None if norm == "none" else norm,
                              dropout_keep_ratio=0.5, weight_scale=0.5)
    X = rng.standard_normal((10, 6))
    y = rng.integers(0, 4, size=10)
    model.loss(X, y)                                  # a train step first (masks drawn)
    first = model.loss(X)
    for k in range(3):
        assert_close(FC, f"test mode with unseeded dropout (keep 0.5), call {k + 2}", model.loss(X),
                     first, what="scores", against="the first call's scores (no dropout at test time)")


@pytest.mark.parametrize("kwargs, exc", [
    (dict(hidden_dims=[10, 0]), ValueError),
    (dict(hidden_dims=5), TypeError),
    (dict(hidden_dims=[10], normalization="groupnorm"), ValueError),
    (dict(hidden_dims=[10], dropout_keep_ratio=0), ValueError),
    (dict(hidden_dims=[10], dropout_keep_ratio=1.5), ValueError),
    (dict(hidden_dims=[10], reg=-1), ValueError),
    (dict(hidden_dims=[10], weight_scale=0), ValueError),
    (dict(hidden_dims=[10], dtype=np.int32), TypeError),
])
def test_fc_net_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        FullyConnectedNet(**kwargs)


def test_fc_net_bad_inputs_name_the_problem():
    model = FullyConnectedNet([4], input_dim=6, num_classes=3, seed=0)
    with pytest.raises(ValueError, match="X has shape"):
        model.loss(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="y must be"):
        model.loss(np.zeros((2, 6)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="0 <= y < 3"):
        model.loss(np.zeros((2, 6)), np.array([0, 3]))


# ----------------------------------------------------------------------------
# Convolutional nets
# ----------------------------------------------------------------------------

def cnn_model(fs):
    """The stored ThreeLayerConvNet((3, 8, 8), 3 filters of fs x fs, hidden 7, 4 classes)."""
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=fs, hidden_dim=7,
                              num_classes=4, dtype=np.float64, seed=0)
    model.params = _stored(f"cnn{fs}")
    return model, EXPECTED[f"cnn{fs}_X"], EXPECTED[f"cnn{fs}_y"]


@pytest.mark.graded("three_layer_convnet", "gradients")
def test_three_layer_convnet_gradients():
    rng = np.random.default_rng(8)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7,
                              weight_scale=0.5, reg=0.3, dtype=np.float64, seed=0)
    X = rng.standard_normal((2, 3, 8, 8))
    y = rng.integers(0, 10, 2)
    _check_model_grads(model, X, y, tol=1e-5, function=CNN, check="gradient check, reg 0.3")


@pytest.mark.graded("three_layer_convnet", "init")
def test_three_layer_convnet_shapes():
    model = ThreeLayerConvNet(seed=0)
    shapes = {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,),
              "W3": (100, 10), "b3": (10,)}
    got = {k: v.shape for k, v in model.params.items()}
    assert got == shapes, f"ThreeLayerConvNet.__init__ (default shapes): params {got}, expected {shapes}"
    assert all(v.dtype == np.float32 for v in model.params.values())
    for k in ("b1", "b2", "b3"):
        assert_close("ThreeLayerConvNet.__init__", "biases start at zero", model.params[k],
                     np.zeros(shapes[k]), what=k)
    W = model.params["W2"]
    assert abs(W.std() - 1e-3) < 1e-4, (
        f"ThreeLayerConvNet.__init__ (weight_scale 1e-3): W2 has std {W.std():.3g}, expected 1e-3 +- 1e-4")


@pytest.mark.graded("three_layer_convnet", "scores")
@pytest.mark.parametrize("fs", [3, 5])
def test_three_layer_convnet_scores_expected_values(fs):
    model, X, y = cnn_model(fs)
    assert_close(CNN, f"scores, filter_size {fs}", model.loss(X.copy()), EXPECTED[f"cnn{fs}_scores"],
                 rtol=RTOL, atol=1e-12, what="scores")
    loss, _ = model.loss(X.copy(), y.copy())
    assert_close(CNN, f"loss, filter_size {fs}, reg 0", loss, EXPECTED[f"cnn{fs}_loss"], rtol=RTOL,
                 what="loss")


@pytest.mark.graded("three_layer_convnet", "scores")
def test_three_layer_convnet_initial_loss():
    model = ThreeLayerConvNet(seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 32, 32))
    loss, _ = model.loss(X, rng.integers(0, 10, 20))
    assert abs(loss - np.log(10)) < 0.01, (
        f"{CNN} (initial loss, weight_scale 1e-3): loss is {loss:.4g}, expected log(10) = "
        f"{np.log(10):.4g} +- 0.01")


@pytest.mark.graded("three_layer_convnet", "regularisation")
def test_three_layer_convnet_regularisation_term():
    model, X, y = cnn_model(3)
    _check_regularisation(model, X, y, 0.7, CNN)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "groupnorm"])
def test_convnet_gradients(normalization):
    rng = np.random.default_rng(9)
    model = ConvNet(input_dim=(3, 8, 8), num_filters=(4, 4), filter_size=3, hidden_dims=(7,),
                    normalization=normalization, num_groups=2, dropout_keep_ratio=0.7,
                    reg=0.1, dtype=np.float64, seed=0)
    X = rng.standard_normal((6, 3, 8, 8))
    y = rng.integers(0, 10, 6)
    _check_model_grads(model, X, y, tol=1e-5, function="ConvNet.loss")


def test_convnet_params_and_bad_arguments():
    model = ConvNet(input_dim=(3, 16, 16), num_filters=(8, 16), hidden_dims=(32, 20),
                    normalization="groupnorm", num_groups=4, seed=0)
    assert model.params["W1"].shape == (8, 3, 3, 3)
    assert model.params["W3"].shape == (16 * 4 * 4, 32)
    assert model.params["gamma1"].shape == (1, 8, 1, 1)
    assert model.params["gamma3"].shape == (32,)
    assert model.params["W5"].shape == (20, 10)
    assert len(model.bn_params) == 4
    with pytest.raises(ValueError, match="num_groups"):
        ConvNet(num_filters=(6,), normalization="groupnorm", num_groups=4)
    with pytest.raises(ValueError, match="normalization"):
        ConvNet(normalization="layernorm")
    with pytest.raises(ValueError, match="too small"):
        ConvNet(input_dim=(3, 4, 4), num_filters=(4, 4, 4))
    with pytest.raises(ValueError, match="X has shape"):
        model.loss(np.zeros((2, 3, 8, 8)))


# ----------------------------------------------------------------------------
# The import surface the official notebooks rely on
# ----------------------------------------------------------------------------

# Typed out here (not read from the modules' __all__), so a name dropped from an
# export list fails the test. The official Dropout and BatchNormalization
# notebooks call these after only `from cs231n.classifiers.fc_net import *`.
LAYER_NAMES = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss",
    "svm_loss", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
    "max_pool_backward_naive", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
]
SANDWICH_NAMES = [
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward", "conv_relu_pool_forward",
    "conv_relu_pool_backward",
]
FAST_NAMES = ["conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast",
              "max_pool_backward_fast"]


@pytest.mark.parametrize("module, model, names", [
    ("cs231n.classifiers.fc_net", "FullyConnectedNet", LAYER_NAMES + SANDWICH_NAMES),
    ("cs231n.classifiers.cnn", "ThreeLayerConvNet", LAYER_NAMES + SANDWICH_NAMES + FAST_NAMES),
])
def test_star_import_of_a_model_module_brings_the_layers(module, model, names):
    import cs231n.fast_layers
    import cs231n.layer_utils
    import cs231n.layers

    namespace = {}
    exec(f"from {module} import *", namespace)
    assert model in namespace
    missing = [n for n in names if n not in namespace]
    assert not missing, f"`from {module} import *` does not provide {missing}"
    for name in names:                                 # the kit's functions, not copies
        source = next(m for m in (cs231n.layers, cs231n.layer_utils, cs231n.fast_layers)
                      if hasattr(m, name))
        assert namespace[name] is getattr(source, name), name
    assert not any(n.startswith("_") for n in namespace if n != "__builtins__")
