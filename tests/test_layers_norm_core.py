"""The normalisation core (cs231n/_norm.py): every path it takes, against a plain reference.

The core picks among several code paths by layout, size and data (fused, row and
general layouts; one or several cache-sized blocks; raw moments or the two-pass
fallback for a large mean; a separate route when some ``gamma == 0``; mixed and
low-precision dtypes). Each test here drives one of them, through the public
layers where possible and through the core's documented functions otherwise, and
compares with ``ref_forward`` / ``ref_backward`` below: the textbook two-pass
formulas in float64, themselves checked against centred differences first.

Tolerances (stated per test): float64 results to ``1e-9`` relative to the
largest value; float32 results against the float64 reference of the same float32
inputs to ``1e-4`` (forward) or ``1e-3`` (gradients) of the largest value.
"""
import threading

import numpy as np
import pytest

from cs231n import _norm
from cs231n.gradient_check import eval_numerical_gradient_array
from cs231n.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

# A layer given valid input emits no RuntimeWarning (divide by zero, overflow,
# invalid value) however degenerate the data: zero variance, gamma == 0, offsets.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

F64 = np.float64


# --------------------------------------------------------------------------
# reference: two-pass formulas in float64
# --------------------------------------------------------------------------

def _keep(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def ref_forward(x, gamma, beta, eps, sv, sa, av, pa, mean=None, var=None):
    """out (shape of x), xhat (stats view), mean, var (keepdims, stats view); float64."""
    sa = tuple(a % len(sv) for a in sa)
    pa = tuple(a % len(av) for a in pa)
    xs = np.asarray(x, F64).reshape(sv)
    if mean is None:
        mu = xs.mean(axis=sa, keepdims=True)
        v = ((xs - mu) ** 2).mean(axis=sa, keepdims=True)
    else:
        mu = np.broadcast_to(np.asarray(mean, F64), _keep(sv, sa))
        v = np.broadcast_to(np.asarray(var, F64), _keep(sv, sa))
    xhat = (xs - mu) / np.sqrt(v + eps)
    g = np.asarray(gamma, F64).reshape(_keep(av, pa))
    b = np.asarray(beta, F64).reshape(_keep(av, pa))
    out = xhat.reshape(av) * g + b
    return out.reshape(np.shape(x)), xhat, mu, v


def ref_backward(dout, x, gamma, eps, sv, sa, av, pa, mean=None, var=None):
    """dx, dgamma, dbeta of ``sum(out * dout)`` by the closed form, in float64."""
    sa = tuple(a % len(sv) for a in sa)
    pa = tuple(a % len(av) for a in pa)
    _, xhat, mu, v = ref_forward(x, gamma, np.zeros(np.shape(gamma)), eps, sv, sa, av, pa, mean, var)
    d = np.asarray(dout, F64).reshape(av)
    g = np.asarray(gamma, F64).reshape(_keep(av, pa))
    dgamma = (d * xhat.reshape(av)).sum(axis=pa).reshape(np.shape(gamma))
    dbeta = d.sum(axis=pa).reshape(np.shape(gamma))
    dxhat = (d * g).reshape(sv)
    inv = 1.0 / np.sqrt(v + eps)
    if mean is None:
        dx = inv * (dxhat - dxhat.mean(axis=sa, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=sa, keepdims=True))
    else:
        dx = dxhat * inv
    return dx.reshape(np.shape(x)), dgamma, dbeta


# the views of the four layers, as functions of x's shape
def bn_views(shape, G=None):
    return (shape, (0,), shape, (0,))


def ln_views(shape, G=None):
    return (shape, (1,), shape, (0,))


def sbn_views(shape, G=None):
    N, C, H, W = shape
    return ((N, C, H * W), (0, 2), (N, C, H * W), (0, 2))


def gn_views(shape, G):
    N, C, H, W = shape
    return ((N, G, C // G * H * W), (2,), (N, C, H * W), (0, 2))


VIEW_COMBOS = [
    # (x shape, stats view, stats axes, affine view, param axes): the four layers' layouts,
    # and layouts that only the general path handles
    ((5, 3), (5, 3), (0,), (5, 3), (0,)),                       # batch norm (fused)
    ((4, 6), (4, 6), (1,), (4, 6), (0,)),                       # layer norm (rows)
    ((2, 3, 2, 2), (2, 3, 4), (0, 2), (2, 3, 4), (0, 2)),       # spatial batch norm (fused)
    ((2, 4, 3), (2, 2, 6), (2,), (2, 4, 3), (0, 2)),            # group norm (fused, factored)
    ((6, 4), (6, 4), (0,), (4, 6), (0,)),                       # views that do not nest (general)
    ((2, 3, 4), (2, 3, 4), (1,), (2, 3, 4), (0, 2)),            # statistics over a middle axis
    ((3, 4), (3, 4), (0,), (3, 4), (1,)),                       # statistics and parameters crossed
    ((3, 4), (3, 4), (-1,), (3, 4), (-2,)),                     # negative axes (layer norm)
    ((4, 1, 3), (4, 1, 3), (0, 2), (4, 1, 3), (0, 2)),          # length-1 axis
]


def _core_case(rng, combo, dtype=F64):
    x_shape, sv, sa, av, pa = combo
    p_shape = _keep(av, tuple(a % len(av) for a in pa))
    x = (1.0 + 2.0 * rng.standard_normal(x_shape)).astype(dtype)
    gamma = (1.0 + 0.5 * rng.standard_normal(p_shape)).astype(dtype)
    beta = rng.standard_normal(p_shape).astype(dtype)
    dout = rng.standard_normal(x_shape).astype(dtype)
    return x, gamma, beta, dout


def assert_close(a, ref, tol):
    """|a - ref| <= tol * max(1, max|ref|), elementwise."""
    a = np.asarray(a, F64)
    assert a.shape == np.shape(ref), (a.shape, np.shape(ref))
    scale = max(1.0, float(np.max(np.abs(ref)))) if np.size(ref) else 1.0
    np.testing.assert_allclose(a, ref, rtol=0, atol=tol * scale)


@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("combo", VIEW_COMBOS[:7])
def test_reference_backward_matches_centred_differences(rng, combo, fixed):
    # the reference is itself a claim: check it (float64, |diff| <= 1e-8 + 1e-6 |num|)
    x, gamma, beta, dout = _core_case(rng, combo)
    _, sv, sa, av, pa = combo
    mean = var = None
    if fixed:
        keep = _keep(sv, sa)
        mean, var = rng.standard_normal(keep), rng.uniform(0.5, 2.0, keep)
    dx, dgamma, dbeta = ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa, mean, var)
    f = lambda xx, gg, bb: ref_forward(xx, gg, bb, 1e-3, sv, sa, av, pa, mean, var)[0]
    for analytic, arg, fn in ((dx, x, lambda v: f(v, gamma, beta)),
                              (dgamma, gamma, lambda v: f(x, v, beta)),
                              (dbeta, beta, lambda v: f(x, gamma, v))):
        num = eval_numerical_gradient_array(fn, arg, dout)
        np.testing.assert_allclose(analytic, num, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# the core's documented functions, on every layout
# --------------------------------------------------------------------------

@pytest.mark.parametrize("combo", VIEW_COMBOS)
def test_core_norm_forward_backward_batch_stats(rng, combo):
    x, gamma, beta, dout = _core_case(rng, combo)
    _, sv, sa, av, pa = combo
    x0, d0 = x.copy(), dout.copy()
    out, cache, mean, var = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)
    ref_out, ref_xhat, ref_mu, ref_var = ref_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)
    assert_close(out, ref_out, 1e-12)
    assert_close(mean, ref_mu, 1e-12)
    assert_close(var, ref_var, 1e-12)
    assert_close(cache.xhat, ref_xhat, 1e-12)                       # documented cache property
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    rdx, rdg, rdb = ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa)
    assert_close(dx, rdx, 1e-10)
    assert_close(dgamma, rdg, 1e-10)
    assert_close(dbeta, rdb, 1e-12)
    assert np.array_equal(x, x0) and np.array_equal(dout, d0)


@pytest.mark.parametrize("combo", VIEW_COMBOS)
def test_core_norm_forward_backward_fixed_stats(rng, combo):
    x, gamma, beta, dout = _core_case(rng, combo)
    _, sv, sa, av, pa = combo
    keep = _keep(sv, tuple(a % len(sv) for a in sa))
    m, v = rng.standard_normal(keep), rng.uniform(0.5, 2.0, keep)
    out, cache, mean, var = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa, m, v)
    ref_out, ref_xhat, _, _ = ref_forward(x, gamma, beta, 1e-3, sv, sa, av, pa, m, v)
    assert_close(out, ref_out, 1e-12)
    assert_close(mean, m, 1e-15)
    assert_close(var, v, 1e-15)
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    rdx, rdg, rdb = ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa, m, v)
    assert_close(dx, rdx, 1e-10)
    assert_close(dgamma, rdg, 1e-10)
    assert_close(dbeta, rdb, 1e-12)


@pytest.mark.parametrize("combo", VIEW_COMBOS[:5])
def test_core_float32_stays_float32_on_every_path(rng, combo):
    x, gamma, beta, dout = _core_case(rng, combo, np.float32)
    _, sv, sa, av, pa = combo
    out, cache, mean, var = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)
    assert out.dtype == mean.dtype == var.dtype == np.float32
    assert cache.xhat.dtype == np.float32
    grads = _norm.norm_backward(dout, cache)
    assert [g.dtype for g in grads] == [np.float32] * 3
    assert_close(out, ref_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)[0], 1e-5)
    for g, r in zip(grads, ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa)):
        assert_close(g, r, 1e-4)


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (1, 2), (0, 1, 2), (-1,)])
@pytest.mark.parametrize("dtype, tol", [(F64, 1e-12), (np.float32, 1e-5)])
def test_core_standardize_and_its_backward(rng, axes, dtype, tol):
    x = (3.0 + 2.0 * rng.standard_normal((3, 4, 5))).astype(dtype)
    dxhat = rng.standard_normal((3, 4, 5)).astype(dtype)
    x0, d0 = x.copy(), dxhat.copy()
    xhat, mean, var, inv_std = _norm.standardize(x, axes, 1e-3)
    assert {a.dtype for a in (xhat, mean, var, inv_std)} == {np.dtype(dtype)}
    ax = tuple(a % 3 for a in axes)
    xs = x.astype(F64)
    mu = xs.mean(axis=ax, keepdims=True)
    v = ((xs - mu) ** 2).mean(axis=ax, keepdims=True)
    assert_close(mean, mu, tol)
    assert_close(var, v, tol)
    assert_close(inv_std, 1 / np.sqrt(v + 1e-3), tol)
    assert_close(xhat, (xs - mu) / np.sqrt(v + 1e-3), tol)
    dx = _norm.standardize_backward(dxhat, xhat, inv_std, axes)
    xh = (xs - mu) / np.sqrt(v + 1e-3)
    g = dxhat.astype(F64)
    ref = (g - g.mean(axis=ax, keepdims=True) - xh * (g * xh).mean(axis=ax, keepdims=True)) / np.sqrt(v + 1e-3)
    assert_close(dx, ref, 10 * tol)
    assert dx.dtype == dtype
    assert np.array_equal(x, x0) and np.array_equal(dxhat, d0)     # inputs not modified


@pytest.mark.parametrize("axes", [(0, 2), (1, 2), (1, 3), (0, 3), (0, 1, 3)])
def test_core_standardize_four_dims(rng, axes):
    # reduced and kept axes alternating, and neighbouring axes of one kind, in 4-D
    x = 1.0 + rng.standard_normal((2, 3, 4, 5))
    dxhat = rng.standard_normal(x.shape)
    xhat, mean, var, inv_std = _norm.standardize(x, axes, 1e-3)
    mu = x.mean(axis=axes, keepdims=True)
    v = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    assert_close(mean, mu, 1e-12)
    assert_close(var, v, 1e-12)
    assert_close(xhat, (x - mu) / np.sqrt(v + 1e-3), 1e-12)
    dx = _norm.standardize_backward(dxhat, xhat, inv_std, axes)
    xh = (x - mu) / np.sqrt(v + 1e-3)
    ref = (dxhat - dxhat.mean(axis=axes, keepdims=True)
           - xh * (dxhat * xh).mean(axis=axes, keepdims=True)) / np.sqrt(v + 1e-3)
    assert_close(dx, ref, 1e-10)


@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("combo", VIEW_COMBOS)
def test_core_cache_fields_are_as_documented(rng, combo, fixed):
    # NormCache's documented attributes (see its docstring)
    x, gamma, beta, _ = _core_case(rng, combo)
    x_shape, sv, sa, av, pa = combo
    keep = _keep(sv, tuple(a % len(sv) for a in sa))
    m = v = None
    if fixed:
        m, v = rng.standard_normal(keep), rng.uniform(0.5, 2.0, keep)
    _, cache, _, _ = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa, m, v)
    assert isinstance(cache, _norm.NormCache)
    assert tuple(cache.stats_axes) == tuple(sorted(a % len(sv) for a in sa))
    assert tuple(cache.affine_view) == tuple(av)
    assert tuple(cache.param_axes) == tuple(sorted(a % len(av) for a in pa))
    assert tuple(cache.x_shape) == tuple(x_shape)
    assert tuple(cache.param_shape) == gamma.shape
    assert tuple(cache.stats_view) == tuple(sv)
    assert cache.batch_stats is (not fixed)
    assert cache.inv_std.shape == keep                       # keepdims in the statistics view
    assert cache.xhat.shape == tuple(sv)
    ref_inv = 1 / np.sqrt((v if fixed else ref_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)[3]) + 1e-3)
    assert_close(cache.inv_std, ref_inv, 1e-12)


def test_core_standardize_large_offset(rng):
    for dtype, offset, tol in ((np.float32, 1e4, 1e-4), (F64, 1e7, 1e-7)):
        x = (offset + rng.standard_normal((200, 3))).astype(dtype)
        xhat, mean, var, _ = _norm.standardize(x, (0,), 0.0)
        xs = x.astype(F64)
        mu = xs.mean(axis=0, keepdims=True)
        v = ((xs - mu) ** 2).mean(axis=0, keepdims=True)
        assert_close(xhat, (xs - mu) / np.sqrt(v), tol)
        assert_close(var, v, 10 * tol)


BIG_COMBOS = [
    # large arrays (several cache blocks) in layouts the layers do not use: parameters
    # per sample (so per-row coefficients), statistics over the leading axis only, ...
    ((67, 8, 130), (67, 8, 130), (2,), (67, 8, 130), (2,)),
    ((300, 257), (300, 257), (1,), (300, 257), (1,)),
    ((67, 8, 130), (67, 8, 130), (0,), (67, 8, 130), (0, 2)),
    ((67, 1040), (67, 8, 130), (1, 2), (67, 8, 130), (0,)),
    ((40, 1000), (40, 1000), (0,), (1000, 40), (0,)),          # general path, large
]


@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("dtype, fwd_tol, bwd_tol", [(F64, 1e-10, 1e-9), (np.float32, 1e-5, 1e-4)])
@pytest.mark.parametrize("combo", BIG_COMBOS)
def test_core_large_arrays_in_other_layouts(rng, combo, dtype, fwd_tol, bwd_tol, fixed):
    x, gamma, beta, dout = _core_case(rng, combo, dtype)
    _, sv, sa, av, pa = combo
    m = v = None
    if fixed:
        keep = _keep(sv, sa)
        m, v = rng.standard_normal(keep).astype(dtype), rng.uniform(0.5, 2.0, keep).astype(dtype)
    out, cache, _, _ = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa, m, v)
    assert out.dtype == dtype
    assert_close(out, ref_forward(x, gamma, beta, 1e-3, sv, sa, av, pa, m, v)[0], fwd_tol)
    grads = _norm.norm_backward(dout, cache)
    for g, r in zip(grads, ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa, m, v)):
        assert g.dtype == dtype
        assert_close(g, r, bwd_tol)


@pytest.mark.parametrize("x_dt, dout_dt", [(np.float32, F64), (F64, np.float32)])
@pytest.mark.parametrize("combo", VIEW_COMBOS)
def test_core_mixed_dtypes_compute_in_the_wider_type(rng, combo, x_dt, dout_dt):
    # float32 cache with a float64 upstream gradient (or the reverse): nothing is
    # rounded to float32 on the way; dx, dgamma, dbeta come out in float64
    x, gamma, beta, _ = _core_case(rng, combo, x_dt)
    dout = rng.standard_normal(x.shape).astype(dout_dt)
    _, sv, sa, av, pa = combo
    _, cache, _, _ = _norm.norm_forward(x, gamma, beta, 1e-3, sv, sa, av, pa)
    grads = _norm.norm_backward(dout, cache)
    for g, r in zip(grads, ref_backward(dout, x, gamma, 1e-3, sv, sa, av, pa)):
        assert g.dtype == F64
        assert_close(g, r, 1e-5)


@pytest.mark.parametrize("x_dt, d_dt", [(np.float32, F64), (F64, np.float32)])
def test_core_standardize_backward_mixed_dtypes(rng, x_dt, d_dt):
    x = (1.0 + rng.standard_normal((6, 5))).astype(x_dt)
    dxhat = rng.standard_normal((6, 5)).astype(d_dt)
    xhat, _, var, inv_std = _norm.standardize(x, (0,), 1e-3)
    dx = _norm.standardize_backward(dxhat, xhat, inv_std, (0,))
    assert dx.dtype == F64
    xh = xhat.astype(F64)
    g = dxhat.astype(F64)
    ref = (g - g.mean(axis=0) - xh * (g * xh).mean(axis=0)) * inv_std.astype(F64)
    assert_close(dx, ref, 1e-6)          # sums of the float32 operand may be taken in float32


# --------------------------------------------------------------------------
# the public layers on large arrays (several cache blocks, ragged last block)
# --------------------------------------------------------------------------

LAYERS = {
    # name: (forward(x, gamma, beta, param) -> (out, cache), backward, views, param shape)
    "batchnorm": (batchnorm_forward, batchnorm_backward_alt, bn_views, lambda s: (s[1],)),
    "batchnorm_graph": (batchnorm_forward, batchnorm_backward, bn_views, lambda s: (s[1],)),
    "layernorm": (layernorm_forward, layernorm_backward, ln_views, lambda s: (s[1],)),
    "spatial_batchnorm": (spatial_batchnorm_forward, spatial_batchnorm_backward, sbn_views,
                          lambda s: (s[1],)),
    "groupnorm": (None, spatial_groupnorm_backward, gn_views, lambda s: (1, s[1], 1, 1)),
}

BIG_SHAPES = {
    # about 0.3-1 MB: several blocks of the core, and a ragged last one
    "batchnorm": [(257, 509)],
    "batchnorm_graph": [(257, 509)],
    "layernorm": [(257, 509), (3, 40001)],
    "spatial_batchnorm": [(33, 8, 11, 13), (3, 5, 101, 103)],
    "groupnorm": [(33, 8, 11, 13), (5, 6, 97, 89)],
}


# rubric part graded by each layer's tests here (python -m cs231n.grade); the tests
# of the core's own functions above are not graded (the core belongs to all four parts)
PART = {"batchnorm": "batchnorm", "batchnorm_graph": "batchnorm", "layernorm": "layernorm",
        "spatial_batchnorm": "spatial_batchnorm", "groupnorm": "spatial_groupnorm"}


def graded(name, *rest):
    """A pytest param ``(name, *rest)`` marked ``graded`` for the layer's part."""
    return pytest.param(name, *rest, marks=pytest.mark.graded(PART[name]))


def _forward(name, x, gamma, beta, param, G):
    fwd = LAYERS[name][0]
    if name == "groupnorm":
        return spatial_groupnorm_forward(x, gamma, beta, G, param)
    return fwd(x, gamma, beta, param)


def assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, fwd_tol, bwd_tol, fixed=None):
    """Run a layer forward and backward and compare with the reference."""
    _, backward, views, _ = LAYERS[name]
    sv, sa, av, pa = views(x.shape, G)
    eps = param.get("eps", 1e-5)
    mean = var = None
    if fixed is not None:
        mean, var = (np.asarray(a, F64).reshape(_keep(sv, sa)) for a in fixed)
    d0 = dout.copy()
    out, cache = _forward(name, x, gamma, beta, param, G)
    assert out.dtype == x.dtype
    ref_out, _, ref_mu, ref_var = ref_forward(x, gamma, beta, eps, sv, sa, av, pa, mean, var)
    assert_close(out, ref_out, fwd_tol)
    grads = backward(dout, cache)
    refs = ref_backward(dout, x, gamma, eps, sv, sa, av, pa, mean, var)
    for g, r in zip(grads, refs):
        assert_close(g, r, bwd_tol)
    assert np.array_equal(dout, d0)
    return ref_mu, ref_var


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name, shape", [graded(n, s) for n in LAYERS for s in BIG_SHAPES[n]])
def test_large_arrays_float64(rng, name, shape, mode):
    x = 0.5 + 2.0 * rng.standard_normal(shape)
    gamma = 1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))
    beta = rng.standard_normal(gamma.shape)
    dout = rng.standard_normal(shape)
    G = 2 if name == "groupnorm" else None
    param = {"mode": mode, "eps": 1e-4, "momentum": 0.5}
    fixed = None
    if mode == "test" and name in ("batchnorm", "batchnorm_graph", "spatial_batchnorm"):
        C = shape[1]
        param["running_mean"], param["running_var"] = 0.4 * np.ones(C), 3.0 * np.ones(C)
        fixed = (param["running_mean"].copy(), param["running_var"].copy())
    ref_mu, ref_var = assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, 1e-9, 1e-9, fixed)
    if mode == "train" and name in ("batchnorm", "spatial_batchnorm"):
        assert_close(param["running_mean"], 0.5 * ref_mu.ravel(), 1e-12)
        assert_close(param["running_var"], 0.5 * ref_var.ravel(), 1e-12)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name, shape", [graded(n, s) for n in LAYERS for s in BIG_SHAPES[n][:1]])
def test_large_arrays_float32(rng, name, shape, mode):
    shape = (2 * shape[0],) + tuple(shape[1:])               # same bytes as the float64 case, twice the rows
    x = (0.5 + 2.0 * rng.standard_normal(shape)).astype(np.float32)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(np.float32)
    beta = rng.standard_normal(gamma.shape).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    G = 4 if name == "groupnorm" else None
    param = {"mode": mode}
    fixed = None
    if mode == "test" and name in ("batchnorm", "batchnorm_graph", "spatial_batchnorm"):
        C = shape[1]
        param["running_mean"] = np.full(C, 0.4, np.float32)
        param["running_var"] = np.full(C, 3.0, np.float32)
        fixed = (param["running_mean"].copy(), param["running_var"].copy())
    assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, 1e-4, 1e-3, fixed)


@pytest.mark.parametrize("dtype, fwd_tol, bwd_tol", [(F64, 1e-9, 1e-9), (np.float32, 1e-4, 1e-3)])
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_one_row_per_block(rng, monkeypatch, name, mode, dtype, fwd_tol, bwd_tol):
    """The blockwise passes with the smallest blocks: one row (one image) each."""
    monkeypatch.setattr(_norm, "_BLOCK_BYTES", 8)
    shape = SMALL_SHAPES[name]
    x = (0.5 + 2.0 * rng.standard_normal(shape)).astype(dtype)
    assert len(_norm._blocks(x.shape, dtype)) == shape[0]
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(dtype)
    beta = rng.standard_normal(gamma.shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    G = 2 if name == "groupnorm" else None
    param = {"mode": mode}
    fixed = None
    if mode == "test" and name in ("batchnorm", "batchnorm_graph", "spatial_batchnorm"):
        C = shape[1]
        param["running_mean"] = np.full(C, 0.4, dtype)
        param["running_var"] = np.full(C, 3.0, dtype)
        fixed = (param["running_mean"].copy(), param["running_var"].copy())
    assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, fwd_tol, bwd_tol, fixed)


# --------------------------------------------------------------------------
# a large common offset (raw moments would cancel), small and large arrays
# --------------------------------------------------------------------------

SMALL_SHAPES = {"batchnorm": (64, 5), "batchnorm_graph": (64, 5), "layernorm": (6, 64),
                "spatial_batchnorm": (4, 3, 4, 4), "groupnorm": (3, 4, 4, 4)}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("dtype, offset, fwd_tol, bwd_tol", [
    (np.float32, 30.0, 1e-4, 1e-3),          # mean / std between the float32 and float64 limits
    (np.float32, 300.0, 1e-4, 1e-3),
    (np.float32, 1e4, 1e-4, 1e-3),
    (np.float32, -3e5, 2e-4, 1e-3),
    (F64, 1e7, 1e-7, 1e-6),
])
@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_large_common_offset_train(rng, name, size, dtype, offset, fwd_tol, bwd_tol):
    shape = SMALL_SHAPES[name] if size == "small" else BIG_SHAPES[name][0]
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(dtype)
    beta = rng.standard_normal(gamma.shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    G = 2 if name == "groupnorm" else None
    param = {"mode": "train", "momentum": 0.0}               # running stats = this batch's
    ref_mu, ref_var = assert_layer_matches_reference(name, x, gamma, beta, dout, param, G,
                                                     fwd_tol, bwd_tol)
    if "running_mean" in param:                               # batch norms: the statistics the
        assert_close(param["running_mean"], ref_mu.ravel(), fwd_tol)   # fallback computed
        assert_close(param["running_var"], ref_var.ravel(), bwd_tol)


@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_offset_on_some_features_only(rng, name):
    # statistics that need the fallback next to ones that do not, in one call
    shape = SMALL_SHAPES[name]
    x = rng.standard_normal(shape)
    if name == "layernorm":
        x[::2] += 1e4                                        # every other sample
    else:
        x[:, ::2] += 1e4                                     # every other feature / channel
    x = x.astype(np.float32)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(np.float32)
    beta = rng.standard_normal(gamma.shape).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    G = 2 if name == "groupnorm" else None
    assert_layer_matches_reference(name, x, gamma, beta, dout, {"mode": "train"}, G, 1e-4, 1e-3)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
@pytest.mark.parametrize("shape", [(6, 4), (257, 509)])
def test_test_mode_with_large_running_mean(rng, shape, backward):
    # x ~ 1e5 + N(0, 1) in float32 normalised with running mean 1e5: x * a + b with
    # a ~ 1, b ~ -1e5 would lose about 1e-2; (x - mean) * a + beta does not
    D = shape[1]
    x = (1e5 + rng.standard_normal(shape)).astype(np.float32)
    gamma = (1.0 + 0.5 * rng.standard_normal(D)).astype(np.float32)
    beta = rng.standard_normal(D).astype(np.float32)
    rm = np.full(D, 1e5, np.float32)
    rv = np.full(D, 1.0, np.float32)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm, "running_var": rv})
    ref = ref_forward(x, gamma, beta, 1e-5, shape, (0,), shape, (0,), rm.reshape(1, D), rv.reshape(1, D))[0]
    assert_close(out, ref, 1e-4)
    dout = rng.standard_normal(shape).astype(np.float32)
    refs = ref_backward(dout, x, gamma, 1e-5, shape, (0,), shape, (0,), rm.reshape(1, D), rv.reshape(1, D))
    for g, r in zip(backward(dout, cache), refs):
        assert_close(g, r, 1e-3)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("mean, var, spread", [
    (2000.0, 1.0, 1.0),       # mean**2 / var = 4e6: x * a + b would lose ~1e-4
    (80.0, 1e-3, 0.03),       # small variance: mean / std = 2500
    (-3.0, 1e-6, 1e-3),       # variance below eps: mean / sqrt(var + eps) ~ 950
])
def test_test_mode_moderate_running_mean_float32(rng, mean, var, spread):
    shape, D = (50, 4), 4
    x = (mean + spread * rng.standard_normal(shape)).astype(np.float32)
    gamma = np.ones(D, np.float32)
    beta = np.zeros(D, np.float32)
    rm, rv = np.full(D, mean, np.float32), np.full(D, var, np.float32)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm, "running_var": rv})
    ref = (x.astype(F64) - rm.astype(F64)) / np.sqrt(rv.astype(F64) + 1e-5)
    # float32 outputs of size ~1: 2e-5 absolute allows ~100 roundings, not a cancellation
    np.testing.assert_allclose(out, ref, rtol=0, atol=2e-5)


@pytest.mark.graded("spatial_batchnorm")
def test_spatial_test_mode_with_large_running_mean(rng):
    shape = (4, 3, 5, 5)
    x = (-2e5 + rng.standard_normal(shape)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    rm, rv = np.full(3, -2e5, np.float32), np.full(3, 1.0, np.float32)
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm, "running_var": rv})
    assert_close(out, (x.astype(F64) + 2e5) / np.sqrt(1.0 + 1e-5), 1e-4)


# --------------------------------------------------------------------------
# gamma with zeros, mixed dtypes, float16, degenerate shapes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
@pytest.mark.parametrize("size", ["small", "large"])
def test_gamma_with_zeros(rng, name, mode, size):
    shape = SMALL_SHAPES[name] if size == "small" else BIG_SHAPES[name][0]
    x = 1.0 + rng.standard_normal(shape)
    gamma = 1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))
    gamma.reshape(-1)[::2] = 0.0                             # every other scale is exactly 0
    beta = rng.standard_normal(gamma.shape)
    dout = rng.standard_normal(shape)
    G = 2 if name == "groupnorm" else None
    param = {"mode": mode}
    fixed = None
    if mode == "test" and name != "layernorm" and name != "groupnorm":
        C = shape[1]
        param["running_mean"], param["running_var"] = np.full(C, 0.5), np.full(C, 2.0)
        fixed = (param["running_mean"].copy(), param["running_var"].copy())
    assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, 1e-9, 1e-9, fixed)


@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_interleaved_calls_do_not_share_results(rng, name):
    # two forward passes before either backward (as in a network with two such
    # layers), on large arrays: neither the outputs nor the caches of the first
    # call may be overwritten by the second (no shared scratch in a result)
    shape = BIG_SHAPES[name][0]
    G = 2 if name == "groupnorm" else None
    sv, sa, av, pa = LAYERS[name][2](shape, G)
    runs = []
    for k in range(2):
        x = (k + 1.0) * rng.standard_normal(shape) + 3.0 * k
        gamma = 1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))
        beta = rng.standard_normal(gamma.shape)
        out, cache = _forward(name, x, gamma, beta, {"mode": "train"}, G)
        runs.append((x, gamma, beta, out, out.copy(), cache, rng.standard_normal(shape)))
    grads = [LAYERS[name][1](d, cache) for (_, _, _, _, _, cache, d) in runs]
    for (x, gamma, beta, out, out_copy, cache, d), gs in zip(runs, grads):
        np.testing.assert_array_equal(out, out_copy)
        assert_close(out, ref_forward(x, gamma, beta, 1e-5, sv, sa, av, pa)[0], 1e-9)
        for g, r in zip(gs, ref_backward(d, x, gamma, 1e-5, sv, sa, av, pa)):
            assert_close(g, r, 1e-9)
    # the first call's gradients survive the second backward
    again = LAYERS[name][1](runs[0][6], runs[0][5])
    for g, h in zip(grads[0], again):
        np.testing.assert_array_equal(g, h)


def _check_layer_against_reference(rng, name, shape, G):
    x = 0.5 + 2.0 * rng.standard_normal(shape)
    gamma = 1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))
    beta = rng.standard_normal(gamma.shape)
    dout = rng.standard_normal(shape)
    assert_layer_matches_reference(name, x, gamma, beta, dout, {"mode": "train"}, G, 1e-9, 1e-9)


@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_first_calls_in_a_new_thread(rng, name):
    # a fresh thread starts with no reusable work buffers: its first calls, and a
    # later call needing larger ones (rows of 200 kB, then 256 kB), must be right
    G = 2 if name == "groupnorm" else None
    if name in ("batchnorm", "batchnorm_graph", "layernorm"):
        shapes = [(3, 25000), (3, 32000), (300, 100)]
    else:
        shapes = [(3, 4, 25, 250), (3, 4, 32, 250), (40, 4, 9, 9)]
    errors = []

    def work():
        try:
            for shape in shapes:
                _check_layer_against_reference(np.random.default_rng(7), name, shape, G)
        except BaseException as e:          # reported to the main thread below
            errors.append(e)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("name, shape", [
    graded("batchnorm", (2, 530000)), graded("batchnorm_graph", (2, 530000)),
    graded("layernorm", (2, 530000)), graded("spatial_batchnorm", (2, 4, 530, 250)),
    graded("groupnorm", (2, 4, 530, 250)),
])
def test_rows_larger_than_the_work_buffers(rng, name, shape):
    # one row of 4.2 MB: per-row work arrays are too large to keep and are made afresh
    _check_layer_against_reference(rng, name, shape, 2 if name == "groupnorm" else None)


@pytest.mark.parametrize("x_dt, dout_dt", [(np.float32, F64), (F64, np.float32)])
@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
@pytest.mark.parametrize("size", ["small", "large"])
def test_mixed_dtype_dout_is_computed_in_the_wider_type(rng, name, x_dt, dout_dt, size):
    shape = SMALL_SHAPES[name] if size == "small" else BIG_SHAPES[name][0]
    x = (1.0 + rng.standard_normal(shape)).astype(x_dt)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(x_dt)
    beta = rng.standard_normal(gamma.shape).astype(x_dt)
    dout = rng.standard_normal(shape).astype(dout_dt)
    G = 2 if name == "groupnorm" else None
    out, cache = _forward(name, x, gamma, beta, {"mode": "train"}, G)
    dx, dgamma, dbeta = LAYERS[name][1](dout, cache)
    assert dx.dtype == F64
    sv, sa, av, pa = LAYERS[name][2](shape, G)
    refs = ref_backward(dout, x, gamma, 1e-5, sv, sa, av, pa)
    for g, r in zip((dx, dgamma, dbeta), refs):
        assert_close(g, r, 1e-4)


@pytest.mark.parametrize("name", [graded(n) for n in LAYERS])
def test_float16(rng, name):
    shape = SMALL_SHAPES[name]
    x = (1.0 + rng.standard_normal(shape)).astype(np.float16)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(np.float16)
    beta = rng.standard_normal(gamma.shape).astype(np.float16)
    dout = rng.standard_normal(shape).astype(np.float16)
    G = 2 if name == "groupnorm" else None
    out, cache = _forward(name, x, gamma, beta, {"mode": "train"}, G)
    assert out.dtype == np.float16
    sv, sa, av, pa = LAYERS[name][2](shape, G)
    assert_close(out, ref_forward(x, gamma, beta, 1e-5, sv, sa, av, pa)[0], 1e-2)
    grads = LAYERS[name][1](dout, cache)
    assert [g.dtype for g in grads] == [np.float16] * 3
    for g, r in zip(grads, ref_backward(dout, x, gamma, 1e-5, sv, sa, av, pa)):
        assert_close(g, r, 3e-2)


@pytest.mark.parametrize("name, shape", [graded("layernorm", (3, 4096)), graded("batchnorm", (4096, 3))])
def test_float16_long_reductions_accumulate_in_higher_precision(rng, name, shape):
    # sums of 4096 float16 values: accumulated in float16 they would be off by
    # several units (spacing 4 at 4096); the statistics must not be
    x = (1.0 + 0.25 * rng.standard_normal(shape)).astype(np.float16)
    p_shape = (shape[1],)
    gamma, beta = np.ones(p_shape, np.float16), np.zeros(p_shape, np.float16)
    dout = rng.standard_normal(shape).astype(np.float16)
    out, cache = _forward(name, x, gamma, beta, {"mode": "train"}, None)
    sv, sa, av, pa = LAYERS[name][2](shape, None)
    assert_close(out, ref_forward(x, gamma, beta, 1e-5, sv, sa, av, pa)[0], 4e-3)
    for g, r in zip(LAYERS[name][1](dout, cache), ref_backward(dout, x, gamma, 1e-5, sv, sa, av, pa)):
        assert_close(g, r, 1e-2)


@pytest.mark.parametrize("name, shape, G", [
    graded("batchnorm", (20000, 3), None), graded("batchnorm_graph", (20000, 3), None),
    graded("layernorm", (3, 20000), None), graded("spatial_batchnorm", (20, 2, 32, 32), None),
    graded("groupnorm", (2, 8, 64, 64), 2),
])
def test_float16_sums_of_squares_do_not_overflow(rng, name, shape, G):
    # 16-20 thousand values of 1 + 2 randn per statistic: their sum of squares
    # (about 1e5) is beyond float16's largest number, 65504
    x = (1.0 + 2.0 * rng.standard_normal(shape)).astype(np.float16)
    gamma = (1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))).astype(np.float16)
    beta = rng.standard_normal(gamma.shape).astype(np.float16)
    dout = rng.standard_normal(shape).astype(np.float16)
    out, cache = _forward(name, x, gamma, beta, {"mode": "train"}, G)
    sv, sa, av, pa = LAYERS[name][2](shape, G)
    assert out.dtype == np.float16
    assert_close(out, ref_forward(x, gamma, beta, 1e-5, sv, sa, av, pa)[0], 1e-2)
    for g, r in zip(LAYERS[name][1](dout, cache), ref_backward(dout, x, gamma, 1e-5, sv, sa, av, pa)):
        assert_close(g, r, 3e-2)


@pytest.mark.parametrize("name, shape", [
    graded("batchnorm", (5, 1)), graded("layernorm", (1, 7)), graded("layernorm", (5, 1)),
    graded("spatial_batchnorm", (3, 2, 1, 1)), graded("spatial_batchnorm", (1, 1, 3, 4)),
    graded("groupnorm", (2, 4, 1, 1)), graded("groupnorm", (1, 2, 1, 5)),
])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_length_one_axes(rng, name, shape, mode):
    x = 1.0 + rng.standard_normal(shape)
    gamma = 1.0 + 0.5 * rng.standard_normal(LAYERS[name][3](shape))
    beta = rng.standard_normal(gamma.shape)
    dout = rng.standard_normal(shape)
    G = 2 if name == "groupnorm" else None
    param = {"mode": mode, "eps": 1e-3}
    fixed = None
    if mode == "test" and name in ("batchnorm", "spatial_batchnorm"):
        C = shape[1]
        param["running_mean"], param["running_var"] = np.full(C, 0.5), np.full(C, 2.0)
        fixed = (param["running_mean"].copy(), param["running_var"].copy())
    assert_layer_matches_reference(name, x, gamma, beta, dout, param, G, 1e-12, 1e-10, fixed)


@pytest.mark.graded("batchnorm")
def test_empty_feature_axis_gives_empty_results():
    x = np.ones((3, 0))
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, np.ones(0), np.zeros(0), bn_param)
    assert out.shape == (3, 0)
    assert bn_param["running_mean"].shape == (0,) and bn_param["running_var"].shape == (0,)
    dx, dgamma, dbeta = batchnorm_backward_alt(np.ones((3, 0)), cache)
    assert dx.shape == (3, 0) and dgamma.shape == (0,) and dbeta.shape == (0,)
