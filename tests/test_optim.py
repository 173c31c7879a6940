"""Tests for cs231n/optim.py: the update rules sgd, sgd_momentum, rmsprop, adam.

Expected values are data: ``tests/data/optim.npz`` (several steps of each rule on
stored gradients, and one step with the default hyperparameters) and the arrays
published with the CS231n notebook, typed out below. Properties (momentum under a
constant gradient, scale invariance, linearity in the learning rate) need no
expected values. Value tolerance: ``|got - expected| <= 1e-12 + 1e-10 * |expected|``
(the notebook's arrays: 1e-8, their printed precision).

Graded check groups (the rubric's): ``sgd_momentum/update``,
``rmsprop/update``, ``adam/moments`` (m, v, t) and ``adam/update`` (the
bias-corrected step). Tests of the given code around the student's lines (state
defaults, dtypes, argument checks) are not graded.
"""
import numpy as np
import pytest
from conftest import assert_close, load_expected
from hypothesis import given, settings
from hypothesis import strategies as st

from cs231n.optim import adam, rmsprop, sgd, sgd_momentum

RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}
STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v")}
# hyperparameters of the stored several-step sequences
MOMENTUM = {"learning_rate": 0.05, "momentum": 0.8}
RMSPROP = {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-6}
ADAM = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7}
RTOL, ATOL = 1e-10, 1e-12

N, D = 4, 5
EXPECTED = load_expected("optim")


def graded(part, group):
    return pytest.mark.graded(part, group)


def notebook_arrays():
    """The inputs of the CS231n optimiser checks (float64)."""
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


def run_steps(rule, config, state_keys):
    """Apply ``rule`` to the stored gradients; per step: next_w and the state arrays."""
    w = EXPECTED["w0"].copy()
    config = dict(config)
    ws, states = [], {k: [] for k in state_keys}
    for g in EXPECTED["grads"]:
        w, config = rule(w, g.copy(), config)
        ws.append(np.array(w, copy=True))               # copies: a rule may update arrays in place
        for k in state_keys:
            states[k].append(np.array(config[k], copy=True))
    return np.array(ws), {k: np.array(v) for k, v in states.items()}, config


# ---------------------------------------------------------------------------
# several steps against the stored values
# ---------------------------------------------------------------------------
@graded("sgd_momentum", "update")
def test_sgd_momentum_several_steps():
    ws, st_, _ = run_steps(sgd_momentum, MOMENTUM, ("velocity",))
    check = "5 steps, lr 0.05, momentum 0.8"
    assert_close("sgd_momentum", check, st_["velocity"], EXPECTED["momentum_velocity"],
                 RTOL, ATOL, what="config['velocity']")
    assert_close("sgd_momentum", check, ws, EXPECTED["momentum_w"], RTOL, ATOL, what="next_w")


@graded("rmsprop", "update")
def test_rmsprop_several_steps():
    ws, st_, _ = run_steps(rmsprop, RMSPROP, ("cache",))
    check = "5 steps, lr 0.02, decay_rate 0.9, epsilon 1e-6"
    assert_close("rmsprop", check, st_["cache"], EXPECTED["rmsprop_cache"], RTOL, ATOL,
                 what="config['cache']")
    assert_close("rmsprop", check, ws, EXPECTED["rmsprop_w"], RTOL, ATOL, what="next_w")


@graded("adam", "moments")
def test_adam_moments_and_step_count_several_steps():
    _, st_, config = run_steps(adam, ADAM, ("m", "v"))
    check = "5 steps, beta1 0.8, beta2 0.99"
    assert config["t"] == 5, f"adam (step count): config['t'] is {config['t']} after 5 steps, expected 5"
    assert_close("adam", check, st_["m"], EXPECTED["adam_m"], RTOL, ATOL, what="config['m']")
    assert_close("adam", check, st_["v"], EXPECTED["adam_v"], RTOL, ATOL, what="config['v']")


@graded("adam", "update")
def test_adam_weights_several_steps():
    ws, _, _ = run_steps(adam, ADAM, ())
    assert_close("adam", "5 steps, lr 0.01, beta1 0.8, beta2 0.99, epsilon 1e-7", ws,
                 EXPECTED["adam_w"], RTOL, ATOL, what="next_w")


# ---------------------------------------------------------------------------
# defaults
# ---------------------------------------------------------------------------
def test_sgd_matches_formula_and_defaults():
    w, dw = notebook_arrays()
    next_w, config = sgd(w, dw)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw, rtol=0, atol=1e-15)
    assert config == {"learning_rate": 1e-2}


@graded("sgd_momentum", "update")
def test_sgd_momentum_defaults():
    w, dw = notebook_arrays()
    next_w, config = sgd_momentum(w, dw)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    check = "one step with the defaults"
    assert_close("sgd_momentum", check, config["velocity"], EXPECTED["momentum_default_velocity"],
                 RTOL, ATOL, what="config['velocity']")
    assert_close("sgd_momentum", check, next_w, EXPECTED["momentum_default_w"], RTOL, ATOL,
                 what="next_w")


@graded("rmsprop", "update")
def test_rmsprop_defaults():
    w, dw = notebook_arrays()
    next_w, config = rmsprop(w, dw)
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)
    check = "one step with the defaults"
    assert_close("rmsprop", check, config["cache"], EXPECTED["rmsprop_default_cache"], RTOL, ATOL,
                 what="config['cache']")
    assert_close("rmsprop", check, next_w, EXPECTED["rmsprop_default_w"], RTOL, ATOL,
                 what="next_w")


@graded("adam", "moments")
def test_adam_defaults_moments_and_t_incremented():
    w, dw = notebook_arrays()
    _, config = adam(w, dw)
    assert (config["learning_rate"], config["beta1"], config["beta2"], config["epsilon"]) == (
        1e-3, 0.9, 0.999, 1e-8)
    assert config["t"] == 1, f"adam (step count): config['t'] is {config['t']} after one step, expected 1"
    check = "one step with the defaults"
    assert_close("adam", check, config["m"], EXPECTED["adam_default_m"], RTOL, ATOL, what="config['m']")
    assert_close("adam", check, config["v"], EXPECTED["adam_default_v"], RTOL, ATOL, what="config['v']")


@graded("adam", "update")
def test_adam_defaults_step_uses_t_after_the_increment():
    w, dw = notebook_arrays()
    next_w, _ = adam(w, dw)
    # With t = 1 the bias correction undoes the (1 - beta) factors; had t been used
    # before the increment (t = 0), the correction would divide by zero.
    assert np.all(np.isfinite(next_w)), "adam (first step): next_w is not finite; increment t before using it"
    assert_close("adam", "one step with the defaults", next_w, EXPECTED["adam_default_w"],
                 RTOL, ATOL, what="next_w")


@graded("adam", "update")
def test_adam_first_step_is_lr_times_sign():
    w, dw = notebook_arrays()
    lr = 1e-2
    next_w, _ = adam(w, dw, {"learning_rate": lr})
    # Bias-corrected, the first step from zero moments is lr * dw / (|dw| + eps);
    # |dw| >= 0.0105 here, so eps changes it by less than 1e-6 relative.
    assert_close("adam", "first step from zero moments is -lr * sign(dw)", next_w - w,
                 -lr * np.sign(dw), rtol=1e-5, what="next_w - w")


# ---------------------------------------------------------------------------
# the arrays published with the CS231n notebook (8 significant digits)
# ---------------------------------------------------------------------------
NB = "the CS231n notebook's check"


@graded("sgd_momentum", "update")
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
    assert_close("sgd_momentum", NB, next_w, expected_next_w, atol=1e-8, what="next_w")
    assert_close("sgd_momentum", NB, config["velocity"], expected_velocity, atol=1e-8,
                 what="config['velocity']")


@graded("rmsprop", "update")
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
    assert_close("rmsprop", NB, next_w, expected_next_w, atol=1e-8, what="next_w")
    assert_close("rmsprop", NB, config["cache"], expected_cache, atol=1e-8, what="config['cache']")


ADAM_NB_INPUT = {"learning_rate": 1e-2, "t": 5}


def adam_notebook_step():
    w, dw = notebook_arrays()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    config = dict(ADAM_NB_INPUT, m=m, v=v)
    next_w, _ = adam(w, dw, config=config)
    return next_w, config


@graded("adam", "moments")
def test_adam_cs231n_reference_moments():
    _, config = adam_notebook_step()
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
    assert_close("adam", NB, config["v"], expected_v, atol=1e-8, what="config['v']")
    assert_close("adam", NB, config["m"], expected_m, atol=1e-8, what="config['m']")
    assert config["t"] == 6, f"adam ({NB}): config['t'] is {config['t']}, expected 6"


@graded("adam", "update")
def test_adam_cs231n_reference_step():
    next_w, _ = adam_notebook_step()
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    assert_close("adam", NB, next_w, expected_next_w, atol=1e-8, what="next_w")


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------
@graded("sgd_momentum", "update")
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
        assert_close("sgd_momentum", f"constant gradient, step {k}: geometric sum", config["velocity"],
                     -lr * g * (1 - mu**k) / (1 - mu), rtol=1e-12, what="config['velocity']")
    sizes = [np.abs(s).sum() for s in steps]
    assert all(b > a for a, b in zip(sizes, sizes[1:])), (
        f"sgd_momentum (constant gradient): step sizes {sizes} should grow")


@pytest.mark.parametrize("name", [
    pytest.param("rmsprop", marks=graded("rmsprop", "update")),
    pytest.param("adam", marks=graded("adam", "update")),
])
def test_rmsprop_and_adam_are_invariant_to_gradient_scale(name):
    w, dw = notebook_arrays()
    a, _ = RULES[name](w, dw, {"epsilon": 1e-12})
    b, _ = RULES[name](w, 1000.0 * dw, {"epsilon": 1e-12})
    assert_close(name, "1000 * dw gives the same step (epsilon 1e-12)", b, a, rtol=1e-9, atol=1e-12,
                 what="next_w", against="the step for dw")


@pytest.mark.parametrize("name", [
    "sgd",
    pytest.param("sgd_momentum", marks=graded("sgd_momentum", "update")),
    pytest.param("rmsprop", marks=graded("rmsprop", "update")),
    pytest.param("adam", marks=graded("adam", "update")),
])
@given(lr=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_zero_learning_rate_freezes_and_steps_scale_with_lr(name, lr, seed):
    rule = RULES[name]
    r = np.random.default_rng(seed)
    w, dw = r.normal(size=(3, 2)), r.normal(size=(3, 2))
    frozen, _ = rule(w, dw, {"learning_rate": 0.0})
    assert_close(name, "learning_rate 0 leaves w unchanged", frozen, w, what="next_w", against="w")
    # With fresh state every rule's first step is linear in the learning rate.
    step1, _ = rule(w, dw, {"learning_rate": 1.0})
    step_lr, _ = rule(w, dw, {"learning_rate": lr})
    assert_close(name, f"first step linear in learning_rate ({lr})", step_lr - w, lr * (step1 - w),
                 rtol=1e-9, atol=1e-12, what="next_w - w", against="lr * (step for lr 1)")


# ---------------------------------------------------------------------------
# the given code around the update (not graded): state, dtypes, inputs
# ---------------------------------------------------------------------------
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
