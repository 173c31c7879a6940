"""Tests for cs231n/optim.py: the update rules sgd, sgd_momentum, rmsprop, adam.

Expected values are computed in this file from the update equations written out
step by step, and checked against the arrays published with the CS231n notebook.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs231n.optim import adam, rmsprop, sgd, sgd_momentum

RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}
STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v")}

N, D = 4, 5


def notebook_arrays():
    """The inputs of the CS231n optimiser checks (float64)."""
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


# ---------------------------------------------------------------------------
# independent reference formulas (one step each), written out element-wise
# ---------------------------------------------------------------------------
def ref_sgd(w, dw, lr):
    return w - lr * dw


def ref_momentum(w, dw, v, lr, mu):
    v_new = mu * v - lr * dw
    return w + v_new, v_new


def ref_rmsprop(w, dw, cache, lr, rho, eps):
    cache_new = rho * cache + (1.0 - rho) * dw**2
    return w - lr * dw / (np.sqrt(cache_new) + eps), cache_new


def ref_adam(w, dw, m, v, t, lr, b1, b2, eps):
    t = t + 1
    m = b1 * m + (1.0 - b1) * dw
    v = b2 * v + (1.0 - b2) * dw**2
    mhat = m / (1.0 - b1**t)
    vhat = v / (1.0 - b2**t)
    return w - lr * mhat / (np.sqrt(vhat) + eps), m, v, t


def grads_sequence(rng, steps):
    return [rng.normal(size=(N, D)) for _ in range(steps)]


# ---------------------------------------------------------------------------
# values against the equations, several steps, defaults
# ---------------------------------------------------------------------------
def test_sgd_matches_formula_and_defaults():
    w, dw = notebook_arrays()
    next_w, config = sgd(w, dw)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw, rtol=0, atol=1e-15)
    assert config == {"learning_rate": 1e-2}
    next_w, _ = sgd(w, dw, {"learning_rate": 0.5})
    np.testing.assert_allclose(next_w, ref_sgd(w, dw, 0.5), rtol=0, atol=1e-15)


def test_sgd_momentum_several_steps_against_formula(rng):
    w, _ = notebook_arrays()
    config = {"learning_rate": 0.05, "momentum": 0.8}
    w_ref, v_ref = w.copy(), np.zeros_like(w)
    for g in grads_sequence(rng, 4):
        w, config = sgd_momentum(w, g, config)
        w_ref, v_ref = ref_momentum(w_ref, g, v_ref, 0.05, 0.8)
        np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(config["velocity"], v_ref, rtol=1e-13, atol=1e-15)


def test_sgd_momentum_defaults():
    w, dw = notebook_arrays()
    next_w, config = sgd_momentum(w, dw)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    # From zero velocity: v = -lr dw, w + v.
    np.testing.assert_allclose(config["velocity"], -1e-2 * dw, rtol=1e-14)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw, rtol=1e-14)


def test_rmsprop_several_steps_against_formula(rng):
    w, _ = notebook_arrays()
    config = {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-6}
    w_ref, c_ref = w.copy(), np.zeros_like(w)
    for g in grads_sequence(rng, 4):
        w, config = rmsprop(w, g, config)
        w_ref, c_ref = ref_rmsprop(w_ref, g, c_ref, 0.02, 0.9, 1e-6)
        np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(config["cache"], c_ref, rtol=1e-13, atol=1e-15)


def test_rmsprop_defaults():
    w, dw = notebook_arrays()
    next_w, config = rmsprop(w, dw)
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)
    exp_w, exp_c = ref_rmsprop(w, dw, np.zeros_like(w), 1e-2, 0.99, 1e-8)
    np.testing.assert_allclose(next_w, exp_w, rtol=1e-13)
    np.testing.assert_allclose(config["cache"], exp_c, rtol=1e-13)


def test_adam_several_steps_against_formula(rng):
    w, _ = notebook_arrays()
    config = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7}
    w_ref, m_ref, v_ref, t_ref = w.copy(), np.zeros_like(w), np.zeros_like(w), 0
    for step, g in enumerate(grads_sequence(rng, 5), start=1):
        w, config = adam(w, g, config)
        w_ref, m_ref, v_ref, t_ref = ref_adam(w_ref, g, m_ref, v_ref, t_ref, 0.01, 0.8, 0.99, 1e-7)
        assert config["t"] == step == t_ref
        np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(config["m"], m_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(config["v"], v_ref, rtol=1e-13, atol=1e-15)


def test_adam_defaults_and_t_incremented_before_use():
    w, dw = notebook_arrays()
    next_w, config = adam(w, dw)
    assert (config["learning_rate"], config["beta1"], config["beta2"], config["epsilon"]) == (
        1e-3, 0.9, 0.999, 1e-8)
    assert config["t"] == 1
    # With t = 1 the bias correction undoes the (1 - beta) factors exactly:
    # mhat = dw, vhat = dw**2, so the step is lr * dw / (|dw| + eps).
    np.testing.assert_allclose(next_w, w - 1e-3 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)
    # Had t been used before the increment (t = 0), the correction would divide by 0.
    assert np.all(np.isfinite(next_w))


def test_adam_first_step_is_lr_times_sign():
    w, dw = notebook_arrays()
    lr = 1e-2
    next_w, _ = adam(w, dw, {"learning_rate": lr})
    # |dw| >= 0.0105 here, so eps = 1e-8 changes the step by less than 1e-6 relative.
    np.testing.assert_allclose(next_w - w, -lr * np.sign(dw), rtol=1e-5, atol=0)


# ---------------------------------------------------------------------------
# the arrays published with the CS231n notebook (8 significant digits)
# ---------------------------------------------------------------------------
def test_sgd_momentum_cs231n_reference():
    w, dw = notebook_arrays()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-3, "velocity": v}
    next_w, _ = sgd_momentum(w, dw, config=config)
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    np.testing.assert_allclose(next_w, expected_next_w, rtol=0, atol=1e-8)
    np.testing.assert_allclose(config["velocity"], expected_velocity, rtol=0, atol=1e-8)


def test_rmsprop_cs231n_reference():
    w, dw = notebook_arrays()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "cache": cache}
    next_w, _ = rmsprop(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
        [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
        [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
        [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
    expected_cache = np.asarray([
        [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
        [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
        [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
        [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
    np.testing.assert_allclose(next_w, expected_next_w, rtol=0, atol=1e-8)
    np.testing.assert_allclose(config["cache"], expected_cache, rtol=0, atol=1e-8)


def test_adam_cs231n_reference():
    w, dw = notebook_arrays()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
    next_w, _ = adam(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    expected_v = np.asarray([
        [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
    expected_m = np.asarray([
        [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
    np.testing.assert_allclose(next_w, expected_next_w, rtol=0, atol=1e-8)
    np.testing.assert_allclose(config["v"], expected_v, rtol=0, atol=1e-8)
    np.testing.assert_allclose(config["m"], expected_m, rtol=0, atol=1e-8)
    assert config["t"] == 6


def test_reference_inputs_agree_with_own_formulas():
    """The notebook's inputs through this file's formulas give the published numbers."""
    w, dw = notebook_arrays()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    exp_w, _, _, _ = ref_adam(w, dw, m, v, 5, 1e-2, 0.9, 0.999, 1e-8)
    assert abs(exp_w[0, 0] - (-0.40094747)) < 1e-8
    vel = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    exp_w, _ = ref_momentum(w, dw, vel, 1e-3, 0.9)
    assert abs(exp_w[3, 4] - 1.4096) < 1e-12


# ---------------------------------------------------------------------------
# behaviour
# ---------------------------------------------------------------------------
def test_momentum_accumulates_under_constant_gradient():
    w = np.zeros(3)
    g = np.array([1.0, -2.0, 0.5])
    lr, mu = 0.1, 0.9
    config = {"learning_rate": lr, "momentum": mu}
    steps = []
    for k in range(1, 6):
        new_w, config = sgd_momentum(w, g, config)
        steps.append(new_w - w)
        w = new_w
        # Geometric sum: v_k = -lr g (1 - mu^k) / (1 - mu).
        np.testing.assert_allclose(config["velocity"], -lr * g * (1 - mu**k) / (1 - mu), rtol=1e-12)
    sizes = [np.abs(s).sum() for s in steps]
    assert all(b > a for a, b in zip(sizes, sizes[1:]))  # each step longer than the last


def test_rmsprop_and_adam_are_invariant_to_gradient_scale():
    w, dw = notebook_arrays()
    for rule in (rmsprop, adam):
        a, _ = rule(w, dw, {"epsilon": 1e-12})
        b, _ = rule(w, 1000.0 * dw, {"epsilon": 1e-12})
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(RULES))
def test_config_is_updated_in_place_and_returned(name):
    w, dw = notebook_arrays()
    config = {"learning_rate": 1e-3}
    _, out = RULES[name](w, dw, config)
    assert out is config
    for key in STATE_KEYS[name]:
        assert config[key].shape == w.shape


@pytest.mark.parametrize("name", ["sgd_momentum", "rmsprop", "adam"])
def test_default_state_is_not_shared_between_calls(name):
    rule = RULES[name]
    w, dw = notebook_arrays()
    _, c1 = rule(w, dw)
    _, c2 = rule(w[:2], dw[:2])
    _, c3 = rule(w, 2 * dw)
    assert c1 is not c2 and c1 is not c3
    for key in STATE_KEYS[name]:
        assert c1[key] is not c3[key]
        assert not np.shares_memory(c1[key], c3[key])
        assert c2[key].shape == (2, D)  # defaults follow each call's own w
    # Two parameters stepped alternately keep separate states.
    cw, cb = {}, {}
    w1, _ = rule(w, dw, cw)
    rule(w, -dw, cb)
    w2, _ = rule(w, dw, {})
    np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize("name", list(RULES))
def test_inputs_not_modified(name):
    w, dw = notebook_arrays()
    w0, dw0 = w.copy(), dw.copy()
    state = {"velocity": np.ones_like(w), "cache": np.ones_like(w), "m": np.ones_like(w),
             "v": np.ones_like(w)}
    state0 = {k: v.copy() for k, v in state.items()}
    config = dict(state)
    RULES[name](w, dw, config)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(dw, dw0)
    for k, v in state.items():  # the caller's state arrays are replaced, not written into
        np.testing.assert_array_equal(v, state0[k])


@pytest.mark.parametrize("name", list(RULES))
def test_float32_stays_float32(name):
    w, dw = notebook_arrays()
    w32 = w.astype(np.float32)
    for grad in (dw.astype(np.float32), dw):  # float64 gradient too
        # A numpy float64 hyperparameter would upcast under NEP 50 if not handled.
        config = {"learning_rate": np.float64(1e-2)}
        next_w, config = RULES[name](w32, grad, config)
        next_w, config = RULES[name](next_w, grad, config)
        assert next_w.dtype == np.float32
        for key in STATE_KEYS[name]:
            assert config[key].dtype == np.float32
    # and the float32 result is the float64 one, rounded
    ref, _ = RULES[name](w, dw, {"learning_rate": 1e-2})
    got, _ = RULES[name](w32, dw.astype(np.float32), {"learning_rate": 1e-2})
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


@given(lr=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_zero_learning_rate_freezes_and_steps_scale_with_lr(lr, seed):
    r = np.random.default_rng(seed)
    w, dw = r.normal(size=(3, 2)), r.normal(size=(3, 2))
    for rule in RULES.values():
        frozen, _ = rule(w, dw, {"learning_rate": 0.0})
        np.testing.assert_array_equal(frozen, w)
        # With fresh state every rule's first step is linear in the learning rate.
        step1, _ = rule(w, dw, {"learning_rate": 1.0})
        step_lr, _ = rule(w, dw, {"learning_rate": lr})
        np.testing.assert_allclose(step_lr - w, lr * (step1 - w), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# argument checks: errors name the argument; the config is left untouched
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(RULES))
def test_shape_mismatch(name):
    w, dw = notebook_arrays()
    with pytest.raises(ValueError, match="dw"):
        RULES[name](w, dw[:, :3])


@pytest.mark.parametrize("name", list(RULES))
def test_wrong_kinds(name):
    w, dw = notebook_arrays()
    with pytest.raises(TypeError, match="config"):
        RULES[name](w, dw, [("learning_rate", 1e-3)])
    with pytest.raises(TypeError, match="w"):
        RULES[name](w.tolist(), dw)
    with pytest.raises(TypeError, match="floating"):
        RULES[name](np.arange(20).reshape(N, D), dw)


BAD_HYPERPARAMETERS = [
    ("sgd", "learning_rate", -1e-3, ValueError),
    ("sgd", "learning_rate", float("nan"), ValueError),
    ("sgd", "learning_rate", "0.1", TypeError),
    ("sgd_momentum", "momentum", 1.0, ValueError),
    ("sgd_momentum", "momentum", -0.1, ValueError),
    ("sgd_momentum", "learning_rate", float("inf"), ValueError),
    ("rmsprop", "decay_rate", 1.5, ValueError),
    ("rmsprop", "epsilon", 0.0, ValueError),
    ("adam", "beta1", 1.0, ValueError),
    ("adam", "beta2", -0.5, ValueError),
    ("adam", "epsilon", -1e-8, ValueError),
    ("adam", "t", -1, ValueError),
    ("adam", "t", 1.5, TypeError),
]


@pytest.mark.parametrize("name,key,value,exc", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_leave_config_untouched(name, key, value, exc):
    w, dw = notebook_arrays()
    config = {key: value}
    with pytest.raises(exc, match=key):
        RULES[name](w, dw, config)
    assert list(config) == [key]  # no default was written before the check failed


@pytest.mark.parametrize("name", ["sgd_momentum", "rmsprop", "adam"])
def test_state_of_wrong_shape(name):
    w, dw = notebook_arrays()
    key = STATE_KEYS[name][0]
    config = {key: np.zeros((D, N))}
    with pytest.raises(ValueError, match=key):
        RULES[name](w, dw, config)
    assert list(config) == [key]
