"""Batch, spatial batch, layer and group normalisation (public tests).

* forward results and running statistics against expected values stored as data
  (``tests/data/norm.npz``, written by the instructor from independent loop
  references), tolerance ``1e-10 * |expected| + 1e-12``;
* gradient checks in float64 on several tiny shapes, tolerance
  ``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` elementwise (``GRAD_ATOL``,
  ``GRAD_RTOL``);
* ``batchnorm_backward_alt`` against ``batchnorm_backward``; the notebook's sanity
  checks; group structure of group norm;
* not graded (robustness of any implementation, shown to help you): dtypes,
  float32 data with a large common offset, constant features, a batch of one,
  spatial batch norm against batch norm on the (N*H*W, C) view.

Graded tests carry ``@pytest.mark.graded(part, group)``: each check group of a
part earns its points when all of its tests pass. Work on one layer with e.g.
``python -m pytest -x -k batchnorm tests/test_norm_layers.py``.
Property-based tests (hypothesis) live in ``test_norm_properties.py``.
"""
import copy

import numpy as np
import pytest
from _hints import (batchnorm_train_hint, running_stats_hint, spatial_batchnorm_hint,
                    with_hint)
from conftest import assert_close, load_expected

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
FWD_RTOL = 1e-10
FWD_ATOL = 1e-12

EXPECTED = load_expected("norm")


def cases(prefix):
    """Names of the stored cases starting with ``prefix`` (e.g. 'bn_train')."""
    names = sorted({k.split("/")[0] for k in EXPECTED if k.split("/")[0].startswith(prefix)})
    assert names, f"no stored case {prefix}* in tests/data/norm.npz"
    return names


def case(name):
    """The arrays of one stored case, and its eps/momentum as settings (NaN: default)."""
    arrays = {k.split("/")[1]: v for k, v in EXPECTED.items() if k.split("/")[0] == name}
    settings = {}
    for key in ("eps", "momentum"):
        if key in arrays and not np.isnan(arrays[key]):
            settings[key] = float(arrays[key])
    return arrays, settings


def assert_grad_close(function, what, analytic, numeric):
    """Float64 gradient check with the tolerance stated in the module docstring."""
    __tracebackhide__ = True
    assert_close(function, "gradient check", analytic, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL,
                 what=what, against="the numerical gradient")


def _params(rng, shape, dtype=np.float64):
    gamma = (1.0 + 0.5 * rng.standard_normal(shape)).astype(dtype)
    beta = rng.standard_normal(shape).astype(dtype)
    return gamma, beta


BN_SHAPES = [(4, 5), (3, 1), (6, 3), (2, 4)]
SPATIAL_SHAPES = [(2, 3, 4, 5), (3, 2, 2, 2), (1, 2, 3, 3)]
GN_CASES = [((2, 4, 3, 3), 1), ((2, 4, 3, 3), 2), ((2, 4, 3, 3), 4), ((3, 6, 2, 1), 3),
            ((1, 6, 1, 2), 2)]


# --------------------------------------------------------------------------
# forward passes against stored expected values
# --------------------------------------------------------------------------

@pytest.mark.graded("batchnorm", "train_forward")
@pytest.mark.parametrize("name", cases("bn_train"))
def test_batchnorm_forward_train_matches_expected(name):
    a, settings = case(name)
    x0 = a["x"].copy()
    bn_param = {"mode": "train", "running_mean": a["rm0"].copy(), "running_var": a["rv0"].copy()}
    bn_param.update(settings)
    out, _ = batchnorm_forward(a["x"], a["gamma"], a["beta"], bn_param)
    with_hint(lambda: assert_close("batchnorm_forward", "train mode", out, a["out"],
                                   rtol=FWD_RTOL, atol=FWD_ATOL),
              lambda: batchnorm_train_hint(out, a["gamma"], a["beta"]))
    assert np.array_equal(a["x"], x0), "batchnorm_forward (train mode) modified its input x"


@pytest.mark.graded("batchnorm", "running_statistics")
@pytest.mark.parametrize("name", cases("bn_train"))
def test_batchnorm_running_statistics_match_expected(name):
    a, settings = case(name)
    bn_param = {"mode": "train", "running_mean": a["rm0"].copy(), "running_var": a["rv0"].copy()}
    bn_param.update(settings)
    batchnorm_forward(a["x"], a["gamma"], a["beta"], bn_param)
    m = settings.get("momentum", 0.9)
    for key, old in (("running_mean", a["rm0"]), ("running_var", a["rv0"])):
        assert key in bn_param, f"batchnorm_forward (train mode): bn_param has no {key!r}"
        # the batch statistic, recovered from the stored expected running value
        batch = (a[key] - m * old) / (1 - m) if m < 1 else old
        with_hint(lambda: assert_close("batchnorm_forward", "running_statistics", bn_param[key],
                                       a[key], rtol=1e-10, atol=1e-14, what=f"bn_param[{key!r}]"),
                  lambda: running_stats_hint(bn_param[key], old, batch, m))


@pytest.mark.graded("batchnorm", "running_statistics")
def test_running_stats_default_to_zeros_and_momentum_0_9():
    # x has mean 2 and biased variance 1 per column (the unbiased one would be 2)
    x = np.array([[1.0, 5.0], [3.0, 7.0]])
    bn_param = {"mode": "train"}
    batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    # running = 0.9 * 0 + 0.1 * batch, written into the same dict
    assert_close("batchnorm_forward", "default running statistics", bn_param.get("running_mean"),
                 [0.2, 0.6], rtol=1e-12, what="bn_param['running_mean']")
    assert_close("batchnorm_forward", "default running statistics", bn_param.get("running_var"),
                 [0.1, 0.1], rtol=1e-12, what="bn_param['running_var']")
    batchnorm_forward(x + 1.0, np.ones(2), np.zeros(2), bn_param)   # keeps accumulating
    assert_close("batchnorm_forward", "running statistics, second batch",
                 bn_param["running_mean"], [0.9 * 0.2 + 0.3, 0.9 * 0.6 + 0.7], rtol=1e-12,
                 what="bn_param['running_mean']")


@pytest.mark.graded("batchnorm", "test_forward")
@pytest.mark.parametrize("name", cases("bn_test"))
def test_batchnorm_forward_test_mode_matches_expected(name):
    a, settings = case(name)
    bn_param = {"mode": "test", "running_mean": a["rm"].copy(), "running_var": a["rv"].copy()}
    bn_param.update(settings)
    out, _ = batchnorm_forward(a["x"], a["gamma"], a["beta"], bn_param)
    assert_close("batchnorm_forward", "test mode", out, a["out"], rtol=FWD_RTOL, atol=FWD_ATOL)
    for key, given in (("running_mean", a["rm"]), ("running_var", a["rv"])):
        assert np.array_equal(bn_param[key], given), \
            f"batchnorm_forward (test mode) changed bn_param[{key!r}]: only train mode updates it"
    # in test mode each row is normalised on its own
    out_row, _ = batchnorm_forward(a["x"][1:2], a["gamma"], a["beta"], bn_param)
    assert_close("batchnorm_forward", "test mode, one row alone", out_row, a["out"][1:2],
                 rtol=FWD_RTOL, atol=FWD_ATOL)


@pytest.mark.graded("batchnorm", "test_forward")
def test_batchnorm_test_mode_without_running_stats_uses_zeros(rng):
    # defaults: running_mean = 0, running_var = 0, so xhat = x / sqrt(eps)
    x = rng.standard_normal((3, 2))
    gamma, beta = _params(rng, 2)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "test", "eps": 0.25})
    assert_close("batchnorm_forward", "test mode, default statistics", out,
                 gamma * x / 0.5 + beta, rtol=1e-12)


@pytest.mark.graded("layernorm", "forward")
@pytest.mark.parametrize("name", cases("ln"))
def test_layernorm_forward_matches_expected(name):
    a, settings = case(name)
    x0 = a["x"].copy()
    for extra in ({}, {"mode": "train"}, {"mode": "test"}):   # other keys are ignored
        ln_param = dict(extra, **settings)
        before = copy.deepcopy(ln_param)
        out, _ = layernorm_forward(a["x"], a["gamma"], a["beta"], ln_param)
        assert_close("layernorm_forward", f"forward, ln_param={before}", out, a["out"],
                     rtol=FWD_RTOL, atol=FWD_ATOL)
        assert ln_param == before, "layernorm_forward changed ln_param (it keeps no statistics)"
    assert np.array_equal(a["x"], x0), "layernorm_forward modified its input x"


@pytest.mark.graded("spatial_batchnorm", "forward")
@pytest.mark.parametrize("name", cases("sbn_train"))
def test_spatial_batchnorm_forward_train_matches_expected(name):
    a, settings = case(name)
    x0 = a["x"].copy()
    bn_param = {"mode": "train", "running_mean": a["rm0"].copy(), "running_var": a["rv0"].copy()}
    bn_param.update(settings)
    out, _ = spatial_batchnorm_forward(a["x"], a["gamma"], a["beta"], bn_param)
    with_hint(lambda: assert_close("spatial_batchnorm_forward", "train mode", out, a["out"],
                                   rtol=FWD_RTOL, atol=FWD_ATOL),
              lambda: spatial_batchnorm_hint(out, a["gamma"], a["beta"]))
    for key in ("running_mean", "running_var"):
        assert_close("spatial_batchnorm_forward", "running_statistics", bn_param.get(key), a[key],
                     rtol=1e-10, atol=1e-14, what=f"bn_param[{key!r}]")
    assert np.array_equal(a["x"], x0), "spatial_batchnorm_forward modified its input x"


@pytest.mark.graded("spatial_batchnorm", "forward")
@pytest.mark.parametrize("name", cases("sbn_test"))
def test_spatial_batchnorm_forward_test_mode_matches_expected(name):
    a, settings = case(name)
    bn_param = {"mode": "test", "running_mean": a["rm"].copy(), "running_var": a["rv"].copy()}
    bn_param.update(settings)
    out, _ = spatial_batchnorm_forward(a["x"], a["gamma"], a["beta"], bn_param)
    assert_close("spatial_batchnorm_forward", "test mode", out, a["out"], rtol=FWD_RTOL,
                 atol=FWD_ATOL)
    assert np.array_equal(bn_param["running_mean"], a["rm"]), \
        "spatial_batchnorm_forward (test mode) changed bn_param['running_mean']"


@pytest.mark.graded("spatial_groupnorm", "forward")
@pytest.mark.parametrize("name", cases("gn"))
def test_groupnorm_forward_matches_expected(name):
    a, settings = case(name)
    G = int(a["G"])
    x0 = a["x"].copy()
    for G_arg in (G, np.int64(G)):
        out, _ = spatial_groupnorm_forward(a["x"], a["gamma"], a["beta"], G_arg, dict(settings))
        assert_close("spatial_groupnorm_forward", f"forward, G={G}", out, a["out"],
                     rtol=FWD_RTOL, atol=FWD_ATOL)
    assert np.array_equal(a["x"], x0), "spatial_groupnorm_forward modified its input x"


@pytest.mark.graded("spatial_groupnorm", "forward")
def test_groupnorm_groups_are_contiguous_channels(rng):
    # channels 0,1 form group 0 and channels 2,3 group 1: shifting group 1's
    # channels by a common constant changes nothing; mixing the groups does
    x = rng.standard_normal((2, 4, 2, 2))
    gamma, beta = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, 2, {})
    shifted = x.copy()
    shifted[:, 2:] += 7.0
    out2, _ = spatial_groupnorm_forward(shifted, gamma, beta, 2, {})
    assert_close("spatial_groupnorm_forward", "shift of one whole group", out2, out, atol=1e-9)
    mixed = x.copy()
    mixed[:, 1:3] += 7.0
    out3, _ = spatial_groupnorm_forward(mixed, gamma, beta, 2, {})
    assert np.max(np.abs(out3 - out)) > 0.1, (
        "spatial_groupnorm_forward: shifting channels 1 and 2 (different groups for G=2) "
        "changed nothing; groups are C//G consecutive channels")


# --------------------------------------------------------------------------
# the CS231n notebook's sanity checks
# --------------------------------------------------------------------------

def _notebook_activations(rng, N=200):
    """Activations of a random two-layer net, as in the BatchNormalization notebook."""
    D1, D2, D3 = 50, 60, 3
    W1 = rng.standard_normal((D1, D2))
    W2 = rng.standard_normal((D2, D3))
    return lambda: np.maximum(0, rng.standard_normal((N, D1)) @ W1) @ W2


@pytest.mark.graded("batchnorm", "train_forward")
def test_notebook_batchnorm_train_time_sanity(rng):
    a = _notebook_activations(rng)()
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
    with_hint(lambda: assert_close("batchnorm_forward", "per-feature mean of out (train)",
                                   out.mean(axis=0), beta, atol=1e-10, against="beta"),
              lambda: "")
    with_hint(lambda: assert_close("batchnorm_forward", "per-feature std of out (train)",
                                   out.std(axis=0), gamma, atol=1e-5, against="gamma"),
              lambda: batchnorm_train_hint(out, gamma, beta))


@pytest.mark.graded("batchnorm", "test_forward")
def test_notebook_batchnorm_test_time_sanity(rng):
    draw = _notebook_activations(rng)
    gamma, beta = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train"}
    for _ in range(50):
        batchnorm_forward(draw(), gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = batchnorm_forward(draw(), gamma, beta, bn_param)
    # noisier than train time, but close: means ~0, stds ~1
    assert_close("batchnorm_forward", "test-time mean after 50 train batches", out.mean(axis=0),
                 np.zeros(3), atol=0.2, against="0")
    assert_close("batchnorm_forward", "test-time std after 50 train batches", out.std(axis=0),
                 np.ones(3), atol=0.2, against="1")


@pytest.mark.graded("layernorm", "forward")
def test_notebook_layernorm_sanity(rng):
    x = 10.0 + 5.0 * rng.standard_normal((4, 50))
    out, _ = layernorm_forward(x, np.ones(50), np.zeros(50), {})
    assert_close("layernorm_forward", "per-example mean of out", out.mean(axis=1), np.zeros(4),
                 atol=1e-10, against="0")
    assert_close("layernorm_forward", "per-example std of out", out.std(axis=1), np.ones(4),
                 atol=1e-6, against="1")


# --------------------------------------------------------------------------
# gradient checks (float64)
# --------------------------------------------------------------------------

def _grad_check_norm(function, forward, backward, x, gamma, beta, make_param, dout):
    """Check dx, dgamma, dbeta of forward/backward against centred differences.

    ``make_param`` builds a fresh param dict for each forward call, so a train-mode
    running-statistics update cannot leak between calls.
    """
    out, cache = forward(x, gamma, beta, make_param())
    dx, dgamma, dbeta = backward(dout, cache)
    fx = lambda v: forward(v, gamma, beta, make_param())[0]
    fg = lambda v: forward(x, v, beta, make_param())[0]
    fb = lambda v: forward(x, gamma, v, make_param())[0]
    assert_grad_close(function, "dx", dx, eval_numerical_gradient_array(fx, x, dout))
    assert_grad_close(function, "dgamma", dgamma, eval_numerical_gradient_array(fg, gamma, dout))
    assert_grad_close(function, "dbeta", dbeta, eval_numerical_gradient_array(fb, beta, dout))
    return dx, dgamma, dbeta


BN_BACKWARDS = [
    pytest.param(batchnorm_backward, marks=pytest.mark.graded("batchnorm", "graph_backward"),
                 id="graph"),
    pytest.param(batchnorm_backward_alt,
                 marks=pytest.mark.graded("batchnorm", "closed_form_backward"), id="alt"),
]


@pytest.mark.parametrize("backward", BN_BACKWARDS)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_train_gradient_check(rng, backward, shape):
    x = 3.0 + 2.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    dout = rng.standard_normal(shape)
    _grad_check_norm(backward.__name__ + " (train)", batchnorm_forward, backward, x, gamma, beta,
                     lambda: {"mode": "train", "eps": 1e-3}, dout)


@pytest.mark.parametrize("backward", BN_BACKWARDS)
@pytest.mark.parametrize("shape", BN_SHAPES[:3])
def test_batchnorm_test_mode_gradient_check(rng, backward, shape):
    D = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, D)
    rm, rv = rng.standard_normal(D), rng.uniform(0.3, 2.0, D)
    dout = rng.standard_normal(shape)
    _grad_check_norm(backward.__name__ + " (test)", batchnorm_forward, backward, x, gamma, beta,
                     lambda: {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy()},
                     dout)


# not graded: it ties the closed form to the graph version (each is graded on its own)
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", [(4, 5), (50, 20)])
def test_batchnorm_backward_alt_equals_backward(rng, shape, mode):
    D = shape[1]
    x = 1.0 + 3.0 * rng.standard_normal(shape)
    gamma, beta = _params(rng, D)
    dout = rng.standard_normal(shape)
    bn_param = {"mode": mode, "running_mean": rng.standard_normal(D),
                "running_var": rng.uniform(0.5, 2, D)}
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    graph = batchnorm_backward(dout, cache)
    alt = batchnorm_backward_alt(dout, cache)
    for what, a, b in zip(("dx", "dgamma", "dbeta"), alt, graph):
        assert_close("batchnorm_backward_alt", f"same as batchnorm_backward ({mode})", a, b,
                     rtol=1e-10, atol=1e-12, what=what, against="batchnorm_backward's")


@pytest.mark.graded("layernorm", "backward")
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_layernorm_gradient_check(rng, shape):
    x = 1.0 + rng.standard_normal(shape)
    gamma, beta = _params(rng, shape[1])
    dout = rng.standard_normal(shape)
    _grad_check_norm("layernorm_backward", layernorm_forward, layernorm_backward, x, gamma,
                     beta, lambda: {"eps": 1e-3}, dout)


@pytest.mark.graded("spatial_batchnorm", "backward")
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_gradient_check(rng, shape, mode):
    C = shape[1]
    x = 2.0 + rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    rm, rv = rng.standard_normal(C), rng.uniform(0.3, 2.0, C)
    dout = rng.standard_normal(shape)
    _grad_check_norm(f"spatial_batchnorm_backward ({mode})", spatial_batchnorm_forward,
                     spatial_batchnorm_backward, x, gamma, beta,
                     lambda: {"mode": mode, "running_mean": rm.copy(), "running_var": rv.copy()},
                     dout)


@pytest.mark.graded("spatial_groupnorm", "backward")
@pytest.mark.parametrize("shape, G", GN_CASES)
def test_groupnorm_gradient_check(rng, shape, G):
    C = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, (1, C, 1, 1))
    dout = rng.standard_normal(shape)

    def forward(x_, g_, b_, p_):
        return spatial_groupnorm_forward(x_, g_, b_, G, p_)

    _grad_check_norm(f"spatial_groupnorm_backward (G={G})", forward, spatial_groupnorm_backward,
                     x, gamma, beta, lambda: {"eps": 1e-4}, dout)


# --------------------------------------------------------------------------
# Not graded: robustness of any implementation (dtypes, numerics, edge cases)
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
@pytest.mark.parametrize("name", LAYER_SHAPES)
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
    param64 = {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v)
               for k, v in param.items()}
    (out, cache), backward = _run_layer(name, x, gamma, beta, param)
    assert out.dtype == np.float32
    for k in ("running_mean", "running_var"):
        if k in param:
            assert param[k].dtype == np.float32
    grads = backward(dout, cache)
    assert [g.dtype for g in grads] == [np.float32] * 3
    # and the float32 results agree with float64 to float32 accuracy
    (out64, cache64), _ = _run_layer(name, x64.astype(np.float32).astype(np.float64),
                                     gamma.astype(np.float64), beta.astype(np.float64), param64)
    grads64 = backward(dout.astype(np.float64), cache64)
    np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-4)
    for g, g64 in zip(grads, grads64):
        np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4 * max(1.0, np.max(np.abs(g64))))


@pytest.mark.parametrize("name", ["batchnorm", "spatial_batchnorm"])
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


@pytest.mark.parametrize("name", LAYER_SHAPES)
def test_float32_large_common_offset_normalises_correctly(rng, name):
    # float32 sums of 1e4 + randn lose the spread: statistics belong in float64
    x_shape, p_shape = LAYER_SHAPES[name]
    if name in ("batchnorm", "batchnorm_alt", "layernorm"):
        x_shape, p_shape = (64, 8), (8,)
    x = (1e4 + rng.standard_normal(x_shape)).astype(np.float32)
    gamma = np.ones(p_shape, np.float32)
    beta = np.zeros(p_shape, np.float32)
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": "train"})
    assert out.dtype == np.float32
    # the same float32 values in float64
    (ref, cache64), _ = _run_layer(name, x.astype(np.float64), gamma.astype(np.float64),
                                   beta.astype(np.float64), {"mode": "train"})
    assert_close(name, "float32 input 1e4 + randn", out, ref, atol=1e-2,
                 against="the float64 computation")
    dout = rng.standard_normal(x_shape).astype(np.float32)
    g32 = backward(dout, cache)
    g64 = backward(dout.astype(np.float64), cache64)
    for a, b in zip(g32, g64):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, atol=2e-2 * max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LAYER_SHAPES)
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
    b = beta if beta.ndim == 4 else beta.reshape((1, -1) + (1,) * (x.ndim - 2))
    np.testing.assert_allclose(out, np.broadcast_to(b, x_shape), atol=1e-6)
    np.testing.assert_allclose(grads[1], 0.0, atol=1e-6)


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
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


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_constant_feature_next_to_normal_ones(rng, backward):
    x = rng.standard_normal((6, 3))
    x[:, 1] = -2.0
    gamma, beta = _params(rng, 3)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_array_equal(out[:, 1], beta[1])
    dx, dgamma, dbeta = backward(rng.standard_normal((6, 3)), cache)
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx[:, 1].sum(), 0.0, atol=1e-9)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_equals_batchnorm_on_nhwc_view(rng, shape, mode):
    # ties spatial batch norm to batch norm, so it is not graded (a part's grade
    # depends on its own code only)
    N, C, H, W = shape
    x = rng.standard_normal(shape)
    gamma, beta = _params(rng, C)
    dout = rng.standard_normal(shape)
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
    p_sp = {"mode": mode, "momentum": 0.8, "running_mean": rm.copy(), "running_var": rv.copy()}
    p_bn = copy.deepcopy(p_sp)
    out_sp, cache_sp = spatial_batchnorm_forward(x, gamma, beta, p_sp)
    rows = lambda a: a.transpose(0, 2, 3, 1).reshape(-1, C)
    back = lambda a: a.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    out_bn, cache_bn = batchnorm_forward(rows(x), gamma, beta, p_bn)
    np.testing.assert_allclose(out_sp, back(out_bn), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p_sp["running_mean"], p_bn["running_mean"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p_sp["running_var"], p_bn["running_var"], rtol=1e-12, atol=1e-15)
    dx_sp, dg_sp, db_sp = spatial_batchnorm_backward(dout, cache_sp)
    dx_bn, dg_bn, db_bn = batchnorm_backward(rows(dout), cache_bn)
    np.testing.assert_allclose(dx_sp, back(dx_bn), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg_sp, dg_bn, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db_sp, db_bn, rtol=1e-12, atol=1e-12)


def test_groupnorm_G1_equals_layernorm_on_the_flat_view(rng):
    # ties two parts together, so it is not graded
    N, C, H, W = 3, 4, 2, 3
    x = rng.standard_normal((N, C, H, W))
    gamma, beta = _params(rng, (1, C, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, 1, {})
    g_ln = np.repeat(gamma.ravel(), H * W)       # gamma/beta repeated per pixel
    b_ln = np.repeat(beta.ravel(), H * W)
    out_ln, cache_ln = layernorm_forward(x.reshape(N, -1), g_ln, b_ln, {})
    np.testing.assert_allclose(out, out_ln.reshape(x.shape), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(x.shape)
    dx, dg, db = spatial_groupnorm_backward(dout, cache)
    dx_ln, dg_ln, db_ln = layernorm_backward(dout.reshape(N, -1), cache_ln)
    np.testing.assert_allclose(dx, dx_ln.reshape(x.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dg.ravel(), dg_ln.reshape(C, H * W).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(db.ravel(), db_ln.reshape(C, H * W).sum(axis=1), rtol=1e-10)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name", LAYER_SHAPES)
def test_backward_leaves_dout_and_cache_intact(rng, name, mode):
    x_shape, p_shape = LAYER_SHAPES[name]
    x = rng.standard_normal(x_shape)
    x0 = x.copy()
    gamma, beta = _params(rng, p_shape)
    g0, b0 = gamma.copy(), beta.copy()
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": mode})
    dout = rng.standard_normal(x_shape)
    dout0 = dout.copy()
    first = backward(dout, cache)
    assert np.array_equal(dout, dout0)
    second = backward(dout, cache)                    # same answer twice
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # the output does not alias the inputs
    out[...] = 0.0
    assert np.array_equal(gamma, g0) and np.array_equal(beta, b0) and np.array_equal(x, x0)


def test_float16_input_to_layernorm_keeps_float16(rng):
    x = rng.standard_normal((4, 3)).astype(np.float16)
    out, cache = layernorm_forward(x, np.ones(3, np.float16), np.zeros(3, np.float16), {})
    assert out.dtype == np.float16
    out64, _ = layernorm_forward(x.astype(np.float64), np.ones(3), np.zeros(3), {})
    np.testing.assert_allclose(out.astype(np.float64), out64, atol=2e-2)


FLOAT16_SHAPES = {                                  # every statistic over 4,096 values
    "batchnorm": ((4096, 3), (3,)),
    "batchnorm_alt": ((4096, 3), (3,)),
    "layernorm": ((3, 4096), (4096,)),
    "spatial_batchnorm": ((4, 3, 32, 32), (3,)),
    "groupnorm": ((2, 4, 32, 64), (1, 4, 1, 1)),
}


@pytest.mark.parametrize("name", FLOAT16_SHAPES)
def test_float16_statistics_over_many_values_do_not_overflow(rng, name):
    # With values of about 10, a float16 sum of squares over 4,096 of them is
    # about 4e5, past float16's largest number (65504); so is N * dout in the
    # closed-form backward. The layers compute float16 in float32 (given code)
    # and return float16 as close to the float64 result as float16 allows.
    x_shape, p_shape = FLOAT16_SHAPES[name]
    x64 = 10.0 * rng.standard_normal(x_shape)
    g64, b64 = _params(rng, p_shape)
    dout64 = 10.0 * rng.standard_normal(x_shape)
    x, gamma, beta, dout = (a.astype(np.float16) for a in (x64, g64, b64, dout64))
    (out, cache), backward = _run_layer(name, x, gamma, beta, {"mode": "train"})
    grads = backward(dout, cache)
    x, gamma, beta, dout = (a.astype(np.float64) for a in (x, gamma, beta, dout))
    (ref, ref_cache), _ = _run_layer(name, x, gamma, beta, {"mode": "train"})
    ref_grads = backward(dout, ref_cache)
    for what, a, b in zip(("out", "dx", "dgamma", "dbeta"), (out, *grads), (ref, *ref_grads)):
        assert a.dtype == np.float16, f"{what} should keep float16, got {a.dtype}"
        assert np.all(np.isfinite(a)), f"{what} has inf or nan"
        # float16 keeps 11 significant bits: relative 2**-11 per rounding
        scale = np.abs(b).max()
        assert np.abs(a - b).max() <= 5e-3 * scale, (
            f"{what} is off by {np.abs(a - b).max():.3g} (largest value {scale:.3g})")


# --------------------------------------------------------------------------
# Added after mutation testing (docs/TESTING.md); not graded
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["batchnorm", "spatial_batchnorm"])
def test_float32_offset_over_a_large_batch_needs_a_float64_mean(name):
    # numpy sums a float32 column over the batch axis row after row, in float32:
    # for 4096 values of 1e4 + randn that mean is off by about 0.01-0.02 of a
    # standard deviation. A float64 mean (rounded back to float32) is off by at
    # most half a float32 step of 1e4, 4.9e-4.
    rng = np.random.default_rng(12)
    if name == "batchnorm":
        x = (1e4 + rng.standard_normal((4096, 8))).astype(np.float32)
        gamma, beta = np.ones(8, np.float32), np.zeros(8, np.float32)
    else:
        x = (1e4 + rng.standard_normal((64, 8, 8, 8))).astype(np.float32)
        gamma, beta = np.ones(8, np.float32), np.zeros(8, np.float32)
    (out, _), _ = _run_layer(name, x, gamma, beta, {"mode": "train"})
    (ref, _), _ = _run_layer(name, x.astype(np.float64), gamma.astype(np.float64),
                             beta.astype(np.float64), {"mode": "train"})
    assert_close(name, "float32 input 1e4 + randn, 4096 rows", out, ref, atol=2e-3,
                 against="the float64 computation")


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_empty_feature_axis_gives_empty_results(backward):
    # no statistic at all (batch norm with zero features) is not an error: empty results
    x = np.zeros((3, 0))
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, np.zeros(0), np.zeros(0), bn_param)
    assert out.shape == (3, 0)
    assert bn_param["running_mean"].shape == (0,) and bn_param["running_var"].shape == (0,)
    dx, dgamma, dbeta = backward(np.zeros((3, 0)), cache)
    assert dx.shape == (3, 0) and dgamma.shape == (0,) and dbeta.shape == (0,)


def test_groupnorm_refuses_an_empty_height():
    x = np.zeros((2, 4, 0, 3))
    gn_param = {}
    with pytest.raises(ValueError, match=r"^x has shape \(2, 4, 0, 3\): each statistic would "
                                         r"be a mean over no element"):
        spatial_groupnorm_forward(x, np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 2, gn_param)
    assert gn_param == {}


@pytest.mark.parametrize("name", ["spatial_batchnorm", "groupnorm"])
def test_spatial_backward_refuses_dout_that_is_not_4d(rng, name):
    x_shape, p_shape = LAYER_SHAPES[name]
    x = rng.standard_normal(x_shape)
    (out, cache), backward = _run_layer(name, x, *_params(rng, p_shape), {"mode": "train"})
    with pytest.raises(ValueError, match=r"^dout must be 4-dimensional"):
        backward(np.ones((x_shape[0], int(np.prod(x_shape[1:])))), cache)


def test_spatial_batchnorm_with_no_channels_gives_empty_results():
    # as batch norm with zero features: no statistic at all is not an error
    x = np.zeros((2, 0, 3, 3))
    bn_param = {"mode": "train"}
    out, cache = spatial_batchnorm_forward(x, np.zeros(0), np.zeros(0), bn_param)
    assert out.shape == x.shape and bn_param["running_mean"].shape == (0,)
    dx, dgamma, dbeta = spatial_batchnorm_backward(np.zeros(x.shape), cache)
    assert dx.shape == x.shape and dgamma.shape == (0,) and dbeta.shape == (0,)
