"""Image grids for looking at data and learned filters (numpy only, no plotting).

The functions return arrays; show them with ``plt.imshow(grid.astype("uint8"))``
(``visualize_grid``) or ``plt.imshow(grid)`` (``vis_grid``, ``vis_nn``, values in
[0, 1]).
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_array, check_int, check_positive_float

__all__ = ["visualize_grid", "vis_grid", "vis_nn"]


def _grid_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def _check_images(name, Xs):
    check_array(name, Xs, ndim=4)
    if not (np.issubdtype(Xs.dtype, np.floating) or np.issubdtype(Xs.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {Xs.dtype}")
    if Xs.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {Xs.shape}")
    return Xs


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile images into a square grid, each rescaled to ``[0, ubound]``.

    The grid has ``G = ceil(sqrt(N))`` rows and columns of cells; image ``i`` goes
    in row ``i // G``, column ``i % G``; cells are separated by ``padding`` pixels
    of zeros and unused cells stay zero. Each image is rescaled on its own,

    .. math:: \\text{cell}_i = u \\, \\frac{x_i - \\min x_i}{\\max x_i - \\min x_i},

    with :math:`u` = ``ubound``; a constant image (max = min) becomes zeros.

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)
        Images (e.g. first-layer filters transposed to ``(F, HH, WW, C)``).
    ubound : float, optional
        Upper bound of each rescaled image.
    padding : int, optional
        Pixels between neighbouring cells (>= 0).

    Returns
    -------
    grid : ndarray, shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C)
        Float array (``Xs``'s dtype when floating, else float64).
    """
    _check_images("Xs", Xs)
    ubound = check_positive_float("ubound", ubound)
    padding = check_int("padding", padding, minimum=0)
    N, H, W, C = Xs.shape
    G = int(math.ceil(math.sqrt(N)))
    dt = _grid_dtype(Xs)
    grid = np.zeros((G * H + (G - 1) * padding, G * W + (G - 1) * padding, C), dtype=dt)
    for i in range(N):
        img = Xs[i].astype(np.float64)
        low, high = img.min(), img.max()
        r, c = divmod(i, G)
        y0, x0 = r * (H + padding), c * (W + padding)
        if high > low:
            grid[y0:y0 + H, x0:x0 + W] = ubound * (img - low) / (high - low)
    return grid


def _normalise01(G):
    low, high = G.min(), G.max()
    if high > low:
        G = (G - low) / (high - low)
    else:
        G = np.zeros_like(G)
    return G


def vis_grid(Xs):
    """Tile images into a square grid with one-pixel borders, normalised to [0, 1].

    Unlike :func:`visualize_grid` the images share one scale: the grid (borders
    filled with the smallest value of ``Xs``) is mapped by
    :math:`(g - \\min g) / (\\max g - \\min g)`.

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)

    Returns
    -------
    grid : ndarray, shape (A*(H+1), A*(W+1), C)
        With ``A = ceil(sqrt(N))``; float values in [0, 1].
    """
    _check_images("Xs", Xs)
    N, H, W, C = Xs.shape
    A = int(math.ceil(math.sqrt(N)))
    G = np.full((A * (H + 1), A * (W + 1), C), Xs.min(), dtype=_grid_dtype(Xs))
    for i in range(N):
        r, c = divmod(i, A)
        G[r * (H + 1):r * (H + 1) + H, c * (W + 1):c * (W + 1) + W] = Xs[i]
    return _normalise01(G)


def vis_nn(rows):
    """Tile a table of images (``rows[i][j]`` of shape ``(H, W, C)``), normalised to [0, 1].

    Cells are separated by one-pixel borders of ones (before normalisation), and
    the whole grid is mapped by :math:`(g - \\min g) / (\\max g - \\min g)`.

    Parameters
    ----------
    rows : sequence of sequences of ndarray
        ``N`` rows of ``D`` images each, all of one shape ``(H, W, C)``.

    Returns
    -------
    grid : ndarray, shape (N*(H+1), D*(W+1), C)
    """
    if not isinstance(rows, (list, tuple)) or not rows or \
            not all(isinstance(r, (list, tuple)) and r for r in rows):
        raise TypeError("rows must be a non-empty list of non-empty lists of (H, W, C) arrays")
    first = rows[0][0]
    check_array("rows[0][0]", first, ndim=3)
    D = len(rows[0])
    if any(len(r) != D for r in rows):
        raise ValueError(f"every row of rows must hold {D} images (the length of rows[0])")
    H, W, C = first.shape
    G = np.ones((len(rows) * (H + 1), D * (W + 1), C), dtype=_grid_dtype(first))
    for y, row in enumerate(rows):
        for x, img in enumerate(row):
            check_array(f"rows[{y}][{x}]", img)
            if img.shape != first.shape:
                raise ValueError(
                    f"rows[{y}][{x}] has shape {img.shape}, expected {first.shape} like rows[0][0]"
                )
            G[y * (H + 1):y * (H + 1) + H, x * (W + 1):x * (W + 1) + W] = img
    return _normalise01(G)
