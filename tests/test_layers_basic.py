"""Affine, ReLU, softmax and SVM loss (cs231n/layers.py).

Forward results are compared with expected values stored as data
(``tests/data/layers_basic.npz``), hand-worked examples and properties; backward
passes with centred differences in float64. Tolerance of every gradient check:
elementwise ``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` (``GRAD_RTOL``,
``GRAD_ATOL``).

Graded check groups (the rubric's): ``affine/forward``,
``affine/backward``, ``relu/forward``, ``relu/backward``, ``losses/softmax``,
``losses/softmax_stable`` (large scores) and ``losses/svm``. Dtype tests are not
graded.
"""
import math

import numpy as np
import pytest
from conftest import assert_close, load_expected

from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from cs231n.layers import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

GRAD_RTOL = 1e-6
GRAD_ATOL = 1e-8
EXPECTED = load_expected("layers_basic")


def assert_grad_close(function, what, analytic, numeric):
    """Float64 gradient check with the tolerance stated in the module docstring."""
    __tracebackhide__ = True
    assert_close(function, "gradient check", analytic, numeric, GRAD_RTOL, GRAD_ATOL, what=what,
                 against="the numerical gradient")


def assert_unchanged(function, **pairs):
    __tracebackhide__ = True
    for name, (now, before) in pairs.items():
        assert np.array_equal(now, before), f"{function}: the input {name} was modified"


# --------------------------------------------------------------------------
# affine
# --------------------------------------------------------------------------

AFFINE_CASES = [0, 1, 2, 3]       # tests/data/layers_basic.npz: affine<k>_*


@pytest.mark.graded("affine", "forward")
@pytest.mark.parametrize("k", AFFINE_CASES)
def test_affine_forward_expected_values(k):
    x, w, b = (EXPECTED[f"affine{k}_{n}"].copy() for n in "xwb")
    out, _ = affine_forward(x, w, b)
    assert_close("affine_forward", f"x of shape {x.shape}", out, EXPECTED[f"affine{k}_out"],
                 rtol=1e-12, atol=1e-12)
    assert_unchanged("affine_forward", x=(x, EXPECTED[f"affine{k}_x"]), w=(w, EXPECTED[f"affine{k}_w"]),
                     b=(b, EXPECTED[f"affine{k}_b"]))


@pytest.mark.graded("affine", "forward")
def test_affine_forward_hand_example():
    # worked out by hand: out[n, m] = sum_d x[n, d] w[d, m] + b[m]
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, -1.0], [0.5, 2.0]])
    b = np.array([0.25, -0.5])
    out, _ = affine_forward(x, w, b)
    expected = np.array([[1 + 1 + 0.25, -1 + 4 - 0.5], [3 + 2 + 0.25, -3 + 8 - 0.5]])
    assert_close("affine_forward", "hand example", out, expected)


AFFINE_SHAPES = [((3, 4), 5), ((2, 3, 4), 2), ((2, 2, 3, 2), 3), ((1, 6), 1)]


@pytest.mark.graded("affine", "backward")
@pytest.mark.parametrize("x_shape, M", AFFINE_SHAPES)
def test_affine_backward_gradient_check(rng, x_shape, M):
    D = int(np.prod(x_shape[1:]))
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    dout = rng.standard_normal((x_shape[0], M))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert_grad_close("affine_backward", "dx", dx,
                      eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout))
    assert_grad_close("affine_backward", "dw", dw,
                      eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout))
    assert_grad_close("affine_backward", "db", db,
                      eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout))


def test_affine_float32_stays_float32(rng):
    x = rng.standard_normal((3, 2, 2)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    out, cache = affine_forward(x, w, b)
    assert out.dtype == np.float32
    grads = affine_backward(np.ones_like(out), cache)
    assert [g.dtype for g in grads] == [np.float32] * 3


# --------------------------------------------------------------------------
# ReLU
# --------------------------------------------------------------------------

@pytest.mark.graded("relu", "forward")
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2, 2)])
def test_relu_forward_properties(rng, shape):
    x = rng.standard_normal(shape)
    x0 = x.copy()
    out, _ = relu_forward(x)
    assert np.shape(out) == shape, f"relu_forward: out has shape {np.shape(out)}, expected {shape}"
    pos = x0 > 0
    assert_close("relu_forward", "positive inputs pass unchanged", out[pos], x0[pos])
    assert_close("relu_forward", "negative inputs give 0", out[~pos], np.zeros((~pos).sum()))
    assert_unchanged("relu_forward", x=(x, x0))


@pytest.mark.graded("relu", "forward")
def test_relu_linspace_example():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    expected = np.where(np.arange(12).reshape(3, 4) >= 6, x, 0.0)  # second half positive
    assert_close("relu_forward", "the notebook's linspace example", out, expected)


@pytest.mark.graded("relu", "backward")
@pytest.mark.parametrize("shape", [(10,), (4, 5), (2, 3, 3)])
def test_relu_backward_gradient_check(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5          # keep away from the kink at 0
    dout = rng.standard_normal(shape)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    assert_grad_close("relu_backward", "dx", dx,
                      eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout))


@pytest.mark.graded("relu", "backward")
def test_relu_backward_at_zero_is_zero():
    # the convention dx = dout * (x > 0): no gradient at exactly 0
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = relu_forward(x)
    dx = relu_backward(np.array([5.0, 7.0, 11.0]), cache)
    assert_close("relu_backward", "no gradient where x <= 0 (x = -1, 0, 2)", dx, [0.0, 0.0, 11.0],
                 what="dx")


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------

LOSS_CASES = [0, 1, 2]            # tests/data/layers_basic.npz: loss<k>_*


def check_loss(function, check, loss, dx, exp_loss, exp_dx, rtol):
    __tracebackhide__ = True
    assert isinstance(loss, float), (
        f"{function} ({check}): loss is a {type(loss).__name__}, expected a Python float")
    assert_close(function, check, loss, exp_loss, rtol=rtol, what="loss")
    assert_close(function, check, dx, exp_dx, rtol=1e-10, atol=1e-14, what="dx")


@pytest.mark.graded("losses", "softmax")
@pytest.mark.parametrize("k", LOSS_CASES)
def test_softmax_loss_expected_values(k):
    x, y = EXPECTED[f"loss{k}_x"].copy(), EXPECTED[f"loss{k}_y"].copy()
    loss, dx = softmax_loss(x, y)
    check_loss("softmax_loss", f"x of shape {x.shape}", loss, dx, EXPECTED[f"loss{k}_softmax_loss"],
               EXPECTED[f"loss{k}_softmax_dx"], 1e-12)
    assert_unchanged("softmax_loss", x=(x, EXPECTED[f"loss{k}_x"]), y=(y, EXPECTED[f"loss{k}_y"]))


@pytest.mark.graded("losses", "svm")
@pytest.mark.parametrize("k", LOSS_CASES)
def test_svm_loss_expected_values(k):
    x, y = EXPECTED[f"loss{k}_x"].copy(), EXPECTED[f"loss{k}_y"].copy()
    loss, dx = svm_loss(x, y)
    check_loss("svm_loss", f"x of shape {x.shape}", loss, dx, EXPECTED[f"loss{k}_svm_loss"],
               EXPECTED[f"loss{k}_svm_dx"], 1e-12)
    assert_unchanged("svm_loss", x=(x, EXPECTED[f"loss{k}_x"]), y=(y, EXPECTED[f"loss{k}_y"]))


@pytest.mark.graded("losses", "svm")
def test_svm_loss_hand_example():
    # row 0: y=0, margins 2-1+1=2 and 3-1+1=3 -> 5; row 1: y=2, margins
    # 0-5+1<0 and 1-5+1<0 -> 0. Mean 2.5.
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]])
    y = np.array([0, 2])
    loss, dx = svm_loss(x, y)
    check_loss("svm_loss", "hand example", loss, dx, 2.5, [[-1.0, 0.5, 0.5], [0.0, 0.0, 0.0]], 0)


@pytest.mark.graded("losses", "svm")
def test_svm_margin_exactly_zero_contributes_nothing():
    # x_j - x_y + 1 == 0 exactly: max(0, .) = 0 and no gradient (strict > 0)
    loss, dx = svm_loss(np.array([[2.0, 1.0]]), np.array([0]))
    check_loss("svm_loss", "a margin of exactly 0", loss, dx, 0.0, [[0.0, 0.0]], 0)


@pytest.mark.graded("losses", "softmax")
def test_softmax_loss_hand_example():
    # two equal scores: p = 1/2 each, loss log 2, dx = (p - onehot) / N
    loss, dx = softmax_loss(np.array([[3.0, 3.0], [0.0, 0.0]]), np.array([1, 0]))
    check_loss("softmax_loss", "hand example (equal scores)", loss, dx, math.log(2),
               [[0.25, -0.25], [-0.25, 0.25]], 1e-14)


@pytest.mark.graded("losses", "softmax_stable")
def test_softmax_loss_large_scores_are_stable():
    loss, dx = softmax_loss(np.array([[1000.0, 0.0], [1000.0, 0.0]]), np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx)), (
        "softmax_loss (scores of 1000): loss or dx is not finite; subtract each row's maximum "
        "before exponentiating")
    check_loss("softmax_loss", "scores of 1000", loss, dx, 500.0,   # (0 + 1000) / 2
               [[0.0, 0.0], [0.5, -0.5]], 1e-12)


@pytest.mark.graded("losses", "softmax_stable")
def test_softmax_loss_rows_on_very_different_scales():
    # each row is shifted by its own maximum: a row far below another stays finite
    x, y = EXPECTED["scales_x"], EXPECTED["scales_y"]
    loss, dx = softmax_loss(x.copy(), y.copy())
    assert np.isfinite(loss) and np.all(np.isfinite(dx)), (
        "softmax_loss (rows of scores near 0 and near -1000): loss or dx is not finite; "
        "subtract each row's own maximum")
    check_loss("softmax_loss", "rows of scores near 0 and near -1000", loss, dx,
               EXPECTED["scales_softmax_loss"], EXPECTED["scales_softmax_dx"], 1e-12)


@pytest.mark.parametrize("loss_fn, expected", [
    pytest.param(softmax_loss, math.log(10), marks=pytest.mark.graded("losses", "softmax"), id="softmax"),
    pytest.param(svm_loss, 9.0, marks=pytest.mark.graded("losses", "svm"), id="svm"),
])
def test_initial_losses_for_small_random_scores(rng, loss_fn, expected):
    # CS231n sanity check: tiny scores -> softmax loss ~ log(C), SVM loss ~ C - 1
    N, C = 50, 10
    x = 0.001 * rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    loss = loss_fn(x, y)[0]
    assert abs(loss - expected) < 0.01, (
        f"{loss_fn.__name__} (tiny scores, 10 classes): loss is {loss:.4g}, expected {expected:.4g} +- 0.01")


@pytest.mark.parametrize("loss_fn", [
    pytest.param(softmax_loss, marks=pytest.mark.graded("losses", "softmax"), id="softmax"),
    pytest.param(svm_loss, marks=pytest.mark.graded("losses", "svm"), id="svm"),
])
@pytest.mark.parametrize("N, C", [(6, 4), (3, 7)])
def test_loss_gradient_check(rng, loss_fn, N, C):
    x = rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    # keep SVM margins away from their kinks so centred differences are exact
    margins = x - x[np.arange(N), y][:, None] + 1
    assert np.min(np.abs(margins)) > 1e-4
    _, dx = loss_fn(x, y)
    num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x, verbose=False)
    assert_grad_close(loss_fn.__name__, "dx", dx, num)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_losses_keep_float32_and_inputs(rng, loss_fn):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1])
    x0, y0 = x.copy(), y.copy()
    loss, dx = loss_fn(x, y)
    assert dx.dtype == np.float32
    assert np.isfinite(loss)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
