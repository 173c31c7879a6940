"""Affine, ReLU, softmax and SVM loss (cs231n/layers.py).

Forward results are compared with plain loops written here; backward passes with
centred differences in float64. Tolerance of every gradient check: elementwise
``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` (``GRAD_RTOL``, ``GRAD_ATOL``).
"""
import math

import numpy as np
import pytest

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


def assert_grad_close(analytic, numeric):
    """Float64 gradient check with the tolerance stated in the module docstring."""
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL)


# --------------------------------------------------------------------------
# affine
# --------------------------------------------------------------------------

def ref_affine(x, w, b):
    """out[n, m] = sum_d x[n].flat[d] * w[d, m] + b[m], by plain loops."""
    N = x.shape[0]
    rows = [x[n].ravel() for n in range(N)]
    D, M = w.shape
    out = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            out[n, m] = sum(rows[n][d] * w[d, m] for d in range(D)) + b[m]
    return out


AFFINE_SHAPES = [((3, 4), 5), ((2, 3, 4), 2), ((2, 2, 3, 2), 3), ((1, 6), 1)]


@pytest.mark.graded("affine")
@pytest.mark.parametrize("x_shape, M", AFFINE_SHAPES)
def test_affine_forward_matches_loops(rng, x_shape, M):
    D = int(np.prod(x_shape[1:]))
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    x0, w0, b0 = x.copy(), w.copy(), b.copy()
    out, _ = affine_forward(x, w, b)
    assert out.shape == (x_shape[0], M)
    np.testing.assert_allclose(out, ref_affine(x, w, b), rtol=1e-12, atol=1e-12)
    # inputs untouched
    assert np.array_equal(x, x0) and np.array_equal(w, w0) and np.array_equal(b, b0)


@pytest.mark.graded("affine")
def test_affine_forward_hand_example():
    # worked out by hand: out[n, m] = sum_d x[n, d] w[d, m] + b[m]
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, -1.0], [0.5, 2.0]])
    b = np.array([0.25, -0.5])
    out, _ = affine_forward(x, w, b)
    expected = np.array([[1 + 1 + 0.25, -1 + 4 - 0.5], [3 + 2 + 0.25, -3 + 8 - 0.5]])
    np.testing.assert_array_equal(out, expected)


@pytest.mark.graded("affine")
@pytest.mark.parametrize("x_shape, M", AFFINE_SHAPES)
def test_affine_backward_gradient_check(rng, x_shape, M):
    D = int(np.prod(x_shape[1:]))
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    dout = rng.standard_normal((x_shape[0], M))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_grad_close(dx, eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout))
    assert_grad_close(dw, eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout))
    assert_grad_close(db, eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout))


@pytest.mark.graded("affine")
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

@pytest.mark.graded("relu")
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2, 2)])
def test_relu_forward_matches_plain(rng, shape):
    x = rng.standard_normal(shape)
    x0 = x.copy()
    out, _ = relu_forward(x)
    expected = np.array([v if v > 0 else 0.0 for v in x.ravel()]).reshape(shape)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(x, x0)


@pytest.mark.graded("relu")
def test_relu_linspace_example():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    expected = np.where(np.arange(12).reshape(3, 4) >= 6, x, 0.0)  # second half positive
    np.testing.assert_array_equal(out, expected)


@pytest.mark.graded("relu")
@pytest.mark.parametrize("shape", [(10,), (4, 5), (2, 3, 3)])
def test_relu_backward_gradient_check(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5          # keep away from the kink at 0
    dout = rng.standard_normal(shape)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    assert_grad_close(dx, eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout))


@pytest.mark.graded("relu")
def test_relu_backward_at_zero_is_zero():
    # the documented convention dx = dout * (x > 0): no gradient at exactly 0
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.array([5.0, 7.0, 11.0]), cache), [0.0, 0.0, 11.0])


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------

def ref_softmax_loss(x, y):
    """Loss and gradient by plain per-row formulas with math.exp/log."""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        m = max(x[i])
        e = [math.exp(v - m) for v in x[i]]
        s = sum(e)
        loss -= math.log(e[y[i]] / s)
        for j in range(C):
            dx[i, j] = (e[j] / s - (1.0 if j == y[i] else 0.0)) / N
    return loss / N, dx


def ref_svm_loss(x, y):
    """Hinge loss (margin 1) and its gradient by plain loops."""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1.0
            if margin > 0:
                loss += margin
                dx[i, j] += 1.0 / N
                dx[i, y[i]] -= 1.0 / N
    return loss / N, dx


@pytest.mark.graded("losses")
@pytest.mark.parametrize("N, C", [(5, 3), (1, 4), (8, 10)])
def test_softmax_loss_matches_plain(rng, N, C):
    x = rng.standard_normal((N, C)) * 3
    y = rng.integers(C, size=N)
    loss, dx = softmax_loss(x, y)
    ref_loss, ref_dx = ref_softmax_loss(x, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-14)


@pytest.mark.graded("losses")
@pytest.mark.parametrize("N, C", [(5, 3), (1, 4), (8, 10)])
def test_svm_loss_matches_plain(rng, N, C):
    x = rng.standard_normal((N, C)) * 3
    y = rng.integers(C, size=N)
    loss, dx = svm_loss(x, y)
    ref_loss, ref_dx = ref_svm_loss(x, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-15)


@pytest.mark.graded("losses")
def test_svm_loss_hand_example():
    # row 0: y=0, margins 2-1+1=2 and 3-1+1=3 -> 5; row 1: y=2, margins
    # 0-5+1<0 and 1-5+1<0 -> 0. Mean 2.5.
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]])
    y = np.array([0, 2])
    loss, dx = svm_loss(x, y)
    assert loss == 2.5
    np.testing.assert_array_equal(dx, [[-1.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


@pytest.mark.graded("losses")
def test_svm_margin_exactly_zero_contributes_nothing():
    # x_j - x_y + 1 == 0 exactly: max(0, .) = 0 and no gradient (strict > 0)
    loss, dx = svm_loss(np.array([[2.0, 1.0]]), np.array([0]))
    assert loss == 0.0
    np.testing.assert_array_equal(dx, [[0.0, 0.0]])


@pytest.mark.graded("losses")
def test_softmax_loss_hand_example():
    # two equal scores: p = 1/2 each, loss log 2, dx = (p - onehot) / N
    loss, dx = softmax_loss(np.array([[3.0, 3.0], [0.0, 0.0]]), np.array([1, 0]))
    assert loss == pytest.approx(math.log(2), rel=1e-14)
    np.testing.assert_allclose(dx, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-14)


@pytest.mark.graded("losses")
def test_softmax_loss_large_scores_are_stable():
    loss, dx = softmax_loss(np.array([[1000.0, 0.0], [1000.0, 0.0]]), np.array([0, 1]))
    assert loss == pytest.approx(500.0, rel=1e-12)   # (0 + 1000) / 2
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx, [[0.0, 0.0], [0.5, -0.5]], atol=1e-12)


@pytest.mark.graded("losses")
def test_softmax_loss_rows_on_very_different_scales():
    # each row is shifted by its own maximum: a row far below another stays finite
    x = np.array([[0.0, 1.0], [-1000.0, -1001.0]])
    loss, dx = softmax_loss(x, np.array([1, 0]))
    ref_loss, ref_dx = ref_softmax_loss(x, np.array([1, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-14)


@pytest.mark.graded("losses")
def test_initial_losses_for_small_random_scores(rng):
    # CS231n sanity check: tiny scores -> softmax loss ~ log(C), SVM loss ~ C - 1
    N, C = 50, 10
    x = 0.001 * rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    assert softmax_loss(x, y)[0] == pytest.approx(math.log(C), abs=0.01)
    assert svm_loss(x, y)[0] == pytest.approx(C - 1, abs=0.01)


@pytest.mark.graded("losses")
@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize("N, C", [(6, 4), (3, 7)])
def test_loss_gradient_check(rng, loss_fn, N, C):
    x = rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    # keep SVM margins away from their kinks so centred differences are exact
    margins = x - x[np.arange(N), y][:, None] + 1
    assert np.min(np.abs(margins)) > 1e-4
    _, dx = loss_fn(x, y)
    num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x, verbose=False)
    assert_grad_close(dx, num)


@pytest.mark.graded("losses")
@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_losses_keep_float32_and_inputs(rng, loss_fn):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1])
    x0, y0 = x.copy(), y.copy()
    loss, dx = loss_fn(x, y)
    assert dx.dtype == np.float32
    assert np.isfinite(loss)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
