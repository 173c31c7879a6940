"""Batch, spatial batch, layer and group normalisation (cs231n/layers.py over cs231n/_norm.py).

* forward results against plain per-feature / per-sample / per-group loops written here;
* gradient checks in float64 on several tiny shapes, tolerance
  ``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` elementwise (``GRAD_ATOL``, ``GRAD_RTOL``);
* running statistics (update rule, test mode, momentum 0 and 1, defaults);
* equivalences (spatial BN vs BN on the (N*H*W, C) view, group norm with G=1 and G=C,
  ``batchnorm_backward_alt`` vs ``batchnorm_backward``);
* dtype preservation, numerical soundness (large offsets in float32, constant
  features, batch of one) and the CS231n notebook's sanity values.

Property-based tests (hypothesis) live in ``test_norm_properties.py``.
"""
import copy

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

GRAD_RTOL = 1e-6
GRAD_ATOL = 1e-8

# rubric part graded by the tests of each layer (python -m cs231n.grade); tests of the
# core's own functions are not graded (the core belongs to all four parts)
PART = {"batchnorm": "batchnorm", "batchnorm_alt": "batchnorm", "layernorm": "layernorm",
        "spatial_batchnorm": "spatial_batchnorm", "groupnorm": "spatial_groupnorm"}


def graded_names(names):
    """``names`` as pytest params, each marked ``graded`` for its layer's part."""
    return [pytest.param(n, marks=pytest.mark.graded(PART[n]), id=n) for n in names]

BN_BACKWARDS = [batchnorm_backward, batchnorm_backward_alt]


def assert_grad_close(analytic, numeric):
    """Float64 gradient check with the tolerance stated in the module docstring."""
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL)


# --------------------------------------------------------------------------
# independent references (plain loops, float64)
# --------------------------------------------------------------------------

def _standardise_block(v, eps):
    """(v - mean) / sqrt(biased var + eps) of a flat block, with Python sums."""
    v = np.asarray(v, dtype=np.float64).ravel()
    m = len(v)
    mu = sum(v) / m
    var = sum((t - mu) ** 2 for t in v) / m
    return (v - mu) / np.sqrt(var + eps), mu, var


def ref_batchnorm(x, gamma, beta, eps):
    """Per column: standardise over the batch, scale, shift. Returns out, mu, var."""
    N, D = x.shape
    out = np.empty((N, D))
    mus, vars_ = np.empty(D), np.empty(D)
    for j in range(D):
        xhat, mus[j], vars_[j] = _standardise_block(x[:, j], eps)
        out[:, j] = gamma[j] * xhat + beta[j]
    return out, mus, vars_


def ref_batchnorm_test(x, gamma, beta, mean, var, eps):
    N, D = x.shape
    out = np.empty((N, D))
    for i in range(N):
        for j in range(D):
            out[i, j] = gamma[j] * (x[i, j] - mean[j]) / np.sqrt(var[j] + eps) + beta[j]
    return out


def ref_layernorm(x, gamma, beta, eps):
    N, D = x.shape
    out = np.empty((N, D))
    for i in range(N):
        xhat, _, _ = _standardise_block(x[i], eps)
        out[i] = gamma * xhat + beta
    return out


def ref_spatial_batchnorm(x, gamma, beta, eps):
    N, C, H, W = x.shape
    out = np.empty(x.shape)
    mus, vars_ = np.empty(C), np.empty(C)
    for c in range(C):
        xhat, mus[c], vars_[c] = _standardise_block(x[:, c], eps)
        out[:, c] = gamma[c] * xhat.reshape(N, H, W) + beta[c]
    return out, mus, vars_


def ref_groupnorm(x, gamma, beta, G, eps):
    N, C, H, W = x.shape
    cg = C // G
    out = np.empty(x.shape)
    for n in range(N):
        for g in range(G):
            block = x[n, g * cg:(g + 1) * cg]
            xhat, _, _ = _standardise_block(block, eps)
            xhat = xhat.reshape(block.shape)
            for k in range(cg):
                c = g * cg + k
                out[n, c] = gamma[0, c, 0, 0] * xhat[k] + beta[0, c, 0, 0]
    return out


def _params(rng, shape, dtype=np.float64):
    gamma = (1.0 + 0.5 * rng.standard_normal(shape)).astype(dtype)
    beta = rng.standard_normal(shape).astype(dtype)
    return gamma, beta


# --------------------------------------------------------------------------
# forward vs reference
# --------------------------------------------------------------------------

BN_SHAPES = [(4, 5), (3, 1), (6, 3), (2, 4)]
SPATIAL_SHAPES = [(2, 3, 4, 5), (3, 2, 2, 2), (1, 2, 3, 3)]
GN_CASES = [((2, 4, 3, 3), 1), ((2, 4, 3, 3), 2), ((2, 4, 3, 3), 4), ((3, 6, 2, 1), 3), ((1, 6, 1, 2), 2)]


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_batchnorm_forward_train_matches_reference(rng, shape, eps):
    x = 2.0 + 3.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    x0 = x.copy()
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})
    ref, _, _ = ref_batchnorm(x, gamma, beta, eps)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    assert np.array_equal(x, x0)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("shape", BN_SHAPES[:2])
def test_batchnorm_default_eps_is_1e_5(rng, shape):
    x = 1e-2 * rng.standard_normal(shape)          # var ~ 1e-4: eps visibly matters
    gamma, beta = _params(rng, shape[1])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    ref, _, _ = ref_batchnorm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.graded("layernorm")
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_layernorm_forward_matches_reference(rng, shape):
    x = -1.0 + 2.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    x0 = x.copy()
    for ln_param, eps in (({}, 1e-5), ({"eps": 0.2}, 0.2)):
        out, _ = layernorm_forward(x, gamma, beta, ln_param)
        np.testing.assert_allclose(out, ref_layernorm(x, gamma, beta, eps), rtol=1e-10, atol=1e-12)
    assert np.array_equal(x, x0)


@pytest.mark.graded("layernorm")
@pytest.mark.parametrize("mode_entry", [{"mode": "train"}, {"mode": "test"}, {"mode": "nonsense"}])
def test_layernorm_ignores_other_keys(rng, mode_entry):
    x = rng.standard_normal((3, 4))
    gamma, beta = _params(rng, 4)
    ln_param = dict(mode_entry, eps=1e-3)
    before = copy.deepcopy(ln_param)
    out, _ = layernorm_forward(x, gamma, beta, ln_param)
    np.testing.assert_allclose(out, ref_layernorm(x, gamma, beta, 1e-3), rtol=1e-10, atol=1e-12)
    assert ln_param == before              # no running statistics are stored


@pytest.mark.graded("spatial_batchnorm")
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_forward_train_matches_reference(rng, shape):
    x = 5.0 + 2.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    x0 = x.copy()
    bn_param = {"mode": "train", "eps": 1e-4, "momentum": 0.7}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    ref, mu, var = ref_spatial_batchnorm(x, gamma, beta, 1e-4)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.3 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.3 * var, rtol=1e-12)
    assert bn_param["running_mean"].shape == (shape[1],)
    assert np.array_equal(x, x0)


@pytest.mark.graded("spatial_batchnorm")
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_forward_test_mode_matches_reference(rng, shape):
    C = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    rm = rng.standard_normal(C)
    rv = rng.uniform(0.5, 2.0, C)
    bn_param = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy(), "eps": 1e-3}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    expected = np.empty(shape)
    for c in range(C):
        expected[:, c] = gamma[c] * (x[:, c] - rm[c]) / np.sqrt(rv[c] + 1e-3) + beta[c]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], rm)   # test mode never updates
    np.testing.assert_array_equal(bn_param["running_var"], rv)


@pytest.mark.graded("spatial_groupnorm")
@pytest.mark.parametrize("shape, G", GN_CASES)
def test_groupnorm_forward_matches_reference(rng, shape, G):
    C = shape[1]
    x = 3.0 + rng.standard_normal(shape)
    gamma, beta = _params(rng, (1, C, 1, 1))
    x0 = x.copy()
    for gn_param, eps in (({}, 1e-5), ({"eps": 0.1, "mode": "train"}, 0.1)):
        out, _ = spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
        assert out.shape == shape
        np.testing.assert_allclose(out, ref_groupnorm(x, gamma, beta, G, eps), rtol=1e-10, atol=1e-12)
    assert np.array_equal(x, x0)


@pytest.mark.graded("spatial_groupnorm")
def test_groupnorm_accepts_numpy_integer_G(rng):
    x = rng.standard_normal((2, 4, 2, 2))
    gamma, beta = _params(rng, (1, 4, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, np.int64(2), {})
    np.testing.assert_allclose(out, ref_groupnorm(x, gamma, beta, 2, 1e-5), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# running statistics
# --------------------------------------------------------------------------

@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("momentum", [0.0, 0.25, 0.9, 1.0])
def test_running_stats_update_rule(rng, momentum):
    N, D = 6, 4
    x = 1.5 + 2.0 * rng.standard_normal((N, D))
    gamma, beta = _params(rng, D)
    rm0 = rng.standard_normal(D)
    rv0 = rng.uniform(0.5, 1.5, D)
    bn_param = {"mode": "train", "momentum": momentum, "running_mean": rm0.copy(),
                "running_var": rv0.copy()}
    batchnorm_forward(x, gamma, beta, bn_param)
    _, mu, var = ref_batchnorm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(bn_param["running_mean"], momentum * rm0 + (1 - momentum) * mu,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bn_param["running_var"], momentum * rv0 + (1 - momentum) * var,
                               rtol=1e-12, atol=1e-15)
    if momentum == 0.0:
        np.testing.assert_allclose(bn_param["running_mean"], mu, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], var, rtol=1e-12)
    if momentum == 1.0:
        np.testing.assert_array_equal(bn_param["running_mean"], rm0)
        np.testing.assert_array_equal(bn_param["running_var"], rv0)


@pytest.mark.graded("batchnorm")
def test_running_stats_default_to_zeros_and_default_momentum_is_0_9(rng):
    x = 4.0 + rng.standard_normal((5, 3))
    gamma, beta = _params(rng, 3)
    bn_param = {"mode": "train"}
    batchnorm_forward(x, gamma, beta, bn_param)
    _, mu, var = ref_batchnorm(x, gamma, beta, 1e-5)
    # written into the same dict: running = 0.9 * 0 + 0.1 * batch
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * var, rtol=1e-12)
    # a second batch keeps accumulating in the dict
    x2 = -1.0 + 0.5 * rng.standard_normal((5, 3))
    batchnorm_forward(x2, gamma, beta, bn_param)
    _, mu2, var2 = ref_batchnorm(x2, gamma, beta, 1e-5)
    np.testing.assert_allclose(bn_param["running_mean"], 0.09 * mu + 0.1 * mu2, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.09 * var + 0.1 * var2, rtol=1e-12)


@pytest.mark.graded("batchnorm")
def test_running_variance_is_biased_batch_variance(rng):
    x = np.array([[1.0], [3.0]])        # mean 2, biased variance 1 (unbiased would be 2)
    bn_param = {"mode": "train", "momentum": 0.0}
    batchnorm_forward(x, np.ones(1), np.zeros(1), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], [2.0])
    np.testing.assert_allclose(bn_param["running_var"], [1.0])


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_test_mode_uses_running_stats(rng, eps):
    N, D = 5, 4
    x = rng.standard_normal((N, D))
    gamma, beta = _params(rng, D)
    rm = rng.standard_normal(D)
    rv = rng.uniform(0.2, 3.0, D)
    bn_param = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy(), "eps": eps}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, ref_batchnorm_test(x, gamma, beta, rm, rv, eps), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], rm)
    np.testing.assert_array_equal(bn_param["running_var"], rv)
    # test mode output of one row does not depend on the other rows
    out_row, _ = batchnorm_forward(x[2:3], gamma, beta, bn_param)
    np.testing.assert_allclose(out_row, out[2:3], rtol=1e-12)


@pytest.mark.graded("batchnorm")
def test_test_mode_without_running_stats_uses_zeros(rng):
    # defaults: running_mean = 0, running_var = 0, so xhat = x / sqrt(eps)
    x = rng.standard_normal((3, 2))
    gamma, beta = _params(rng, 2)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "test", "eps": 0.25})
    np.testing.assert_allclose(out, gamma * x / 0.5 + beta, rtol=1e-12)


@pytest.mark.graded("batchnorm")
def test_train_then_test_round_trip(rng):
    # after many train batches from one distribution the running statistics
    # approach its mean and variance; test mode then normalises new data
    D = 3
    mu_true = np.array([5.0, -2.0, 0.0])
    sd_true = np.array([2.0, 0.5, 1.0])
    gamma, beta = np.ones(D), np.zeros(D)
    bn_param = {"mode": "train"}
    for _ in range(60):
        batchnorm_forward(mu_true + sd_true * rng.standard_normal((200, D)), gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], mu_true, atol=0.1)
    np.testing.assert_allclose(np.sqrt(bn_param["running_var"]), sd_true, rtol=0.05)


# --------------------------------------------------------------------------
# gradient checks (float64)
# --------------------------------------------------------------------------

def _grad_check_norm(forward, backward, x, gamma, beta, make_param, dout):
    """Check dx, dgamma, dbeta of forward/backward against centred differences.

    ``make_param`` builds a fresh param dict for each forward call, so a train-mode
    running-statistics update cannot leak between calls.
    """
    out, cache = forward(x, gamma, beta, make_param())
    dx, dgamma, dbeta = backward(dout, cache)
    fx = lambda v: forward(v, gamma, beta, make_param())[0]
    fg = lambda v: forward(x, v, beta, make_param())[0]
    fb = lambda v: forward(x, gamma, v, make_param())[0]
    assert_grad_close(dx, eval_numerical_gradient_array(fx, x, dout))
    assert_grad_close(dgamma, eval_numerical_gradient_array(fg, gamma, dout))
    assert_grad_close(dbeta, eval_numerical_gradient_array(fb, beta, dout))
    return dx, dgamma, dbeta


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("backward", BN_BACKWARDS)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_train_gradient_check(rng, backward, shape):
    x = 3.0 + 2.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    dout = rng.standard_normal(shape)
    _grad_check_norm(batchnorm_forward, backward, x, gamma, beta,
                     lambda: {"mode": "train", "eps": 1e-3}, dout)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("backward", BN_BACKWARDS)
@pytest.mark.parametrize("shape", BN_SHAPES[:3])
def test_batchnorm_test_mode_gradient_check(rng, backward, shape):
    D = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, D)
    rm, rv = rng.standard_normal(D), rng.uniform(0.3, 2.0, D)
    dout = rng.standard_normal(shape)
    _grad_check_norm(batchnorm_forward, backward, x, gamma, beta,
                     lambda: {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy()},
                     dout)


@pytest.mark.graded("layernorm")
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_layernorm_gradient_check(rng, shape):
    x = 1.0 + rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    dout = rng.standard_normal(shape)
    _grad_check_norm(layernorm_forward, layernorm_backward, x, gamma, beta,
                     lambda: {"eps": 1e-3}, dout)


@pytest.mark.graded("spatial_batchnorm")
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_gradient_check(rng, shape, mode):
    C = shape[1]
    x = 2.0 + rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    rm, rv = rng.standard_normal(C), rng.uniform(0.3, 2.0, C)
    dout = rng.standard_normal(shape)
    _grad_check_norm(spatial_batchnorm_forward, spatial_batchnorm_backward, x, gamma, beta,
                     lambda: {"mode": mode, "running_mean": rm.copy(), "running_var": rv.copy()},
                     dout)


@pytest.mark.graded("spatial_groupnorm")
@pytest.mark.parametrize("shape, G", GN_CASES)
def test_groupnorm_gradient_check(rng, shape, G):
    C = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, (1, C, 1, 1))
    dout = rng.standard_normal(shape)

    def forward(x_, g_, b_, p_):
        return spatial_groupnorm_forward(x_, g_, b_, G, p_)

    dx, dgamma, dbeta = _grad_check_norm(forward, spatial_groupnorm_backward, x, gamma, beta,
                                         lambda: {"eps": 1e-4}, dout)
    assert dgamma.shape == (1, C, 1, 1) and dbeta.shape == (1, C, 1, 1)


# --------------------------------------------------------------------------
# equivalences
# --------------------------------------------------------------------------

@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_backward_alt_equals_backward(rng, shape, mode, dtype, tol):
    D = shape[1]
    x = (1.0 + 3.0 * rng.standard_normal(shape)).astype(dtype)
    gamma, beta = _params(rng, D, dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    bn_param = {"mode": mode, "running_mean": rng.standard_normal(D).astype(dtype),
                "running_var": rng.uniform(0.5, 2, D).astype(dtype)}
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    g1 = batchnorm_backward(dout, cache)
    g2 = batchnorm_backward_alt(dout, cache)
    for a, b in zip(g1, g2):
        assert a.dtype == b.dtype == dtype
        scale = max(1.0, float(np.max(np.abs(a))))
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


@pytest.mark.graded("spatial_batchnorm")
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_equals_batchnorm_on_nhwc_view(rng, shape, mode):
    N, C, H, W = shape
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    dout = rng.standard_normal(shape)
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
    p_sp = {"mode": mode, "momentum": 0.8, "running_mean": rm.copy(), "running_var": rv.copy()}
    p_bn = copy.deepcopy(p_sp)
    out_sp, cache_sp = spatial_batchnorm_forward(x, gamma, beta, p_sp)
    x2 = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_bn, cache_bn = batchnorm_forward(x2, gamma, beta, p_bn)
    back = lambda a: a.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out_sp, back(out_bn), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p_sp["running_mean"], p_bn["running_mean"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p_sp["running_var"], p_bn["running_var"], rtol=1e-12, atol=1e-15)
    dx_sp, dg_sp, db_sp = spatial_batchnorm_backward(dout, cache_sp)
    dx_bn, dg_bn, db_bn = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache_bn)
    np.testing.assert_allclose(dx_sp, back(dx_bn), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg_sp, dg_bn, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db_sp, db_bn, rtol=1e-12, atol=1e-12)


@pytest.mark.graded("spatial_groupnorm")
def test_groupnorm_G1_is_per_sample_normalisation_over_CHW(rng):
    N, C, H, W = 3, 4, 2, 3
    x = rng.standard_normal((N, C, H, W))
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, 1, {})
    dout = rng.standard_normal(x.shape)
    dx, dg, db = spatial_groupnorm_backward(dout, cache)
    # plain per-sample standardisation over all of (C, H, W), and its closed-form
    # backward: dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma, g = gamma * dout
    expected = np.empty_like(x)
    expected_dx = np.empty_like(x)
    xhat_all = np.empty_like(x)
    for n in range(N):
        xhat, _, var = _standardise_block(x[n], 1e-5)
        xhat = xhat_all[n] = xhat.reshape(C, H, W)
        expected[n] = gamma[0] * xhat + beta[0]
        g = gamma[0] * dout[n]
        expected_dx[n] = (g - g.mean() - xhat * (g * xhat).mean()) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg, (dout * xhat_all).sum(axis=(0, 2, 3), keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3), keepdims=True), rtol=1e-10)


# Not graded: it ties two parts together (a part's grade depends on its own code only).
def test_groupnorm_G1_equals_layernorm_on_the_flat_view(rng):
    N, C, H, W = 3, 4, 2, 3
    x = rng.standard_normal((N, C, H, W))
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, 1, {})
    # layer norm on the (N, C*H*W) view with gamma/beta repeated per pixel
    g_ln = np.repeat(gamma.ravel(), H * W)
    b_ln = np.repeat(beta.ravel(), H * W)
    out_ln, cache_ln = layernorm_forward(x.reshape(N, -1), g_ln, b_ln, {})
    np.testing.assert_allclose(out, out_ln.reshape(x.shape), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(x.shape)
    dx, dg, db = spatial_groupnorm_backward(dout, cache)
    dx_ln, dg_ln, db_ln = layernorm_backward(dout.reshape(N, -1), cache_ln)
    np.testing.assert_allclose(dx, dx_ln.reshape(x.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg.ravel(), dg_ln.reshape(C, H * W).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(db.ravel(), db_ln.reshape(C, H * W).sum(axis=1), rtol=1e-10)


@pytest.mark.graded("spatial_groupnorm")
def test_groupnorm_G_equals_C_is_instance_norm(rng):
    N, C, H, W = 2, 3, 3, 2
    x = rng.standard_normal((N, C, H, W)) * np.array([1.0, 10.0, 0.1])[None, :, None, None]
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, C, {"eps": 1e-6})
    mu = x.mean(axis=(2, 3), keepdims=True)
    var = ((x - mu) ** 2).mean(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-6) + beta, rtol=1e-10, atol=1e-12)


@pytest.mark.graded("spatial_groupnorm")
def test_groupnorm_groups_are_contiguous_channels(rng):
    # channels 0,1 form group 0 and channels 2,3 group 1: shifting group 1's
    # channels by a common constant changes nothing; mixing the groups does
    x = rng.standard_normal((2, 4, 2, 2))
    gamma, beta = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, 2, {})
    shifted = x.copy()
    shifted[:, 2:] += 7.0
    out2, _ = spatial_groupnorm_forward(shifted, gamma, beta, 2, {})
    np.testing.assert_allclose(out, out2, atol=1e-9)
    mixed = x.copy()
    mixed[:, 1:3] += 7.0
    out3, _ = spatial_groupnorm_forward(mixed, gamma, beta, 2, {})
    assert np.max(np.abs(out3 - out)) > 0.1


# --------------------------------------------------------------------------
# dtype preservation
# --------------------------------------------------------------------------

def _run_layer(name, x, gamma, beta, param):
    if name == "batchnorm":
        return batchnorm_forward(x, gamma, beta, param), batchnorm_backward
    if name == "batchnorm_alt":
        return batchnorm_forward(x, gamma, beta, param), batchnorm_backward_alt
    if name == "layernorm":
        return layernorm_forward(x, gamma, beta, param), layernorm_backward
    if name == "spatial_batchnorm":
        return spatial_batchnorm_forward(x, gamma, beta, param), spatial_batchnorm_backward
    if name == "groupnorm":
        return spatial_groupnorm_forward(x, gamma, beta, 2, param), spatial_groupnorm_backward
    raise AssertionError(name)


LAYER_SHAPES = {
    "batchnorm": ((6, 4), (4,)),
    "batchnorm_alt": ((6, 4), (4,)),
    "layernorm": ((6, 4), (4,)),
    "spatial_batchnorm": ((2, 4, 3, 3), (4,)),
    "groupnorm": ((2, 4, 3, 3), (1, 4, 1, 1)),
}


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name", graded_names(LAYER_SHAPES))
def test_float32_in_float32_out(rng, name, mode):
    x_shape, p_shape = LAYER_SHAPES[name]
    x64 = 3.0 + 2.0 * rng.standard_normal(x_shape)
    g64, b64 = _params(rng, p_shape)
    dout64 = rng.standard_normal(x_shape)
    x, gamma, beta, dout = (a.astype(np.float32) for a in (x64, g64, b64, dout64))
    param = {"mode": mode}
    if mode == "test" and name in ("batchnorm", "batchnorm_alt", "spatial_batchnorm"):
        C = p_shape[0]
        param["running_mean"] = np.full(C, 3.0, dtype=np.float32)
        param["running_var"] = np.full(C, 4.0, dtype=np.float32)
    param64 = {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v) for k, v in param.items()}
    (out, cache), backward = _run_layer(name, x, gamma, beta, param)
    assert out.dtype == np.float32
    arrays = [v for v in cache if isinstance(v, np.ndarray)]
    assert arrays and all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]
    for k in ("running_mean", "running_var"):
        if k in param:
            assert param[k].dtype == np.float32
    grads = backward(dout, cache)
    assert [g.dtype for g in grads] == [np.float32] * 3
    # and the float32 results agree with float64 to float32 accuracy
    (out64, cache64), _ = _run_layer(name, x.astype(np.float64), gamma.astype(np.float64),
                                     beta.astype(np.float64), param64)
    grads64 = backward(dout.astype(np.float64), cache64)
    np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-4)
    for g, g64 in zip(grads, grads64):
        np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4 * max(1.0, np.max(np.abs(g64))))


@pytest.mark.parametrize("name", graded_names(["batchnorm", "spatial_batchnorm"]))
def test_float32_running_stats_default_and_given(rng, name):
    x_shape, p_shape = LAYER_SHAPES[name]
    x = rng.standard_normal(x_shape).astype(np.float32)
    gamma, beta = (a.astype(np.float32) for a in _params(rng, p_shape))
    bn_param = {"mode": "train"}
    _run_layer(name, x, gamma, beta, bn_param)
    assert bn_param["running_mean"].dtype == np.float32
    assert bn_param["running_var"].dtype == np.float32
    _run_layer(name, x, gamma, beta, bn_param)          # given float32 stats stay float32
    assert bn_param["running_mean"].dtype == np.float32
    assert bn_param["running_var"].dtype == np.float32


@pytest.mark.graded("layernorm")
def test_float16_input_to_layernorm_keeps_float16(rng):
    x = rng.standard_normal((4, 3)).astype(np.float16)
    out, cache = layernorm_forward(x, np.ones(3, np.float16), np.zeros(3, np.float16), {})
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.astype(np.float64), ref_layernorm(x.astype(np.float64), np.ones(3),
                                                                     np.zeros(3), 1e-5), atol=2e-2)


# --------------------------------------------------------------------------
# numerical soundness
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", graded_names(LAYER_SHAPES))
def test_float32_large_common_offset_normalises_correctly(rng, name):
    x_shape, p_shape = LAYER_SHAPES[name]
    if name in ("batchnorm", "batchnorm_alt", "layernorm"):
        x_shape, p_shape = (64, 8), (8,)
    x = (1e4 + rng.standard_normal(x_shape)).astype(np.float32)
    gamma = np.ones(p_shape, np.float32)
    beta = np.zeros(p_shape, np.float32)
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": "train"})
    assert out.dtype == np.float32
    # reference from the same float32 values, in float64
    (ref, cache64), _ = _run_layer(name, x.astype(np.float64), gamma.astype(np.float64),
                                   beta.astype(np.float64), {"mode": "train"})
    np.testing.assert_allclose(out, ref, atol=1e-2)
    assert np.max(np.abs(out)) < 10           # nothing blew up
    dout = rng.standard_normal(x_shape).astype(np.float32)
    g32 = backward(dout, cache)
    g64 = backward(dout.astype(np.float64), cache64)
    for a, b in zip(g32, g64):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, atol=2e-2 * max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.graded("batchnorm")
def test_batchnorm_large_offset_sanity_means_and_stds(rng):
    x = (1e4 + rng.standard_normal((256, 5))).astype(np.float32)
    out, _ = batchnorm_forward(x, np.ones(5, np.float32), np.zeros(5, np.float32), {"mode": "train"})
    np.testing.assert_allclose(out.astype(np.float64).mean(axis=0), 0.0, atol=1e-2)
    np.testing.assert_allclose(out.astype(np.float64).std(axis=0), 1.0, atol=1e-2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", graded_names(LAYER_SHAPES))
def test_constant_input_gives_finite_output_and_gradients(rng, name, dtype):
    x_shape, p_shape = LAYER_SHAPES[name]
    x = np.full(x_shape, 3.25, dtype=dtype)           # zero variance everywhere
    gamma, beta = (a.astype(dtype) for a in _params(rng, p_shape))
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(x_shape).astype(dtype)
    grads = backward(dout, cache)
    assert np.all(np.isfinite(out))
    assert all(np.all(np.isfinite(g)) for g in grads)
    # xhat = 0 so out == beta (broadcast) and dgamma == 0
    np.testing.assert_allclose(out, np.broadcast_to(beta.reshape(
        beta.shape if beta.ndim == 4 else (1, -1) + (1,) * (x.ndim - 2)), x_shape), atol=1e-6)
    np.testing.assert_allclose(grads[1], 0.0, atol=1e-6)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("backward", BN_BACKWARDS)
def test_batchnorm_constant_feature_next_to_normal_ones(rng, backward):
    x = rng.standard_normal((6, 3))
    x[:, 1] = -2.0
    gamma, beta = _params(rng, 3)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_array_equal(out[:, 1], beta[1])
    ref, _, _ = ref_batchnorm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    dx, dgamma, dbeta = backward(rng.standard_normal((6, 3)), cache)
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx[:, 1].sum(), 0.0, atol=1e-9)


@pytest.mark.graded("batchnorm")
@pytest.mark.parametrize("backward", BN_BACKWARDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_of_one_in_train_mode(rng, backward, dtype):
    # documented: variance 0, so out == beta and dx == 0; running var decays
    D = 4
    x = rng.standard_normal((1, D)).astype(dtype)
    gamma, beta = (a.astype(dtype) for a in _params(rng, D))
    rv0 = np.full(D, 2.0, dtype=dtype)
    bn_param = {"mode": "train", "running_var": rv0.copy(), "running_mean": np.zeros(D, dtype)}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_array_equal(out, beta[None, :])
    dx, dgamma, dbeta = backward(rng.standard_normal((1, D)).astype(dtype), cache)
    np.testing.assert_array_equal(dx, 0.0)
    np.testing.assert_array_equal(dgamma, 0.0)
    np.testing.assert_allclose(bn_param["running_var"], 0.9 * rv0, rtol=1e-6)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x[0], rtol=1e-6)


@pytest.mark.graded("batchnorm")
def test_eps_zero_with_nonconstant_input_is_allowed(rng):
    x = rng.standard_normal((5, 3))
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train", "eps": 0.0})
    ref, _, _ = ref_batchnorm(x, np.ones(3), np.zeros(3), 0.0)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-12)


# --------------------------------------------------------------------------
# no hidden state: inputs and caches are not modified
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name", graded_names(LAYER_SHAPES))
def test_backward_leaves_dout_and_cache_intact(rng, name, mode):
    x_shape, p_shape = LAYER_SHAPES[name]
    x = rng.standard_normal(x_shape)
    gamma, beta = _params(rng, p_shape)
    g0, b0 = gamma.copy(), beta.copy()
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": mode})
    assert np.array_equal(gamma, g0) and np.array_equal(beta, b0)
    dout = rng.standard_normal(x_shape)
    dout0 = dout.copy()
    cache0 = copy.deepcopy(cache)
    first = backward(dout, cache)
    assert np.array_equal(dout, dout0)
    for a, b in zip(cache, cache0):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
    second = backward(dout, cache)                    # same answer twice
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # the output does not alias the input
    out[...] = 0.0
    assert np.array_equal(gamma, g0) and np.array_equal(beta, b0)
    assert not np.all(x == 0.0)


@pytest.mark.graded("batchnorm")
def test_batchnorm_backward_gradients_shapes(rng):
    x = rng.standard_normal((4, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    for backward in BN_BACKWARDS:
        dx, dgamma, dbeta = backward(np.ones((4, 3)), cache)
        assert dx.shape == (4, 3) and dgamma.shape == (3,) and dbeta.shape == (3,)


# --------------------------------------------------------------------------
# CS231n notebook sanity checks
# --------------------------------------------------------------------------

def _notebook_activations(rng, N=200):
    """Activations of a random two-layer net, as in the BatchNormalization notebook."""
    D1, D2, D3 = 50, 60, 3
    W1 = rng.standard_normal((D1, D2))
    W2 = rng.standard_normal((D2, D3))
    return lambda: np.maximum(0, rng.standard_normal((N, D1)) @ W1) @ W2


@pytest.mark.graded("batchnorm")
def test_notebook_batchnorm_train_time_sanity(rng):
    a = _notebook_activations(rng)()
    assert np.max(np.abs(a.mean(axis=0))) > 5        # far from normalised before BN
    out, _ = batchnorm_forward(a, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-6)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, atol=1e-5)


@pytest.mark.graded("batchnorm")
def test_notebook_batchnorm_test_time_sanity(rng):
    draw = _notebook_activations(rng)
    gamma, beta = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train"}
    for _ in range(50):
        batchnorm_forward(draw(), gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = batchnorm_forward(draw(), gamma, beta, bn_param)
    # noisier than train time, but close: means ~0, stds ~1
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=0.2)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=0.2)


@pytest.mark.graded("layernorm")
def test_notebook_layernorm_sanity(rng):
    x = 10.0 + 5.0 * rng.standard_normal((4, 50))
    out, _ = layernorm_forward(x, np.ones(50), np.zeros(50), {})
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-6)


# --------------------------------------------------------------------------
# the core (cs231n._norm) directly: its documented return values
# --------------------------------------------------------------------------

@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2)])
def test_core_standardize_returns_documented_values(rng, axes):
    x = 2.0 + rng.standard_normal((3, 4, 5))
    x0 = x.copy()
    xhat, mean, var, inv_std = _norm.standardize(x, axes, 1e-3)
    mu = x.mean(axis=axes, keepdims=True)
    v = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    np.testing.assert_allclose(mean, mu, rtol=1e-12)
    np.testing.assert_allclose(var, v, rtol=1e-10)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(v + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(xhat, (x - mu) / np.sqrt(v + 1e-3), rtol=1e-10, atol=1e-12)
    assert np.array_equal(x, x0)
