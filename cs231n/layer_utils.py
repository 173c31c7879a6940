"""Sandwich layers: common sequences of layers as one forward/backward pair.

Each ``*_forward`` returns ``(out, cache)`` and each ``*_backward(dout, cache)``
returns the gradients of the sandwich's array inputs in order, like the layers
they are made of (:mod:`cs231n.layers`, :mod:`cs231n.fast_layers`).
"""
from __future__ import annotations

from .fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from .layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

__all__ = [
    "affine_relu_forward", "affine_relu_backward",
    "affine_norm_relu_forward", "affine_norm_relu_backward",
    "conv_relu_forward", "conv_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward",
    "conv_norm_relu_pool_forward", "conv_norm_relu_pool_backward",
    "NORMALIZATIONS",
]

#: Normalisations accepted by the affine and conv sandwiches.
NORMALIZATIONS = (None, "batchnorm", "layernorm", "groupnorm")

# _RELU_AFTER_POOL: the "... - relu - max pool" sandwiches compute
# "max pool - relu" instead. ReLU is nondecreasing, so it commutes with taking a
# maximum: max_i relu(a_i) = relu(max_i a_i), and the outputs are identical.
# The gradients are identical too: when a window's maximum is positive, the
# first maximum of relu(a) is the first maximum of a (both routings pick it);
# when it is <= 0, the gradient is zero either way. The ReLU then runs on the
# pooled array (a 2x2 pool: a quarter of the values), forward and backward;
# measured in benchmarks/bench_train_step.py.


def affine_relu_forward(x, w, b):
    """Affine followed by ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward of :func:`affine_relu_forward`; returns ``dx, dw, db``."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def _norm_pair(normalization, spatial):
    """(forward, backward) of a normalisation name, or None for no normalisation."""
    if normalization is None:
        return None
    if spatial:
        table = {"batchnorm": (spatial_batchnorm_forward, spatial_batchnorm_backward),
                 "groupnorm": (spatial_groupnorm_forward, spatial_groupnorm_backward)}
    else:
        table = {"batchnorm": (batchnorm_forward, batchnorm_backward_alt),
                 "layernorm": (layernorm_forward, layernorm_backward)}
    if normalization not in table:
        allowed = ", ".join(repr(k) for k in (None, *table))
        raise ValueError(f"normalization must be one of {allowed}, got {normalization!r}")
    return table[normalization]


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    """Affine, then batch/layer norm (or none), then ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)
    gamma, beta : ndarray, shape (M,), or None without normalisation
    norm_param : dict or None
        ``bn_param`` or ``ln_param``.
    normalization : {None, 'batchnorm', 'layernorm'}

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
    """
    pair = _norm_pair(normalization, spatial=False)
    a, fc_cache = affine_forward(x, w, b)
    norm_cache = None
    if pair is not None:
        a, norm_cache = pair[0](a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, norm_cache, relu_cache, normalization)


def affine_norm_relu_backward(dout, cache):
    """Backward of :func:`affine_norm_relu_forward`.

    Returns
    -------
    dx, dw, db : ndarray
    dgamma, dbeta : ndarray or None
        None when the sandwich had no normalisation.
    """
    fc_cache, norm_cache, relu_cache, normalization = cache
    da = relu_backward(dout, relu_cache)
    dgamma = dbeta = None
    if normalization is not None:
        da, dgamma, dbeta = _norm_pair(normalization, spatial=False)[1](da, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(x, w, b, conv_param):
    """Convolution (fast) followed by ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``stride``, ``pad``.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
    cache : tuple
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward of :func:`conv_relu_forward`; returns ``dx, dw, db``."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convolution, spatial batch norm, ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b, gamma, beta : ndarray, shape (F,)
    conv_param, bn_param : dict

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
    cache : tuple
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward of :func:`conv_bn_relu_forward`; returns ``dx, dw, db, dgamma, dbeta``."""
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolution, ReLU, max pool.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param, pool_param : dict

    Returns
    -------
    out : ndarray, shape (N, F, H'', W'')
    cache : tuple
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    # Pool first, then ReLU (see _RELU_AFTER_POOL): same output, ReLU on fewer values.
    p, pool_cache = max_pool_forward_fast(a, pool_param)
    out, relu_cache = relu_forward(p)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache, need_dx=True):
    """Backward of :func:`conv_relu_pool_forward`; returns ``dx, dw, db``.

    ``need_dx=False`` skips the input gradient (``dx`` is None): a network's
    first layer does not need it, and it is half the convolution's backward.
    """
    conv_cache, relu_cache, pool_cache = cache
    dp = relu_backward(dout, relu_cache)      # the forward pooled first, then applied ReLU
    da = max_pool_backward_fast(dp, pool_cache)
    return conv_backward_fast(da, conv_cache, need_dx=need_dx)


def conv_norm_relu_pool_forward(x, w, b, gamma, beta, conv_param, norm_param, pool_param,
                                normalization, G=None):
    """Convolution, spatial batch/group norm (or none), ReLU, max pool.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    gamma, beta : ndarray, shape (F,) for batch norm, (1, F, 1, 1) for group
        norm, or None without normalisation
    conv_param, pool_param : dict
    norm_param : dict or None
        ``bn_param`` or ``gn_param``.
    normalization : {None, 'batchnorm', 'groupnorm'}
    G : int, optional
        Number of groups (group norm only).

    Returns
    -------
    out : ndarray, shape (N, F, H'', W'')
    cache : tuple
    """
    pair = _norm_pair(normalization, spatial=True)
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    norm_cache = None
    if normalization == "groupnorm":
        a, norm_cache = pair[0](a, gamma, beta, G, norm_param)
    elif pair is not None:
        a, norm_cache = pair[0](a, gamma, beta, norm_param)
    # Pool first, then ReLU (see _RELU_AFTER_POOL): same output, ReLU on fewer values.
    p, pool_cache = max_pool_forward_fast(a, pool_param)
    out, relu_cache = relu_forward(p)
    return out, (conv_cache, norm_cache, relu_cache, pool_cache, normalization)


def conv_norm_relu_pool_backward(dout, cache, need_dx=True):
    """Backward of :func:`conv_norm_relu_pool_forward`.

    ``need_dx=False`` skips the input gradient (``dx`` is None).

    Returns
    -------
    dx, dw, db : ndarray
    dgamma, dbeta : ndarray or None
    """
    conv_cache, norm_cache, relu_cache, pool_cache, normalization = cache
    dp = relu_backward(dout, relu_cache)      # the forward pooled first, then applied ReLU
    da = max_pool_backward_fast(dp, pool_cache)
    dgamma = dbeta = None
    if normalization is not None:
        da, dgamma, dbeta = _norm_pair(normalization, spatial=True)[1](da, norm_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache, need_dx=need_dx)
    return dx, dw, db, dgamma, dbeta
