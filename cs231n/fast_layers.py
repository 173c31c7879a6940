"""Fast convolution and max pooling in pure numpy (no compiled extension).

These functions have the contracts of the naive versions in :mod:`cs231n.layers`
(``conv_forward_naive`` and friends): the same arguments, the same output shapes,
the same gradients, for any stride, padding, kernel and pool size. They are
written for speed (see ``benchmarks/README.md``), and the ideas are worth reading.

Convolution: im2col + one matrix product per image
    A convolution is a matrix product once the input windows are laid out as
    columns. For image ``n`` the column matrix has one row per filter tap
    ``(i, j, c)`` and one column per output position ``(h', w')``::

        cols[n][(i, j, c), (h', w')] = xp[n, c, h' s + i, w' s + j]     (HH*WW*C, H'*W')
        out[n] = W_mat @ cols[n] + b                                   (F, H'*W') = NCHW

    where ``xp`` is x zero-padded by ``pad``, ``s`` the stride and ``W_mat`` the
    filters as an ``(F, HH*WW*C)`` matrix (``w`` transposed to ``(F, HH, WW, C)``).
    The columns are copied out of one :func:`numpy.lib.stride_tricks.as_strided`
    view of the padded input (no Python loop over positions), and the long axis
    ``(h', w')`` is innermost, so the product writes the output in NCHW order
    directly (no transpose of a large array).

    Backward is two more products per image, ``dW_mat += G[n] @ cols[n].T`` and
    ``dcols = W_mat.T @ G[n]`` (``G[n]`` is ``dout[n]`` as an ``(F, H'*W')``
    matrix), followed by *col2im*: every entry of ``dcols`` is added back to the
    input pixel it was read from. That is a loop over the ``HH*WW`` filter
    offsets, each a ``+=`` of a whole block (the positions one offset reads never
    repeat, so no ``np.add.at`` is needed).

    What makes it fast:

    1. *Chunks.* Images are processed one (or a few) at a time, through buffers
       that are reused and so stay in the CPU cache; nothing of size
       ``HH*WW*C*H'*W'`` per image is ever kept in main memory. Backward gathers
       the columns again instead of caching them.
    2. *Flat rows (stride 1).* A padded row is stored as ``pad`` zeros and its
       ``W`` pixels, a channel plane as ``pad`` zero rows and its ``H`` rows: the
       right (bottom) padding of one row (plane) is the left (top) padding of the
       next, since all are zeros. Output rows are then computed at this row
       pitch ``P = W + pad`` instead of ``W'``: the ``P - W'`` extra ("junk")
       outputs per row make each row of ``cols`` one contiguous run of the
       padded input (fast to copy), and make the block col2im adds for one
       offset a single contiguous run. The junk outputs are dropped, the junk
       entries of the upstream gradient are zero, so they change nothing.
    3. *A row of ones* appended to ``cols`` and the bias appended to ``W_mat``
       add the bias inside the forward product and give ``db`` inside the
       ``dW`` product: no extra passes over the data.

Max pooling: separable maximum, first-maximum routing
    A window maximum is a maximum over the window rows of maxima along rows:
    ``r[n, c, h, w'] = max_j x[n, c, h, w' s + j]``, then
    ``out[n, c, h', w'] = max_i r[n, c, h' s + i, w']``: a few ``np.maximum``
    calls on strided views, ``(pool_width - 1) + (pool_height - 1)`` in all.
    Backward sends each window's gradient to its **first** maximum in row-major
    order (as ``np.argmax`` and PyTorch): to the first window row whose maximum
    equals the output, then to the first entry of that row equal to the row
    maximum. Overlapping windows add their gradients. The comparisons that find
    the first maxima (``tap == maximum``) are made in the forward pass, while
    the data is still in the CPU cache, and kept as boolean masks (a quarter of
    the memory of a float32 array); the backward pass only applies them. Both
    passes work through the batch in blocks of a few images, so the
    intermediate arrays of a block stay in the cache. When windows do not
    overlap, gradients are written straight into strided views of ``dx``; when
    the pool also tiles the input (``stride`` equal to the pool size, nothing
    left over) ``dx`` needs no zero fill.

Dtypes: the computation runs in x's dtype (float32 stays float32, float64 stays
float64; weights of another dtype are converted, never x). ``out`` and ``dx``
have x's dtype; ``dw`` and ``db`` have the dtypes of ``w`` and ``b``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import check_float_array, check_shape, conv_settings, pool_settings

__all__ = [
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    # names of the official CS231n fast_layers module (aliases of the above)
    "conv_forward_im2col",
    "conv_backward_im2col",
    "conv_forward_strides",
    "conv_backward_strides",
    "max_pool_forward_reshape",
    "max_pool_backward_reshape",
    "max_pool_forward_im2col",
    "max_pool_backward_im2col",
]

# Images per chunk: as many as fit in this many bytes of column buffer, at least
# one. The buffers are reused for every chunk and so stay in the CPU cache. For
# the benchmark layers one image already takes most of this; larger chunks
# measured slower (benchmarks/README.md).
_CHUNK_BYTES = 1 << 20

# Stride-1 convolutions use the flat (junk-column) layout when it costs at most
# this factor of extra work (see the module docstring, trick 2).
_MAX_FLAT_WASTE = 1.5

# Max pooling works through the batch in blocks of images whose input takes
# about this many bytes (at least one image): the passes over one block (both
# stages, the comparison masks, the row gradient, the strided writes into dx)
# then reuse data still in the CPU cache instead of streaming whole arrays from
# memory once per pass. Pool fwd+bwd on (128, 32, 32, 32), 2x2 stride 2,
# float32, thread CPU time (medians of 15 interleaved runs): 19.3 ms before
# blocks and masks, 12.1 ms now; blocks of 128 KB: 1.17x the time of 512 KB
# blocks, 256 KB: 1.05x, 1 MB: 1.02x, 2 MB: 1.06x, no blocks: 1.12x.
_POOL_BLOCK_BYTES = 1 << 19


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------

class ConvCache(NamedTuple):
    """What :func:`conv_backward_fast` needs.

    The column matrices are not kept: backward gathers them again from ``x``
    (so ``x`` must not be changed in place between the two calls).
    """

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    stride: int
    pad: int


class _ConvPlan(NamedTuple):
    """Shapes and buffer layout shared by the forward and the backward pass."""

    N: int
    C: int
    H: int
    W: int
    F: int
    HH: int
    WW: int
    stride: int
    pad: int
    Ho: int
    Wo: int
    Hq: int      # rows per channel plane of the padded buffers: H + pad (see _conv_plan)
    P: int       # row pitch of the padded buffers: W + pad
    flat: bool   # stride-1 flat layout: rows computed at width P (module docstring)
    Wc: int      # output columns computed per row: P if flat else Wo
    nb: int      # images per chunk


def _conv_plan(x_shape, w_shape, stride, pad, itemsize):
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    # Padded buffers (module docstring, item 2): row pitch P = W + pad, plane
    # height Hq = H + pad. A tap reads row h s + i < H + 2 pad, column
    # w s + j < W + 2 pad of the padded image; past the end of a row (plane)
    # that lands in the next row's left padding (next plane's top padding) or
    # in the buffer's zeroed tail: zeros, as it should be. The max() covers
    # pad > kernel - 1, where the output is wider (taller) than W + pad.
    P = max(W + pad, Wo)
    Hq = max(H + pad, Ho)
    flat = stride == 1 and Hq * P <= _MAX_FLAT_WASTE * Ho * Wo
    Wc = P if flat else Wo
    # The largest per-image buffer is the column matrix (backward: at full
    # padded height in the flat layout).
    L_max = Hq * P if flat else Ho * Wo
    per_image = C * HH * WW * L_max * itemsize
    nb = max(1, min(N, _CHUNK_BYTES // max(per_image, 1)))
    return _ConvPlan(N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, Hq, P, flat, Wc, nb)


def _padded_buffer(plan, dtype):
    """Zeroed buffer for a chunk of padded images, and the im2col view over it.

    Returns ``(flat, xp, win)``. ``xp`` (a view of the 1-D ``flat``) has shape
    ``(nb, C, Hq, P)``; ``win`` has shape ``(nb, HH, WW, C, Ho, Wc)`` with

        win[n, i, j, c, h, w] = xp[n, c, h s + i, w s + j].

    In the flat layout (``Wc = P``) the last ``P - Wo`` entries of each row run
    on into the next row (junk). ``flat`` has a zeroed tail long enough that
    every element of ``win``, and every block col2im adds to, is inside it.
    """
    nb, C, Hq, P = plan.nb, plan.C, plan.Hq, plan.P
    HH, WW, s = plan.HH, plan.WW, plan.stride
    plane = Hq * P
    item = np.dtype(dtype).itemsize
    shape = (nb, HH, WW, C, plan.Ho, plan.Wc)
    elem_strides = (C * plane, P, 1, plane, s * P, s)
    last = sum((n - 1) * st for n, st in zip(shape, elem_strides))
    size = max(nb * C * plane + (HH - 1) * P + WW - 1, last + 1)
    flat = np.zeros(size, dtype=dtype)
    xp = flat[: nb * C * plane].reshape(nb, C, Hq, P)
    win = as_strided(flat, shape=shape, strides=tuple(item * st for st in elem_strides))
    return flat, xp, win


def _column_buffer(win, dtype):
    """Column matrices for a chunk, with an extra row of ones (for the bias).

    Returns ``(cols, taps)``: ``cols`` of shape ``(nb, K + 1, L)`` whose last row
    is all ones, and ``taps``, the view of its first ``K`` rows shaped like
    ``win`` (``np.copyto(taps, win)`` is the im2col). With the ones row, the
    product ``[W_mat | b] @ cols`` adds the bias, and ``cols @ G^T`` yields the
    bias gradient ``sum_l G[f, l]`` as its last row: no separate passes.
    """
    nb = win.shape[0]
    K = int(np.prod(win.shape[1:4]))
    L = win.shape[4] * win.shape[5]
    cols = np.empty((nb, K + 1, L), dtype=dtype)
    cols[:, K] = 1
    return cols, cols[:, :K].reshape(win.shape)


def _weight_matrix(w, dtype):
    """``w`` as an ``(F, HH*WW*C)`` matrix, columns ordered ``(i, j, c)``, in ``dtype``.

    With this order the rows of the column matrix for one filter offset
    ``(i, j)`` form one ``(C, ...)`` block, which makes col2im's blocks contiguous.
    """
    F = w.shape[0]
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1), dtype=dtype).reshape(F, -1)


def conv_forward_fast(x, w, b, conv_param):
    """Convolutional layer, forward pass (im2col + matrix product; any stride/pad).

    .. math::
        out[n, f, h', w'] = b[f] + \\sum_{c, i, j} x_p[n, c, h' s + i, w' s + j]\\,
        w[f, c, i, j]

    computed per image as ``W_mat @ cols`` with ``W_mat`` the filters as an
    ``(F, HH*WW*C)`` matrix and ``cols`` the ``(HH*WW*C, H'*W')`` column matrix of
    the zero-padded input ``x_p`` (see the module docstring).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float
        Input; not modified.
    w : ndarray, shape (F, C, HH, WW), float
        Filters.
    b : ndarray, shape (F,), float
        Biases.
    conv_param : dict
        ``stride`` (int >= 1, default 1) and ``pad`` (int >= 0, zero padding on
        every side, default 0).

    Returns
    -------
    out : ndarray, shape (N, F, H', W'), dtype of x
        ``H' = 1 + (H + 2 pad - HH) // stride``, ``W' = 1 + (W + 2 pad - WW) // stride``.
    cache : ConvCache
        ``(x, w, b, stride, pad)`` for :func:`conv_backward_fast`.

    Raises
    ------
    TypeError
        If an array is not a floating-point numpy array, ``conv_param`` is not a
        dict, or stride/pad are not integers.
    ValueError
        On a wrong number of dimensions, mismatched shapes, stride < 1, pad < 0,
        or a filter larger than the padded input.
    """
    stride, pad, Ho, Wo = conv_settings(x, w, b, conv_param, float_only=True)
    dtype = x.dtype
    plan = _conv_plan(x.shape, w.shape, stride, pad, dtype.itemsize)
    N, C, H, W, F, nb = plan.N, plan.C, plan.H, plan.W, plan.F, plan.nb
    K, L = C * plan.HH * plan.WW, Ho * plan.Wc
    # [W_mat | b]: the bias multiplies the row of ones of the column matrix.
    w_aug = np.empty((F, K + 1), dtype=dtype)
    w_aug[:, :K] = _weight_matrix(w, dtype)
    w_aug[:, K] = b

    out = np.empty((N, F, Ho, Wo), dtype)
    _, xp, win = _padded_buffer(plan, dtype)
    cols, taps = _column_buffer(win, dtype)                        # (nb, K + 1, L)
    if plan.flat:
        out_rows = np.empty((nb, F, Ho, plan.Wc), dtype=dtype)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        # Copy the chunk into the interior of the zero-padded buffer.
        xp[:m, :, pad:pad + H, pad:pad + W] = x[n0:n0 + m]
        np.copyto(taps[:m], win[:m])                               # im2col
        if plan.flat:
            np.matmul(w_aug, cols[:m], out=out_rows[:m].reshape(m, F, L))
            np.copyto(out[n0:n0 + m], out_rows[:m, :, :, :Wo])     # drop the junk
        else:
            np.matmul(w_aug, cols[:m], out=out[n0:n0 + m].reshape(m, F, L))
    return out, ConvCache(x, w, b, stride, pad)


def _check_conv_cache(cache):
    if not isinstance(cache, ConvCache):
        raise TypeError(
            "cache must be the cache returned by conv_forward_fast, got "
            f"{type(cache).__name__}"
        )
    return cache


def conv_backward_fast(dout, cache, need_dx=True):
    """Convolutional layer, backward pass.

    With ``cols[n]`` the column matrix of image n and ``W_mat`` the filter
    matrix (module docstring) and ``G[n] = dout[n].reshape(F, H'*W')``:

    .. math::
        db = \\sum_{n, h', w'} dout[n, :, h', w'], \\qquad
        dW_{mat} = \\sum_n G[n]\\, cols[n]^T, \\qquad
        dcols[n] = W_{mat}^T G[n],

    and ``dx`` is ``dcols`` scattered back (col2im): entry ``((i, j, c), (h', w'))``
    is added to ``dx_p[n, c, h' s + i, w' s + j]``; the padding is then cut off.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W'), float
        Upstream gradient.
    cache : ConvCache
        From :func:`conv_forward_fast`.
    need_dx : bool, optional
        If False, skip the input gradient (about a third of the work) and
        return ``None`` for ``dx``; for a first layer, whose input is the data.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x (or None)
    dw : ndarray, shape (F, C, HH, WW), dtype of w
    db : ndarray, shape (F,), dtype of b
    """
    x, w, b, stride, pad = _check_conv_cache(cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = x.dtype
    plan = _conv_plan(x.shape, w.shape, stride, pad, dtype.itemsize)
    Ho, Wo, Hq, P, Wc, nb = plan.Ho, plan.Wo, plan.Hq, plan.P, plan.Wc, plan.nb
    check_float_array("dout", dout, ndim=4)
    check_shape("dout", dout, (N, F, Ho, Wo), "(the shape of the forward output)")
    K, L = HH * WW * C, Ho * Wc
    w_mat = _weight_matrix(w, dtype)

    # Accumulates cols @ G^T = [dW_mat | db]^T (the ones row of cols gives db).
    dwb_t = np.zeros((K + 1, F), dtype=dtype)
    dwb_part = np.empty((nb, K + 1, F), dtype=dtype)

    _, xp, win = _padded_buffer(plan, dtype)
    cols, taps = _column_buffer(win, dtype)
    if plan.flat:
        # Upstream gradient on the computed grid (Hg rows of P columns); the junk
        # entries stay zero, so they add nothing to dw and leave zeros in dcols.
        Hg = Hq if need_dx else Ho
        g_rows = np.zeros((nb, F, Hg, P), dtype=dtype)
    else:
        g_buf = np.empty((nb, F, Ho, Wo), dtype=dtype)
    if need_dx:
        dx = np.empty((N, C, H, W), dtype)
        w_mat_t = np.ascontiguousarray(w_mat.T)                    # (K, F)
        # Flat layout: dcols is computed at the full padded height, so the block
        # of one filter offset (i, j) is C whole padded planes: one contiguous run.
        plane = Hq * P
        Lx = plane if plan.flat else Ho * Wo
        dcols = np.empty((nb, HH * WW, C * Lx), dtype=dtype)
        dflat, dxp, dwin = _padded_buffer(plan, dtype)
    else:
        dx = None

    def chunk_views(m):
        """The views one chunk of m images works on (built once per chunk size)."""
        if plan.flat:
            g_in = g_rows[:m, :, :Ho, :Wo]
            g_dw = g_rows[:m, :, :Ho].reshape(m, F, L)
            g_dx = g_rows[:m].reshape(m, F, -1)
        else:
            g_in = g_buf[:m]
            g_dw = g_dx = g_buf[:m].reshape(m, F, L)
        v = [xp[:m, :, pad:pad + H, pad:pad + W], taps[:m], win[:m], g_in,
             cols[:m], g_dw.transpose(0, 2, 1), dwb_part[:m], g_dx]
        if need_dx:
            # col2im: for every filter offset (i, j), the block of dcols and the
            # pixels it was read from (so it is added back to them). Positions
            # read by one offset are distinct, so plain += is exact.
            pairs = []
            for i in range(HH):
                for j in range(WW):
                    block = dcols[:m, i * WW + j]                  # (m, C * Lx)
                    if plan.flat:
                        # Pixel (c, h + i, w + j) of image n sits at flat index
                        # n C plane + c plane + (i P + j) + (h P + w): the block
                        # is one run of m C plane numbers starting at i P + j.
                        # Its junk entries are zero; they spill harmlessly into
                        # the next image or the buffer's tail.
                        start = i * P + j
                        dst = dflat[start:start + m * C * plane].reshape(m, C * plane)
                    else:
                        dst = dwin[:m, i, j]                       # (m, C, Ho, Wo)
                        block = block.reshape(dst.shape)
                    pairs.append((dst, block))
            v += [dcols[:m].reshape(m, K, -1), pairs, dxp[:m, :, pad:pad + H, pad:pad + W]]
        return v

    views = {}
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        if m not in views:
            views[m] = chunk_views(m)
        xp_in, taps_m, win_m, g_in, cols_m, g_dw_t, dwb_m, g_dx, *dx_views = views[m]
        np.copyto(xp_in, x[n0:n0 + m])                             # pad
        np.copyto(taps_m, win_m)                                   # im2col
        np.copyto(g_in, dout[n0:n0 + m])
        # [dW_mat | db]^T += cols[n] @ G[n]^T, summed over the chunk's images.
        np.matmul(cols_m, g_dw_t, out=dwb_m)
        dwb_t += dwb_m[0] if m == 1 else dwb_m.sum(axis=0)
        if not need_dx:
            continue
        dcols_m, pairs, dxp_in = dx_views
        np.matmul(w_mat_t, g_dx, out=dcols_m)                      # dcols = W_mat^T G
        if plan.flat:
            # The block of offset (0, 0) covers the whole chunk: copy it (no
            # zero fill), then add the others.
            np.copyto(*pairs[0])
            for dst, block in pairs[1:]:
                np.add(dst, block, out=dst)
        else:
            dflat[...] = 0
            for dst, block in pairs:
                np.add(dst, block, out=dst)
        np.copyto(dx[n0:n0 + m], dxp_in)
    dw = np.ascontiguousarray(
        dwb_t[:K].reshape(HH, WW, C, F).transpose(3, 2, 0, 1), dtype=w.dtype
    )
    db = dwb_t[K].astype(b.dtype)
    return dx, dw, db


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------

class PoolCache(NamedTuple):
    """What :func:`max_pool_backward_fast` needs.

    With ``r[n, c, h, w'] = max_j x[n, c, h, w' s + j]`` the row maxima (rows
    ``h < Hu`` covered by some window) and ``out`` the window maxima:
    ``col_hits[j] = (x[:, :, :Hu, j::s][..., :W'] == r)`` for the taps
    ``j < pool_width - 1`` and ``row_hits[i] = (r[:, :, i::s][:, :, :H'] == out)``
    for ``i < pool_height - 1`` (the last tap needs no mask).
    """

    x_shape: tuple
    dtype: np.dtype
    col_hits: np.ndarray    # bool, shape (pool_width - 1, N, C, Hu, W')
    row_hits: np.ndarray    # bool, shape (pool_height - 1, N, C, H', W')
    pool_height: int
    pool_width: int
    stride: int


def _taps(a, axis, count, stride, n_out):
    """Strided views ``a[..., t : t + stride * (n_out - 1) + 1 : stride, ...]`` along ``axis``.

    View ``t`` (``t < count``) holds, for every output index ``o``, the element
    ``o * stride + t`` of ``axis``: tap ``t`` of every pooling window.
    """
    views = []
    for t in range(count):
        index = [slice(None)] * a.ndim
        index[axis] = slice(t, t + stride * (n_out - 1) + 1, stride)
        views.append(a[tuple(index)])
    return views


def _pool_blocks(x):
    """Slices of the batch axis of x, each about ``_POOL_BLOCK_BYTES`` of x (>= 1 image)."""
    N = x.shape[0]
    per_image = max(x[:1].nbytes, 1)
    nb = max(1, min(N, _POOL_BLOCK_BYTES // per_image))
    return [slice(n0, min(n0 + nb, N)) for n0 in range(0, N, nb)]


def _max_of(views, out):
    """``out = max(views)`` elementwise (first view copied, then np.maximum)."""
    if len(views) == 1:
        np.copyto(out, views[0])
        return out
    np.maximum(views[0], views[1], out=out)
    for v in views[2:]:
        np.maximum(out, v, out=out)
    return out


def _max_and_hits(taps, out, hits):
    """``out = max(taps)``, and ``hits[t] = (taps[t] == out)`` for every tap but the last."""
    _max_of(taps, out)
    for t in range(len(taps) - 1):
        np.equal(taps[t], out, out=hits[t])


def _bits(a):
    """``a`` viewed as signed integers of its itemsize (same memory, same strides)."""
    return a.view(np.dtype(f"i{a.dtype.itemsize}"))


def _route_first_max(grad, hits, dst_taps, accumulate):
    """Send each entry of ``grad`` to the first tap that holds the maximum.

    ``dst_taps[t]`` are views shaped like ``grad``; ``hits[t]`` (``t`` below the
    last tap) is True where tap ``t`` equals the maximum of the taps. With
    ``rem_0 = grad``, tap ``t`` receives ``part_t = rem_t if hits[t] else 0``
    and passes on ``rem_{t+1} = 0 if hits[t] else rem_t``; the last tap
    receives all that remains (it holds the maximum whenever no earlier tap
    does). The parts are written into ``dst_taps`` (disjoint taps), or added to
    them (``accumulate``, for overlapping windows; within one tap the positions
    are distinct, so ``+=`` is exact).

    The selections are computed on the bit patterns, viewed as integers:
    ``bits * hit`` and ``bits - (bits * hit)`` are exactly ``bits`` or 0 (the
    bits of +0.0), whatever the value. In floating point they are not: with
    ``rem = inf`` (or NaN), ``inf * 0`` and ``inf - inf`` are NaN, which would
    spread an infinite upstream gradient over the whole window. The integer
    loops cost the same as the float ones. (A dtype with no integer of its size,
    such as ``longdouble``, selects with ``np.where`` instead: slower, as exact.)
    """
    last = len(dst_taps) - 1
    if last == 0:
        if accumulate:
            dst_taps[0] += grad
        else:
            np.copyto(dst_taps[0], grad)
        return
    if grad.dtype.itemsize not in (2, 4, 8):
        zero = grad.dtype.type(0)
        rem = grad
        for t in range(last):
            part = np.where(hits[t], rem, zero)
            if accumulate:
                dst_taps[t] += part
            else:
                np.copyto(dst_taps[t], part)
            rem = np.where(hits[t], zero, rem)
        if accumulate:
            dst_taps[last] += rem
        else:
            np.copyto(dst_taps[last], rem)
        return
    if not accumulate:
        # part_t goes straight into dst_t; rem_{t+1} = rem_t - dst_t (as integers).
        rem = _bits(grad)
        for t in range(last):
            np.multiply(rem, hits[t], out=_bits(dst_taps[t]))
            if t < last - 1:
                rem = np.subtract(rem, _bits(dst_taps[t]),
                                  out=None if t == 0 else rem)
        np.subtract(rem, _bits(dst_taps[last - 1]), out=_bits(dst_taps[last]))
        return
    rem = grad.copy()
    part = np.empty_like(rem)
    rem_i, part_i = _bits(rem), _bits(part)
    for t in range(last):
        np.multiply(rem_i, hits[t], out=part_i)       # rem where hit, else +0.0
        dst_taps[t] += part                           # (float addition)
        rem_i -= part_i                               # 0 where hit, else rem
    dst_taps[last] += rem


def max_pool_forward_fast(x, pool_param):
    """Max pooling, forward pass (separable strided maxima; any pool and stride).

    .. math::
        r[n, c, h, w'] = \\max_{j < pw} x[n, c, h, w' s + j], \\qquad
        out[n, c, h', w'] = \\max_{i < ph} r[n, c, h' s + i, w']

    which equals the window maximum :math:`\\max_{i, j} x[n, c, h' s + i, w' s + j]`.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float
        Input; not modified.
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride`` (ints >= 1). No padding; the
        pool need not tile the input (leftover rows/columns are ignored) and
        windows may overlap (``stride`` < pool size).

    Returns
    -------
    out : ndarray, shape (N, C, H', W'), dtype of x
        ``H' = 1 + (H - pool_height) // stride``, ``W' = 1 + (W - pool_width) // stride``.
    cache : PoolCache
        For :func:`max_pool_backward_fast`.

    Raises
    ------
    TypeError
        If x is not a floating-point numpy array, pool_param is not a dict, or
        its values are not integers.
    ValueError
        On a wrong number of dimensions, a missing key, values < 1, or a pool
        larger than the input.
    """
    ph, pw, s, Ho, Wo = pool_settings(x, pool_param, float_only=True)
    N, C = x.shape[:2]
    Hu = (Ho - 1) * s + ph          # rows covered by some window
    out = np.empty((N, C, Ho, Wo), x.dtype)
    col_hits = np.empty((pw - 1, N, C, Hu, Wo), dtype=bool)
    row_hits = np.empty((ph - 1, N, C, Ho, Wo), dtype=bool)
    blocks = _pool_blocks(x)
    # Row maxima of one block of images (reused, so they stay in cache).
    row_max_buf = np.empty((blocks[0].stop if blocks else 0, C, Hu, Wo), dtype=x.dtype)
    for blk in blocks:
        row_max = row_max_buf[:blk.stop - blk.start]
        # Stage 1: maximum along each window row, for every covered row.
        _max_and_hits(_taps(x[blk, :, :Hu], 3, pw, s, Wo), row_max, col_hits[:, blk])
        # Stage 2: maximum over the window rows.
        _max_and_hits(_taps(row_max, 2, ph, s, Ho), out[blk], row_hits[:, blk])
    return out, PoolCache(x.shape, x.dtype, col_hits, row_hits, ph, pw, s)


def max_pool_backward_fast(dout, cache):
    """Max pooling, backward pass: each window's gradient goes to its first maximum.

    "First" is in row-major order within the window (as ``np.argmax`` and
    PyTorch): the gradient goes to the first window row ``i`` whose row maximum
    equals the output, then to the first column ``j`` of that row with
    ``x = `` that maximum. Overlapping windows add their gradients. Every entry
    of ``dout`` is moved as it is, so an infinite or NaN upstream gradient
    reaches only that maximum, as in :func:`cs231n.layers.max_pool_backward_naive`
    (``dx`` equals the naive one exactly wherever windows do not overlap, and on
    sums that are exact in any order).

    NaN in ``x``: a window holding NaN has output NaN (as in the naive layer),
    but its gradient may go to another entry of the window than the naive
    layer's ``np.argmax`` choice (the first NaN). The maxima are found with
    ``==``, which NaN never satisfies; marking NaN taps as well would cost a
    pass over the output in every forward call (measured: forward about 4%
    slower on the benchmark layer), for an input that already makes the loss NaN.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W'), float
        Upstream gradient.
    cache : PoolCache
        From :func:`max_pool_forward_fast`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of x
    """
    if not isinstance(cache, PoolCache):
        raise TypeError(
            "cache must be the cache returned by max_pool_forward_fast, got "
            f"{type(cache).__name__}"
        )
    x_shape, dtype, col_hits, row_hits, ph, pw, s = cache
    N, C, H, W = x_shape
    Hu = col_hits.shape[3]
    Ho, Wo = row_hits.shape[3:]
    check_float_array("dout", dout, ndim=4)
    check_shape("dout", dout, (N, C, Ho, Wo), "(the shape of the forward output)")
    if dout.dtype != dtype:
        dout = dout.astype(dtype)
    # Windows are disjoint iff stride >= pool size; they cover every row
    # (column) iff additionally stride == pool size and none is left over.
    rows_tile = s == ph and Hu == H
    cols_tile = s == pw and (Wo - 1) * s + pw == W
    dx = np.empty((N, C, H, W), dtype)
    if not (rows_tile and cols_tile):
        dx[...] = 0               # some entries get no gradient, others add up
    blocks = _pool_blocks(dx)
    # Gradient of the row maxima for one block of images (reused: stays in cache).
    d_row_buf = np.empty((blocks[0].stop if blocks else 0, C, Hu, Wo), dtype=dtype)
    for blk in blocks:
        d_row = d_row_buf[:blk.stop - blk.start]
        if s != ph:
            d_row[...] = 0        # rows outside every window (gaps) or shared by two
        # Stage 2 backward: route dout to the window rows (gradient of the row maxima).
        _route_first_max(dout[blk], row_hits[:, blk], _taps(d_row, 2, ph, s, Ho),
                         accumulate=s < ph)
        # Stage 1 backward: route each row's gradient to the first maximum of the row.
        _route_first_max(d_row, col_hits[:, blk], _taps(dx[blk, :, :Hu], 3, pw, s, Wo),
                         accumulate=s < pw)
    return dx


# Names of the official CS231n fast_layers module. The official "reshape"
# pooling only handles square pools that tile the input, and the "im2col"/
# "strides" convolutions differ only in speed; here they are all the same code.
conv_forward_im2col = conv_forward_fast
conv_backward_im2col = conv_backward_fast
conv_forward_strides = conv_forward_fast
conv_backward_strides = conv_backward_fast
max_pool_forward_reshape = max_pool_forward_fast
max_pool_backward_reshape = max_pool_backward_fast
max_pool_forward_im2col = max_pool_forward_fast
max_pool_backward_im2col = max_pool_backward_fast
