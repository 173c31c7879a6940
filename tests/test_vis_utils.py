"""Tests of cs231n.vis_utils (image grids)."""
import numpy as np
import pytest

from cs231n.vis_utils import vis_grid, vis_nn, visualize_grid


def test_visualize_grid_layout_and_scaling():
    # 5 images of 2x3 pixels, 1 channel: image k = (k+1) * ramp + k, ramp = 0..5
    ramp = np.arange(6.0).reshape(2, 3, 1)
    Xs = np.stack([(k + 1) * ramp + k for k in range(5)])
    grid = visualize_grid(Xs, ubound=255.0, padding=1)
    # ceil(sqrt(5)) = 3 cells per side: 3*2 + 2 rows, 3*3 + 2 columns
    assert grid.shape == (8, 11, 1)
    expected = np.zeros((8, 11, 1))
    for k in range(5):
        r, c = k // 3, k % 3
        expected[r * 3:r * 3 + 2, c * 4:c * 4 + 3] = ramp / 5.0 * 255.0
    np.testing.assert_allclose(grid, expected, rtol=0, atol=1e-12)


def test_visualize_grid_padding_ubound_dtype():
    Xs = np.arange(4 * 2 * 2 * 3, dtype=np.float32).reshape(4, 2, 2, 3)
    grid = visualize_grid(Xs, ubound=1.0, padding=0)
    assert grid.shape == (4, 4, 3) and grid.dtype == np.float32
    assert grid.min() == 0.0 and grid.max() == 1.0
    # top-right cell is image 1, rescaled on its own: its first pixel is its minimum
    assert grid[0, 2, 0] == 0.0 and grid[1, 3, 2] == 1.0


def test_visualize_grid_constant_image_is_zero_not_nan():
    Xs = np.full((1, 3, 3, 1), 7.0)
    grid = visualize_grid(Xs)
    assert np.all(grid == 0.0)


@pytest.mark.parametrize("kwargs, exc", [
    ({"Xs": np.zeros((2, 3, 3))}, ValueError),
    ({"Xs": [[[[0.0]]]]}, TypeError),
    ({"Xs": np.zeros((2, 3, 3, 1)), "padding": -1}, ValueError),
    ({"Xs": np.zeros((2, 3, 3, 1)), "ubound": 0.0}, ValueError),
])
def test_visualize_grid_bad_input(kwargs, exc):
    with pytest.raises(exc):
        visualize_grid(**kwargs)


def test_vis_grid_shared_scale_and_borders():
    Xs = np.stack([np.full((2, 2, 1), v) for v in (1.0, 3.0, 5.0)])
    G = vis_grid(Xs)
    assert G.shape == (6, 6, 1)          # A = 2 cells per side, (H+1) * A
    assert G[0, 0, 0] == 0.0             # image 0 (value 1 = min) -> 0
    assert G[0, 3, 0] == 0.5             # image 1 (value 3) -> 0.5
    assert G[3, 0, 0] == 1.0             # image 2 (value 5 = max) -> 1
    assert G[2, 0, 0] == 0.0             # border row holds the minimum
    assert G[3, 3, 0] == 0.0             # unused cell holds the minimum


def test_vis_nn_table():
    a, b = np.zeros((1, 2, 1)), np.full((1, 2, 1), 2.0)
    G = vis_nn([[a, b], [b, a]])
    assert G.shape == (4, 6, 1)
    # values 0, 2 and border ones map to 0, 1, 0.5
    assert G[0, 0, 0] == 0.0 and G[0, 3, 0] == 1.0 and G[1, 0, 0] == 0.5
    assert G[2, 0, 0] == 1.0 and G[2, 3, 0] == 0.0
    with pytest.raises(ValueError, match="rows\\[1\\]\\[0\\]"):
        vis_nn([[a], [np.zeros((2, 2, 1))]])
