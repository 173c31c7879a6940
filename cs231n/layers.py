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
# Normalisation layers
# --------------------------------------------------------------------------
#
# Every layer below standardises x over some axes and then scales and shifts it:
#
#     mu = mean(x),  var = mean((x - mu)**2),  xhat = (x - mu) / sqrt(var + eps),
#     out = gamma * xhat + beta
#
# Given code checks the arguments first (so a failed call leaves bn_param
# untouched) and casts what is returned to the input's dtype; your code sits
# between the two. Given code also hands your code float16 arrays as float32
# (a float16 sum overflows past 65504), so you never meet float16.
#
# Speed (optional, never graded): on large inputs each new full-size array costs
# about as much as the arithmetic done on it. In-place updates (`xhat /= std`)
# and `np.einsum` for sums of products (`np.einsum("nd,nd->d", a, b)` is
# `(a * b).sum(axis=0)` without the full-size product) keep their number small.

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


def _as_dtype(dtype, *arrays):
    """The arrays converted to ``dtype`` (no copy when they already have it)."""
    return tuple(np.asarray(a).astype(dtype, copy=False) for a in arrays)


def _at_least_float32(a):
    """``a`` as float32 if it is float16, else ``a`` itself.

    The norm layers compute float16 input in float32, as torch does: a float16
    sum overflows past 65504, which a sum of squares reaches over a few hundred
    values. What they return is cast back to float16.
    """
    return a.astype(np.float32) if a.dtype == np.float16 else a


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization, forward pass.

    Train mode standardises each feature with the minibatch mean and biased
    variance and updates exponential running averages; test mode uses the
    running averages:

    .. math::
        \\mu_B = \\frac{1}{N}\\sum_i x_i, \\quad
        \\sigma_B^2 = \\frac{1}{N}\\sum_i (x_i - \\mu_B)^2, \\quad
        \\hat{x} = \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}, \\quad
        y = \\gamma \\hat{x} + \\beta

    .. math::
        r \\leftarrow m\\, r + (1 - m)\\, s_B
        \\quad \\text{for } (r, s_B) = (\\text{running\\_mean}, \\mu_B),
        (\\text{running\\_var}, \\sigma_B^2)

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
    out : ndarray, shape (N, D), dtype of x
    cache : tuple
        What the backward passes need (your choice of contents).
    """
    check_float_array("x", x, ndim=2)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per feature", (0,))
    mode, eps, momentum = _norm_settings("bn_param", bn_param, modes_needed=True)
    dtype = x.dtype                                         # of what is returned
    running_mean, running_var = _running_stats("bn_param", bn_param, x.shape[1], dtype)
    x, gamma, beta = map(_at_least_float32, (x, gamma, beta))
    # every check passed: only now may bn_param change
    if mode == "train":
        # TODO: Implement the training-time forward pass for batch normalization.
        # Compute the mean and the biased variance (divide by N) of each feature
        # over the batch, normalise x with them, scale by gamma and shift by beta.
        # Update running_mean and running_var with an exponential moving average,
        #   running = momentum * running + (1 - momentum) * batch_statistic,
        # (the line after your code stores them in bn_param). Keep what the
        # backward passes need in `cache`.
        # Numerics: take the mean in float64 (x.mean(axis=0, dtype=np.float64)), as
        # float32 sums of data with a large common offset (1e4 + randn) lose its
        # spread; then the variance of x - mean (two passes, no cancellation) and
        # everything else can stay in x's dtype.
        ### BEGIN SOLUTION
        N = x.shape[0]
        mu = x.mean(axis=0, dtype=np.float64)      # float64 sum: no loss under an offset
        xhat = x - mu.astype(x.dtype)              # x - mu (full-size arrays in x's dtype),
        var = np.einsum("nd,nd->d", xhat, xhat) / N  # two-pass variance: no cancellation
        std = np.sqrt(var + eps)
        xhat /= std                                # ... standardised in place
        out = gamma * xhat
        out += beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, std, gamma, "train")
        ### END SOLUTION
        bn_param["running_mean"], bn_param["running_var"] = _as_dtype(
            dtype, running_mean, running_var)
    else:
        # TODO: Implement the test-time forward pass for batch normalization:
        # normalise x with the running mean and variance, then scale and shift.
        # Keep what the backward passes need in `cache` (the statistics are
        # constants here).
        ### BEGIN SOLUTION
        std = np.sqrt(running_var + eps)
        xhat = (x - running_mean) / std
        out = gamma * xhat + beta
        cache = (xhat, std, gamma, "test")
        ### END SOLUTION
    return out.astype(dtype, copy=False), cache


def batchnorm_backward(dout, cache):
    """Batch normalization backward pass, step by step through the graph.

    The train-mode forward pass as a graph (per feature, sums over the batch)::

        mu = sum(x) / N          xmu = x - mu          sq = xmu ** 2
        var = sum(sq) / N        std = sqrt(var + eps) istd = 1 / std
        xhat = xmu * istd        out = gamma * xhat + beta

    This function walks it backwards one node at a time (the derivation a
    student writes by hand); :func:`batchnorm_backward_alt` is the simplified
    closed form and gives the same result. In test mode ``mu`` and ``var`` are
    the running statistics, constants, so only ``xhat = (x - mu) / std``
    carries the gradient.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        What :func:`batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D), dtype of dout
    dgamma, dbeta : ndarray, shape (D,), dtype of dout
    """
    check_array("dout", dout)
    dtype = dout.dtype                                      # of what is returned
    dout = _at_least_float32(dout)
    # TODO: Implement the backward pass for batch normalization by walking the
    # computation graph above backwards, one node at a time.
    ### BEGIN SOLUTION
    xhat, std, gamma, mode = cache
    check_shape("dout", dout, xhat.shape, "(the shape of the forward input x)")
    N = dout.shape[0]
    xmu = xhat * std                               # the centred input x - mu
    dbeta = dout.sum(axis=0)                       # out = gamma * xhat + beta
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    if mode == "test":                             # mu and std are constants
        dx = dxhat / std
    else:
        istd = 1.0 / std
        distd = (dxhat * xmu).sum(axis=0)          # xhat = xmu * istd
        dxmu = dxhat * istd                        # ... first path into xmu
        dstd = -distd / std ** 2                   # istd = 1 / std
        dvar = 0.5 * dstd / std                    # std = sqrt(var + eps)
        dsq = dvar / N                             # var = sum(sq) / N, for every sample
        dxmu = dxmu + 2 * xmu * dsq                # sq = xmu ** 2: second path into xmu
        dmu = -dxmu.sum(axis=0)                    # xmu = x - mu
        dx = dxmu + dmu / N                        # mu = sum(x) / N
    ### END SOLUTION
    return _as_dtype(dtype, dx, dgamma, dbeta)


def batchnorm_backward_alt(dout, cache):
    """Batch normalization backward pass, simplified closed form.

    Derive ``dx`` on paper as one expression in ``dout``, ``xhat``, ``gamma``
    and the standard deviation ``sqrt(var + eps)``, with no intermediate
    gradients; it is a few full-array passes instead of a dozen.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        What :func:`batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D), dtype of dout
    dgamma, dbeta : ndarray, shape (D,), dtype of dout
    """
    check_array("dout", dout)
    dtype = dout.dtype                                      # of what is returned
    dout = _at_least_float32(dout)
    # TODO: Implement the backward pass for batch normalization in closed form
    # (one expression for dx; in test mode the statistics are constants).
    ### BEGIN SOLUTION
    xhat, std, gamma, mode = cache
    check_shape("dout", dout, xhat.shape, "(the shape of the forward input x)")
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("nd,nd->d", dout, xhat)     # sum over the batch of dout * xhat
    if mode == "test":                             # mu and std are constants
        dx = dout * (gamma / std)
    else:
        # dx = gamma / std * (dout - mean(dout) - xhat * mean(dout * xhat)), and the
        # two means are dbeta / N and dgamma / N; built in place, last term first
        dx = xhat * (-dgamma / N)
        dx += dout
        dx -= dbeta / N
        dx *= gamma / std
    ### END SOLUTION
    return _as_dtype(dtype, dx, dgamma, dbeta)


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization, forward pass: per-example statistics over features.

    .. math::
        \\mu_i = \\frac{1}{D}\\sum_j x_{ij}, \\quad
        \\sigma_i^2 = \\frac{1}{D}\\sum_j (x_{ij} - \\mu_i)^2, \\quad
        \\hat{x}_{ij} = \\frac{x_{ij} - \\mu_i}{\\sqrt{\\sigma_i^2 + \\epsilon}}, \\quad
        y_{ij} = \\gamma_j \\hat{x}_{ij} + \\beta_j

    Train and test behave the same; no running statistics are kept.

    Parameters
    ----------
    x : ndarray of float, shape (N, D)
    gamma, beta : ndarray, shape (D,)
    ln_param : dict
        ``eps`` (default 1e-5); other keys (e.g. ``mode``) are ignored.

    Returns
    -------
    out : ndarray, shape (N, D), dtype of x
    cache : tuple
        What the backward pass needs (your choice of contents).
    """
    check_float_array("x", x, ndim=2)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per feature", (1,))
    _, eps, _ = _norm_settings("ln_param", ln_param, modes_needed=False)
    dtype = x.dtype                                         # of what is returned
    x, gamma, beta = map(_at_least_float32, (x, gamma, beta))
    # TODO: Implement the forward pass for layer normalization. It is batch
    # normalization of the transposed data x.T (statistics of each example over
    # its D features) with three differences: gamma and beta still act per
    # feature, train and test mode are the same, and nothing is kept between
    # calls (no running statistics). Either transpose and reuse your batch norm
    # code, or take the statistics over axis 1. Numerics as in batch norm.
    ### BEGIN SOLUTION
    D = x.shape[1]
    mu = x.mean(axis=1, keepdims=True, dtype=np.float64)   # one mean per example
    xhat = x - mu.astype(x.dtype)                          # x - mu, standardised in place
    var = np.einsum("nd,nd->n", xhat, xhat).reshape(-1, 1) / D  # shape (N, 1)
    std = np.sqrt(var + eps)
    xhat /= std
    out = gamma * xhat
    out += beta
    cache = (xhat, std, gamma)
    ### END SOLUTION
    return out.astype(dtype, copy=False), cache


def layernorm_backward(dout, cache):
    """Layer normalization backward pass.

    Batch norm's closed-form backward with the statistics' axis swapped
    (means over each example's D features); ``dgamma`` and ``dbeta`` still sum
    over the batch.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        What :func:`layernorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, D), dtype of dout
    dgamma, dbeta : ndarray, shape (D,), dtype of dout
    """
    check_array("dout", dout)
    dtype = dout.dtype                                      # of what is returned
    dout = _at_least_float32(dout)
    # TODO: Implement the backward pass for layer normalization.
    ### BEGIN SOLUTION
    xhat, std, gamma = cache
    check_shape("dout", dout, xhat.shape, "(the shape of the forward input x)")
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)                       # gamma and beta act per feature
    dgamma = np.einsum("nd,nd->d", dout, xhat)     # sum over the batch of dout * xhat
    # dx = (g - mean(g) - xhat * mean(g * xhat)) / std with g = dL/dxhat and
    # means over each row (batch norm's closed form, axes swapped), built in dx
    dx = dout * gamma                              # g
    g_xhat = np.einsum("nd,nd->n", dx, xhat).reshape(-1, 1) / D
    dx -= dx.mean(axis=1, keepdims=True)
    dx -= xhat * g_xhat
    dx /= std
    ### END SOLUTION
    return _as_dtype(dtype, dx, dgamma, dbeta)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Spatial batch normalization: per-channel statistics over (N, H, W).

    Each channel ``c`` is standardised over all ``N * H * W`` values it takes in
    the batch, which is vanilla batch norm of the ``(N*H*W, C)`` matrix whose
    rows are the pixels and whose columns are the channels.

    Parameters
    ----------
    x : ndarray of float, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    bn_param : dict
        As for :func:`batchnorm_forward` (running statistics of shape (C,)).

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype of x
    cache : tuple
        What the backward pass needs (your choice of contents).
    """
    check_float_array("x", x, ndim=4)
    _check_norm_inputs(x, gamma, beta, (x.shape[1],), "one value per channel", (0, 2, 3))
    _norm_settings("bn_param", bn_param, modes_needed=True)
    _running_stats("bn_param", bn_param, x.shape[1], x.dtype)
    # TODO: Implement the forward pass for spatial batch normalization by
    # reusing your batchnorm_forward: transpose and reshape x into a
    # (N*H*W, C) matrix with one row per pixel and one column per channel (a
    # plain reshape without a transpose would mix channels), normalise it, and
    # bring the result back to (N, C, H, W).
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    # (C, N*H*W) copies whole image rows at once (moving the channel axis last
    # would copy one value at a time, ~10x slower); its .T has a row per pixel
    x_rows = x.transpose(1, 0, 2, 3).reshape(C, N * H * W).T
    out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.T.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    ### END SOLUTION
    return out.astype(x.dtype, copy=False), cache


def spatial_batchnorm_backward(dout, cache):
    """Spatial batch normalization backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        What :func:`spatial_batchnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout
    dgamma, dbeta : ndarray, shape (C,), dtype of dout
    """
    check_array("dout", dout, ndim=4)
    # TODO: Implement the backward pass for spatial batch normalization by
    # reusing your batchnorm_backward_alt on the same (N*H*W, C) layout.
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(C, N * H * W).T
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, cache)
    dx = dx_rows.T.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    ### END SOLUTION
    return _as_dtype(dout.dtype, dx, dgamma, dbeta)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Spatial group normalization: per-example statistics over groups of channels.

    The C channels are split into G groups of ``C // G`` contiguous channels;
    each (example, group) is standardised over its ``C//G * H * W`` values, then
    scaled and shifted per channel. ``G == 1`` is layer norm over (C, H, W);
    ``G == C`` is instance norm.

    .. math::
        \\hat{x}_{n,g} = \\frac{x_{n,g} - \\mu_{n,g}}{\\sqrt{\\sigma_{n,g}^2 + \\epsilon}},
        \\quad y_{n,c,h,w} = \\gamma_c \\hat{x}_{n,c,h,w} + \\beta_c

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
    out : ndarray, shape (N, C, H, W), dtype of x
    cache : tuple
        What the backward pass needs (your choice of contents).
    """
    check_float_array("x", x, ndim=4)
    N, C, H, W = x.shape
    _check_norm_inputs(x, gamma, beta, (1, C, 1, 1), "shape (1, C, 1, 1)", (1, 2, 3))
    G = check_int("G", G, minimum=1)
    if C % G != 0:
        raise ValueError(f"G must divide the number of channels C={C}, got G={G}")
    _, eps, _ = _norm_settings("gn_param", gn_param, modes_needed=False)
    dtype = x.dtype                                         # of what is returned
    x, gamma, beta = map(_at_least_float32, (x, gamma, beta))
    # TODO: Implement the forward pass for spatial group normalization: reshape
    # x to (N, G, C // G, H, W) so that each group of consecutive channels has
    # its own axis, standardise over the last three axes (numerics as in batch
    # norm), reshape back and scale and shift per channel.
    ### BEGIN SOLUTION
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True, dtype=np.float64)   # one per group
    M = C // G * H * W                                      # values per group
    xhat = xg - mu.astype(x.dtype)                          # x - mu, standardised in place
    var = np.einsum("ngchw,ngchw->ng", xhat, xhat).reshape(N, G, 1, 1, 1) / M
    std = np.sqrt(var + eps)                                # shape (N, G, 1, 1, 1)
    xhat /= std
    xhat = xhat.reshape(N, C, H, W)
    out = gamma * xhat
    out += beta
    cache = (xhat, std, gamma)
    ### END SOLUTION
    return out.astype(dtype, copy=False), cache


def spatial_groupnorm_backward(dout, cache):
    """Spatial group normalization backward pass.

    Per group, the closed form of batch norm's backward with means over the
    group's ``C//G * H * W`` values; ``dgamma`` and ``dbeta`` sum over
    (N, H, W) per channel.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        What :func:`spatial_groupnorm_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout
    dgamma, dbeta : ndarray, shape (1, C, 1, 1), dtype of dout
    """
    check_array("dout", dout, ndim=4)
    dtype = dout.dtype                                      # of what is returned
    dout = _at_least_float32(dout)
    # TODO: Implement the backward pass for spatial group normalization.
    ### BEGIN SOLUTION
    xhat, std, gamma = cache
    check_shape("dout", dout, xhat.shape, "(the shape of the forward input x)")
    N, C, H, W = dout.shape
    G = std.shape[1]
    dbeta = dout.sum(axis=(0, 2, 3)).reshape(1, C, 1, 1)   # per channel
    dgamma = np.einsum("nchw,nchw->c", dout, xhat).reshape(1, C, 1, 1)
    # per group, dx = (g - mean(g) - xhat * mean(g * xhat)) / std with g = dL/dxhat
    # (batch norm's closed form over each group's values), built in dx
    dx = (dout * gamma).reshape(N, G, C // G, H, W)        # g, grouped
    xh = xhat.reshape(N, G, C // G, H, W)
    M = C // G * H * W                                     # values per group
    g_xhat = np.einsum("ngchw,ngchw->ng", dx, xh).reshape(N, G, 1, 1, 1) / M
    dx -= dx.mean(axis=(2, 3, 4), keepdims=True)
    dx -= xh * g_xhat
    dx /= std
    dx = dx.reshape(N, C, H, W)
    ### END SOLUTION
    return _as_dtype(dtype, dx, dgamma, dbeta)


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def _dropout_rng(dropout_param):
    """Where the mask's random numbers come from; every choice has ``.random(shape)``.

    * ``seed`` given: a fresh ``np.random.RandomState(seed)`` on every call, so
      the mask is the same every time (gradient checks need it). It draws the
      same numbers as the course's ``np.random.seed(seed); np.random.rand(...)``
      without touching numpy's global state.
    * else ``rng`` given: that ``numpy.random.Generator`` (advanced by the draw).
    * else numpy's global random state, as in the course: ``np.random.seed(231)``
      makes a notebook repeat.
    """
    if dropout_param.get("seed") is not None:
        return np.random.RandomState(dropout_param["seed"])
    if dropout_param.get("rng") is not None:
        return dropout_param["rng"]
    return np.random


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
        call), optional ``rng`` (a ``numpy.random.Generator`` to draw from);
        without either, numpy's global random state.

    Returns
    -------
    out : ndarray, shape and dtype of x
    cache : tuple
        ``(dropout_param, mask)``: the mode and p of this call and the mask
        (None in test mode).
    """
    check_float_array("x", x)
    check_param_dict("dropout_param", dropout_param, required=("p",))
    mode = check_mode("dropout_param", dropout_param)
    p = check_probability("dropout_param['p']", dropout_param["p"])
    seed = dropout_param.get("seed")
    if seed is not None and check_int("dropout_param['seed']", seed, minimum=0) >= 2**32:
        raise ValueError(f"dropout_param['seed'] must be below 2**32 (a numpy RandomState "
                         f"seed), got {seed}")
    rng = dropout_param.get("rng")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"dropout_param['rng'] must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    rng = _dropout_rng(dropout_param)
    mask = None
    if mode == "train":
        # TODO: Implement the training-phase forward pass for inverted dropout:
        # keep each unit with probability p (draw uniform numbers with
        # rng.random(x.shape), never np.random directly) and divide the kept
        # units by p. Store the mask in `mask`.
        ### BEGIN SOLUTION
        mask = (rng.random(x.shape) < p) / p
        out = x * mask
        ### END SOLUTION
    else:
        # TODO: Implement the test-phase forward pass for inverted dropout.
        ### BEGIN SOLUTION
        out = x
        ### END SOLUTION
    cache = ({"mode": mode, "p": p}, mask)
    return out.astype(x.dtype, copy=False), cache


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : tuple
        From :func:`dropout_forward`.

    Returns
    -------
    dx : ndarray, shape and dtype of dout
        ``dout * mask / p`` in train mode, ``dout`` in test mode.
    """
    dropout_param, mask = cache
    check_array("dout", dout)
    if mask is not None:
        check_shape("dout", dout, mask.shape, "(the shape of the forward input x)")
    # TODO: Implement the backward pass for inverted dropout.
    ### BEGIN SOLUTION
    if dropout_param["mode"] == "train":
        dx = dout * mask
    else:
        dx = dout
    ### END SOLUTION
    return dx.astype(dout.dtype, copy=False)


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
