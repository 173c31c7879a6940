"""Property-based tests (hypothesis) of the normalisation layers.

Invariances and identities that hold for every input, checked on drawn shapes,
seeds, scales and offsets:

* batch norm (and spatial batch norm) output is unchanged by a per-feature
  (per-channel) positive affine map of the input; layer norm by a per-sample one;
  group norm by a per-(sample, group) one. Exact with ``eps = 0``.
* ``dbeta == dout`` summed over the non-feature axes, ``dgamma == (dout * xhat)``
  summed likewise, with ``xhat = (out - beta) / gamma`` from the layer's own output.
* ``dx`` sums to zero over the normalised axes, and (``eps = 0``) is orthogonal to
  ``x - mean`` there: moving along either direction leaves the output unchanged.
* permuting the batch permutes batch-norm outputs and gradients.

Examples are few (``max_examples`` below) and derandomised, so the suite is fast
and reproducible; ``deadline=None`` because the first call pays numpy warm-up;
no shrink phase, so a broken implementation fails fast.
"""
import numpy as np
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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

# No shrinking: a broken layer fails every example, and shrinking those failures
# would take ~10 s per test (the drawn examples are small already).
PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                             phases=(Phase.explicit, Phase.reuse, Phase.generate))

seeds = st.integers(min_value=0, max_value=2**32 - 1)
batch = st.integers(min_value=2, max_value=7)
features = st.integers(min_value=1, max_value=6)
positive_scales = st.floats(min_value=0.1, max_value=10.0)
offsets = st.floats(min_value=-50.0, max_value=50.0)
ATOL = 1e-8        # identities below are exact up to float64 rounding


def _draw_params(rng, shape):
    return 1.0 + 0.5 * rng.standard_normal(shape), rng.standard_normal(shape)


def _nondegenerate(x, axes):
    """Variance over ``axes`` clearly above 0 everywhere (needed with eps = 0)."""
    return bool(np.all(x.var(axis=axes) > 1e-3))


# --------------------------------------------------------------------------
# invariances under positive affine maps (eps = 0)
# --------------------------------------------------------------------------

# not graded: it checks the forward and both backward passes together
@PROPERTY_SETTINGS
@given(seed=seeds, N=batch, D=features, data=st.data())
def test_batchnorm_invariant_to_per_feature_positive_affine(seed, N, D, data):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    assume(_nondegenerate(x, 0))
    a = np.array(data.draw(st.lists(positive_scales, min_size=D, max_size=D)))
    c = np.array(data.draw(st.lists(offsets, min_size=D, max_size=D)))
    gamma, beta = _draw_params(rng, D)
    out1, cache1 = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 0.0})
    out2, cache2 = batchnorm_forward(a * x + c, gamma, beta, {"mode": "train", "eps": 0.0})
    np.testing.assert_allclose(out2, out1, atol=ATOL)
    # chain rule through the affine map: dL/dx = a * dL/d(ax+c), and dL/d(ax+c) = dx2
    dout = rng.standard_normal((N, D))
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx1 = backward(dout, cache1)[0]
        dx2 = backward(dout, cache2)[0]
        np.testing.assert_allclose(a * dx2, dx1, atol=ATOL * (1 + np.max(np.abs(dx1))))


# not graded: it checks the forward and the backward pass together
@PROPERTY_SETTINGS
@given(seed=seeds, N=batch, D=st.integers(min_value=2, max_value=6), data=st.data())
def test_layernorm_invariant_to_per_sample_positive_affine(seed, N, D, data):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    assume(_nondegenerate(x, 1))
    a = np.array(data.draw(st.lists(positive_scales, min_size=N, max_size=N)))[:, None]
    c = np.array(data.draw(st.lists(offsets, min_size=N, max_size=N)))[:, None]
    gamma, beta = _draw_params(rng, D)
    out1, cache1 = layernorm_forward(x, gamma, beta, {"eps": 0.0})
    out2, cache2 = layernorm_forward(a * x + c, gamma, beta, {"eps": 0.0})
    np.testing.assert_allclose(out2, out1, atol=ATOL)
    dout = rng.standard_normal((N, D))
    dx1 = layernorm_backward(dout, cache1)[0]
    dx2 = layernorm_backward(dout, cache2)[0]
    np.testing.assert_allclose(a * dx2, dx1, atol=ATOL * (1 + np.max(np.abs(dx1))))


@pytest.mark.graded("spatial_batchnorm", "forward")
@PROPERTY_SETTINGS
@given(seed=seeds, N=st.integers(1, 3), C=st.integers(1, 4), H=st.integers(1, 3),
       W=st.integers(2, 3), a=positive_scales, c=offsets)
def test_spatial_batchnorm_invariant_to_per_channel_positive_affine(seed, N, C, H, W, a, c):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    assume(_nondegenerate(x, (0, 2, 3)))
    scale = a * rng.uniform(0.5, 2.0, C)[None, :, None, None]
    shift = c * rng.uniform(-1.0, 1.0, C)[None, :, None, None]
    gamma, beta = _draw_params(rng, C)
    out1, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 0.0})
    out2, _ = spatial_batchnorm_forward(scale * x + shift, gamma, beta, {"mode": "train", "eps": 0.0})
    np.testing.assert_allclose(out2, out1, atol=ATOL)


@pytest.mark.graded("spatial_groupnorm", "forward")
@PROPERTY_SETTINGS
@given(seed=seeds, N=st.integers(1, 3), G=st.integers(1, 3), cg=st.integers(1, 2),
       H=st.integers(1, 3), W=st.integers(2, 3), a=positive_scales, c=offsets)
def test_groupnorm_invariant_to_per_sample_per_group_positive_affine(seed, N, G, cg, H, W, a, c):
    rng = np.random.default_rng(seed)
    C = G * cg
    x = rng.standard_normal((N, C, H, W))
    assume(_nondegenerate(x.reshape(N, G, -1), 2))
    scale = np.repeat(a * rng.uniform(0.5, 2.0, (N, G)), cg, axis=1)[:, :, None, None]
    shift = np.repeat(c * rng.uniform(-1.0, 1.0, (N, G)), cg, axis=1)[:, :, None, None]
    gamma, beta = _draw_params(rng, (1, C, 1, 1))
    out1, _ = spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 0.0})
    out2, _ = spatial_groupnorm_forward(scale * x + shift, gamma, beta, G, {"eps": 0.0})
    np.testing.assert_allclose(out2, out1, atol=ATOL)


# --------------------------------------------------------------------------
# gradient identities
# --------------------------------------------------------------------------

def _layer_case(kind, rng, dims):
    """Return (forward, backward, x, gamma, beta, feature_axes_summed, norm_axes_view)."""
    N, C = dims[0], dims[1]
    if kind in ("bn", "bn_alt", "ln"):
        x = rng.standard_normal((N, C))
        gamma, beta = _draw_params(rng, C)
        if kind == "ln":
            return (lambda x_, g, b, e: layernorm_forward(x_, g, b, {"eps": e}),
                    layernorm_backward, x, gamma, beta, (0,), lambda a: a, (1,))
        bwd = batchnorm_backward if kind == "bn" else batchnorm_backward_alt
        return (lambda x_, g, b, e: batchnorm_forward(x_, g, b, {"mode": "train", "eps": e}),
                bwd, x, gamma, beta, (0,), lambda a: a, (0,))
    H, W = dims[2], dims[3]
    x = rng.standard_normal((N, C, H, W))
    if kind == "sbn":
        gamma, beta = _draw_params(rng, C)
        return (lambda x_, g, b, e: spatial_batchnorm_forward(x_, g, b, {"mode": "train", "eps": e}),
                spatial_batchnorm_backward, x, gamma, beta, (0, 2, 3), lambda a: a, (0, 2, 3))
    G = 2 if C % 2 == 0 else 1
    gamma, beta = _draw_params(rng, (1, C, 1, 1))
    return (lambda x_, g, b, e: spatial_groupnorm_forward(x_, g, b, G, {"eps": e}),
            spatial_groupnorm_backward, x, gamma, beta, (0, 2, 3),
            lambda a: a.reshape(N, G, -1), (2,))


KINDS = [pytest.param(k, marks=pytest.mark.graded(part, group), id=k) for k, part, group in (
    ("bn", "batchnorm", "graph_backward"), ("bn_alt", "batchnorm", "closed_form_backward"),
    ("ln", "layernorm", "backward"), ("sbn", "spatial_batchnorm", "backward"),
    ("gn", "spatial_groupnorm", "backward"))]
dims = st.tuples(st.integers(2, 5), st.sampled_from([2, 4]), st.integers(1, 3), st.integers(2, 3))


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(seed=seeds, dims=dims, eps=st.sampled_from([0.0, 1e-5, 0.1]))
def test_dbeta_dgamma_and_zero_sum_dx(kind, seed, dims, eps):
    rng = np.random.default_rng(seed)
    forward, backward, x, gamma, beta, feat_axes, view, norm_axes = _layer_case(kind, rng, dims)
    assume(_nondegenerate(view(x), norm_axes))
    out, cache = forward(x, gamma, beta, eps)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = backward(dout, cache)
    # dbeta = sum of dout over every axis but the feature one
    np.testing.assert_allclose(dbeta.ravel(), dout.sum(axis=feat_axes).ravel(), rtol=1e-12, atol=1e-12)
    # dgamma = sum of dout * xhat, with xhat = (out - beta) / gamma from the layer's output
    shape = (-1, 1, 1) if x.ndim == 4 and gamma.ndim == 1 else gamma.shape
    assume(np.all(np.abs(gamma) > 0.1))
    xhat = (out - beta.reshape(shape)) / gamma.reshape(shape)
    np.testing.assert_allclose(dgamma.ravel(), (dout * xhat).sum(axis=feat_axes).ravel(),
                               rtol=1e-8, atol=1e-8)
    xv = view(x)
    mu = xv.mean(axis=norm_axes, keepdims=True)
    # dx sums to zero over the normalised axes (output invariant to a common shift)
    scale = 1.0 + np.max(np.abs(dx))
    np.testing.assert_allclose(view(dx).sum(axis=norm_axes), 0.0, atol=1e-10 * scale * dx.size)
    if eps == 0.0:
        # ... and is orthogonal to x - mean (output invariant to a common scaling)
        np.testing.assert_allclose((view(dx) * (xv - mu)).sum(axis=norm_axes), 0.0,
                                   atol=1e-9 * scale * dx.size)


@pytest.mark.graded("batchnorm", "train_forward")
@PROPERTY_SETTINGS
@given(seed=seeds, N=batch, D=features)
def test_batchnorm_output_moments_are_beta_and_gamma(seed, N, D):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)) * rng.uniform(0.1, 10, D) + rng.uniform(-20, 20, D)
    assume(_nondegenerate(x, 0))
    gamma, beta = _draw_params(rng, D)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 0.0})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=ATOL)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), rtol=1e-9)


# not graded: it checks the forward pass, the running statistics and both backward passes
@PROPERTY_SETTINGS
@given(seed=seeds, N=batch, D=features)
def test_batchnorm_is_equivariant_to_batch_permutation(seed, N, D):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    gamma, beta = _draw_params(rng, D)
    perm = rng.permutation(N)
    dout = rng.standard_normal((N, D))
    p1, p2 = {"mode": "train"}, {"mode": "train"}
    out1, cache1 = batchnorm_forward(x, gamma, beta, p1)
    out2, cache2 = batchnorm_forward(x[perm], gamma, beta, p2)
    np.testing.assert_allclose(out2, out1[perm], atol=ATOL)
    np.testing.assert_allclose(p2["running_mean"], p1["running_mean"], atol=1e-12)
    np.testing.assert_allclose(p2["running_var"], p1["running_var"], atol=1e-12)
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx1, dg1, db1 = backward(dout, cache1)
        dx2, dg2, db2 = backward(dout[perm], cache2)
        np.testing.assert_allclose(dx2, dx1[perm], atol=1e-9)
        np.testing.assert_allclose(dg2, dg1, atol=1e-9)
        np.testing.assert_allclose(db2, db1, atol=1e-12)


# not graded: robustness on arbitrary inputs
@PROPERTY_SETTINGS
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
                    elements=st.floats(-1e3, 1e3)),
       seed=seeds)
def test_batchnorm_arbitrary_inputs_stay_finite_and_consistent(x, seed):
    # drawn arrays include constant columns, repeated values and a batch of one
    rng = np.random.default_rng(seed)
    N, D = x.shape
    gamma, beta = _draw_params(rng, D)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal((N, D))
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    dx_alt, dgamma_alt, dbeta_alt = batchnorm_backward_alt(dout, cache)
    for a in (out, dx, dgamma, dbeta, dx_alt):
        assert np.all(np.isfinite(a))
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dgamma, dgamma_alt, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, dx_alt, rtol=1e-6, atol=1e-6 * (1 + np.max(np.abs(dx_alt))))
    # every column of out has mean beta (xhat sums to zero over the batch)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-9 * (1 + np.max(np.abs(gamma))))
