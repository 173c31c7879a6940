"""Inverted dropout (cs231n/layers.py): ``p`` is the probability of KEEPING a unit.

Graded check groups: "train_forward", "test_forward",
"backward"; dtype and global-state checks are not graded.

Statistical checks are run with fixed seeds and state their bound: the fraction of
kept units among ``n`` must lie within ``5 * sqrt(p (1 - p) / n)`` of ``p``
(five binomial standard deviations). Gradient checks are float64 with a fixed seed
(the same mask on every call) and tolerance ``|analytic - numeric| <= 1e-8 +
1e-6 * |numeric|``.
"""
import copy

import numpy as np
import pytest
from _hints import dropout_train_hint, with_hint
from conftest import assert_close

from cs231n.gradient_check import eval_numerical_gradient_array
from cs231n.layers import dropout_backward, dropout_forward

P_VALUES = [0.25, 0.4, 0.7, 0.95]


def _binomial_bound(p, n):
    return 5.0 * np.sqrt(p * (1.0 - p) / n)


def _global_state():
    return np.random.get_state(legacy=True)


def _assert_same_global_state(before, after):
    assert before[0] == after[0]
    assert np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.graded("dropout", "train_forward")
@pytest.mark.parametrize("p", P_VALUES)
def test_train_mode_keep_rate_and_scaling(rng, p):
    x = 10.0 + rng.standard_normal((500, 200))
    out, cache = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    n = x.size
    kept = out != 0
    rate = kept.mean()
    hint = dropout_train_hint(x, out, p)
    assert abs(rate - p) < _binomial_bound(p, n), (
        f"dropout_forward (train): kept a fraction {rate:.3f} of the units, expected "
        f"{p} +- {_binomial_bound(p, n):.3f}.{hint}")
    # kept units are x / p, dropped units exactly 0
    with_hint(lambda: assert_close("dropout_forward", "train mode, kept units", out[kept],
                                   x[kept] / p, rtol=1e-12, against="x / p"),
              lambda: hint)
    assert np.all(out[~kept] == 0.0)


@pytest.mark.graded("dropout", "train_forward")
@pytest.mark.parametrize("p", P_VALUES)
def test_train_mode_preserves_the_mean(rng, p):
    # official notebook check: mean of input ~10, mean of train output ~10
    x = 10.0 + rng.standard_normal((500, 200))
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 7})
    # mean(out) = mean(x * m / p); its std is about 10 * sqrt((1-p)/(p n))
    bound = 5.0 * 10.0 * np.sqrt((1.0 - p) / (p * x.size)) + 0.01
    assert abs(out.mean() - x.mean()) < bound


@pytest.mark.graded("dropout", "test_forward")
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_test_mode_is_identity(rng, p):
    x = rng.standard_normal((4, 5))
    x0 = x.copy()
    out, cache = dropout_forward(x, {"mode": "test", "p": p})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)
    assert np.array_equal(x, x0)


@pytest.mark.graded("dropout", "test_forward")
def test_test_mode_is_deterministic_without_a_seed(rng):
    x = rng.standard_normal((30, 30))
    param = {"mode": "test", "p": 0.5}
    out1, _ = dropout_forward(x, param)
    out2, _ = dropout_forward(x, param)
    assert_close("dropout_forward", "test mode twice, no seed", out2, out1, what="out",
                 against="the first call's")
    assert_close("dropout_forward", "test mode, no seed", out1, x, against="x")


@pytest.mark.graded("dropout", "train_forward")
def test_p_equal_one_keeps_everything(rng):
    x = rng.standard_normal((6, 7))
    out, cache = dropout_forward(x, {"mode": "train", "p": 1.0})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((6, 7))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.graded("dropout", "train_forward")
def test_train_mode_does_not_modify_x(rng):
    x = rng.standard_normal((5, 5))
    x0 = x.copy()
    dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    assert np.array_equal(x, x0)


# --------------------------------------------------------------------------
# randomness: seeds, own generator, global state untouched
# --------------------------------------------------------------------------

@pytest.mark.graded("dropout", "train_forward")
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_seed_gives_the_same_mask_on_every_call(rng, seed):
    x = rng.standard_normal((20, 30))
    param = {"mode": "train", "p": 0.5, "seed": seed}
    out1, _ = dropout_forward(x, param)
    out2, _ = dropout_forward(x, param)
    out3, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": seed})
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_array_equal(out1, out3)
    assert 0 < np.count_nonzero(out1) < x.size


@pytest.mark.graded("dropout", "train_forward")
def test_different_seeds_give_different_masks(rng):
    x = rng.standard_normal((20, 30))
    out1, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    out2, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 2})
    assert not np.array_equal(out1 != 0, out2 != 0)


@pytest.mark.graded("dropout", "train_forward")
def test_seed_is_not_affected_by_reseeding_numpy_global_state(rng):
    x = rng.standard_normal((10, 10))
    before = _global_state()
    try:
        np.random.seed(0)
        out1, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 5})
        np.random.seed(99)
        out2, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 5})
    finally:
        np.random.set_state(before)
    np.testing.assert_array_equal(out1, out2)


@pytest.mark.graded("dropout", "train_forward")
def test_unseeded_calls_differ(rng):
    x = rng.standard_normal((20, 30))
    param = {"mode": "train", "p": 0.5}
    out1, _ = dropout_forward(x, param)
    out2, _ = dropout_forward(x, param)
    out3, _ = dropout_forward(x, {"mode": "train", "p": 0.5})
    assert not np.array_equal(out1 != 0, out2 != 0)
    assert not np.array_equal(out1 != 0, out3 != 0)


@pytest.mark.graded("dropout", "train_forward")
def test_unseeded_masks_follow_numpy_global_state(rng):
    # without seed or rng the mask comes from numpy's global state, as in the
    # course: np.random.seed(231) repeats a notebook's masks
    x = rng.standard_normal((20, 30))
    before = _global_state()
    try:
        np.random.seed(231)
        out1, _ = dropout_forward(x, {"mode": "train", "p": 0.5})
        np.random.seed(231)
        out2, _ = dropout_forward(x, {"mode": "train", "p": 0.5})
        after_one_call = _global_state()
        np.random.seed(231)
        np.random.random_sample(x.shape)            # one draw of x's shape moves it as far
        assert np.array_equal(after_one_call[1], np.random.get_state(legacy=True)[1])
    finally:
        np.random.set_state(before)
    np.testing.assert_array_equal(out1, out2)


@pytest.mark.graded("dropout", "train_forward")
def test_given_generator_is_used_and_advanced(rng):
    x = rng.standard_normal((30, 30))
    p1 = {"mode": "train", "p": 0.5, "rng": np.random.default_rng(42)}
    p2 = {"mode": "train", "p": 0.5, "rng": np.random.default_rng(42)}
    a1, _ = dropout_forward(x, p1)
    a2, _ = dropout_forward(x, p2)
    np.testing.assert_array_equal(a1, a2)              # same generator state, same mask
    b1, _ = dropout_forward(x, p1)
    assert not np.array_equal(a1 != 0, b1 != 0)        # the generator moved on


@pytest.mark.graded("dropout", "train_forward")
def test_seed_wins_over_generator(rng):
    x = rng.standard_normal((10, 10))
    gen = np.random.default_rng(3)
    state = copy.deepcopy(gen.bit_generator.state)
    out1, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 11, "rng": gen})
    out2, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 11})
    np.testing.assert_array_equal(out1, out2)
    assert gen.bit_generator.state == state


@pytest.mark.parametrize("extra", [{"seed": 4}, {"rng": "generator"}])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_numpy_global_state_untouched_with_seed_or_generator(rng, extra, mode):
    x = rng.standard_normal((50, 40))
    if extra.get("rng") == "generator":
        extra = {"rng": np.random.default_rng(0)}
    before = _global_state()
    param = dict({"mode": mode, "p": 0.6}, **extra)
    out, cache = dropout_forward(x, param)
    dropout_backward(np.ones_like(out), cache)
    dropout_forward(x, param)
    _assert_same_global_state(before, _global_state())


# --------------------------------------------------------------------------
# backward
# --------------------------------------------------------------------------

@pytest.mark.graded("dropout", "backward")
@pytest.mark.parametrize("p", [0.2, 0.6, 1.0])
@pytest.mark.parametrize("shape", [(10, 10), (4, 3, 5), (7,)])
def test_seeded_gradient_check(rng, p, shape):
    x = 10.0 + rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    param = {"mode": "train", "p": p, "seed": 123}
    _, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda v: dropout_forward(v, param)[0], x, dout)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


@pytest.mark.graded("dropout", "backward")
def test_backward_applies_the_same_mask(rng):
    x = rng.standard_normal((20, 20))
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 9})
    dout = rng.standard_normal((20, 20))
    dx = dropout_backward(dout, cache)
    kept = out != 0
    np.testing.assert_allclose(dx[kept], dout[kept] / 0.3, rtol=1e-15)
    assert np.all(dx[~kept] == 0.0)


@pytest.mark.graded("dropout", "backward")
def test_backward_uses_mask_of_its_own_forward_call(rng):
    # two unseeded forwards: each backward uses the mask of its own call
    x = rng.standard_normal((20, 20))
    param = {"mode": "train", "p": 0.5}
    out1, cache1 = dropout_forward(x, param)
    out2, cache2 = dropout_forward(x, param)
    ones = np.ones_like(x)
    np.testing.assert_array_equal(dropout_backward(ones, cache1) != 0, out1 != 0)
    np.testing.assert_array_equal(dropout_backward(ones, cache2) != 0, out2 != 0)


@pytest.mark.graded("dropout", "backward")
def test_mode_switch_after_forward_does_not_change_backward(rng):
    # backward follows the mode of its forward call, even if the caller's dict changes
    x = rng.standard_normal((10, 10))
    param = {"mode": "train", "p": 0.5, "seed": 0}
    out, cache = dropout_forward(x, param)
    param["mode"] = "test"
    dx = dropout_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx != 0, out != 0)


# --------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_dtype_preserved(rng, dtype, mode):
    x = rng.standard_normal((30, 30)).astype(dtype)
    out, cache = dropout_forward(x, {"mode": mode, "p": 0.75, "seed": 2})
    assert out.dtype == dtype
    dx = dropout_backward(np.ones_like(x), cache)
    assert dx.dtype == dtype
    if mode == "train":
        kept = out != 0
        assert abs(kept.mean() - 0.75) < _binomial_bound(0.75, x.size)
        np.testing.assert_allclose(out[kept].astype(np.float64),
                                   (x[kept].astype(np.float64) / 0.75), rtol=2e-3)
