"""Hidden tests of affine, softmax and SVM loss (instructor only).

The committed ``tests/data/layers_basic.npz`` must be what
``fixtures_layers_basic.py`` produces; the layers are checked against the loop
references on fresh random inputs.
"""
import fixtures_layers_basic as fx
import numpy as np
import pytest
from _fixtures import assert_committed_data_is_fresh
from conftest import assert_close, load_expected

from cs231n.layers import affine_forward, softmax_loss, svm_loss


def test_committed_data_matches_the_generator():
    assert_committed_data_is_fresh("layers_basic", fx.generate)


@pytest.mark.graded("affine", "forward")
@pytest.mark.parametrize("x_shape, M", [((5, 7), 3), ((4, 2, 5), 6), ((2, 1, 1, 3), 2)])
def test_affine_forward_against_loops(rng, x_shape, M):
    D = int(np.prod(x_shape[1:]))
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((D, M)), rng.standard_normal(M)
    out, _ = affine_forward(x, w, b)
    assert_close("affine_forward", f"x of shape {x_shape}", out, fx.ref_affine(x, w, b),
                 rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn, ref", [
    pytest.param(softmax_loss, fx.ref_softmax_loss, marks=pytest.mark.graded("losses", "softmax"),
                 id="softmax"),
    pytest.param(svm_loss, fx.ref_svm_loss, marks=pytest.mark.graded("losses", "svm"), id="svm"),
])
@pytest.mark.parametrize("N, C, scale", [(7, 5, 1.0), (16, 10, 5.0), (2, 2, 0.1)])
def test_losses_against_loops(rng, fn, ref, N, C, scale):
    x = scale * rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    loss, dx = fn(x, y)
    exp_loss, exp_dx = ref(x, y)
    assert_close(fn.__name__, f"x of shape {x.shape}", loss, exp_loss, rtol=1e-12, what="loss")
    assert_close(fn.__name__, f"x of shape {x.shape}", dx, exp_dx, rtol=1e-10, atol=1e-14, what="dx")
