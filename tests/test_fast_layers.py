"""Fast convolution and max pooling (cs231n/fast_layers.py).

What is checked, and against what:

* forward and backward against explicit-loop references written in this file
  (a loop over output positions; pooling with ``np.argmax`` per window), in
  float64 with ``rel_error <= 1e-10``, over many stride/pad/kernel/pool
  configurations, including both internal layouts of the convolution and
  several chunk sizes;
* the same against the naive layers of ``cs231n/layers.py`` (``rel_error <= 1e-10``);
* exact equality on integer-valued data (every sum is exact in float64);
* numerical gradients (``eval_numerical_gradient_array``, float64, h = 1e-5),
  tolerance ``|analytic - numeric| <= 1e-8 + 1e-6 |numeric|`` elementwise;
* the max-pool tie rule (first maximum of the window in row-major order);
* float32 kept float32, inputs never modified, bad arguments rejected with a
  message naming the argument;
* a hypothesis property test over random small configurations.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs231n import fast_layers
from cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n.gradient_check import eval_numerical_gradient_array, rel_error

TOL = 1e-10  # float64 agreement of fast and reference


# --------------------------------------------------------------------------
# Independent references (explicit loops over output positions)
# --------------------------------------------------------------------------

def loop_conv(x, w, b, stride, pad, dout=None):
    """Convolution by a loop over output positions; with ``dout`` also the grads.

    out[n, f, i, j] = b[f] + sum_{c,k,l} xp[n, c, i s + k, j s + l] w[f, c, k, l]
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hp, Wp = H + 2 * pad, W + 2 * pad
    xp = np.zeros((N, C, Hp, Wp), dtype=np.float64)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    Ho, Wo = 1 + (Hp - HH) // stride, 1 + (Wp - WW) // stride
    out = np.empty((N, F, Ho, Wo))
    dxp = np.zeros_like(xp)
    dw = np.zeros((F, C, HH, WW))
    for i in range(Ho):
        for j in range(Wo):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            window = xp[:, :, rows, cols]                        # (N, C, HH, WW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
            if dout is not None:
                g = dout[:, :, i, j]                             # (N, F)
                dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
                dw += np.tensordot(g, window, axes=([0], [0]))
    if dout is None:
        return out
    db = dout.sum(axis=(0, 2, 3))
    return out, dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def loop_pool(x, ph, pw, stride, dout=None):
    """Max pool by a loop over every window; grads to np.argmax (first maximum)."""
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.empty((N, C, Ho, Wo))
    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    out[n, c, i, j] = win.max()
                    if dout is not None:
                        k, l = divmod(int(np.argmax(win)), pw)
                        dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]
    return out if dout is None else (out, dx)


def conv_out_shape(x_shape, w_shape, stride, pad):
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    return (N, F, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride)


def assert_grad_close(analytic, numeric):
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


# (N, C, H, W, F, HH, WW, stride, pad)
CONV_CASES = [
    (2, 3, 8, 8, 4, 3, 3, 1, 1),       # "same" 3x3
    (2, 3, 16, 16, 4, 3, 3, 1, 1),     # flat layout
    (2, 2, 20, 20, 3, 5, 5, 1, 2),     # 5x5 same, flat layout
    (2, 3, 8, 8, 4, 5, 5, 1, 2),
    (3, 2, 7, 9, 3, 3, 2, 2, 1),       # non-square kernel, stride 2
    (2, 3, 9, 7, 2, 1, 1, 3, 0),       # 1x1, stride 3
    (2, 2, 8, 8, 3, 1, 1, 1, 0),       # 1x1 stride 1
    (3, 2, 6, 6, 3, 3, 3, 1, 0),       # no padding
    (2, 2, 12, 10, 3, 3, 2, 1, 0),     # non-square input and kernel, flat layout
    (2, 2, 10, 11, 3, 3, 3, 2, 1),     # (H + 2 pad - HH) % stride != 0
    (2, 2, 11, 11, 3, 4, 4, 3, 2),     # stride 3, pad 2, even kernel, leftover
    (1, 1, 5, 5, 1, 5, 5, 1, 0),       # kernel = input
    (2, 3, 6, 6, 2, 7, 7, 1, 3),       # kernel larger than the input (padding)
    (2, 2, 9, 9, 4, 3, 3, 2, 0),
]

# (N, C, H, W, pool_height, pool_width, stride)
POOL_CASES = [
    (2, 3, 8, 8, 2, 2, 2),     # tiles
    (2, 3, 9, 9, 3, 3, 2),     # overlapping
    (2, 2, 7, 8, 3, 2, 1),     # non-square, stride 1 (heavy overlap)
    (2, 2, 9, 7, 2, 2, 2),     # does not tile (leftover row and column)
    (2, 2, 8, 9, 2, 2, 2),     # rows tile, a column is left over
    (2, 2, 10, 10, 2, 3, 3),   # gaps between windows along H
    (1, 2, 5, 5, 1, 1, 2),     # 1x1 pool with stride: subsampling
    (2, 2, 6, 6, 3, 3, 3),     # 3x3 tiles
    (1, 1, 4, 4, 4, 4, 1),     # window = input
    (2, 2, 8, 6, 4, 2, 2),     # tall windows, overlap along H only
]


def conv_case_id(c):
    return "N{}C{}_{}x{}_F{}k{}x{}_s{}p{}".format(*c)


def make_conv(case, rng, dtype=np.float64):
    N, C, H, W, F, HH, WW, stride, pad = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


# --------------------------------------------------------------------------
# Convolution: values
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_conv_forward_backward_match_loops(case, rng):
    x, w, b, cp = make_conv(case, rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    assert out.shape == conv_out_shape(x.shape, w.shape, cp["stride"], cp["pad"])
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx, ref_dw, ref_db = loop_conv(x, w, b, cp["stride"], cp["pad"], dout)
    dx, dw, db = conv_backward_fast(dout, cache)
    assert rel_error(out, ref_out) <= TOL
    assert rel_error(dx, ref_dx) <= TOL
    assert rel_error(dw, ref_dw) <= TOL
    assert rel_error(db, ref_db) <= TOL


@pytest.mark.parametrize("case", CONV_CASES[:6], ids=conv_case_id)
def test_conv_exact_on_integer_data(case, rng):
    """Small integers: every product and sum is exact, so the results are equal."""
    N, C, H, W, F, HH, WW, stride, pad = case
    x = rng.integers(-3, 4, (N, C, H, W)).astype(np.float64)
    w = rng.integers(-3, 4, (F, C, HH, WW)).astype(np.float64)
    b = rng.integers(-3, 4, F).astype(np.float64)
    out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.integers(-3, 4, out.shape).astype(np.float64)
    ref = loop_conv(x, w, b, stride, pad, dout)
    np.testing.assert_array_equal(out, ref[0])
    for got, want in zip(conv_backward_fast(dout, cache), ref[1:]):
        np.testing.assert_array_equal(got, want)


def test_conv_hand_computed_example():
    """A 1-channel 3x3 image, 2x2 all-ones filter, stride 1, no pad: window sums."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    out, cache = conv_forward_fast(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out[0, 0], [[8.5, 12.5], [20.5, 24.5]])
    dx, dw, db = conv_backward_fast(np.ones((1, 1, 2, 2)), cache)
    # Each pixel receives one unit per window that contains it.
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(dw[0, 0], [[8, 12], [20, 24]])
    np.testing.assert_array_equal(db, [4.0])


def test_conv_layouts_and_chunks_are_exercised(monkeypatch, rng):
    """Both layouts occur in CONV_CASES, and the chunk size does not change results."""
    plans = [
        fast_layers._conv_plan(c[:4], (c[4], c[1], c[5], c[6]), c[7], c[8], 8)
        for c in CONV_CASES
    ]
    assert any(p.flat for p in plans) and any(not p.flat for p in plans)

    for case in [(5, 3, 16, 16, 4, 3, 3, 1, 1), (5, 2, 9, 9, 3, 3, 3, 2, 1)]:
        x, w, b, cp = make_conv(case, rng)
        dout = rng.standard_normal(conv_out_shape(x.shape, w.shape, cp["stride"], cp["pad"]))
        results = []
        for chunk_bytes in (1, 30_000, 1 << 30):   # 1 image, a few, all at once
            monkeypatch.setattr(fast_layers, "_CHUNK_BYTES", chunk_bytes)
            out, cache = conv_forward_fast(x, w, b, cp)
            results.append((out,) + conv_backward_fast(dout, cache))
        nbs = {fast_layers._conv_plan(x.shape, w.shape, cp["stride"], cp["pad"], 8).nb}
        assert nbs == {5}  # the last setting put every image in one chunk
        for other in results[1:]:
            for a, c in zip(results[0], other):
                assert rel_error(a, c) <= 1e-12


def test_conv_forced_flat_layout_matches_loops(monkeypatch, rng):
    """The flat layout is right even where it would waste much work (tiny images)."""
    monkeypatch.setattr(fast_layers, "_MAX_FLAT_WASTE", 1e9)
    for case in [(2, 3, 8, 8, 4, 5, 5, 1, 2), (3, 2, 6, 6, 3, 3, 3, 1, 0),
                 (1, 1, 5, 5, 1, 5, 5, 1, 0), (2, 2, 7, 5, 2, 3, 2, 1, 1)]:
        x, w, b, cp = make_conv(case, rng)
        assert fast_layers._conv_plan(x.shape, w.shape, 1, cp["pad"], 8).flat
        out, cache = conv_forward_fast(x, w, b, cp)
        dout = rng.standard_normal(out.shape)
        ref = loop_conv(x, w, b, 1, cp["pad"], dout)
        got = (out,) + conv_backward_fast(dout, cache)
        for a, r in zip(got, ref):
            assert rel_error(a, r) <= TOL


def test_conv_need_dx_false(rng):
    x, w, b, cp = make_conv((3, 2, 16, 16, 4, 3, 3, 1, 1), rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    dx2, dw2, db2 = conv_backward_fast(dout, cache, need_dx=False)
    assert dx2 is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


def test_conv_non_contiguous_arguments(rng):
    """Views (transposed, strided) give the same results as contiguous copies."""
    x, w, b, cp = make_conv((3, 2, 9, 9, 4, 3, 3, 1, 1), rng)
    xv = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    wv = np.ascontiguousarray(w[:, :, ::-1]).copy()[:, :, ::-1]
    bv = np.repeat(b, 2)[::2]
    assert not (xv.flags.c_contiguous or wv.flags.c_contiguous or bv.flags.c_contiguous)
    out, cache = conv_forward_fast(x, w, b, cp)
    outv, cachev = conv_forward_fast(xv, wv, bv, cp)
    np.testing.assert_array_equal(outv, out)
    dout = rng.standard_normal(out.shape)
    doutv = np.ascontiguousarray(dout.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    for a, c in zip(conv_backward_fast(doutv, cachev), conv_backward_fast(dout, cache)):
        assert rel_error(a, c) <= 1e-12   # sums may run in another order


def test_conv_empty_batch(rng):
    x, w, b, cp = make_conv((0, 2, 8, 8, 3, 3, 3, 1, 1), rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    assert out.shape == (0, 3, 8, 8)
    dx, dw, db = conv_backward_fast(np.zeros(out.shape), cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dw, np.zeros_like(w))
    np.testing.assert_array_equal(db, np.zeros(3))


# --------------------------------------------------------------------------
# Convolution: gradients, dtypes, inputs untouched
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", [
    (2, 3, 5, 5, 3, 3, 3, 1, 1),
    (2, 2, 7, 6, 2, 3, 2, 2, 1),
    (1, 2, 6, 6, 2, 4, 4, 3, 2),
], ids=conv_case_id)
def test_conv_numerical_gradients(case, rng):
    """Analytic vs centred differences, float64: |a - n| <= 1e-8 + 1e-6 |n|."""
    x, w, b, cp = make_conv(case, rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    assert_grad_close(dx, eval_numerical_gradient_array(
        lambda v: conv_forward_fast(v, w, b, cp)[0], x, dout))
    assert_grad_close(dw, eval_numerical_gradient_array(
        lambda v: conv_forward_fast(x, v, b, cp)[0], w, dout))
    assert_grad_close(db, eval_numerical_gradient_array(
        lambda v: conv_forward_fast(x, w, v, cp)[0], b, dout))


@pytest.mark.parametrize("case", [CONV_CASES[0], CONV_CASES[1], CONV_CASES[4]], ids=conv_case_id)
def test_conv_float32_stays_float32(case, rng):
    x, w, b, cp = make_conv(case, rng)
    out64, cache64 = conv_forward_fast(x, w, b, cp)
    dout = rng.standard_normal(out64.shape)
    grads64 = conv_backward_fast(dout, cache64)
    f32 = np.float32
    out, cache = conv_forward_fast(x.astype(f32), w.astype(f32), b.astype(f32), cp)
    grads = conv_backward_fast(dout.astype(f32), cache)
    for got, want in zip((out,) + grads, (out64,) + grads64):
        assert got.dtype == np.float32
        assert rel_error(got, want) <= 1e-3
        assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want)) * x.shape[1] * 9


def test_conv_mixed_dtypes_follow_x_and_parameters(rng):
    """Compute in x's dtype (x is never upcast); each gradient has its input's dtype."""
    x, w, b, cp = make_conv((2, 2, 8, 8, 3, 3, 3, 1, 1), rng)
    out, cache = conv_forward_fast(x.astype(np.float32), w, b, cp)
    assert out.dtype == np.float32
    dx, dw, db = conv_backward_fast(rng.standard_normal(out.shape), cache)
    assert (dx.dtype, dw.dtype, db.dtype) == (np.float32, np.float64, np.float64)
    out, cache = conv_forward_fast(x, w.astype(np.float32), b.astype(np.float32), cp)
    assert out.dtype == np.float64
    dx, dw, db = conv_backward_fast(rng.standard_normal(out.shape), cache)
    assert (dx.dtype, dw.dtype, db.dtype) == (np.float64, np.float32, np.float32)


def test_conv_inputs_not_modified(rng):
    x, w, b, cp = make_conv((2, 3, 16, 16, 4, 3, 3, 1, 1), rng)
    saved = [a.copy() for a in (x, w, b)]
    cp_saved = dict(cp)
    out, cache = conv_forward_fast(x, w, b, cp)
    dout = rng.standard_normal(out.shape)
    dout_saved = dout.copy()
    dx, dw, db = conv_backward_fast(dout, cache)
    for a, s in zip((x, w, b, dout), saved + [dout_saved]):
        np.testing.assert_array_equal(a, s)
    assert cp == cp_saved
    assert not np.shares_memory(out, x) and not np.shares_memory(dx, dout)


def test_conv_default_stride_and_pad(rng):
    """Like the naive version: stride defaults to 1 and pad to 0."""
    x, w, b, _ = make_conv((2, 2, 6, 6, 3, 3, 3, 1, 0), rng)
    out, _ = conv_forward_fast(x, w, b, {})
    assert rel_error(out, loop_conv(x, w, b, 1, 0)) <= TOL


# --------------------------------------------------------------------------
# Convolution: bad arguments
# --------------------------------------------------------------------------

def _conv_call(**over):
    rng = np.random.default_rng(0)
    args = dict(
        x=rng.standard_normal((2, 3, 6, 6)),
        w=rng.standard_normal((4, 3, 3, 3)),
        b=np.zeros(4),
        conv_param={"stride": 1, "pad": 1},
    )
    args.update(over)
    return conv_forward_fast(args["x"], args["w"], args["b"], args["conv_param"])


@pytest.mark.parametrize("over, exc, match", [
    (dict(x=[[1.0]]), TypeError, "x must be a numpy array"),
    (dict(x=np.zeros((2, 3, 6, 6), dtype=np.int64)), TypeError, "x must be a floating-point"),
    (dict(x=np.zeros((3, 6, 6))), ValueError, "x must be 4-dimensional"),
    (dict(w=np.zeros((4, 3, 3))), ValueError, "w must be 4-dimensional"),
    (dict(w=np.zeros((4, 2, 3, 3))), ValueError, "channels must match"),
    (dict(b=np.zeros(3)), ValueError, "b has shape"),
    (dict(b=np.zeros(4, dtype=int)), TypeError, "b must be a floating-point"),
    (dict(conv_param=[("stride", 1)]), TypeError, "conv_param must be a dict"),
    (dict(conv_param={"stride": 0, "pad": 1}), ValueError, r"conv_param\['stride'\] must be >= 1"),
    (dict(conv_param={"stride": 1.0, "pad": 1}), TypeError,
     r"conv_param\['stride'\] must be an integer"),
    (dict(conv_param={"stride": 1, "pad": -1}), ValueError, r"conv_param\['pad'\] must be >= 0"),
    (dict(conv_param={"stride": True, "pad": 1}), TypeError, r"conv_param\['stride'\]"),
    (dict(w=np.zeros((4, 3, 9, 3))), ValueError, "larger than the padded input"),
])
def test_conv_bad_arguments(over, exc, match):
    with pytest.raises(exc, match=match):
        _conv_call(**over)


def test_conv_backward_bad_arguments(rng):
    x, w, b, cp = make_conv((2, 3, 6, 6, 4, 3, 3, 1, 1), rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    with pytest.raises(ValueError, match="dout has shape"):
        conv_backward_fast(np.zeros((2, 4, 5, 6)), cache)
    with pytest.raises(TypeError, match="dout must be a floating-point"):
        conv_backward_fast(np.zeros(out.shape, dtype=int), cache)
    with pytest.raises(TypeError, match="cache must be the cache returned by conv_forward_fast"):
        conv_backward_fast(np.zeros(out.shape), (x, w, b, cp))


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------

def pool_case_id(c):
    return "N{}C{}_{}x{}_pool{}x{}_s{}".format(*c)


def pool_param(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


@pytest.mark.parametrize("case", POOL_CASES, ids=pool_case_id)
@pytest.mark.parametrize("data", ["normal", "ties"])
def test_pool_forward_backward_match_loops(case, data, rng):
    """Random data, and small integers (many ties: the first maximum must win)."""
    N, C, H, W, ph, pw, s = case
    if data == "normal":
        x = rng.standard_normal((N, C, H, W))
    else:
        x = rng.integers(0, 3, (N, C, H, W)).astype(np.float64)
    out, cache = max_pool_forward_fast(x, pool_param(ph, pw, s))
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx = loop_pool(x, ph, pw, s, dout)
    assert out.shape == ref_out.shape
    np.testing.assert_array_equal(out, ref_out)       # a maximum is exact
    assert rel_error(max_pool_backward_fast(dout, cache), ref_dx) <= TOL


def test_pool_ties_go_to_first_maximum():
    """All-equal input: every window's gradient lands on its top-left entry."""
    x = np.ones((1, 2, 4, 6))
    dout = np.arange(1.0, 13.0).reshape(1, 2, 2, 3)
    out, cache = max_pool_forward_fast(x, pool_param(2, 2, 2))
    dx = max_pool_backward_fast(dout, cache)
    expected = np.zeros_like(x)
    expected[:, :, ::2, ::2] = dout
    np.testing.assert_array_equal(dx, expected)
    # Overlapping 3x3 stride-1 windows on a constant: window (i, j) sends its
    # gradient to pixel (i, j); nothing else receives any.
    x = np.full((1, 1, 5, 5), -2.0)
    dout = np.arange(9.0).reshape(1, 1, 3, 3)
    out, cache = max_pool_forward_fast(x, pool_param(3, 3, 1))
    dx = max_pool_backward_fast(dout, cache)
    expected = np.zeros_like(x)
    expected[0, 0, :3, :3] = dout[0, 0]
    np.testing.assert_array_equal(dx, expected)


def test_pool_tie_is_row_major_not_column_major():
    """Maxima at (0, 1) and (1, 0) of a 2x2 window: row-major order picks (0, 1)."""
    x = np.array([[[[0.0, 5.0], [5.0, 1.0]]]])
    out, cache = max_pool_forward_fast(x, pool_param(2, 2, 2))
    dx = max_pool_backward_fast(np.array([[[[7.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 7.0], [0.0, 0.0]])


def test_pool_overlapping_windows_add():
    """A 3x3 stride-2 pool whose windows share the global maximum at (2, 2)."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 9.0
    out, cache = max_pool_forward_fast(x, pool_param(3, 3, 2))
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 9.0))
    dx = max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((5, 5))
    expected[2, 2] = 10.0
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("case", [(2, 2, 6, 6, 2, 2, 2), (1, 2, 7, 7, 3, 3, 2),
                                  (2, 1, 6, 5, 3, 2, 1)], ids=pool_case_id)
def test_pool_numerical_gradients(case, rng):
    """Distinct values at least 0.1 apart (no ties within h = 1e-5), float64."""
    N, C, H, W, ph, pw, s = case
    x = (rng.permutation(N * C * H * W) * 0.1 - 1.0).reshape(N, C, H, W)
    pp = pool_param(ph, pw, s)
    out, cache = max_pool_forward_fast(x, pp)
    dout = rng.standard_normal(out.shape)
    dx = max_pool_backward_fast(dout, cache)
    num = eval_numerical_gradient_array(lambda v: max_pool_forward_fast(v, pp)[0], x, dout)
    assert_grad_close(dx, num)


@pytest.mark.parametrize("case", [POOL_CASES[0], POOL_CASES[1], POOL_CASES[3]], ids=pool_case_id)
def test_pool_float32_stays_float32(case, rng):
    N, C, H, W, ph, pw, s = case
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    out, cache = max_pool_forward_fast(x, pool_param(ph, pw, s))
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = max_pool_backward_fast(dout, cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    ref_out, ref_dx = loop_pool(x.astype(np.float64), ph, pw, s, dout.astype(np.float64))
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(dx, ref_dx.astype(np.float32))


def test_pool_inputs_not_modified_and_results_fresh(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    x_saved = x.copy()
    for pp in (pool_param(2, 2, 2), pool_param(1, 1, 1), pool_param(3, 3, 1)):
        pp_saved = dict(pp)
        out, cache = max_pool_forward_fast(x, pp)
        dout = rng.standard_normal(out.shape)
        dout_saved = dout.copy()
        dx = max_pool_backward_fast(dout, cache)
        np.testing.assert_array_equal(x, x_saved)
        np.testing.assert_array_equal(dout, dout_saved)
        assert pp == pp_saved
        assert not np.shares_memory(out, x) and not np.shares_memory(dx, dout)


def test_pool_non_contiguous_arguments(rng):
    x = rng.standard_normal((2, 3, 8, 8))
    xv = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    pp = pool_param(3, 3, 2)
    out, cache = max_pool_forward_fast(x, pp)
    outv, cachev = max_pool_forward_fast(xv, pp)
    np.testing.assert_array_equal(outv, out)
    dout = rng.standard_normal(out.shape)
    doutv = np.ascontiguousarray(dout.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    np.testing.assert_array_equal(max_pool_backward_fast(doutv, cachev),
                                  max_pool_backward_fast(dout, cache))


def _pool_call(**over):
    args = dict(x=np.zeros((2, 3, 6, 6)), pool_param=pool_param(2, 2, 2))
    args.update(over)
    return max_pool_forward_fast(args["x"], args["pool_param"])


@pytest.mark.parametrize("over, exc, match", [
    (dict(x=np.zeros((2, 3, 6, 6), dtype=np.int32)), TypeError, "x must be a floating-point"),
    (dict(x=np.zeros((3, 6, 6))), ValueError, "x must be 4-dimensional"),
    (dict(x="image"), TypeError, "x must be a numpy array"),
    (dict(pool_param=None), TypeError, "pool_param must be a dict"),
    (dict(pool_param={"pool_height": 2, "stride": 2}), ValueError, "pool_width"),
    (dict(pool_param=pool_param(0, 2, 2)), ValueError, r"pool_param\['pool_height'\] must be >= 1"),
    (dict(pool_param=pool_param(2, 2, 0)), ValueError, r"pool_param\['stride'\] must be >= 1"),
    (dict(pool_param=pool_param(2, 2.0, 2)), TypeError,
     r"pool_param\['pool_width'\] must be an integer"),
    (dict(pool_param=pool_param(7, 2, 2)), ValueError, "larger than the input"),
    (dict(pool_param=pool_param(2, 7, 2)), ValueError, "larger than the input"),
])
def test_pool_bad_arguments(over, exc, match):
    with pytest.raises(exc, match=match):
        _pool_call(**over)


def test_pool_backward_bad_arguments():
    out, cache = max_pool_forward_fast(np.zeros((2, 3, 6, 6)), pool_param(2, 2, 2))
    with pytest.raises(ValueError, match="dout has shape"):
        max_pool_backward_fast(np.zeros((2, 3, 3, 2)), cache)
    with pytest.raises(TypeError,
                       match="cache must be the cache returned by max_pool_forward_fast"):
        max_pool_backward_fast(np.zeros(out.shape), (np.zeros((2, 3, 6, 6)), pool_param(2, 2, 2)))


def test_official_names_are_aliases():
    assert fast_layers.conv_forward_im2col is conv_forward_fast
    assert fast_layers.conv_forward_strides is conv_forward_fast
    assert fast_layers.conv_backward_im2col is conv_backward_fast
    assert fast_layers.conv_backward_strides is conv_backward_fast
    assert fast_layers.max_pool_forward_reshape is max_pool_forward_fast
    assert fast_layers.max_pool_backward_reshape is max_pool_backward_fast
    assert fast_layers.max_pool_forward_im2col is max_pool_forward_fast
    assert fast_layers.max_pool_backward_im2col is max_pool_backward_fast


# --------------------------------------------------------------------------
# Agreement with the naive layers of cs231n/layers.py
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_conv_matches_naive(case, rng):
    from cs231n.layers import conv_backward_naive, conv_forward_naive

    x, w, b, cp = make_conv(case, rng)
    out, cache = conv_forward_fast(x, w, b, cp)
    out_n, cache_n = conv_forward_naive(x, w, b, cp)
    assert rel_error(out, out_n) <= TOL
    dout = rng.standard_normal(out.shape)
    for a, n in zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, cache_n)):
        assert a.shape == n.shape
        assert rel_error(a, n) <= TOL


def check_pool_against_naive(x, pp, rng):
    """Fast pool forward equals the naive one exactly; backward to ``TOL``."""
    from cs231n.layers import max_pool_backward_naive, max_pool_forward_naive

    out, cache = max_pool_forward_fast(x, pp)
    out_n, cache_n = max_pool_forward_naive(x, pp)
    np.testing.assert_array_equal(out, out_n)
    dout = rng.standard_normal(out.shape)
    assert rel_error(max_pool_backward_fast(dout, cache),
                     max_pool_backward_naive(dout, cache_n)) <= TOL


@pytest.mark.parametrize("case", POOL_CASES, ids=pool_case_id)
def test_pool_matches_naive_including_ties(case, rng):
    N, C, H, W, ph, pw, s = case
    pp = pool_param(ph, pw, s)
    for x in (rng.standard_normal((N, C, H, W)),
              rng.integers(0, 2, (N, C, H, W)).astype(np.float64)):
        check_pool_against_naive(x, pp, rng)


@pytest.mark.parametrize("case", [c for c in POOL_CASES if c[0] >= 2], ids=pool_case_id)
def test_pool_one_image_per_block_matches_naive(case, rng, monkeypatch):
    """The blockwise loops of the fast pool with the smallest blocks (one image each)."""
    monkeypatch.setattr(fast_layers, "_POOL_BLOCK_BYTES", 1)
    N, C, H, W, ph, pw, s = case
    x = rng.standard_normal((N, C, H, W))
    assert len(fast_layers._pool_blocks(x)) == N
    check_pool_against_naive(x, pool_param(ph, pw, s), rng)


# Non-finite upstream gradients: (N, C, H, W, pool_height, pool_width, stride)
NONFINITE_POOL_CASES = [
    (2, 3, 8, 8, 2, 2, 2),     # 2x2 stride 2, tiles
    (2, 2, 9, 9, 3, 3, 2),     # 3x3 stride 2, overlapping
    (2, 2, 7, 8, 3, 3, 1),     # 3x3 stride 1, heavy overlap
    (2, 2, 9, 7, 2, 2, 2),     # does not tile (leftover row and column)
    (2, 2, 10, 11, 2, 3, 4),   # gaps between windows, leftover columns
]


def nonfinite_dout(shape, dtype, rng):
    """Small-integer gradient (sums exact in any order) with inf, -inf and NaN.

    Each special value sits at a few positions, among them neighbouring
    windows, so with overlapping pools a pixel can receive inf and -inf (NaN)
    or inf twice.
    """
    dout = rng.integers(-4, 5, shape).astype(dtype)
    Ho, Wo = shape[2:]
    spots = [(0, 0, 0, 0), (0, 0, 0, 1), (0, 1, Ho - 1, Wo - 1), (1, 0, Ho // 2, 0),
             (1, 0, Ho // 2, min(1, Wo - 1)), (1, 1, 0, Wo - 1), (0, 0, Ho - 1, 0)]
    for k, spot in enumerate(spots):
        dout[spot] = (np.inf, -np.inf, np.nan)[k % 3]
    return dout


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf + -inf
@pytest.mark.parametrize("case", NONFINITE_POOL_CASES, ids=pool_case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data", ["distinct", "ties", "constant"])
@pytest.mark.parametrize("block_bytes", [None, 1], ids=["blocks", "one_image_blocks"])
def test_pool_backward_nonfinite_dout_matches_naive_exactly(case, dtype, data, block_bytes,
                                                            rng, monkeypatch):
    """inf, -inf and NaN in dout reach only the first maximum of their window.

    Regression: routing by ``rem * hit`` and ``rem - part`` turned them into NaN
    over the whole window (inf * 0 and inf - inf are NaN).
    """
    from cs231n.layers import max_pool_backward_naive, max_pool_forward_naive

    if block_bytes is not None:
        monkeypatch.setattr(fast_layers, "_POOL_BLOCK_BYTES", block_bytes)
    N, C, H, W, ph, pw, s = case
    if data == "distinct":
        x = rng.permutation(N * C * H * W).reshape(N, C, H, W).astype(dtype)
    elif data == "ties":
        x = rng.integers(0, 3, (N, C, H, W)).astype(dtype)
    else:
        x = np.full((N, C, H, W), -1.5, dtype=dtype)
    pp = pool_param(ph, pw, s)
    out, cache = max_pool_forward_fast(x, pp)
    dout = nonfinite_dout(out.shape, dtype, rng)
    dx = max_pool_backward_fast(dout, cache)
    _, cache_n = max_pool_forward_naive(x, pp)
    dx_n = max_pool_backward_naive(dout, cache_n)
    assert dx.dtype == dx_n.dtype == dtype
    np.testing.assert_array_equal(dx, dx_n)                  # NaN == NaN here
    np.testing.assert_array_equal(dx, loop_pool(x, ph, pw, s, dout)[1].astype(dtype))
    # Only as many non-zero entries as the naive layer has (no spreading).
    assert np.count_nonzero(dx) == np.count_nonzero(dx_n)


@pytest.mark.parametrize("special", [np.inf, -np.inf, np.nan])
def test_pool_backward_nonfinite_dout_hand_example(special):
    """The reported case: x = arange(16) in 2x2 stride-2 windows."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = max_pool_forward_fast(x, pool_param(2, 2, 2))
    dout = np.ones_like(out)
    dout[0, 0, 0, 0] = special
    expected = np.zeros_like(x)
    expected[0, 0, 1::2, 1::2] = dout[0, 0]                  # maxima at odd (row, col)
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache), expected)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf + -inf
def test_pool_backward_nonfinite_dout_longdouble():
    """Dtypes without an integer of their size take the np.where path; same result."""
    from cs231n.layers import max_pool_backward_naive, max_pool_forward_naive

    rng = np.random.default_rng(5)
    for case in NONFINITE_POOL_CASES[:3]:
        N, C, H, W, ph, pw, s = case
        x = rng.integers(0, 3, (N, C, H, W)).astype(np.longdouble)
        pp = pool_param(ph, pw, s)
        out, cache = max_pool_forward_fast(x, pp)
        dout = nonfinite_dout(out.shape, np.longdouble, rng)
        dx = max_pool_backward_fast(dout, cache)
        assert dx.dtype == np.longdouble
        np.testing.assert_array_equal(
            dx, max_pool_backward_naive(dout, max_pool_forward_naive(x, pp)[1]))


def test_pool_nan_in_x_output_nan_gradient_stays_in_window():
    """Documented difference: with NaN in x the output is NaN as in the naive layer,
    and each window's gradient lands on one entry of that window (which one may
    differ from np.argmax's first NaN)."""
    from cs231n.layers import max_pool_forward_naive

    x = np.arange(36.0).reshape(1, 1, 6, 6)
    x[0, 0, 0, 0] = x[0, 0, 3, 2] = x[0, 0, 5, 5] = np.nan
    pp = pool_param(2, 2, 2)
    out, cache = max_pool_forward_fast(x, pp)
    np.testing.assert_array_equal(out, max_pool_forward_naive(x, pp)[0])
    dout = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    dx = max_pool_backward_fast(dout, cache)
    tiles = dx[0, 0].reshape(3, 2, 3, 2).transpose(0, 2, 1, 3).reshape(3, 3, 4)
    np.testing.assert_array_equal(np.count_nonzero(tiles, axis=2), np.ones((3, 3)))
    np.testing.assert_array_equal(tiles.sum(axis=2), dout[0, 0])


# --------------------------------------------------------------------------
# Property test: random small configurations
# --------------------------------------------------------------------------

@st.composite
def conv_configs(draw):
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pad = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    H = draw(st.integers(max(1, HH - 2 * pad), 9))
    W = draw(st.integers(max(1, WW - 2 * pad), 9))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), H, W,
            draw(st.integers(1, 3)), HH, WW, stride, pad)


@settings(max_examples=40, deadline=None)
@given(case=conv_configs(), seed=st.integers(0, 2**32 - 1), chunk=st.sampled_from([1, 1 << 20]))
def test_conv_property_matches_loops(case, seed, chunk):
    rng = np.random.default_rng(seed)
    x, w, b, cp = make_conv(case, rng)
    old = fast_layers._CHUNK_BYTES
    fast_layers._CHUNK_BYTES = chunk
    try:
        out, cache = conv_forward_fast(x, w, b, cp)
        dout = rng.standard_normal(out.shape)
        got = (out,) + conv_backward_fast(dout, cache)
    finally:
        fast_layers._CHUNK_BYTES = old
    ref = loop_conv(x, w, b, cp["stride"], cp["pad"], dout)
    for a, r in zip(got, ref):
        assert a.shape == r.shape
        # Scale-relative error (robust to entries that happen to be near zero).
        assert np.max(np.abs(a - r), initial=0.0) <= TOL * max(1.0, np.max(np.abs(r), initial=0))


@settings(max_examples=40, deadline=None)
@given(ph=st.integers(1, 4), pw=st.integers(1, 4), s=st.integers(1, 4),
       extra_h=st.integers(0, 5), extra_w=st.integers(0, 5),
       levels=st.sampled_from([2, 4, 1000]), seed=st.integers(0, 2**32 - 1))
def test_pool_property_matches_loops(ph, pw, s, extra_h, extra_w, levels, seed):
    """Few value levels force ties; the loop reference uses np.argmax (first max)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, (2, 2, ph + extra_h, pw + extra_w)).astype(np.float64)
    out, cache = max_pool_forward_fast(x, pool_param(ph, pw, s))
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx = loop_pool(x, ph, pw, s, dout)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(max_pool_backward_fast(dout, cache), ref_dx, rtol=1e-12, atol=1e-12)
