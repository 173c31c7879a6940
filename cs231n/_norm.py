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

Backward (closed form; :math:`g = \\partial L / \\partial \\hat{x} = \\gamma\\, \\partial L/\\partial y`,
means over the same axes):

.. math::

    \\frac{\\partial L}{\\partial x} = \\frac{1}{\\sqrt{\\sigma^2+\\epsilon}}
    \\left( g - \\overline{g} - \\hat{x}\\, \\overline{g \\hat{x}} \\right)

When the statistics are fixed (batch norm in test mode) the backward is simply
``dx = g / sqrt(var + eps)``.

The scale and shift apply per channel in a second view (``affine_view``), in
which ``gamma`` broadcasts; ``dgamma`` and ``dbeta`` sum over ``param_axes`` of
that view. Everything stays in the input's dtype.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class NormCache(NamedTuple):
    """What the backward pass of a normalisation layer needs.

    Attributes
    ----------
    xhat : ndarray
        Standardised input, in the statistics view.
    inv_std : ndarray
        ``1 / sqrt(var + eps)``, keepdims shape (broadcasts against ``xhat``).
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
    """

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    stats_axes: tuple
    affine_view: tuple
    param_axes: tuple
    x_shape: tuple
    param_shape: tuple
    batch_stats: bool


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
        ``(x - mean) / sqrt(var + eps)``.
    mean, var : ndarray, keepdims shape
        Mean and biased variance over ``axes`` (two-pass: the variance is taken
        from the centred values, so a large common offset in float32 costs no
        precision).
    inv_std : ndarray, keepdims shape
        ``1 / sqrt(var + eps)``.
    """
    # TODO (optional): the four normalisation layers are the same computation over
    # different axes; you may implement it once here and call it from each layer.
    ### BEGIN SOLUTION
    mean = x.mean(axis=axes, keepdims=True)
    xhat = x - mean                                   # centred values (new array)
    var = np.square(xhat).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= inv_std                                   # in place: centred -> standardised
    return xhat, mean, var, inv_std
    ### END SOLUTION


def standardize_backward(dxhat, xhat, inv_std, axes):
    """Backward of :func:`standardize` (closed form).

    Parameters
    ----------
    dxhat : ndarray
        Upstream gradient with respect to ``xhat`` (statistics view).
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
    mean_g = dxhat.mean(axis=axes, keepdims=True)                 # gradient through the mean
    mean_gx = (dxhat * xhat).mean(axis=axes, keepdims=True)       # gradient through the variance
    dx = dxhat - mean_g
    dx -= xhat * mean_gx
    dx *= inv_std
    return dx
    ### END SOLUTION


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
    out : ndarray, shape of x
    cache : NormCache
    mean, var : ndarray
        Statistics used (keepdims shape in the statistics view).
    """
    # TODO (optional): shared forward of the normalisation layers.
    ### BEGIN SOLUTION
    xs = x.reshape(stats_view)
    batch_stats = mean is None
    if batch_stats:
        xhat, mean, var, inv_std = standardize(xs, stats_axes, eps)
    else:
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (xs - mean) * inv_std
    g_shape = [1] * len(affine_view)
    for ax in range(len(affine_view)):
        if ax not in param_axes:
            g_shape[ax] = affine_view[ax]
    g = gamma.reshape(g_shape)
    out = xhat.reshape(affine_view) * g
    out += beta.reshape(g_shape)
    cache = NormCache(xhat, inv_std, g, tuple(stats_axes), tuple(affine_view),
                      tuple(param_axes), x.shape, gamma.shape, batch_stats)
    return out.reshape(x.shape), cache, mean, var
    ### END SOLUTION


def norm_backward(dout, cache):
    """Backward of :func:`norm_forward`.

    Parameters
    ----------
    dout : ndarray, shape ``cache.x_shape``
        Upstream gradient.
    cache : NormCache

    Returns
    -------
    dx : ndarray, shape ``cache.x_shape``
    dgamma, dbeta : ndarray, shape ``cache.param_shape``
        ``dgamma = sum(dout * xhat)``, ``dbeta = sum(dout)`` over ``param_axes``.
    """
    # TODO (optional): shared backward of the normalisation layers.
    ### BEGIN SOLUTION
    d = dout.reshape(cache.affine_view)
    xhat_a = cache.xhat.reshape(cache.affine_view)
    dbeta = d.sum(axis=cache.param_axes).reshape(cache.param_shape)
    dgamma = (d * xhat_a).sum(axis=cache.param_axes).reshape(cache.param_shape)
    dxhat = (d * cache.gamma).reshape(cache.xhat.shape)          # through y = gamma * xhat + beta
    if cache.batch_stats:
        dx = standardize_backward(dxhat, cache.xhat, cache.inv_std, cache.stats_axes)
    else:
        dx = dxhat * cache.inv_std                               # statistics were constants
    return dx.reshape(cache.x_shape), dgamma, dbeta
    ### END SOLUTION
