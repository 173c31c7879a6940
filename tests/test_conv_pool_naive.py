"""Naive convolution and max pooling (cs231n/layers.py).

Forward results against hand-computed examples and expected values stored as data
(``tests/data/conv_pool.npz``); gradient checks in float64 on tiny shapes with
tolerance ``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` elementwise.

Graded check groups (the rubric's): ``conv_naive/forward``,
``conv_naive/backward``, ``maxpool_naive/forward``, ``maxpool_naive/backward`` and
``maxpool_naive/backward_ties`` (the gradient of a window goes to its first
maximum, as the docstring says). Dtype tests and tests of the given code around
the student's lines (the cache keeps its own copy of the parameters) are not graded.
"""
import numpy as np
import pytest
from conftest import assert_close, load_expected

from cs231n.gradient_check import eval_numerical_gradient_array
from cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

EXPECTED = load_expected("conv_pool")


def assert_grad_close(function, what, analytic, numeric):
    __tracebackhide__ = True
    assert_close(function, "gradient check", analytic, numeric, rtol=1e-6, atol=1e-8, what=what,
                 against="the numerical gradient")


# --------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------

X33 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)      # [[1,2,3],[4,5,6],[7,8,9]]
W22 = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])


@pytest.mark.graded("conv_naive", "forward")
def test_conv_hand_example_no_padding():
    # out[i,j] = x[i,j] + 2 x[i,j+1] + 3 x[i+1,j] + 4 x[i+1,j+1] + b
    out, _ = conv_forward_naive(X33, W22, np.array([1.0]), {"stride": 1, "pad": 0})
    assert_close("conv_forward_naive", "hand example, stride 1, pad 0", out,
                 [[[[38.0, 48.0], [68.0, 78.0]]]])


@pytest.mark.graded("conv_naive", "forward")
def test_conv_hand_example_padding_and_stride():
    # padded 5x5 input, windows at rows/cols {0, 2}:
    # (0,0): 4*1 = 4; (0,2): 3*2 + 4*3 = 18; (2,0): 2*4 + 4*7 = 36; (2,2): 5+12+24+36 = 77
    out, _ = conv_forward_naive(X33, W22, np.array([0.0]), {"stride": 2, "pad": 1})
    assert_close("conv_forward_naive", "hand example, stride 2, pad 1", out,
                 [[[[4.0, 18.0], [36.0, 77.0]]]])


@pytest.mark.graded("conv_naive", "forward")
def test_conv_defaults_are_stride_1_pad_0():
    out, _ = conv_forward_naive(X33, W22, np.array([1.0]), {})
    assert_close("conv_forward_naive", "empty conv_param means stride 1, pad 0", out,
                 [[[[38.0, 48.0], [68.0, 78.0]]]])


CONV_CASES = [
    # x shape, w shape, stride, pad (the first six are stored in conv_pool.npz)
    ((1, 3, 4, 4), (2, 3, 3, 3), 1, 1),
    ((1, 2, 4, 5), (3, 2, 2, 3), 2, 0),
    ((2, 1, 5, 4), (1, 1, 3, 3), 2, 1),
    ((1, 2, 3, 3), (2, 2, 3, 3), 1, 0),     # filter covers the whole input: 1x1 output
    ((1, 1, 2, 2), (1, 1, 3, 3), 3, 1),     # filter as large as the padded input
    ((1, 1, 6, 7), (2, 1, 2, 2), 3, 2),
]


@pytest.mark.graded("conv_naive", "forward")
@pytest.mark.parametrize("k", range(len(CONV_CASES)))
def test_conv_forward_expected_values(k):
    x, w, b = (EXPECTED[f"conv{k}_{n}"].copy() for n in "xwb")
    stride, pad = (int(v) for v in EXPECTED[f"conv{k}_param"])
    out, _ = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    assert_close("conv_forward_naive", f"x {x.shape}, w {w.shape}, stride {stride}, pad {pad}",
                 out, EXPECTED[f"conv{k}_out"], rtol=1e-12, atol=1e-12)
    assert np.array_equal(x, EXPECTED[f"conv{k}_x"]), "conv_forward_naive: x was modified (pad a copy)"


@pytest.mark.graded("conv_naive", "forward")
@pytest.mark.parametrize("H, W, HH, WW, stride, pad, Ho, Wo", [
    (32, 32, 7, 7, 1, 3, 32, 32),
    (32, 32, 3, 3, 2, 1, 16, 16),
    (5, 6, 3, 2, 2, 0, 2, 3),
    (4, 4, 4, 4, 1, 0, 1, 1),
    (7, 5, 3, 3, 3, 1, 3, 2),
])
def test_conv_output_size_formula(H, W, HH, WW, stride, pad, Ho, Wo):
    x = np.zeros((1, 1, H, W))
    out, _ = conv_forward_naive(x, np.zeros((1, 1, HH, WW)), np.zeros(1), {"stride": stride, "pad": pad})
    assert out.shape == (1, 1, Ho, Wo), (
        f"conv_forward_naive (output size): out has shape {out.shape}, expected (1, 1, {Ho}, {Wo})")


@pytest.mark.graded("conv_naive", "backward")
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward_gradient_check(rng, x_shape, w_shape, stride, pad):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert_grad_close("conv_backward_naive", "dx", dx, eval_numerical_gradient_array(
        lambda v: conv_forward_naive(v, w, b, conv_param)[0], x, dout))
    assert_grad_close("conv_backward_naive", "dw", dw, eval_numerical_gradient_array(
        lambda v: conv_forward_naive(x, v, b, conv_param)[0], w, dout))
    assert_grad_close("conv_backward_naive", "db", db, eval_numerical_gradient_array(
        lambda v: conv_forward_naive(x, w, v, conv_param)[0], b, dout))


def test_conv_backward_leaves_inputs_intact(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    w = rng.standard_normal((2, 2, 3, 3))
    b = rng.standard_normal(2)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    dout = rng.standard_normal(out.shape)
    d0 = dout.copy()
    first = conv_backward_naive(dout, cache)
    second = conv_backward_naive(dout, cache)
    for a, c in zip((x, w, b), copies):
        assert np.array_equal(a, c)
    assert np.array_equal(dout, d0)
    for g1, g2 in zip(first, second):
        np.testing.assert_array_equal(g1, g2)


def test_conv_param_dict_changes_after_forward_do_not_affect_backward(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    w = rng.standard_normal((1, 1, 2, 2))
    conv_param = {"stride": 2, "pad": 0}
    out, cache = conv_forward_naive(x, w, np.zeros(1), conv_param)
    conv_param["stride"], conv_param["pad"] = 1, 1
    dx, dw, db = conv_backward_naive(np.ones(out.shape), cache)
    assert dx.shape == x.shape
    # stride 2 on 4x4 with a 2x2 filter: windows tile the input, each pixel used once
    np.testing.assert_allclose(dx, np.tile(w[0, 0], (2, 2))[None, None])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_dtype_preserved(rng, dtype):
    x = rng.standard_normal((1, 2, 4, 4)).astype(dtype)
    w = rng.standard_normal((2, 2, 3, 3)).astype(dtype)
    b = rng.standard_normal(2).astype(dtype)
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in conv_backward_naive(np.ones_like(out), cache))


def test_conv_mixed_dtypes_promote_like_numpy(rng):
    # float32 weights on float64 data: nothing is rounded to float32
    x = rng.standard_normal((1, 1, 3, 3))
    w = rng.standard_normal((1, 1, 2, 2)).astype(np.float32)
    b = np.zeros(1, np.float32)
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    assert out.dtype == np.float64
    ref, _ = conv_forward_naive(x, w.astype(np.float64), b.astype(np.float64), {"stride": 1, "pad": 0})
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    out2, _ = conv_forward_naive(x.astype(np.float32), w, b.astype(np.float64), {"stride": 1, "pad": 0})
    assert out2.dtype == np.float64
    dx, dw, db = conv_backward_naive(np.ones((1, 1, 2, 2)), cache)
    assert dx.dtype == np.float64 and dw.dtype == np.float64


@pytest.mark.parametrize("x_dt, w_dt, b_dt, dout_dt", [
    (np.float32, np.float64, np.float32, np.float32),
    (np.float32, np.float32, np.float32, np.float64),
    (np.float64, np.float32, np.float32, np.float32),
])
def test_conv_mixed_dtypes_never_downcast(rng, x_dt, w_dt, b_dt, dout_dt):
    # out has the promoted dtype of (x, w, b); dx of (x, dout) and dw of (w, dout)
    x = rng.standard_normal((1, 2, 3, 3)).astype(x_dt)
    w = rng.standard_normal((2, 2, 2, 2)).astype(w_dt)
    b = rng.standard_normal(2).astype(b_dt)
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == np.result_type(x_dt, w_dt, b_dt)
    dout = rng.standard_normal(out.shape).astype(dout_dt)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert dx.dtype == np.result_type(x_dt, dout_dt)
    assert dw.dtype == np.result_type(w_dt, dout_dt)
    assert db.dtype == np.dtype(dout_dt)


# --------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------

POOL_X = np.array([[[[1.0, 5.0, 2.0, 0.0],
                     [3.0, 4.0, 8.0, 1.0],
                     [0.0, 2.0, 6.0, 7.0],
                     [9.0, 1.0, 3.0, 3.0]]]])
POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


@pytest.mark.graded("maxpool_naive", "forward")
def test_max_pool_hand_example_forward():
    out, _ = max_pool_forward_naive(POOL_X, dict(POOL_2X2))
    assert_close("max_pool_forward_naive", "hand example, 2x2 windows, stride 2", out,
                 [[[[5.0, 8.0], [9.0, 7.0]]]])


@pytest.mark.graded("maxpool_naive", "backward")
def test_max_pool_hand_example_backward():
    _, cache = max_pool_forward_naive(POOL_X, dict(POOL_2X2))
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 0, 1], expected[0, 0, 1, 2], expected[0, 0, 3, 0], expected[0, 0, 2, 3] = 1, 2, 3, 4
    assert_close("max_pool_backward_naive", "hand example: each window's gradient at its maximum",
                 dx, expected, what="dx")


@pytest.mark.graded("maxpool_naive", "forward")
def test_max_pool_non_square_window_and_stride():
    # 3 rows x 2 columns, stride 1: windows worked out by hand from POOL_X
    pool = {"pool_height": 3, "pool_width": 2, "stride": 1}
    out, _ = max_pool_forward_naive(POOL_X, pool)
    assert_close("max_pool_forward_naive", "hand example, 3x2 windows, stride 1", out,
                 [[[[5.0, 8.0, 8.0], [9.0, 8.0, 8.0]]]])


@pytest.mark.graded("maxpool_naive", "backward_ties")
def test_max_pool_ties_go_to_first_maximum():
    # row-major first maximum of each window gets the whole gradient
    x = np.array([[[[2.0, 2.0, 1.0, 3.0],
                    [2.0, 2.0, 3.0, 0.0]]]])
    out, cache = max_pool_forward_naive(x, dict(POOL_2X2))
    dx = max_pool_backward_naive(np.array([[[[5.0, 7.0]]]]), cache)
    assert_close("max_pool_backward_naive", "ties: the whole gradient to the first maximum "
                 "(row-major, np.argmax)", dx, [[[[5.0, 0.0, 0.0, 7.0], [0.0, 0.0, 0.0, 0.0]]]], what="dx")


@pytest.mark.graded("maxpool_naive", "backward")
def test_max_pool_overlapping_windows_accumulate():
    # 2x2 windows with stride 1 on a 3x3 input whose centre is the maximum:
    # all four windows route their gradient to the centre
    x = np.array([[[[1.0, 2.0, 3.0],
                    [4.0, 9.0, 5.0],
                    [6.0, 7.0, 8.0]]]])
    out, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    assert_close("max_pool_backward_naive", "overlapping windows add their gradients", dx, expected,
                 what="dx")


POOL_CASES = [
    # x shape, pool height, pool width, stride (stored in conv_pool.npz)
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 5), 3, 3, 2),     # overlapping windows
    ((2, 1, 4, 6), 2, 3, 1),
    ((1, 1, 5, 4), 2, 2, 3),     # stride larger than the window: some pixels unused
    ((1, 2, 3, 3), 3, 3, 1),
]


@pytest.mark.graded("maxpool_naive", "forward")
@pytest.mark.parametrize("k", range(len(POOL_CASES)))
def test_max_pool_forward_expected_values(k):
    x = EXPECTED[f"pool{k}_x"].copy()
    ph, pw, stride = (int(v) for v in EXPECTED[f"pool{k}_param"])
    out, _ = max_pool_forward_naive(x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    assert_close("max_pool_forward_naive", f"x {x.shape}, {ph}x{pw} windows, stride {stride}", out,
                 EXPECTED[f"pool{k}_out"])
    assert np.array_equal(x, EXPECTED[f"pool{k}_x"]), "max_pool_forward_naive: x was modified"


@pytest.mark.graded("maxpool_naive", "backward")
@pytest.mark.parametrize("shape, ph, pw, stride", POOL_CASES)
def test_max_pool_backward_gradient_check(rng, shape, ph, pw, stride):
    x = rng.permutation(np.prod(shape)).reshape(shape) / 7.0    # distinct values: no ties
    pool = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = max_pool_forward_naive(x, pool)
    dout = rng.standard_normal(out.shape)
    dx = max_pool_backward_naive(dout, cache)
    num = eval_numerical_gradient_array(lambda v: max_pool_forward_naive(v, pool)[0], x, dout)
    assert_grad_close("max_pool_backward_naive", "dx", dx, num)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_dtype_preserved(rng, dtype):
    x = rng.standard_normal((1, 2, 4, 4)).astype(dtype)
    out, cache = max_pool_forward_naive(x, dict(POOL_2X2))
    assert out.dtype == dtype
    assert max_pool_backward_naive(np.ones_like(out), cache).dtype == dtype


@pytest.mark.parametrize("x_dt, dout_dt", [(np.float32, np.float64), (np.float64, np.float32)])
def test_max_pool_backward_mixed_dtypes_never_downcast(rng, x_dt, dout_dt):
    x = rng.standard_normal((1, 1, 4, 4)).astype(x_dt)
    out, cache = max_pool_forward_naive(x, dict(POOL_2X2))
    dout = np.full(out.shape, 1 / 3, dtype=dout_dt)
    dx = max_pool_backward_naive(dout, cache)
    assert dx.dtype == np.float64
    assert dx.max() == float(dout[0, 0, 0, 0])       # not rounded through float32


def test_max_pool_param_changes_after_forward_do_not_affect_backward():
    pool = dict(POOL_2X2)
    out, cache = max_pool_forward_naive(POOL_X, pool)
    pool["stride"] = 1
    dx = max_pool_backward_naive(np.ones(out.shape), cache)
    assert dx.sum() == 4.0
