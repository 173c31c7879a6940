"""Stateless layer functions (CS231n assignment-2 API).

Every ``*_forward`` returns ``(out, cache)``; every ``*_backward(dout, cache)``
returns the gradients with respect to the forward's array inputs, in order. State
that must live between calls (running statistics, mode, seed) travels in an
explicit dict (``bn_param``, ``ln_param``, ``gn_param``, ``dropout_param``).

Shapes use ``N`` for the batch, ``D`` for features, ``C`` for classes or
channels, ``H, W`` for image height and width. All functions keep the dtype of
their input (float32 in, float32 out).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _norm
from ._checks import (
    check_array,
    check_float_array,
    check_int,
    check_labels,
    check_mode,
    check_param_dict,
    check_positive_float,
    check_probability,
    check_shape,
    conv_settings,
    pool_settings,
)

__all__ = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward",
    "softmax_loss", "svm_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward",
    "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive",
    "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
]


# --------------------------------------------------------------------------
# Affine, ReLU, losses
# --------------------------------------------------------------------------

def affine_forward(x, w, b):
    """Fully connected layer: ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Input; each example is flattened to ``D = d_1 * ... * d_k`` values.
    w : ndarray, shape (D, M)
        Weights.
    b : ndarray, shape (M,)
        Biases.

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(x, w, b)``.
    """
    check_array("x", x, min_ndim=1)
    check_array("w", w, ndim=2)
    D = int(np.prod(x.shape[1:]))
    if w.shape[0] != D:
        raise ValueError(
            f"w has shape {w.shape}, expected ({D}, M): its first dimension must equal the "
            f"number of values per example of x (x has shape {x.shape})"
        )
    check_shape("b", b, (w.shape[1],), f"to match w of shape {w.shape}")
    # TODO: Implement the affine forward pass. Reshape each input into a row of
    # length D, multiply by w and add b. Store what backward needs in `cache`.
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], D) @ w + b
    cache = (x, w, b)
    ### END SOLUTION
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient.
    cache : tuple
        ``(x, w, b)`` from the forward pass.

    Returns
    -------
    dx : ndarray, shape of x
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    x, w, b = cache
    check_shape("dout", dout, (x.shape[0], w.shape[1]), "(the shape of the forward output)")
    # TODO: Implement the affine backward pass.
    ### BEGIN SOLUTION
    x2d = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2d.T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit: ``out = max(x, 0)`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : ndarray
        ``x``.
    """
    check_array("x", x)
    # TODO: Implement the ReLU forward pass.
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    cache = x
    ### END SOLUTION
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of :func:`relu_forward`.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        The forward input ``x``.

    Returns
    -------
    dx : ndarray, shape of x
    """
    x = cache
    check_shape("dout", dout, x.shape, "(the shape of the forward input)")
    # TODO: Implement the ReLU backward pass.
    ### BEGIN SOLUTION
    dx = dout * (x > 0)                 # the gradient flows only where the input was positive
    ### END SOLUTION
    return dx


def _check_scores(x, y):
    check_float_array("x", x, ndim=2)
    if x.shape[1] < 1:
        raise ValueError(f"x must have at least one class column, got shape {x.shape}")
    check_labels("y", y, x.shape[0], x.shape[1])


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss averaged over the batch.

    .. math::
        p_{ij} = \\frac{e^{x_{ij}}}{\\sum_k e^{x_{ik}}}, \\quad
        L = -\\frac{1}{N}\\sum_i \\log p_{i y_i}

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores.
    y : ndarray of int, shape (N,)
        Labels, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
    dx : ndarray, shape (N, C)
    """
    _check_scores(x, y)
    # TODO: Implement the softmax loss and its gradient. Subtract each row's
    # maximum before exponentiating to avoid overflow.
    ### BEGIN SOLUTION
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    loss = float(-log_probs[np.arange(N), y].mean())
    dx = np.exp(log_probs)                  # dL/dx_ij = (p_ij - [j == y_i]) / N
    dx[np.arange(N), y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss with margin 1, averaged over the batch.

    .. math::
        L = \\frac{1}{N}\\sum_i \\sum_{j \\ne y_i} \\max(0, x_{ij} - x_{i y_i} + 1)

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores.
    y : ndarray of int, shape (N,)
        Labels, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
    dx : ndarray, shape (N, C)
    """
    _check_scores(x, y)
    # TODO: Implement the multiclass SVM loss and its gradient.
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = float(margins.sum() / N)
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx[rows, y] -= positive.sum(axis=1)
    dx /= N
    ### END SOLUTION
    return loss, dx


# --------------------------------------------------------------------------
# Normalisation layers (thin wrappers over cs231n._norm)
# --------------------------------------------------------------------------

def _check_norm_inputs(x, gamma, beta, param_shape, what, stat_axes):
    """x must already be checked; gamma and beta must have ``param_shape``.

    ``stat_axes`` are the axes of x each statistic is taken over: an empty one
    (a mean of nothing) is refused, while no statistics at all (batch norm with
    zero features) gives empty results.
    """
    if x.shape[0] < 1:
        raise ValueError(f"x must hold at least one example, got shape {x.shape}")
    if any(x.shape[ax] == 0 for ax in stat_axes):
        raise ValueError(
            f"x has shape {x.shape}: each statistic would be a mean over no element "
            f"(axes {tuple(stat_axes)}); every one of them needs at least one")
    for name, a in (("gamma", gamma), ("beta", beta)):
        check_array(name, a)
        if a.shape != param_shape:
            raise ValueError(
                f"{name} has shape {a.shape}, expected {param_shape} to match x of shape "
                f"{x.shape} ({what})"
            )


def _norm_settings(name, param, modes_needed):
    """Validate a norm param dict; return (mode, eps, momentum)."""
    check_param_dict(name, param)
    mode = check_mode(name, param) if modes_needed else None
    eps = check_positive_float(f"{name}['eps']", param.get("eps", 1e-5), allow_zero=True)
    momentum = None
    if modes_needed:
        momentum = param.get("momentum", 0.9)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
            raise TypeError(f"{name}['momentum'] must be a number, got {type(momentum).__name__}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"{name}['momentum'] must be in [0, 1], got {momentum}")
        momentum = float(momentum)
    return mode, eps, momentum


def _running_stats(name, param, channels, dtype):
    """Fetch (or default to zeros) the running statistics; checked, not stored."""
    stats = []
    for key in ("running_mean", "running_var"):
        if key in param:
            v = param[key]
            check_shape(f"{name}[{key!r}]", v, (channels,), "(one value per feature of x)")
        else:
            v = np.zeros(channels, dtype=dtype)
        stats.append(v)
    return stats


def _batch_stat_norm(x, gamma, beta, bn_param, stats_view, stats_axes):
    """Shared body of batch norm and spatial batch norm (train/test, running stats).

    The statistics and the affine map use the same view; axis 1 holds the
    C features/channels, every other axis is reduced.
    """
    mode, eps, momentum = _norm_settings("bn_param", bn_param, modes_needed=True)
    C = stats_view[1]
    running_mean, running_var = _running_stats("bn_param", bn_param, C, x.dtype)
    # every check passed: only now touch bn_param
    # TODO: Implement the training-time forward pass for batch normalization:
    # normalise with the minibatch mean and (biased) variance, scale by gamma,
    # shift by beta, and update the running averages
    #   running = momentum * running + (1 - momentum) * batch_statistic.
    # At test time normalise with the running statistics instead.
    # x has shape `stats_view` after x.reshape(stats_view): (N, D) for batch
    # norm, (N, C, H*W) for spatial batch norm; reduce over `stats_axes`.
    # What the tests check beyond the formulas: compute the mean and variance in
    # float64 (x.astype(np.float64)), as float32 input with a large common
    # offset (1e4 + randn) loses its spread in float32 sums; keep everything
    # you return or store (out, the cache's arrays, running statistics) in x's
    # dtype, so the backward pass computes in the wider of x's and dout's.
    ### BEGIN SOLUTION
    if mode == "train":
        out, cache, mean, var = _norm.norm_forward(
            x, gamma, beta, eps, stats_view, stats_axes, stats_view, stats_axes)
        mean = mean.reshape(C)
        var = var.reshape(C)
        bn_param["running_mean"] = (momentum * running_mean + (1 - momentum) * mean).astype(x.dtype, copy=False)
        bn_param["running_var"] = (momentum * running_var + (1 - momentum) * var).astype(x.dtype, copy=False)
    else:
        keep = [1] * len(stats_view)
        for a in range(len(stats_view)):
            if a not in stats_axes:
                keep[a] = stats_view[a]
        mean = running_mean.astype(x.dtype, copy=False).reshape(keep)
        var = running_var.astype(x.dtype, copy=False).reshape(keep)
        out, cache, _, _ = _norm.norm_forward(
            x, gamma, beta, eps, stats_view, stats_axes, stats_view, stats_axes, mean, var)
    ### END SOLUTION
    return out, cache


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization, forward pass.

    Train mode standardises each feature with the minibatch mean and biased
    variance and updates exponential running averages; test mode uses the
    running averages:

    .. math::
        \\hat{x} = \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}, \\quad
        y = \\gamma \\hat{x} + \\beta, \\quad
        r \\leftarrow m\\, r + (1 - m)\\, s_B

    With a batch of one (``N == 1``) in train mode the variance is 0, so
    ``out == beta`` and ``dx == 0``; the running variance moves towards 0. This
    is defined (no error) but rarely what you want: use batches of 2 or more.

    Parameters
    ----------
    x : ndarray of float, shape (N, D)
    gamma, beta : ndarray, shape (D,)
        Scale and shift.
    bn_param : dict
        ``mode`` ('train' or 'test', required), ``eps`` (default 1e-5),
        ``momentum`` (default 0.9), ``running_mean`` and ``running_var``
        (shape (D,), default zeros of x's dtype). In train mode the updated
        running statistics are written back into this dict.

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : NormCache
        What the backward pass needs (this kit: a :class:`cs231n._norm.NormCache`;
        your own implementation may store any object).
    """
    check_float_array("x", x, ndim=2)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per feature", (0,))
    N, D = x.shape
    return _batch_stat_norm(x, gamma, beta, bn_param, (N, D), (0,))


def batchnorm_backward(dout, cache):
    """Batch normalization backward pass, step by step through the graph.

    The forward pass as a graph (per feature, sums over the batch of N)::

        mu = sum(x) / N          xmu = x - mu         sq = xmu ** 2
        var = sum(sq) / N        std = sqrt(var + eps) istd = 1 / std
        xhat = xmu * istd        out = gamma * xhat + beta

    This function walks it backwards one node at a time (the derivation a
    student writes by hand); :func:`batchnorm_backward_alt` is the simplified
    closed form and gives the same result.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : object
        What :func:`batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    check_array("dout", dout)
    # TODO: Implement the backward pass for batch normalization by walking the
    # computation graph backwards, one node at a time.
    ### BEGIN SOLUTION
    _check_norm_cache(dout, cache)                 # the cache of this kit's forward
    xhat, istd, gamma = cache.xhat, cache.inv_std, cache.gamma
    N = xhat.shape[0]
    dbeta = dout.sum(axis=0)                       # out = ... + beta
    dgamma = (dout * xhat).sum(axis=0)             # out = gamma * xhat + ...
    dxhat = dout * gamma
    if not cache.batch_stats:                      # test mode: mu and var are constants
        return dxhat * istd, dgamma, dbeta
    std = 1.0 / istd
    xmu = xhat * std                               # recover x - mu
    distd = (dxhat * xmu).sum(axis=0, keepdims=True)   # xhat = xmu * istd
    dxmu = dxhat * istd                            # ... first path into xmu
    dstd = -distd / std ** 2                       # istd = 1 / std
    dvar = 0.5 * dstd / std                        # std = sqrt(var + eps)
    dsq = np.broadcast_to(dvar / N, xmu.shape)     # var = sum(sq) / N
    dxmu = dxmu + 2 * xmu * dsq                    # sq = xmu ** 2: second path into xmu
    dmu = -dxmu.sum(axis=0, keepdims=True)         # xmu = x - mu
    dx = dxmu + dmu / N                            # mu = sum(x) / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Batch normalization backward pass, simplified closed form.

    Derive ``dx`` on paper as one expression in ``dout``, ``xhat``, ``gamma``
    and the inverse standard deviation, with no intermediate gradients.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : object
        What :func:`batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    check_array("dout", dout)
    # TODO: Implement the backward pass in closed form (one expression for dx).
    ### BEGIN SOLUTION
    _check_norm_cache(dout, cache)                 # the cache of this kit's forward
    # with g = gamma * dout and means over the batch:
    #   dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    ### END SOLUTION
    return dx, dgamma, dbeta


def _check_norm_cache(dout, cache):
    """``cache`` must come from this kit's norm forward, ``dout`` match its input.

    Part of the solution: a student's own forward may cache anything, so the
    student kit checks only that ``dout`` is an array.
    """
    if not isinstance(cache, _norm.NormCache):
        raise TypeError(
            f"cache must be the cache returned by the matching forward function, got "
            f"{type(cache).__name__}"
        )
    check_shape("dout", dout, cache.x_shape, "(the shape of the forward input x)")


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization, forward pass: per-example statistics over features.

    .. math::
        \\hat{x}_{i} = \\frac{x_{i} - \\mu_i}{\\sqrt{\\sigma_i^2 + \\epsilon}}, \\quad
        y_i = \\gamma \\hat{x}_i + \\beta

    where :math:`\\mu_i, \\sigma_i^2` are the mean and biased variance of row ``i``.
    Train and test behave the same; no running statistics are kept.

    Parameters
    ----------
    x : ndarray of float, shape (N, D)
    gamma, beta : ndarray, shape (D,)
    ln_param : dict
        ``eps`` (default 1e-5); other keys (e.g. ``mode``) are ignored.

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : NormCache
        What the backward pass needs (this kit: a :class:`cs231n._norm.NormCache`;
        your own implementation may store any object).
    """
    check_float_array("x", x, ndim=2)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per feature", (1,))
    _, eps, _ = _norm_settings("ln_param", ln_param, modes_needed=False)
    N, D = x.shape
    # TODO: Implement layer normalization: batch norm with the roles of the
    # examples and the features swapped for the statistics (gamma and beta still
    # act per feature).
    # Numerics as in the TODO of _batch_stat_norm: mean and variance in float64;
    # out and the cache's arrays in x's dtype.
    ### BEGIN SOLUTION
    out, cache, _, _ = _norm.norm_forward(x, gamma, beta, eps, (N, D), (1,), (N, D), (0,))
    ### END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Layer normalization backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : object
        What :func:`layernorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    check_array("dout", dout)
    # TODO: Implement the backward pass for layer normalization.
    ### BEGIN SOLUTION
    _check_norm_cache(dout, cache)                 # the cache of this kit's forward
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Spatial batch normalization: per-channel statistics over (N, H, W).

    Parameters
    ----------
    x : ndarray of float, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    bn_param : dict
        As for :func:`batchnorm_forward` (running statistics of shape (C,)).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : NormCache
        What the backward pass needs (this kit: a :class:`cs231n._norm.NormCache`;
        your own implementation may store any object).
    """
    check_float_array("x", x, ndim=4)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per channel", (0, 2, 3))
    N, C, H, W = x.shape
    # Reducing over axes (0, 2) of the free (N, C, H*W) view needs no transpose.
    return _batch_stat_norm(x, gamma, beta, bn_param, (N, C, H * W), (0, 2))


def spatial_batchnorm_backward(dout, cache):
    """Spatial batch normalization backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : object
        What :func:`spatial_batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    check_array("dout", dout)
    # TODO: Implement the backward pass for spatial batch normalization.
    ### BEGIN SOLUTION
    _check_norm_cache(dout, cache)                 # the cache of this kit's forward
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Spatial group normalization: per-example statistics over groups of channels.

    The C channels are split into G groups of ``C // G`` contiguous channels;
    each (example, group) is standardised over its ``C//G * H * W`` values, then
    scaled and shifted per channel. ``G == 1`` is layer norm over (C, H, W);
    ``G == C`` is instance norm.

    Parameters
    ----------
    x : ndarray of float, shape (N, C, H, W)
    gamma, beta : ndarray, shape (1, C, 1, 1)
    G : int
        Number of groups; must divide C.
    gn_param : dict
        ``eps`` (default 1e-5); other keys are ignored.

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : NormCache
        What the backward pass needs (this kit: a :class:`cs231n._norm.NormCache`;
        your own implementation may store any object).
    """
    check_float_array("x", x, ndim=4)
    N, C, H, W = x.shape
    _check_norm_inputs(x, gamma, beta, (1, C, 1, 1), "shape (1, C, 1, 1)", (1, 2, 3))
    G = check_int("G", G, minimum=1)
    if C % G != 0:
        raise ValueError(f"G must divide the number of channels C={C}, got G={G}")
    _, eps, _ = _norm_settings("gn_param", gn_param, modes_needed=False)
    # TODO: Implement spatial group normalization: per example, standardise each
    # group of C // G consecutive channels over its channels and pixels, then
    # scale and shift per channel.
    # Numerics as in the TODO of _batch_stat_norm: mean and variance in float64;
    # out and the cache's arrays in x's dtype.
    ### BEGIN SOLUTION
    out, cache, _, _ = _norm.norm_forward(
        x, gamma, beta, eps, (N, G, (C // G) * H * W), (2,), (N, C, H * W), (0, 2))
    ### END SOLUTION
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Spatial group normalization backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : object
        What :func:`spatial_groupnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (1, C, 1, 1)
    """
    check_array("dout", dout)
    # TODO: Implement the backward pass for spatial group normalization.
    ### BEGIN SOLUTION
    _check_norm_cache(dout, cache)                 # the cache of this kit's forward
    dx, dgamma, dbeta = _norm.norm_backward(dout, cache)
    ### END SOLUTION
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def _dropout_rng(dropout_param):
    """The generator that draws the mask.

    With ``seed``: a fresh generator from that seed on every call (the same
    mask every time, so gradient checks work). Otherwise a generator owned by
    the dict itself (``dropout_param['rng']``, created on first use); numpy's
    global random state is never used.
    """
    if dropout_param.get("seed") is not None:
        return np.random.default_rng(dropout_param["seed"])
    rng = dropout_param.get("rng")
    if rng is None:
        rng = np.random.default_rng()
        dropout_param["rng"] = rng
    return rng


def dropout_forward(x, dropout_param):
    """Inverted dropout, forward pass.

    Train mode keeps each unit with probability ``p`` and rescales the kept ones
    by ``1/p`` so the expected output equals the input:

    .. math:: m_i \\sim \\mathrm{Bernoulli}(p), \\quad y = x \\odot m / p

    Test mode is the identity.

    Parameters
    ----------
    x : ndarray of float, any shape
    dropout_param : dict
        ``p`` (probability of **keeping** a unit, in (0, 1]), ``mode``
        ('train' or 'test'), optional ``seed`` (int: the same mask on every
        call), optional ``rng`` (a ``numpy.random.Generator`` to draw from).

    Returns
    -------
    out : ndarray, shape and dtype of x
    cache : tuple
        ``(dropout_param, mask)``; ``mask`` holds ``m / p`` (None in test mode).
    """
    check_float_array("x", x)
    check_param_dict("dropout_param", dropout_param, required=("p",))
    mode = check_mode("dropout_param", dropout_param)
    p = check_probability("dropout_param['p']", dropout_param["p"])
    seed = dropout_param.get("seed")
    if seed is not None:
        check_int("dropout_param['seed']", seed, minimum=0)
    rng = dropout_param.get("rng")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"dropout_param['rng'] must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    mask = None
    # TODO: Implement inverted dropout. In train mode draw a mask that keeps each
    # unit with probability p (use the generator from _dropout_rng, never
    # np.random directly) and divide by p; in test mode return x unchanged.
    ### BEGIN SOLUTION
    if mode == "train":
        gen = _dropout_rng(dropout_param)
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = (gen.random(x.shape, dtype=draw_dtype) < p).astype(x.dtype)
        mask /= x.dtype.type(p)
        out = x * mask
    else:
        out = x.copy()
    ### END SOLUTION
    cache = ({"mode": mode, "p": p}, mask)
    return out, cache


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : tuple
        From :func:`dropout_forward`.

    Returns
    -------
    dx : ndarray, shape of x
        ``dout * mask / p`` in train mode, ``dout`` in test mode.
    """
    dropout_param, mask = cache
    check_array("dout", dout)
    if mask is not None:
        check_shape("dout", dout, mask.shape, "(the shape of the forward input x)")
    # TODO: Implement the dropout backward pass.
    ### BEGIN SOLUTION
    if dropout_param["mode"] == "train":
        dx = dout * mask
    else:
        dx = dout
    ### END SOLUTION
    return dx


# --------------------------------------------------------------------------
# Convolution and max pooling (naive reference versions)
# --------------------------------------------------------------------------

def conv_forward_naive(x, w, b, conv_param):
    """Convolutional layer, forward pass (explicit loops; the reference version).

    .. math::
        out[n, f, i, j] = b[f] + \\sum_{c, k, l} x_p[n, c, i s + k, j s + l]\\, w[f, c, k, l]

    where :math:`x_p` is x zero-padded by ``pad`` on every side and ``s`` is the
    stride.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``stride`` (default 1) and ``pad`` (default 0).

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        ``H' = 1 + (H + 2 * pad - HH) // stride``, likewise ``W'``.
    cache : tuple
        ``(x, w, b, conv_param)``; x is not modified.
    """
    stride, pad, Ho, Wo = conv_settings(x, w, b, conv_param)
    # TODO: Implement the convolutional forward pass with explicit loops.
    # Hint: np.pad for the zero padding.
    ### BEGIN SOLUTION
    N = x.shape[0]
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    ### END SOLUTION
    cache = (x, w, b, {"stride": stride, "pad": pad})
    return out, cache


def conv_backward_naive(dout, cache):
    """Convolutional layer, backward pass (explicit loops).

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
    cache : tuple
        From :func:`conv_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    check_shape("dout", dout, (N, F, Ho, Wo), "(the shape of the forward output)")
    # TODO: Implement the convolutional backward pass with explicit loops.
    ### BEGIN SOLUTION
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp, dtype=np.result_type(xp, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    hs, ws = i * stride, j * stride
                    g = dout[n, f, i, j]
                    dw[f] += g * xp[n, :, hs:hs + HH, ws:ws + WW]
                    dxp[n, :, hs:hs + HH, ws:ws + WW] += g * w[f]
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    ### END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pooling, forward pass (explicit loops; no padding).

    .. math:: out[n, c, i, j] = \\max_{k < ph,\\, l < pw} x[n, c, i s + k, j s + l]

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride``.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``H' = 1 + (H - pool_height) // stride``, likewise ``W'``.
    cache : tuple
        ``(x, pool_param)``.
    """
    ph, pw, stride, Ho, Wo = pool_settings(x, pool_param)
    # TODO: Implement the max-pooling forward pass with explicit loops.
    ### BEGIN SOLUTION
    N, C = x.shape[:2]
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    ### END SOLUTION
    cache = (x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Max pooling, backward pass (explicit loops).

    The gradient of each window goes to the **first** maximum of the window in
    row-major order (``np.argmax``), as PyTorch does; overlapping windows add.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
    cache : tuple
        From :func:`max_pool_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x, pool_param = cache
    ph, pw, stride, Ho, Wo = pool_settings(x, pool_param)
    check_shape("dout", dout, x.shape[:2] + (Ho, Wo), "(the shape of the forward output)")
    # TODO: Implement the max-pooling backward pass with explicit loops.
    ### BEGIN SOLUTION
    N, C = x.shape[:2]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + k, ws + l] += dout[n, c, i, j]
    ### END SOLUTION
    return dx
