"""The gradient figures the four official CS231n notebooks print, inside their stated bands.

Each case below types out one cell of the official FullyConnectedNets,
BatchNormalization, Dropout and ConvolutionalNetworks notebooks (assignment 2,
releases 2021-2026): ``np.random.seed(231)``, the same shapes and draws in the
same order, the same numerical-gradient call and the course's ``rel_error``. The
figure must lie inside the band the notebook's text states. A band written as
"between 1e-12 and 1e-8" is held to its upper end; "around e-k or less" / "on the
order of e-k" to the same order of magnitude, ``< 10**(-k + 1)``.

These tests check the kit's reference solutions and given code (and a student's:
a correct implementation meets every band). They are not graded: the graded
checks of each part live in the part's own test module.
"""
import numpy as np
import pytest

from cs231n.classifiers.cnn import ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.fast_layers import (conv_backward_fast, conv_forward_fast, max_pool_backward_fast,
                                max_pool_forward_fast)
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from cs231n.layer_utils import (affine_relu_backward, affine_relu_forward, conv_relu_backward,
                                conv_relu_forward, conv_relu_pool_backward,
                                conv_relu_pool_forward)
from cs231n.layers import (affine_backward, affine_forward, batchnorm_backward,
                           batchnorm_backward_alt, batchnorm_forward, conv_backward_naive,
                           conv_forward_naive, dropout_backward, dropout_forward,
                           layernorm_backward, layernorm_forward, max_pool_backward_naive,
                           max_pool_forward_naive, relu_backward, relu_forward, softmax_loss,
                           spatial_batchnorm_backward, spatial_batchnorm_forward,
                           spatial_groupnorm_backward, spatial_groupnorm_forward, svm_loss)


def rel_error(x, y):
    """The notebooks' relative error (their helper, typed out)."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


@pytest.fixture
def global_seed():
    """Seed numpy's global state as the notebooks do, and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(231)
    yield
    np.random.set_state(state)


def rel_errors(names, first, second):
    """``{name: rel_error}`` of matching arrays, as the notebooks print them."""
    return {n: rel_error(a, b) for n, a, b in zip(names, first, second)}


DW = ("dx", "dw", "db")
DGAMMA = ("dx", "dgamma", "dbeta")


def check_band(figures, band):
    """Every (name, error) pair must be at most ``band``."""
    __tracebackhide__ = True
    bad = {name: f"{err:.2e}" for name, err in figures.items() if not err <= band}
    assert not bad, f"outside the notebook's band ({band:.0e}): {bad}"


def _numeric_layer_grads(forward, args, dout, wrt):
    """Numerical gradients of ``forward(*args)[0]`` for the argument indices in ``wrt``."""
    grads = []
    for i in wrt:
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return forward(*a)[0]
        grads.append(eval_numerical_gradient_array(f, args[i], dout))
    return grads


# ---------------------------------------------------------------- FullyConnectedNets

def test_fc_affine_backward(global_seed):
    x = np.random.randn(10, 2, 3)
    w = np.random.randn(6, 5)
    b = np.random.randn(5)
    dout = np.random.randn(10, 5)
    num = _numeric_layer_grads(affine_forward, (x, w, b), dout, (0, 1, 2))
    _, cache = affine_forward(x, w, b)
    got = affine_backward(dout, cache)
    # "The error should be around e-10 or less"
    check_band(rel_errors(DW, num, got), 1e-9)


def test_fc_relu_backward(global_seed):
    x = np.random.randn(10, 10)
    dout = np.random.randn(*x.shape)
    dx_num = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)
    _, cache = relu_forward(x)
    # "The error should be on the order of e-12"
    check_band({"dx": rel_error(dx_num, relu_backward(dout, cache))}, 1e-11)


def test_fc_affine_relu_backward(global_seed):
    x = np.random.randn(2, 3, 4)
    w = np.random.randn(12, 10)
    b = np.random.randn(10)
    dout = np.random.randn(2, 10)
    _, cache = affine_relu_forward(x, w, b)
    got = affine_relu_backward(dout, cache)
    num = _numeric_layer_grads(affine_relu_forward, (x, w, b), dout, (0, 1, 2))
    # "Relative error should be around e-10 or less"
    check_band(rel_errors(DW, num, got), 1e-9)


def test_fc_loss_layers(global_seed):
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    dx_num = eval_numerical_gradient(lambda x: svm_loss(x, y)[0], x, verbose=False)
    loss, dx = svm_loss(x, y)
    # "loss should be around 9 and dx error should be around the order of e-9"
    assert abs(loss - 9) < 0.1
    check_band({"svm dx": rel_error(dx_num, dx)}, 1e-8)
    dx_num = eval_numerical_gradient(lambda x: softmax_loss(x, y)[0], x, verbose=False)
    loss, dx = softmax_loss(x, y)
    # "loss should be close to 2.3 and dx error should be around e-8"
    assert abs(loss - 2.3) < 0.05
    check_band({"softmax dx": rel_error(dx_num, dx)}, 1e-7)


def _model_gradient_errors(model, X, y, h=1e-5):
    """The loss and, per parameter, rel_error(numeric, analytic) with step ``h``."""
    loss, grads = model.loss(X, y)
    errors = {}
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=h)
        errors[name] = rel_error(grad_num, grads[name])
    return loss, errors


def _fc_data():
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    return X, y, D, H1, H2, C


def test_fc_net_gradient_check(global_seed):
    X, y, D, H1, H2, C = _fc_data()
    for reg in [0, 3.14]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64)
        _, errors = _model_gradient_errors(model, X, y)
        # "Most of the errors should be on the order of e-7 or smaller. NOTE: It is
        # fine however to see an error for W2 on the order of e-5 for the check when
        # reg = 0.0"
        allowed = {"W2": 1e-4} if reg == 0 else {}
        check_band({n: e for n, e in errors.items() if n not in allowed}, 1e-6)
        check_band({n: errors[n] for n in allowed}, 1e-4)


# ---------------------------------------------------------------- BatchNormalization

def _norm_layer_errors(forward, backward, x, gamma, beta, param, dout, G=None):
    extra = () if G is None else (G,)
    fwd = lambda x_, g_, b_: forward(x_, g_, b_, *extra, param)
    num = _numeric_layer_grads(fwd, (x, gamma, beta), dout, (0, 1, 2))
    _, cache = fwd(x, gamma, beta)
    got = backward(dout, cache)
    return rel_errors(DGAMMA, num, got)


def test_bn_batchnorm_backward(global_seed):
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    errors = _norm_layer_errors(batchnorm_forward, batchnorm_backward, x, gamma, beta,
                                {"mode": "train"}, dout)
    # "You should expect to see relative errors between 1e-13 and 1e-8"
    check_band(errors, 1e-8)


def test_bn_batchnorm_backward_alt(global_seed):
    N, D = 100, 500
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    graph = batchnorm_backward(dout, cache)
    alt = batchnorm_backward_alt(dout, cache)
    # the notebook prints the differences without a band; they are rounding only
    check_band(rel_errors(DGAMMA, graph, alt),
               1e-10)


def test_bn_fc_net_with_batchnorm_gradient_check(global_seed):
    X, y, D, H1, H2, C = _fc_data()
    for reg in [0, 3.14]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64, normalization="batchnorm")
        loss, errors = _model_gradient_errors(model, X, y)
        grads = model.loss(X, y)[1]
        # "You should expect losses between 1e-4~1e-10 for W, losses between
        # 1e-08~1e-10 for b, and losses between 1e-08~1e-10 for beta and gammas."
        # W: the course's own solved notebook prints "W1 relative error: 1.10e-04" for
        # this very cell (the kit's draws are the course's), so the upper end is read
        # as its order of magnitude.
        check_band({n: e for n, e in errors.items() if n.startswith("W")}, 2e-4)
        check_band({n: e for n, e in errors.items() if n[:4] in ("beta", "gamm")}, 1e-8)
        # b1, b2 feed a batch norm, which cancels them: their true gradient is 0 and the
        # relative error only measures rounding (the solved notebook prints 0.00e+00).
        for name in ("b1", "b2"):
            f = lambda _: model.loss(X, y)[0]
            num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
            assert np.max(np.abs(num - grads[name])) <= 1e-12, name
        check_band({"b3": errors["b3"]}, 1e-8)


def test_bn_layernorm_backward(global_seed):
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    errors = _norm_layer_errors(layernorm_forward, layernorm_backward, x, gamma, beta, {}, dout)
    # "You should expect to see relative errors between 1e-12 and 1e-8"
    check_band(errors, 1e-8)


# ---------------------------------------------------------------- Dropout

def test_dropout_backward(global_seed):
    x = np.random.randn(10, 10) + 10
    dout = np.random.randn(*x.shape)
    dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
    _, cache = dropout_forward(x, dropout_param)
    dx = dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda xx: dropout_forward(xx, dropout_param)[0], x,
                                           dout)
    # "Error should be around e-10 or less"
    check_band({"dx": rel_error(dx, dx_num)}, 1e-9)


def test_dropout_fc_net_gradient_check(global_seed):
    X, y, D, H1, H2, C = _fc_data()
    for keep in [1, 0.75, 0.5]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                                  dtype=np.float64, dropout_keep_ratio=keep, seed=123)
        _, errors = _model_gradient_errors(model, X, y)
        # "Relative errors should be around e-6 or less; Note that it's fine if for
        # dropout_keep_ratio=1 you have W2 error be on the order of e-5."
        allowed = {"W2": 1e-4} if keep == 1 else {}
        check_band({n: e for n, e in errors.items() if n not in allowed}, 1e-5)
        check_band({n: errors[n] for n in allowed}, 1e-4)


# ---------------------------------------------------------------- ConvolutionalNetworks

def test_conv_naive_backward(global_seed):
    x = np.random.randn(4, 3, 5, 5)
    w = np.random.randn(2, 3, 3, 3)
    b = np.random.randn(2,)
    dout = np.random.randn(4, 2, 5, 5)
    conv_param = {"stride": 1, "pad": 1}
    fwd = lambda x_, w_, b_: conv_forward_naive(x_, w_, b_, conv_param)
    num = _numeric_layer_grads(fwd, (x, w, b), dout, (0, 1, 2))
    _, cache = fwd(x, w, b)
    got = conv_backward_naive(dout, cache)
    # "Your errors should be around e-8 or less."
    check_band(rel_errors(DW, num, got), 1e-7)


def test_conv_max_pool_naive_backward(global_seed):
    x = np.random.randn(3, 2, 8, 8)
    dout = np.random.randn(3, 2, 4, 4)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x,
                                           dout)
    _, cache = max_pool_forward_naive(x, pool_param)
    # "Your error should be on the order of e-12"
    check_band({"dx": rel_error(dx_num, max_pool_backward_naive(dout, cache))}, 1e-11)


@pytest.mark.slow
def test_conv_fast_layers_agree_with_naive(global_seed):
    x = np.random.randn(100, 3, 31, 31)
    w = np.random.randn(25, 3, 3, 3)
    b = np.random.randn(25,)
    dout = np.random.randn(100, 25, 16, 16)
    conv_param = {"stride": 2, "pad": 1}
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    naive = (out_naive,) + conv_backward_naive(dout, cache_naive)
    fast = (out_fast,) + conv_backward_fast(dout, cache_fast)
    # the notebook prints "Difference" for out, dx, dw, db; rounding only ("e-11 or so")
    check_band({n: rel_error(a, b) for n, a, b in zip(("out", "dx", "dw", "db"), naive, fast)},
               1e-10)
    x = np.random.randn(100, 3, 32, 32)
    dout = np.random.randn(100, 3, 16, 16)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    check_band({"pool out": rel_error(out_naive, out_fast),
                "pool dx": rel_error(max_pool_backward_naive(dout, cache_naive),
                                     max_pool_backward_fast(dout, cache_fast))}, 1e-12)


def test_conv_sandwich_layers(global_seed):
    x = np.random.randn(2, 3, 16, 16)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    fwd = lambda x_, w_, b_: conv_relu_pool_forward(x_, w_, b_, conv_param, pool_param)
    _, cache = fwd(x, w, b)
    got = conv_relu_pool_backward(dout, cache)
    num = _numeric_layer_grads(fwd, (x, w, b), dout, (0, 1, 2))
    # "Relative errors should be around e-8 or less"
    check_band(rel_errors(DW, num, got), 1e-7)

    x = np.random.randn(2, 3, 8, 8)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    fwd = lambda x_, w_, b_: conv_relu_forward(x_, w_, b_, conv_param)
    _, cache = fwd(x, w, b)
    got = conv_relu_backward(dout, cache)
    num = _numeric_layer_grads(fwd, (x, w, b), dout, (0, 1, 2))
    check_band(rel_errors(DW, num, got), 1e-7)


def test_conv_three_layer_convnet_gradient_check(global_seed):
    num_inputs = 2
    input_dim = (3, 16, 16)
    num_classes = 10
    X = np.random.randn(num_inputs, *input_dim)
    y = np.random.randint(num_classes, size=num_inputs)
    model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=input_dim, hidden_dim=7,
                              dtype=np.float64)
    _, errors = _model_gradient_errors(model, X, y, h=1e-6)
    # "Errors should be small, but correct implementations may have relative errors
    # up to the order of e-2."
    check_band(errors, 1e-1)


def test_conv_spatial_batchnorm_backward(global_seed):
    N, C, H, W = 2, 3, 4, 5
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma = np.random.randn(C)
    beta = np.random.randn(C)
    dout = np.random.randn(N, C, H, W)
    errors = _norm_layer_errors(spatial_batchnorm_forward, spatial_batchnorm_backward, x, gamma,
                                beta, {"mode": "train"}, dout)
    # "You should expect errors of magnitudes between 1e-12 and 1e-06"
    check_band(errors, 1e-6)


def test_conv_spatial_groupnorm_backward(global_seed):
    N, C, H, W = 2, 6, 4, 5
    G = 2
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma = np.random.randn(1, C, 1, 1)
    beta = np.random.randn(1, C, 1, 1)
    dout = np.random.randn(N, C, H, W)
    errors = _norm_layer_errors(spatial_groupnorm_forward, spatial_groupnorm_backward, x, gamma,
                                beta, {}, dout, G=G)
    # "You should expect errors of magnitudes between 1e-12 and 1e-07."
    check_band(errors, 1e-7)
