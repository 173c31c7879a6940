"""The one normalisation core behind batch, spatial batch, layer and group norm.

Every normalisation layer of the kit is the same computation on a different
*view* of its input::

    public function              statistics view        axes standardised
    batchnorm_forward            (N, D)                 (0,)
    spatial_batchnorm_forward    (N, C, H*W)            (0, 2)
    layernorm_forward            (N, D)                 (1,)
    spatial_groupnorm_forward    (N, G, C//G*H*W)       (2,)

Forward (over the standardised axes, ``m`` elements each):

.. math::

    \\mu = \\frac{1}{m}\\sum x, \\quad
    \\sigma^2 = \\frac{1}{m}\\sum (x - \\mu)^2, \\quad
    \\hat{x} = \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}, \\quad
    y = \\gamma \\hat{x} + \\beta

Backward (closed form, means over the same axes;
:math:`g = \\partial L / \\partial \\hat{x} = \\gamma\\, \\partial L/\\partial y`):

.. math::

    \\frac{\\partial L}{\\partial x} = \\frac{1}{\\sqrt{\\sigma^2+\\epsilon}}
    \\left( g - \\overline{g} - \\hat{x}\\, \\overline{g \\hat{x}} \\right)

When the statistics are fixed (batch norm in test mode) the backward is simply
``dx = g / sqrt(var + eps)``.

The scale and shift apply per channel in a second view (``affine_view``), in
which ``gamma`` broadcasts; ``dgamma`` and ``dbeta`` sum over ``param_axes`` of
that view. Everything stays in the input's dtype.

How it is made fast
-------------------
numpy runs one elementwise operation per call, so the cost is the number of
passes over full-size arrays, how fast each pass runs and how much is allocated
(measurements in ``benchmarks/README.md``):

* **Reductions** go through BLAS (``a @ ones``, stacked row dot products) or
  ``np.einsum('ij,ij->j')``, never through ``np.var`` or ``(a * b).sum()``,
  which make temporaries.
* **Variance from raw moments** (``E[x^2] - E[x]^2``: one pass fewer than the
  two-pass formula), with a fallback to the (corrected) two-pass formula when
  the mean is large relative to the spread and the subtraction would cancel.
* **The fused path** (batch norm, spatial batch norm, group norm: some axes are
  reduced both for the statistics and for ``dgamma``/``dbeta``). In a *joint
  view* refining both views the layer collapses to small coefficient arrays
  from a handful of reductions: ``out = x * a + b`` (two passes) and
  ``dx = ((x c_1 + c_0) + dout) k`` (four passes).
* **The row path** (layer norm: statistics per row, parameters per column):
  four passes forward, one sweep of row and column sums and five passes back.
* **Statistics in one read.** Row sums and row sums of products (layer and
  group norm, spatial batch norm's first stage) are taken block by block, so
  each block comes from memory once for both.
* **Blocks and tiles.** The elementwise passes run block by block (about
  ``_BLOCK_BYTES`` along the first axis), so a block read from memory stays in
  cache for the following passes; coefficients that are the same for every
  block are expanded once into block-sized tiles, making the passes same-shape
  operations (a broadcast operand with short rows costs numpy 2-3x more).
* **Memory.** The outputs are the only new full-size arrays; they come from
  :func:`cs231n._alloc.empty`: aligned to cache lines (numpy's large arrays
  start 16 bytes into a line), and reusing the memory of earlier outputs that
  nobody holds any more. Tiles and scratch blocks are reused from call to call.
* The cache keeps a reference to ``x`` (no copy, no ``xhat`` array). Any other
  view combination takes a plain general path that stores ``xhat``.
"""
from __future__ import annotations

import functools
import math
import threading
from typing import NamedTuple, Optional

import numpy as np

from ._alloc import empty as _empty

# Elementwise passes run on blocks of about this many bytes: a block of x, of
# dout, of the result and three coefficient tiles stay in the L2 cache (2 MiB
# per core on the reference machine). 256 KiB measured best of 64 KiB-1 MiB.
_BLOCK_BYTES = 1 << 18

# Work buffers (tiles, scratch blocks) up to this size are kept between calls.
_WORK_KEEP_BYTES = 1 << 22


class _Plan(NamedTuple):
    """How :func:`norm_forward` lays the work out (see :func:`_make_plan`).

    Attributes
    ----------
    kind : str
        ``"fused"`` or ``"rows"``.
    view : tuple of int
        Shape the work is done in: the joint view (fused) or ``(P, Q)`` (rows:
        statistics per row, parameters per column).
    red : tuple of int
        Axes of ``view`` reduced for the statistics.
    par : tuple of int
        Axes of ``view`` summed for ``dgamma``/``dbeta``.
    fine : tuple of int
        Axes in both ``red`` and ``par`` (reduced first in the fused backward).
    factored : bool
        The statistics change from block to block (axis 0 is not reduced) but
        the parameters do not (axis 0 is summed): the elementwise passes apply
        the statistics (broadcast along long runs) and the parameters (tiles)
        separately rather than as one combined per-row coefficient.
    red_keep, par_keep : tuple of int
        Shapes of the statistics and of ``gamma`` in ``view`` (keepdims).
    rest_red, rest_par : tuple of int
        Axes of ``red`` (of ``par``) not in ``fine``: summed in the fused
        backward after the reductions over ``fine``.
    m : int
        Elements per statistic.
    """

    kind: str
    view: tuple
    red: tuple
    par: tuple
    fine: tuple
    factored: bool
    red_keep: tuple
    par_keep: tuple
    rest_red: tuple
    rest_par: tuple
    m: int


def _new_plan(kind, view, red, par, factored):
    """A :class:`_Plan`, with the shapes and axes derived from ``view``, ``red``, ``par``."""
    fine = tuple(t for t in red if t in par)
    return _Plan(kind, view, red, par, fine, factored, _keep(view, red), _keep(view, par),
                 tuple(t for t in red if t not in fine), tuple(t for t in par if t not in fine),
                 _count(view, red))


class NormCache(NamedTuple):
    """What the backward pass of a normalisation layer needs.

    The standardised input is the property :attr:`xhat` (stored on the general
    path, recomputed on demand otherwise).

    Attributes
    ----------
    base : ndarray
        With a plan: the input in ``plan.view``, minus a per-statistic shift
        when the mean was large relative to the spread. It is a reference to the
        caller's ``x`` (not a copy) whenever no shift was needed, so, as with
        ``affine_forward``'s cache, ``x`` must not be modified in place before
        the backward pass. Without a plan: ``xhat`` itself (statistics view).
    mean : ndarray or None
        With a plan: mean of ``base`` over ``plan.red`` (keepdims in
        ``plan.view``), so that ``xhat = (base - mean) * inv_std``. None on the
        general path.
    inv_std : ndarray
        ``1 / sqrt(var + eps)``, keepdims shape in the statistics view
        (broadcasts against ``xhat``).
    gamma : ndarray
        Scale, reshaped to broadcast in the affine view.
    stats_axes : tuple of int
        Axes of the statistics view that were standardised.
    affine_view : tuple of int
        Shape in which ``gamma`` broadcasts.
    param_axes : tuple of int
        Axes of the affine view summed for ``dgamma``/``dbeta``.
    x_shape : tuple of int
        Shape of the original input (and of ``dx``).
    param_shape : tuple of int
        Shape of the caller's ``gamma`` (and of ``dgamma``/``dbeta``).
    batch_stats : bool
        True when the statistics came from ``x`` itself (train mode); False when
        they were fixed running statistics (test mode).
    stats_view : tuple of int
        Shape in which the statistics were taken.
    plan : _Plan or None
        Layout of the fused or row path; None for the general path.
    """

    base: np.ndarray
    mean: Optional[np.ndarray]
    inv_std: np.ndarray
    gamma: np.ndarray
    stats_axes: tuple
    affine_view: tuple
    param_axes: tuple
    x_shape: tuple
    param_shape: tuple
    batch_stats: bool
    stats_view: tuple
    plan: Optional[_Plan]

    @property
    def xhat(self):
        """Standardised input in the statistics view (a new array unless stored)."""
        if self.plan is None:
            return self.base
        inv = self.inv_std.reshape(self.mean.shape)          # stats keepdims -> plan keepdims
        return ((self.base - self.mean) * inv).reshape(self.stats_view)


# --------------------------------------------------------------------------
# Shapes, blocks and reductions
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _keep(shape, axes):
    """``shape`` with 1 on ``axes`` (the keepdims shape of a reduction)."""
    return tuple(1 if ax in axes else n for ax, n in enumerate(shape))


def _count(shape, axes):
    """Number of elements summed over ``axes`` of ``shape``."""
    return math.prod(shape[ax] for ax in axes)


@functools.lru_cache(maxsize=256)
def _block_slices(shape, itemsize, block_bytes):
    """Slices of axis 0 of ``shape`` holding about ``block_bytes`` each."""
    row = itemsize * math.prod(shape[1:])
    rows = max(1, block_bytes // max(row, 1))
    return tuple(slice(s, min(s + rows, shape[0])) for s in range(0, shape[0], rows))


def _blocks(shape, dtype):
    """Blocks of ``_BLOCK_BYTES`` along axis 0 (a tuple of slices)."""
    return _block_slices(tuple(shape), np.dtype(dtype).itemsize, _BLOCK_BYTES)


_WORK = threading.local()                                    # per-thread work buffers


def _work(slot, shape, dtype):
    """A reusable, cache-line aligned work array for ``slot`` (never returned to callers).

    Tiles and scratch blocks are needed on every call; keeping them (per thread,
    at most ``_WORK_KEEP_BYTES`` each) instead of allocating them afresh avoids
    mmap/munmap churn, which on a busy virtual machine cost more wall time than
    the work itself (batch norm (128, 4096): 3.7x torch before, 1.2x after).
    The array is only valid until the next call that uses ``slot``.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _WORK_KEEP_BYTES:                             # too big to hold on to
        return _empty(shape, dtype)
    pool = _WORK.__dict__.setdefault("pool", {})
    buf = pool.get(slot)
    if buf is None or buf.nbytes < nbytes:                   # first use, or a larger problem
        buf = pool[slot] = _empty((nbytes,), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _block_operands(coefs, shape, blocks, dtype):
    """Per-block operands for small coefficient arrays broadcasting against ``shape``.

    Each coefficient is converted to ``dtype`` (the dtype of the passes). When
    every coefficient is the same for all blocks (length 1 on axis 0) and there
    are several blocks, each is expanded once into a block-sized tile, so the
    blockwise passes are same-shape operations (a broadcast operand costs numpy
    1.5-3x more). Otherwise each block gets its slice of the coefficient.

    Returns
    -------
    callable
        ``operands(sl) -> list of arrays`` for a block slice ``sl`` of axis 0.
    """
    coefs = [c.astype(dtype, copy=False) for c in coefs]      # small; converting first is faster
    if len(blocks) > 1 and all(c.shape[0] == 1 for c in coefs):
        rows = blocks[0].stop - blocks[0].start
        tiles = []
        for i, c in enumerate(coefs):
            t = _work(f"tile{i}", (rows,) + tuple(shape[1:]), dtype)
            np.copyto(t, c)                                   # broadcast into the tile
            tiles.append(t)
        return lambda sl: [t[: sl.stop - sl.start] for t in tiles]
    return lambda sl: [c if c.shape[0] == 1 else c[sl] for c in coefs]


@functools.lru_cache(maxsize=32)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones (cached: reductions use it as a BLAS operand)."""
    v = np.ones(n, dtype=dtype)
    v.flags.writeable = False
    return v


@functools.lru_cache(maxsize=256)
def _runs(shape, axes):
    """Merge neighbouring axes of one kind into runs ``(extent, reduced)``.

    Axes of length 1 are dropped (reducing them or not changes nothing).
    """
    runs = []
    for ax, n in enumerate(shape):
        if n == 1:
            continue
        red = ax in axes
        if runs and runs[-1][1] == red:
            runs[-1][0] *= n                                  # same kind: merge into the run
        else:
            runs.append([n, red])
    return tuple((n, red) for n, red in runs)


class _Recipe(NamedTuple):
    """How :func:`_reduce` sums over some axes of one shape (see :func:`_recipe`)."""

    keep: tuple       # keepdims shape of the result
    kind: str         # "none", "rows" (trailing run), "cols" (leading run) or "einsum"
    r: int            # length of the summed run ("rows", "cols")
    rest: tuple       # shape left after summing the run
    more: tuple       # axes of ``rest`` still to sum (small: done by recursion)
    dims: tuple       # "einsum": the merged runs, and the subscripts kept
    kept: tuple


@functools.lru_cache(maxsize=256)
def _recipe(shape, axes):
    """The :class:`_Recipe` for summing ``shape`` over ``axes`` (cached: no per-call work)."""
    keep = _keep(shape, axes)
    runs = _runs(shape, axes)
    if not any(red for _, red in runs):                       # nothing (of length > 1) to sum
        return _Recipe(keep, "none", 0, (), (), (), ())
    if runs[-1][1]:                                           # trailing run: row sums
        kind, r, rest = "rows", runs[-1][0], runs[:-1]
    elif runs[0][1]:                                          # leading run: column sums
        kind, r, rest = "cols", runs[0][0], runs[1:]
    else:                                                     # only inner runs: einsum
        dims = tuple(n for n, _ in runs)
        kept = tuple(i for i, (_, red) in enumerate(runs) if not red)
        return _Recipe(keep, "einsum", 0, (), (), dims, kept)
    more = tuple(i for i, (_, red) in enumerate(rest) if red)
    return _Recipe(keep, kind, r, tuple(n for n, _ in rest), more, (), ())


def _reduce(a, axes, b=None):
    """Sum of ``a`` (or of ``a * b``) over ``axes``, with kept dimensions.

    A trailing reduced run becomes row sums of a 2-D view (BLAS ``a @ ones``, or
    row dot products as a stacked ``(1, r) @ (r, 1)`` matmul, faster than
    ``einsum('ij,ij->i')``), a leading one column sums (``ones @ a`` or
    ``einsum('ij,ij->j')``); what remains is small and summed by recursion. No
    full-size temporary is made (2-4x faster than ``(a*b).sum()`` where measured).
    The layout work is done once per shape (:func:`_recipe`).

    Parameters
    ----------
    a : ndarray
    axes : tuple of int
        Non-negative axes of ``a`` to sum over.
    b : ndarray or None
        Same shape as ``a``; when given, the sum is of ``a * b``.

    Returns
    -------
    ndarray
        Shape of ``a`` with 1 on ``axes``; dtype of ``a`` (of ``a * b``) for
        float32 and float64, at least float64 otherwise (float16 sums would
        overflow). May be a view of ``a`` when there is nothing to reduce: do
        not write to it.
    """
    if a.dtype not in (np.float32, np.float64) or (b is not None and b.dtype != a.dtype):
        # float16 / longdouble / mixed: plain numpy in at least float64, products
        # included, and returned so: a float16 sum of squares overflows (65504)
        # long before it is divided by the count
        acc = np.promote_types(np.result_type(a, a if b is None else b), np.float64)
        prod = a.astype(acc) if b is None else np.multiply(a, b, dtype=acc)
        return prod.sum(axis=tuple(axes), keepdims=True)
    rc = _recipe(a.shape, tuple(axes))
    if rc.kind == "rows":
        a2 = a.reshape(-1, rc.r)
        if b is None:
            s = a2 @ _ones(rc.r, a.dtype)
        else:                                                 # row dot products
            s = np.matmul(a2[:, None, :], b.reshape(-1, rc.r)[:, :, None])
    elif rc.kind == "cols":
        a2 = a.reshape(rc.r, -1)
        s = _ones(rc.r, a.dtype) @ a2 if b is None else np.einsum("ij,ij->j", a2, b.reshape(rc.r, -1))
    elif rc.kind == "einsum":
        sub = list(range(len(rc.dims)))
        ops = [a.reshape(rc.dims), sub] + ([] if b is None else [b.reshape(rc.dims), sub])
        return np.einsum(*ops, list(rc.kept)).reshape(rc.keep)
    else:                                                     # nothing to sum
        return (a if b is None else a * b).reshape(rc.keep)
    if rc.more:                                               # small now: finish by recursion
        s = _reduce(s.reshape(rc.rest), rc.more)
    return s.reshape(rc.keep)


def _sums(a, b, axes):
    """``(sum(a), sum(a * b))`` over ``axes`` as float64 keepdims arrays.

    When the summed axes end in a long trailing run (row sums: layer and group
    norm statistics, the first stage of spatial batch norm's) and ``a`` is
    larger than a block, both sums are taken block by block, so each block of
    ``a`` comes from memory once and is read the second time from the cache.
    Otherwise two whole-array reductions.
    """
    rc = _recipe(a.shape, tuple(axes))
    if rc.kind != "rows" or a.nbytes <= 2 * _BLOCK_BYTES or a.dtype != b.dtype \
            or a.dtype not in (np.float32, np.float64):
        return _reduce(a, axes).astype(np.float64), _reduce(a, axes, b).astype(np.float64)
    a2, b2 = a.reshape(-1, rc.r), b.reshape(-1, rc.r)
    s1 = np.empty(a2.shape[0], a.dtype)
    s2 = np.empty((a2.shape[0], 1, 1), a.dtype)
    ones = _ones(rc.r, a.dtype)
    for sl in _blocks(a2.shape, a.dtype):                      # one block in cache at a time
        np.matmul(a2[sl], ones, out=s1[sl])                    # row sums
        np.matmul(a2[sl, None, :], b2[sl, :, None], out=s2[sl])   # row dot products
    if rc.more:                                               # small now: finish the sums
        s1 = _reduce(s1.reshape(rc.rest), rc.more)
        s2 = _reduce(s2.reshape(rc.rest), rc.more)
    return s1.reshape(rc.keep).astype(np.float64), s2.reshape(rc.keep).astype(np.float64)


def _safe_ratio(dtype):
    """Largest ``mean**2 / var`` for which ``E[x^2] - E[x]^2`` keeps ``var`` precise.

    The raw-moment formula loses relative precision by ``1 + mean**2 / var``;
    allowing a loss up to ``max(8 eps, 2**-30)`` relative error gives 7 for
    float32 (a mean up to about 2.6 standard deviations) and about 4e6 for
    float64.
    """
    eps = np.finfo(dtype).eps
    return max(8.0 * eps, 2.0 ** -30) / eps - 1.0


def _moments(x, axes, m=None):
    """Mean and biased variance over ``axes``, from raw moments when that is safe.

    When ``mean**2 > _safe_ratio * var`` (or a statistic is not finite) the
    statistics are recomputed from ``c = x - shift`` with ``shift`` the first
    mean (the corrected two-pass formula ``var = E[c^2] - E[c]^2``, where
    ``E[c]`` is tiny).

    Parameters
    ----------
    x : ndarray of float32 or float64 (others work, slowly)
    axes : tuple of int
    m : int or None
        Number of elements summed (``prod(x.shape[ax] for ax in axes)``);
        computed when None.

    Returns
    -------
    base : ndarray
        ``x`` itself, or the new array ``x - shift`` after the fallback.
    mean, var : ndarray of float64, keepdims shape
        Mean and variance of ``base`` (``var >= 0`` after the fallback; without
        it ``var`` may be a rounding error below 0, which ``eps`` absorbs).
    shift : ndarray of float64 or None
        ``mean(x) = shift + mean``; None when no shift was taken.
    """
    # TODO (optional): mean and variance over `axes` (used by `standardize` and
    # `norm_forward`); np.mean / np.var are a correct, slower start.
    ### BEGIN SOLUTION
    if m is None:
        m = _count(x.shape, axes)
    s1, s2 = _sums(x, x, axes)
    mean = s1 / m                                             # E[x]
    msq = mean * mean
    var = s2 / m - msq                                        # E[x^2] - E[x]^2
    with np.errstate(invalid="ignore", over="ignore"):
        # all False for NaN; an infinite var (x**2 overflowed) takes the fallback too
        if (msq <= _safe_ratio(x.dtype) * var).all() and math.isfinite(var.sum()):
            return x, mean, var, None
    shift = mean
    # centre: no cancellation left
    base = np.subtract(x, shift.astype(x.dtype), out=_empty(x.shape, x.dtype))
    s1, s2 = _sums(base, base, axes)
    mean = s1 / m                                             # tiny: the first mean's error
    var = np.maximum(s2 / m - mean * mean, 0.0)
    return base, mean, var, shift
    ### END SOLUTION


# --------------------------------------------------------------------------
# Standardisation over axes (general building block)
# --------------------------------------------------------------------------

def standardize(x, axes, eps):
    """Standardise ``x`` over ``axes``.

    Parameters
    ----------
    x : ndarray
        Input in the statistics view (not modified).
    axes : tuple of int
        Axes to standardise over.
    eps : float
        Added to the variance for numerical stability.

    Returns
    -------
    xhat : ndarray, shape of x
        ``(x - mean) / sqrt(var + eps)`` (a new array).
    mean, var : ndarray, keepdims shape, dtype of x
        Mean and biased variance over ``axes``, from raw moments guarded by a
        fallback to the two-pass formula when the mean is large relative to the
        spread (so a large common offset in float32 costs no precision).
    inv_std : ndarray, keepdims shape, dtype of x
        ``1 / sqrt(var + eps)``.
    """
    # TODO (optional): the four normalisation layers are the same computation over
    # different axes; you may implement it once here and call it from each layer.
    ### BEGIN SOLUTION
    axes = tuple(sorted(ax % x.ndim for ax in axes))
    dt = x.dtype
    base, mean, var, shift = _moments(x, axes)
    mean_x = mean if shift is None else shift + mean
    inv_std = 1.0 / np.sqrt(var + eps)                        # float64, small
    xhat = np.subtract(base, mean.astype(dt), out=_empty(x.shape, dt))   # the one new array
    xhat *= inv_std.astype(dt)                                # in place: centred -> standardised
    return xhat, mean_x.astype(dt), var.astype(dt), inv_std.astype(dt)
    ### END SOLUTION


def _standardize_backward(dxhat, xhat, inv_std, axes, overwrite):
    """:func:`standardize_backward`, optionally writing the result into ``dxhat``."""
    # TODO (optional): the closed-form backward of `standardize`.
    ### BEGIN SOLUTION
    m = _count(xhat.shape, axes)
    dt = np.result_type(dxhat, xhat)
    mean_g = (_reduce(dxhat, axes) / m).astype(dt)           # gradient through the mean
    mean_gx = (_reduce(dxhat, axes, xhat) / m).astype(dt)    # gradient through the variance
    dx = dxhat if overwrite and dxhat.dtype == dt else dxhat.astype(dt)   # copy unless overwriting
    dx -= mean_g
    dx -= np.multiply(xhat, mean_gx)                          # one temporary
    dx *= inv_std.astype(dt)
    return dx
    ### END SOLUTION


def standardize_backward(dxhat, xhat, inv_std, axes):
    """Backward of :func:`standardize` (closed form).

    Parameters
    ----------
    dxhat : ndarray
        Upstream gradient with respect to ``xhat`` (statistics view; not modified).
    xhat, inv_std : ndarray
        From :func:`standardize`.
    axes : tuple of int
        The axes that were standardised.

    Returns
    -------
    dx : ndarray, shape of dxhat
        ``inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``.
    """
    # TODO (optional): backward of `standardize`.
    ### BEGIN SOLUTION
    axes = tuple(sorted(ax % xhat.ndim for ax in axes))
    return _standardize_backward(dxhat, xhat, inv_std, axes, overwrite=False)
    ### END SOLUTION


# --------------------------------------------------------------------------
# Layout of the work
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _make_plan(stats_view, stats_axes, affine_view, param_axes):
    """Choose the fused path, the row path or (None) the general path.

    Both views are C-order reshapes of one array. An axis of a view spans a
    range of "suffix sizes" (products of the trailing extents); cutting at every
    suffix size of either view gives the coarsest shape of which every axis of
    either view is a run of axes, e.g. group norm's ``(N, G, C//G*L)`` and
    ``(N, C, L)`` give ``(N, G, C//G, L)``. In that joint view:

    * some axes reduced both for the statistics and the parameters: fused path;
    * statistics over the trailing axes, parameters over the others (layer
      norm): row path, in the 2-D view (leading size, trailing size);
    * anything else, or no joint view (the cut points do not divide each other,
      or the array is empty): general path.
    """
    def cuts(shape):
        c = [1]
        for n in reversed(shape):
            c.append(c[-1] * n)                               # suffix products, right to left
        return c

    cs, ca = cuts(stats_view), cuts(affine_view)
    if cs[-1] == 0:
        return None                                           # empty array
    bounds = sorted(set(cs) | set(ca))
    if any(hi % lo for lo, hi in zip(bounds, bounds[1:])):
        return None                                           # views do not nest
    joint = tuple(hi // lo for lo, hi in zip(bounds, bounds[1:]))[::-1]
    nj = len(joint)

    def covered(view_cuts, ndim, axes):
        """Joint axes lying inside the given axes of a view."""
        out = []
        for t in range(nj):
            lo, hi = bounds[nj - 1 - t], bounds[nj - t]       # joint axis t spans [lo, hi)
            for ax in axes:
                if view_cuts[ndim - 1 - ax] <= lo and hi <= view_cuts[ndim - ax]:
                    out.append(t)
        return tuple(sorted(out))

    red = covered(cs, len(stats_view), stats_axes)
    par = covered(ca, len(affine_view), param_axes)
    fine = tuple(t for t in red if t in par)
    if fine:
        return _new_plan("fused", joint, red, par, 0 not in red and 0 in par)
    split = nj - len(red)
    if red and red == tuple(range(split, nj)) and par == tuple(range(split)):
        view = (math.prod(joint[:split]), math.prod(joint[split:]))
        return _new_plan("rows", view, (1,), (0,), True)
    return None


class _Layout(NamedTuple):
    """Everything :func:`norm_forward` derives from the views alone (see :func:`_layout`)."""

    stats_view: tuple
    stats_axes: tuple       # sorted, non-negative
    affine_view: tuple
    param_axes: tuple       # sorted, non-negative
    stats_keep: tuple       # keepdims shape of the statistics (statistics view)
    gamma_keep: tuple       # shape in which gamma broadcasts (affine view)
    plan: Optional[_Plan]


@functools.lru_cache(maxsize=64)
def _layout(stats_view, stats_axes, affine_view, param_axes):
    """The :class:`_Layout` of one combination of views (cached: no per-call shape work)."""
    stats_axes = tuple(sorted(ax % len(stats_view) for ax in stats_axes))
    param_axes = tuple(sorted(ax % len(affine_view) for ax in param_axes))
    return _Layout(stats_view, stats_axes, affine_view, param_axes,
                   _keep(stats_view, stats_axes), _keep(affine_view, param_axes),
                   _make_plan(stats_view, stats_axes, affine_view, param_axes))


# --------------------------------------------------------------------------
# Forward and backward of a normalisation layer
# --------------------------------------------------------------------------

def norm_forward(x, gamma, beta, eps, stats_view, stats_axes, affine_view, param_axes,
                 mean=None, var=None):
    """Standardise over ``stats_axes`` of one view, then scale and shift in another.

    Parameters
    ----------
    x : ndarray
        Input of any shape with ``x.size == prod(stats_view) == prod(affine_view)``.
    gamma, beta : ndarray
        Scale and shift; reshaped so they broadcast in ``affine_view``.
    eps : float
    stats_view, stats_axes : tuple of int
        View of ``x`` for the statistics, and the axes reduced.
    affine_view, param_axes : tuple of int
        View of ``x`` in which ``gamma`` broadcasts, and the axes summed for
        ``dgamma``/``dbeta``.
    mean, var : ndarray or None
        Fixed statistics (broadcastable in the statistics view); when given, the
        batch statistics are not computed (batch norm in test mode).

    Returns
    -------
    out : ndarray, shape of x, dtype of x
    cache : NormCache
        Usually holds a reference to ``x``: do not modify ``x`` in place before
        the backward pass.
    mean, var : ndarray, dtype of x
        Statistics used (keepdims shape in the statistics view).

    Notes
    -----
    Fused path (see the module docstring), with ``a = gamma / sqrt(var + eps)``
    broadcast in the joint view: :math:`y = x\\, a + (\\beta - \\mu\\, a)`.
    Row path: :math:`y_i = (x_i - \\mu_i)\\,(\\gamma / \\sigma_i) + \\beta` for
    each row ``i``. General path: ``xhat`` as in :func:`standardize`, then
    ``y = gamma * xhat + beta``.
    """
    # TODO (optional): shared forward of the normalisation layers.
    ### BEGIN SOLUTION
    lay = _layout(tuple(stats_view), tuple(stats_axes), tuple(affine_view), tuple(param_axes))
    plan = lay.plan
    dt = x.dtype
    g = gamma.reshape(lay.gamma_keep)                         # broadcasts in the affine view
    if plan is None:
        return _general_forward(x, g, beta, eps, lay, mean, var, gamma.shape)
    xv = x.reshape(plan.view)
    gv, bv = g.reshape(plan.par_keep), beta.reshape(plan.par_keep)
    if mean is None:                                          # batch statistics
        base, mu, v, shift = _moments(xv, plan.red, plan.m)
        mean_out = mu if shift is None else shift + mu
    else:                                                     # fixed statistics
        mean_out = np.broadcast_to(mean, lay.stats_keep).reshape(plan.red_keep).astype(np.float64)
        v = np.broadcast_to(var, lay.stats_keep).reshape(plan.red_keep).astype(np.float64)
        base, mu = xv, mean_out
        if not (mu * mu <= _safe_ratio(dt) * (v + eps)).all():
            base, mu = xv - mu.astype(dt), np.zeros_like(mu)  # x * a + b would cancel
    inv = 1.0 / np.sqrt(v + eps)                              # float64, shape red_keep
    out = _empty(plan.view, dt)                               # the one new array
    blocks = _blocks(plan.view, dt)
    if plan.factored:                                         # y = ((x - mu) / sigma) gamma + beta
        mu_t, inv_t = mu.astype(dt), inv.astype(dt)
        params = _block_operands([gv, bv], plan.view, blocks, dt)
        for sl in blocks:                                     # blockwise, in cache
            g_blk, b_blk = params(sl)
            o = out[sl]
            np.subtract(base[sl], mu_t[sl], out=o)            # pass 1: x - mu
            o *= inv_t[sl]                                    # pass 2: / sigma
            o *= g_blk                                        # pass 3: * gamma
            o += b_blk                                        # pass 4: + beta
    else:                                                     # y = x a + b, a and b per row
        a = gv * inv                                          # float64 (gamma is promoted)
        b = bv - mu * a
        operands = _block_operands([a, b], plan.view, blocks, dt)
        for sl in blocks:                                     # blockwise, in cache
            a_blk, b_blk = operands(sl)
            o = out[sl]
            np.multiply(base[sl], a_blk, out=o)               # pass 1
            o += b_blk                                        # pass 2: y = x a + b
    cache = NormCache(base, mu.astype(dt), inv.astype(dt).reshape(lay.stats_keep), g,
                      lay.stats_axes, lay.affine_view, lay.param_axes, x.shape, gamma.shape,
                      mean is None, lay.stats_view, plan)
    return (out.reshape(x.shape), cache, mean_out.astype(dt).reshape(lay.stats_keep),
            v.astype(dt).reshape(lay.stats_keep))
    ### END SOLUTION


def _general_forward(x, g, beta, eps, lay, mean, var, param_shape):
    """:func:`norm_forward` for view combinations without a plan: stores ``xhat``."""
    # TODO (optional): helper of `norm_forward` (general path).
    ### BEGIN SOLUTION
    dt = x.dtype
    stats_view, stats_axes = lay.stats_view, lay.stats_axes
    affine_view, param_axes = lay.affine_view, lay.param_axes
    xs = x.reshape(stats_view)
    batch_stats = mean is None
    if batch_stats:
        xhat, mean, var, inv_std = standardize(xs, stats_axes, eps)
    else:
        inv_std = (1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + eps)).astype(dt)
        xhat = np.subtract(xs, np.asarray(mean).astype(dt))   # new array
        xhat *= inv_std
    out = np.multiply(xhat.reshape(affine_view), g.astype(dt))
    out += beta.reshape(g.shape).astype(dt)
    cache = NormCache(xhat, None, inv_std, g, stats_axes, affine_view, param_axes, x.shape,
                      param_shape, batch_stats, stats_view, None)
    return out.reshape(x.shape), cache, mean, var
    ### END SOLUTION


def norm_backward(dout, cache):
    """Backward of :func:`norm_forward`.

    Parameters
    ----------
    dout : ndarray, shape ``cache.x_shape``
        Upstream gradient (not modified).
    cache : NormCache

    Returns
    -------
    dx : ndarray, shape ``cache.x_shape``
    dgamma, dbeta : ndarray, shape ``cache.param_shape``
        ``dgamma = sum(dout * xhat)``, ``dbeta = sum(dout)`` over ``param_axes``.

    Notes
    -----
    Fused path: with ``F`` the axes reduced both for the statistics and the
    parameters, two reductions give :math:`S_1 = \\sum_F dout` and
    :math:`S_2 = \\sum_F dout\\,(x - \\mu)`; everything else is arithmetic on
    small arrays: :math:`\\sum_F dout\\,\\hat{x} = S_2 / \\sigma`, ``dbeta``
    and ``dgamma`` sum those over the remaining parameter axes, the means of the
    closed form (:math:`\\overline{g} = \\overline{\\gamma S_1}/m`,
    :math:`\\overline{g\\hat{x}} = \\overline{\\gamma S_2/\\sigma}/m`) sum them
    over the remaining statistics axes, and

    .. math:: dx = k\\, dout + c_1 x + c_0, \\quad k = \\gamma / \\sigma,\\;
              c_1 = -\\overline{g\\hat{x}} / \\sigma^2,\\;
              c_0 = (\\mu\\, \\overline{g\\hat{x}} / \\sigma - \\overline{g}) / \\sigma

    evaluated in four passes as ``((x c_1/k + c_0/k) + dout) k`` when the
    divisions by ``k`` are finite (otherwise with one temporary). When the
    statistics change from block to block (group norm) the passes apply them
    and ``gamma`` apart: ``dx = (gamma dout + c_1' x + c_0') / sigma`` with
    :math:`c' = c\\,\\sigma` (five passes).

    Row path (statistics per row ``i``, parameters per column ``j``): one
    sweep takes the row sums :math:`\\sum_j \\gamma_j dout_{ij}` and
    :math:`\\sum_j \\gamma_j dout_{ij} (x_{ij} - \\mu_i)` (the same means)
    and the column sums ``dbeta`` and ``dgamma``, then the same five passes.
    """
    # TODO (optional): shared backward of the normalisation layers.
    ### BEGIN SOLUTION
    plan = cache.plan
    if plan is None:
        return _general_backward(dout, cache)
    dt = np.result_type(cache.base, dout)
    view = plan.view
    base, dv = cache.base, dout.reshape(view)
    if base.dtype != dt or dv.dtype != dt:                    # mixed dtypes: compute in the wider
        base, dv = base.astype(dt), dv.astype(dt)
    # the cached statistics and gamma are in x's dtype; arithmetic with the
    # float64 sums below promotes them exactly
    mu = cache.mean                                           # keepdims over red
    inv = cache.inv_std.reshape(plan.red_keep).astype(np.float64)
    gv = cache.gamma.reshape(plan.par_keep)
    if plan.kind == "rows":
        dgamma, dbeta, mean_g, mean_gx, dx = _rows_reductions(dv, base, mu, inv, gv, dt)
    else:
        dgamma, dbeta, mean_g, mean_gx = _fused_reductions(dv, base, mu, inv, gv, plan)
        dx = _empty(view, dt)                                 # the one new array
    dgamma = dgamma.astype(dt).reshape(cache.param_shape)
    dbeta = dbeta.astype(dt).reshape(cache.param_shape)
    blocks = _blocks(view, dt)
    if not cache.batch_stats and not plan.factored:           # statistics were constants
        operands = _block_operands([gv * inv], view, blocks, dt)
        for sl in blocks:
            np.multiply(dv[sl], operands(sl)[0], out=dx[sl])  # dx = gamma / sigma * dout
        return dx.reshape(cache.x_shape), dgamma, dbeta
    if not cache.batch_stats:                                 # constants: the means drop out
        mean_g = mean_gx = np.zeros(mu.shape)
    # dx = k dout + c1 x + c0 = (gamma dout + c1' x + c0') / sigma (see Notes)
    c1s = -inv * mean_gx                                      # c1' = c1 sigma
    c0s = inv * mu * mean_gx - mean_g                         # c0' = c0 sigma
    if plan.factored:                                         # statistics and gamma applied apart
        c1s, c0s, inv_t = c1s.astype(dt), c0s.astype(dt), inv.astype(dt)
        params = _block_operands([gv], view, blocks, dt)
        scratch = _work("scratch", (blocks[0].stop,) + view[1:], dt)
        for sl in blocks:                                     # blockwise, in cache
            o, t = dx[sl], scratch[: sl.stop - sl.start]
            np.multiply(base[sl], c1s[sl], out=o)             # pass 1: c1' x
            o += c0s[sl]                                      # pass 2: + c0'
            np.multiply(dv[sl], params(sl)[0], out=t)         # pass 3: gamma dout
            o += t                                            # pass 4
            o *= inv_t[sl]                                    # pass 5: / sigma
        return dx.reshape(cache.x_shape), dgamma, dbeta
    k = gv * inv                                              # combined per-row coefficients
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c1k, c0k = c1s / gv, c0s / gv                         # c1 / k, c0 / k
        finite = math.isfinite(c1k.sum() + c0k.sum())
    if not finite:                                            # some gamma == 0 (or tiny)
        np.multiply(dv, k.astype(dt), out=dx)
        dx += np.multiply(base, (c1s * inv).astype(dt))       # one temporary
        dx += (c0s * inv).astype(dt)
        return dx.reshape(cache.x_shape), dgamma, dbeta
    operands = _block_operands([c1k, c0k, k], view, blocks, dt)
    for sl in blocks:                                         # blockwise, in cache
        c1_blk, c0_blk, k_blk = operands(sl)
        o = dx[sl]
        np.multiply(base[sl], c1_blk, out=o)                  # pass 1: x c1/k
        o += c0_blk                                           # pass 2: + c0/k
        o += dv[sl]                                           # pass 3: + dout
        o *= k_blk                                            # pass 4: dx = k dout + c1 x + c0
    return dx.reshape(cache.x_shape), dgamma, dbeta
    ### END SOLUTION


def _fused_reductions(dv, base, mu, inv, gv, plan):
    """Fused-path sums: ``dgamma``, ``dbeta`` (param keepdims) and the two means.

    Returns
    -------
    dgamma, dbeta : ndarray of float64
    mean_g, mean_gx : ndarray of float64, keepdims over ``plan.red``
        Means over the statistics axes of ``g = gamma * dout`` and ``g * xhat``.
    """
    # TODO (optional): helper of `norm_backward` (fused path).
    ### BEGIN SOLUTION
    s1, s2 = _sums(dv, base, plan.fine)                       # sum_F dout, sum_F dout * base
    p2 = inv * (s2 - mu * s1)                                 # sum_F dout * xhat
    rest_par, rest_red = plan.rest_par, plan.rest_red
    dbeta = s1.sum(axis=rest_par, keepdims=True) if rest_par else s1
    dgamma = p2.sum(axis=rest_par, keepdims=True) if rest_par else p2
    mean_g = gv * s1                                          # g = gamma * dout ...
    mean_gx = gv * p2                                         # ... and g * xhat
    if rest_red:
        mean_g = mean_g.sum(axis=rest_red, keepdims=True)
        mean_gx = mean_gx.sum(axis=rest_red, keepdims=True)
    mean_g /= plan.m                                          # means over the statistics axes
    mean_gx /= plan.m
    return dgamma, dbeta, mean_g, mean_gx
    ### END SOLUTION


def _rows_reductions(dv, base, mu, inv, gv, dt):
    """Row-path sums (layer norm; ``dv``, ``base`` of shape ``(P, Q)``).

    One sweep of blocks of rows reads ``dout`` and ``x`` from memory once and
    takes every sum from the block while it is in the cache: the row sums of
    ``g = gamma * dout`` and of ``g * (x - mu)`` and the column sums of ``dout``
    (``dbeta``) and of ``dout * xhat`` (``dgamma``).

    Returns
    -------
    dgamma, dbeta : ndarray of x's dtype, shape (1, Q)
    mean_g, mean_gx : ndarray of float64, shape (P, 1)
        Row means of ``g = gamma * dout`` and ``g * xhat``.
    dx : ndarray, shape (P, Q)
        A new (uninitialised) array to write ``dx`` into.
    """
    # TODO (optional): helper of `norm_backward` (row path).
    ### BEGIN SOLUTION
    P, Q = dv.shape
    g1 = gv.reshape(Q).astype(dt)
    mu_t, inv_t = mu.astype(dt), inv.astype(dt)
    rg = np.empty(P, dtype=dt)                                # sum_j gamma_j dout_ij
    rgx = np.empty(P, dtype=dt)                               # sum_j gamma_j dout_ij (x_ij - mu_i)
    dgamma = np.zeros(Q, dtype=dt)                            # sum_i dout_ij (x_ij - mu_i) / sigma_i
    dbeta = np.zeros(Q, dtype=dt)                             # sum_i dout_ij
    blocks = _blocks((P, Q), dt)
    prod = _work("scratch", (blocks[0].stop, Q), dt)          # one block's product (in cache)
    for sl in blocks:                                         # one sweep, nothing written to memory
        p, d = prod[: sl.stop - sl.start], dv[sl]
        np.subtract(base[sl], mu_t[sl], out=p)                # x - mu
        p *= d                                                # dout (x - mu)
        np.matmul(d, g1, out=rg[sl])
        np.matmul(p, g1, out=rgx[sl])
        p *= inv_t[sl]                                        # dout xhat
        if len(p) == 1:                                       # column sums of the block
            dgamma += p[0]
            dbeta += d[0]
        else:
            dgamma += _ones(len(p), dt) @ p
            dbeta += _ones(len(p), dt) @ d
    mean_g = rg.astype(np.float64).reshape(P, 1) / Q
    mean_gx = inv * rgx.astype(np.float64).reshape(P, 1) / Q
    dx = _empty((P, Q), dt)
    return dgamma.reshape(1, Q), dbeta.reshape(1, Q), mean_g, mean_gx, dx
    ### END SOLUTION


def _general_backward(dout, cache):
    """:func:`norm_backward` for the general path (``xhat`` stored)."""
    # TODO (optional): helper of `norm_backward` (general path).
    ### BEGIN SOLUTION
    dt = np.result_type(cache.base, dout)
    d = dout.reshape(cache.affine_view)
    xhat = cache.base
    xhat_a = xhat.reshape(cache.affine_view).astype(d.dtype, copy=False)
    dbeta = _reduce(d, cache.param_axes).reshape(cache.param_shape).astype(dt)
    dgamma = _reduce(d, cache.param_axes, xhat_a).reshape(cache.param_shape).astype(dt)
    # through y = gamma * xhat + beta
    dxhat = np.multiply(d, cache.gamma.astype(dt), dtype=dt).reshape(xhat.shape)
    if cache.batch_stats:
        dx = _standardize_backward(dxhat, xhat, cache.inv_std, cache.stats_axes, overwrite=True)
    else:
        dx = dxhat
        dx *= cache.inv_std.astype(dt)                        # statistics were constants
    return dx.reshape(cache.x_shape), dgamma, dbeta
    ### END SOLUTION
