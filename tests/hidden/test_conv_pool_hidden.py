"""Hidden tests of the naive convolution and max pooling (instructor only).

The committed ``tests/data/conv_pool.npz`` must be what ``fixtures_conv_pool.py``
produces; the layers are checked against the index-arithmetic references on fresh
random inputs.
"""
import fixtures_conv_pool as fx
import numpy as np
import pytest
from _fixtures import assert_committed_data_is_fresh
from conftest import assert_close, load_expected

from cs231n.layers import conv_forward_naive, max_pool_forward_naive


def test_committed_data_matches_the_generator():
    assert_committed_data_is_fresh("conv_pool", fx.generate)


@pytest.mark.graded("conv_naive", "forward")
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 6), (2, 2, 3, 2), 2, 2),
    ((1, 1, 5, 5), (3, 1, 1, 1), 2, 0),
])
def test_conv_forward_against_reference(rng, x_shape, w_shape, stride, pad):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out, _ = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    assert_close("conv_forward_naive", f"x {x_shape}, w {w_shape}, stride {stride}, pad {pad}", out,
                 fx.ref_conv(x, w, b, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.graded("maxpool_naive", "forward")
@pytest.mark.parametrize("shape, ph, pw, stride", [
    ((2, 2, 6, 6), 2, 2, 2), ((1, 3, 7, 5), 3, 2, 2), ((1, 1, 4, 4), 1, 1, 1)])
def test_max_pool_forward_against_reference(rng, shape, ph, pw, stride):
    x = rng.standard_normal(shape)
    out, _ = max_pool_forward_naive(x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    assert_close("max_pool_forward_naive", f"x {shape}, {ph}x{pw} windows, stride {stride}", out,
                 fx.ref_max_pool(x, ph, pw, stride))
