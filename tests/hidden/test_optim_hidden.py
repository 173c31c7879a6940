"""Hidden tests of the update rules (instructor only; not in the student release).

The committed ``tests/data/optim.npz`` must be what ``fixtures_optim.py`` produces;
the reference formulas must reproduce the CS231n notebook's numbers; and the rules
are checked against the references for random hyperparameters and gradients.
"""
import fixtures_optim as fx
import numpy as np
import pytest
from _fixtures import assert_committed_data_is_fresh
from conftest import assert_close, load_expected

from cs231n.optim import adam, rmsprop, sgd_momentum

RTOL, ATOL = 1e-10, 1e-12


def test_committed_data_matches_the_generator():
    assert_committed_data_is_fresh("optim", fx.generate)


def test_reference_formulas_reproduce_the_notebook_numbers():
    w, dw = fx.notebook_arrays()
    m = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    v = np.linspace(0.7, 0.5, num=20).reshape(4, 5)
    exp_w, _, _, _ = fx.ref_adam(w, dw, m, v, 5, 1e-2, 0.9, 0.999, 1e-8)
    assert abs(exp_w[0, 0] - (-0.40094747)) < 1e-8
    exp_w, _ = fx.ref_momentum(w, dw, m, 1e-3, 0.9)
    assert abs(exp_w[3, 4] - 1.4096) < 1e-12
    exp_w, _ = fx.ref_rmsprop(w, dw, m, 1e-2, 0.99, 1e-8)
    assert abs(exp_w[0, 0] - (-0.39223849)) < 1e-8


SEEDS = [0, 1, 2]


def _random_problem(seed, steps=6):
    gen = np.random.default_rng(1000 + seed)
    shape = tuple(gen.integers(1, 6, size=gen.integers(1, 4)))
    return gen, gen.normal(size=shape), [gen.normal(size=shape) for _ in range(steps)]


@pytest.mark.graded("sgd_momentum", "update")
@pytest.mark.parametrize("seed", SEEDS)
def test_sgd_momentum_random_hyperparameters(seed):
    gen, w, grads = _random_problem(seed)
    lr, mu = float(gen.uniform(1e-3, 0.5)), float(gen.uniform(0, 0.99))
    config = {"learning_rate": lr, "momentum": mu}
    w_ref, v_ref = w.copy(), np.zeros_like(w)
    for k, g in enumerate(grads, start=1):
        w, config = sgd_momentum(w, g, config)
        w_ref, v_ref = fx.ref_momentum(w_ref, g, v_ref, lr, mu)
        assert_close("sgd_momentum", f"step {k}, lr {lr:.3g}, momentum {mu:.3g}", config["velocity"],
                     v_ref, RTOL, ATOL, what="config['velocity']")
        assert_close("sgd_momentum", f"step {k}, lr {lr:.3g}, momentum {mu:.3g}", w, w_ref,
                     RTOL, ATOL, what="next_w")


@pytest.mark.graded("rmsprop", "update")
@pytest.mark.parametrize("seed", SEEDS)
def test_rmsprop_random_hyperparameters(seed):
    gen, w, grads = _random_problem(seed)
    lr, rho, eps = float(gen.uniform(1e-3, 0.5)), float(gen.uniform(0, 0.999)), 10.0 ** -gen.integers(4, 9)
    config = {"learning_rate": lr, "decay_rate": rho, "epsilon": eps}
    w_ref, c_ref = w.copy(), np.zeros_like(w)
    for k, g in enumerate(grads, start=1):
        w, config = rmsprop(w, g, config)
        w_ref, c_ref = fx.ref_rmsprop(w_ref, g, c_ref, lr, rho, eps)
        check = f"step {k}, lr {lr:.3g}, decay_rate {rho:.3g}, epsilon {eps:.0e}"
        assert_close("rmsprop", check, config["cache"], c_ref, RTOL, ATOL, what="config['cache']")
        assert_close("rmsprop", check, w, w_ref, RTOL, ATOL, what="next_w")


def _adam_run(seed):
    gen, w, grads = _random_problem(seed)
    lr, b1, b2 = float(gen.uniform(1e-3, 0.1)), float(gen.uniform(0, 0.99)), float(gen.uniform(0.5, 0.9999))
    eps = 10.0 ** -gen.integers(4, 9)
    config = {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps}
    w_ref, m_ref, v_ref, t_ref = w.copy(), np.zeros_like(w), np.zeros_like(w), 0
    for k, g in enumerate(grads, start=1):
        w, config = adam(w, g, config)
        w_ref, m_ref, v_ref, t_ref = fx.ref_adam(w_ref, g, m_ref, v_ref, t_ref, lr, b1, b2, eps)
        yield f"step {k}, beta1 {b1:.3g}, beta2 {b2:.3g}", w, config, w_ref, m_ref, v_ref, t_ref


@pytest.mark.graded("adam", "moments")
@pytest.mark.parametrize("seed", SEEDS)
def test_adam_moments_random_hyperparameters(seed):
    for check, _, config, _, m_ref, v_ref, t_ref in _adam_run(seed):
        assert config["t"] == t_ref, f"adam ({check}): config['t'] is {config['t']}, expected {t_ref}"
        assert_close("adam", check, config["m"], m_ref, RTOL, ATOL, what="config['m']")
        assert_close("adam", check, config["v"], v_ref, RTOL, ATOL, what="config['v']")


@pytest.mark.graded("adam", "update")
@pytest.mark.parametrize("seed", SEEDS)
def test_adam_step_random_hyperparameters(seed):
    for check, w, _, w_ref, _, _, _ in _adam_run(seed):
        assert_close("adam", check, w, w_ref, RTOL, ATOL, what="next_w")
