"""Models: FullyConnectedNet, ThreeLayerConvNet and ConvNet.

Gradient checks compare every parameter's analytic gradient with centred
differences (float64, h = 1e-5). The error of a parameter is
``max|numeric - analytic| / max|numeric|`` (elementwise relative error is noise
for entries near zero, which a loss summed over a whole net has many of); the
tolerance is 1e-6 for the FC nets and 1e-5 for the conv nets, while a wrong
gradient scores O(1). Parameters whose true gradient is exactly zero (biases
followed by batch norm) are checked in absolute terms (|grad| < 1e-8).
"""
import itertools

import numpy as np
import pytest

from cs231n.classifiers.cnn import ConvNet, ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.gradient_check import eval_numerical_gradient

GRAD_TOL = 1e-6          # scaled error of a float64 gradient check
ZERO_GRAD_ATOL = 1e-8    # absolute bound where the true gradient is zero


def _check_model_grads(model, X, y, tol=GRAD_TOL):
    """Return {param: rel_error} after checking every gradient numerically."""
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    errors = {}
    for name in sorted(model.params):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731
        num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        assert grads[name].shape == model.params[name].shape
        if np.max(np.abs(num)) < ZERO_GRAD_ATOL:
            # true gradient zero (e.g. bias before batch norm): absolute check
            assert np.max(np.abs(grads[name])) < ZERO_GRAD_ATOL, name
            errors[name] = 0.0
            continue
        errors[name] = np.max(np.abs(num - grads[name])) / np.max(np.abs(num))
        assert errors[name] < tol, f"{name}: relative error {errors[name]:.2e} >= {tol}"
    return errors


# ----------------------------------------------------------------------------
# FullyConnectedNet
# ----------------------------------------------------------------------------

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
    _check_model_grads(model, X, y)


def test_fc_net_params_follow_spec():
    model = FullyConnectedNet([20, 30, 40], input_dim=15, num_classes=7,
                              normalization="batchnorm", weight_scale=0.1, seed=0)
    assert model.num_layers == 4
    dims = [15, 20, 30, 40, 7]
    for i in range(1, 5):
        assert model.params[f"W{i}"].shape == (dims[i - 1], dims[i])
        assert model.params[f"W{i}"].dtype == np.float32
        np.testing.assert_array_equal(model.params[f"b{i}"], np.zeros(dims[i], np.float32))
    for i in range(1, 4):
        np.testing.assert_array_equal(model.params[f"gamma{i}"], np.ones(dims[i]))
        np.testing.assert_array_equal(model.params[f"beta{i}"], np.zeros(dims[i]))
    assert "gamma4" not in model.params and "beta4" not in model.params
    assert len(model.bn_params) == 3 and all(p["mode"] == "train" for p in model.bn_params)
    assert model.use_dropout is False and model.normalization == "batchnorm"
    # weights are N(0, weight_scale^2): sample std close to 0.1
    W = model.params["W2"]
    assert abs(W.std() - 0.1) < 0.01 and abs(W.mean()) < 0.01


def test_fc_net_no_norm_has_no_gamma_and_dropout_param():
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, dropout_keep_ratio=0.7, seed=3)
    assert not any(k.startswith(("gamma", "beta")) for k in model.params)
    assert model.use_dropout is True
    assert model.dropout_param == {"mode": "train", "p": 0.7, "seed": 3}
    assert model.bn_params == []


def test_fc_net_seed_reproducible_and_distinct():
    a = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=5)
    b = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=5)
    c = FullyConnectedNet([10], input_dim=6, num_classes=3, seed=6)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_fc_net_scores_match_manual_forward():
    """Test-mode scores equal an explicit numpy forward pass written here."""
    rng = np.random.default_rng(1)
    model = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, dtype=np.float64,
                              normalization="layernorm", seed=2)
    for k in model.params:
        model.params[k] = rng.standard_normal(model.params[k].shape)
    X = rng.standard_normal((5, 2, 2))
    h = X.reshape(5, -1)
    for i in (1, 2):
        a = h @ model.params[f"W{i}"] + model.params[f"b{i}"]
        a = (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5)
        h = np.maximum(0, a * model.params[f"gamma{i}"] + model.params[f"beta{i}"])
    expected = h @ model.params["W3"] + model.params["b3"]
    np.testing.assert_allclose(model.loss(X), expected, rtol=1e-12, atol=1e-12)


def test_fc_net_loss_and_reg_term():
    """Loss = softmax cross-entropy + 0.5 * reg * sum(W^2), computed independently."""
    rng = np.random.default_rng(2)
    model = FullyConnectedNet([6], input_dim=4, num_classes=3, reg=0.7, dtype=np.float64, seed=1)
    for k in model.params:
        model.params[k] = rng.standard_normal(model.params[k].shape)
    X = rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 1, 0])
    scores = model.loss(X)
    p = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    data_loss = -np.mean(np.log(p[np.arange(5), y]))
    reg_loss = 0.5 * 0.7 * (np.sum(model.params["W1"] ** 2) + np.sum(model.params["W2"] ** 2))
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(data_loss + reg_loss, rel=1e-12)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fc_net_initial_loss_is_log_c(normalization):
    rng = np.random.default_rng(3)
    C = 10
    model = FullyConnectedNet([50, 50], input_dim=30, num_classes=C, weight_scale=1e-3,
                              normalization=normalization, seed=0, dtype=np.float64)
    X = rng.standard_normal((200, 30))
    y = rng.integers(0, C, 200)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(C), abs=0.02)


def test_fc_net_test_mode_sets_modes_and_float32():
    rng = np.random.default_rng(4)
    model = FullyConnectedNet([8], input_dim=5, num_classes=3, normalization="batchnorm",
                              dropout_keep_ratio=0.5, seed=1)
    X = rng.standard_normal((4, 5))
    model.loss(X, np.array([0, 1, 2, 0]))
    assert model.dropout_param["mode"] == "train" and model.bn_params[0]["mode"] == "train"
    scores = model.loss(X)
    assert scores.dtype == np.float32 and scores.shape == (4, 3)
    assert model.dropout_param["mode"] == "test" and model.bn_params[0]["mode"] == "test"
    # test mode is deterministic (no dropout, running statistics)
    np.testing.assert_array_equal(scores, model.loss(X))


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

def test_three_layer_convnet_gradients():
    rng = np.random.default_rng(8)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7,
                              weight_scale=0.5, reg=0.3, dtype=np.float64, seed=0)
    X = rng.standard_normal((2, 3, 8, 8))
    y = rng.integers(0, 10, 2)
    _check_model_grads(model, X, y, tol=1e-5)


def test_three_layer_convnet_shapes_and_initial_loss():
    model = ThreeLayerConvNet(seed=0)
    shapes = {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,),
              "W3": (100, 10), "b3": (10,)}
    assert {k: v.shape for k, v in model.params.items()} == shapes
    assert all(v.dtype == np.float32 for v in model.params.values())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 32, 32))
    loss, _ = model.loss(X, rng.integers(0, 10, 20))
    assert loss == pytest.approx(np.log(10), abs=0.01)
    model_reg = ThreeLayerConvNet(seed=0, reg=0.5)
    loss_reg, _ = model_reg.loss(X, rng.integers(0, 10, 20))
    assert loss_reg > loss


@pytest.mark.parametrize("normalization", [None, "batchnorm", "groupnorm"])
def test_convnet_gradients(normalization):
    rng = np.random.default_rng(9)
    model = ConvNet(input_dim=(3, 8, 8), num_filters=(4, 4), filter_size=3, hidden_dims=(7,),
                    normalization=normalization, num_groups=2, dropout_keep_ratio=0.7,
                    reg=0.1, dtype=np.float64, seed=0)
    X = rng.standard_normal((6, 3, 8, 8))
    y = rng.integers(0, 10, 6)
    _check_model_grads(model, X, y, tol=1e-5)


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
