"""Hidden tests of the normalisation layers (instructor only, run by the grader).

Forward passes and running statistics against the independent loop references
of ``norm_reference.py`` on freshly drawn data (so a submission cannot be tuned
to the public expected values), the closed-form backward of group norm written
out, and a check that ``tests/data/norm.npz`` is what ``fixtures_norm.py`` makes.
Tolerances: forward ``1e-10 * |expected| + 1e-12``; running statistics ``1e-12``.
"""
import numpy as np
import pytest
from _fixtures import assert_committed_data_is_fresh
from conftest import assert_close, load_expected
from fixtures_norm import generate
from norm_reference import (ref_batchnorm, ref_batchnorm_test, ref_groupnorm, ref_layernorm,
                            ref_spatial_batchnorm, standardise_block)

from cs231n.layers import (
    batchnorm_forward,
    layernorm_forward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _params(rng, shape):
    return 1.0 + 0.5 * rng.standard_normal(shape), rng.standard_normal(shape)


def test_committed_fixtures_are_what_the_generator_makes():
    assert_committed_data_is_fresh("norm", generate, rtol=0, atol=0)


@pytest.mark.graded("batchnorm", "train_forward")
@pytest.mark.parametrize("shape", [(7, 3), (2, 6), (16, 2)])
@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_batchnorm_train_forward_against_loops(rng, shape, eps):
    x = -3.0 + 4.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})
    ref, _, _ = ref_batchnorm(x, gamma, beta, eps)
    assert_close("batchnorm_forward", "train mode", out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.graded("batchnorm", "train_forward")
def test_batchnorm_eps_zero_and_constant_feature(rng):
    x = rng.standard_normal((5, 3))
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train", "eps": 0.0})
    ref, _, _ = ref_batchnorm(x, np.ones(3), np.zeros(3), 0.0)
    assert_close("batchnorm_forward", "eps = 0", out, ref, rtol=1e-10, atol=1e-12)
    x[:, 1] = -2.0
    gamma, beta = _params(rng, 3)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    ref, _, _ = ref_batchnorm(x, gamma, beta, 1e-5)
    assert_close("batchnorm_forward", "a constant feature", out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.graded("batchnorm", "running_statistics")
@pytest.mark.parametrize("momentum", [0.0, 0.3, 0.9, 1.0])
def test_running_stats_against_loops(rng, momentum):
    N, D = 9, 4
    x = 1.5 + 2.0 * rng.standard_normal((N, D))
    gamma, beta = _params(rng, D)
    rm0, rv0 = rng.standard_normal(D), rng.uniform(0.5, 1.5, D)
    bn_param = {"mode": "train", "momentum": momentum, "running_mean": rm0.copy(),
                "running_var": rv0.copy()}
    batchnorm_forward(x, gamma, beta, bn_param)
    _, mu, var = ref_batchnorm(x, gamma, beta, 1e-5)
    assert_close("batchnorm_forward", "running mean", bn_param["running_mean"],
                 momentum * rm0 + (1 - momentum) * mu, rtol=1e-12, atol=1e-15)
    assert_close("batchnorm_forward", "running variance", bn_param["running_var"],
                 momentum * rv0 + (1 - momentum) * var, rtol=1e-12, atol=1e-15)


@pytest.mark.graded("batchnorm", "running_statistics")
def test_train_then_test_round_trip(rng):
    # many train batches from one distribution: the running statistics approach it
    D = 3
    mu_true = np.array([5.0, -2.0, 0.0])
    sd_true = np.array([2.0, 0.5, 1.0])
    bn_param = {"mode": "train"}
    for _ in range(60):
        batchnorm_forward(mu_true + sd_true * rng.standard_normal((200, D)), np.ones(D),
                          np.zeros(D), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], mu_true, atol=0.1)
    np.testing.assert_allclose(np.sqrt(bn_param["running_var"]), sd_true, rtol=0.05)


@pytest.mark.graded("batchnorm", "test_forward")
@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_batchnorm_test_forward_against_loops(rng, eps):
    N, D = 6, 3
    x = rng.standard_normal((N, D))
    gamma, beta = _params(rng, D)
    rm, rv = rng.standard_normal(D), rng.uniform(0.2, 3.0, D)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm,
                                                "running_var": rv, "eps": eps})
    assert_close("batchnorm_forward", "test mode", out,
                 ref_batchnorm_test(x, gamma, beta, rm, rv, eps), rtol=1e-10, atol=1e-12)


@pytest.mark.graded("layernorm", "forward")
@pytest.mark.parametrize("shape", [(5, 7), (1, 4), (3, 2)])
def test_layernorm_forward_against_loops(rng, shape):
    x = 4.0 + 3.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    for ln_param, eps in (({}, 1e-5), ({"eps": 0.05, "mode": "test"}, 0.05)):
        out, _ = layernorm_forward(x, gamma, beta, ln_param)
        assert_close("layernorm_forward", "forward", out, ref_layernorm(x, gamma, beta, eps),
                     rtol=1e-10, atol=1e-12)


@pytest.mark.graded("spatial_batchnorm", "forward")
@pytest.mark.parametrize("shape", [(2, 5, 3, 2), (4, 1, 2, 3)])
def test_spatial_batchnorm_forward_against_loops(rng, shape):
    C = shape[1]
    x = -2.0 + 3.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    bn_param = {"mode": "train", "momentum": 0.5}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    ref, mu, var = ref_spatial_batchnorm(x, gamma, beta, 1e-5)
    assert_close("spatial_batchnorm_forward", "train mode", out, ref, rtol=1e-10, atol=1e-12)
    assert_close("spatial_batchnorm_forward", "running mean", bn_param["running_mean"], 0.5 * mu,
                 rtol=1e-12, atol=1e-15)
    assert_close("spatial_batchnorm_forward", "running variance", bn_param["running_var"],
                 0.5 * var, rtol=1e-12, atol=1e-15)


@pytest.mark.graded("spatial_groupnorm", "forward")
@pytest.mark.parametrize("shape, G", [((2, 6, 2, 3), 3), ((1, 8, 3, 1), 2), ((3, 3, 2, 2), 3)])
def test_groupnorm_forward_against_loops(rng, shape, G):
    C = shape[1]
    x = 2.0 + 2.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-3})
    assert_close("spatial_groupnorm_forward", f"forward, G={G}", out,
                 ref_groupnorm(x, gamma, beta, G, 1e-3), rtol=1e-10, atol=1e-12)


@pytest.mark.graded("spatial_groupnorm", "forward")
def test_groupnorm_G_equals_C_is_instance_norm(rng):
    N, C, H, W = 2, 3, 3, 2
    x = rng.standard_normal((N, C, H, W)) * np.array([1.0, 10.0, 0.1])[None, :, None, None]
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, C, {"eps": 1e-6})
    mu = x.mean(axis=(2, 3), keepdims=True)
    var = ((x - mu) ** 2).mean(axis=(2, 3), keepdims=True)
    assert_close("spatial_groupnorm_forward", "G = C (instance norm)", out,
                 gamma * (x - mu) / np.sqrt(var + 1e-6) + beta, rtol=1e-10, atol=1e-12)


@pytest.mark.graded("spatial_groupnorm", "backward")
def test_groupnorm_G1_backward_in_closed_form(rng):
    N, C, H, W = 3, 4, 2, 3
    x = rng.standard_normal((N, C, H, W))
    gamma, beta = _params(rng, (1, C, 1, 1))
    _, cache = spatial_groupnorm_forward(x, gamma, beta, 1, {})
    dout = rng.standard_normal(x.shape)
    dx, dg, db = spatial_groupnorm_backward(dout, cache)
    # per sample over all of (C, H, W): dx = (g - mean(g) - xhat mean(g xhat)) / sigma
    expected_dx = np.empty_like(x)
    xhat_all = np.empty_like(x)
    for n in range(N):
        xhat, _, var = standardise_block(x[n], 1e-5)
        xhat = xhat_all[n] = xhat.reshape(C, H, W)
        g = gamma[0] * dout[n]
        expected_dx[n] = (g - g.mean() - xhat * (g * xhat).mean()) / np.sqrt(var + 1e-5)
    assert_close("spatial_groupnorm_backward", "dx, G = 1", dx, expected_dx, rtol=1e-10,
                 atol=1e-12)
    assert_close("spatial_groupnorm_backward", "dgamma", dg,
                 (dout * xhat_all).sum(axis=(0, 2, 3), keepdims=True), rtol=1e-10)
    assert_close("spatial_groupnorm_backward", "dbeta", db,
                 dout.sum(axis=(0, 2, 3), keepdims=True), rtol=1e-10)
