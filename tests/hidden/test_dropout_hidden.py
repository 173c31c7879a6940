"""Hidden tests of dropout (instructor only): the course's masks, drawn the course's way.

The official starter seeds with ``np.random.seed(dropout_param['seed'])`` and draws
``np.random.rand(*x.shape) < p``; the kit draws the same numbers without touching
numpy's global state (seeded) or from it (unseeded), so the course's printed
numbers come out. The masks here are written the course's way, independently of
``cs231n/layers.py``.
"""
import numpy as np
import pytest
from conftest import assert_close

from cs231n.layers import dropout_forward


@pytest.fixture
def restore_global_state():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


@pytest.mark.graded("dropout", "train_forward")
@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_seeded_mask_is_the_course_mask(rng, restore_global_state, p):
    x = 1.0 + rng.random((40, 30))
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    np.random.seed(123)
    expected = x * (np.random.rand(*x.shape) < p) / p
    assert_close("dropout_forward", "seeded mask (course's draw)", out, expected, rtol=1e-12)


@pytest.mark.graded("dropout", "train_forward")
def test_unseeded_mask_comes_from_the_global_state(rng, restore_global_state):
    x = 1.0 + rng.random((25, 20))
    np.random.seed(231)
    out, _ = dropout_forward(x, {"mode": "train", "p": 0.6})
    np.random.seed(231)
    expected = x * (np.random.rand(*x.shape) < 0.6) / 0.6
    assert_close("dropout_forward", "unseeded mask (numpy's global state)", out, expected,
                 rtol=1e-12)
