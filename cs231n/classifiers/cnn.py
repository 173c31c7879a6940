"""Convolutional networks: the assignment's ThreeLayerConvNet and a configurable ConvNet."""
from __future__ import annotations

import numpy as np

from .. import fast_layers as _fast_layers
from .. import layer_utils as _layer_utils
from .. import layers as _layers
from .._checks import check_int, check_positive_float, check_probability
# As in the official starter, ``from cs231n.classifiers.cnn import *`` also
# brings in the layers, the fast layers and the sandwich layers.
from ..fast_layers import *  # noqa: F401,F403
from ..layer_utils import *  # noqa: F401,F403
from ..layers import *  # noqa: F401,F403
from .fc_net import _check_dtype, _check_xy, _dropout_param, _model_rng

__all__ = ["ThreeLayerConvNet", "ConvNet", *_layers.__all__, *_fast_layers.__all__,
           *_layer_utils.__all__]

_POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _check_input_dim(input_dim):
    if not (isinstance(input_dim, (tuple, list)) and len(input_dim) == 3):
        raise ValueError(f"input_dim must be a tuple (C, H, W), got {input_dim!r}")
    return tuple(check_int(f"input_dim[{i}]", v, minimum=1) for i, v in enumerate(input_dim))


def _l2(model, grads, loss, weight_names):
    """Add ``0.5 * reg * sum(W**2)`` to the loss and ``reg * W`` to each weight's gradient."""
    for name in weight_names:
        W = model.params[name]
        loss += 0.5 * model.reg * float(np.sum(W * W))
        grads[name] = grads[name] + model.reg * W
    return loss


class ThreeLayerConvNet:
    """A three-layer convolutional network::

        conv - relu - 2x2 max pool - affine - relu - affine - softmax

    The convolution keeps the spatial size (stride 1, ``pad = (filter_size - 1) // 2``).

    Parameters
    ----------
    input_dim : tuple (C, H, W)
    num_filters : int
        Filters ``F`` of the convolution.
    filter_size : int
        Width and height of each filter (odd sizes keep H and W exactly).
    hidden_dim : int
        Units of the hidden affine layer.
    num_classes : int
    weight_scale : float
        Standard deviation of the normal initialisation of the weights.
    reg : float
        L2 strength (``0.5 * reg * sum(W**2)`` over W1, W2, W3).
    dtype : numpy float type
    seed : int, numpy.random.Generator or None
        Seeds the weight initialisation; None (default) draws W1, W2, W3 in that
        order from numpy's global random state, as the course does, so
        ``np.random.seed(231)`` repeats them.

    Attributes
    ----------
    params : dict
        ``W1 (F, C, fs, fs)``, ``b1 (F,)``, ``W2 (F * H/2 * W/2, hidden_dim)``,
        ``b2 (hidden_dim,)``, ``W3 (hidden_dim, num_classes)``, ``b3 (num_classes,)``.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32, seed=None):
        C, H, W = _check_input_dim(input_dim)
        F = check_int("num_filters", num_filters, minimum=1)
        fs = check_int("filter_size", filter_size, minimum=1)
        hidden_dim = check_int("hidden_dim", hidden_dim, minimum=1)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        weight_scale = check_positive_float("weight_scale", weight_scale)
        self.reg = check_positive_float("reg", reg, allow_zero=True)
        self.dtype = _check_dtype(dtype).type
        if H < 2 or W < 2:
            raise ValueError(f"input_dim {input_dim} is too small for a 2x2 max pool")
        rng = _model_rng(seed)
        self.input_dim = (C, H, W)
        self.filter_size = fs
        self.params = {}
        # TODO: Initialise W1, b1 (convolution), W2, b2 (hidden affine) and W3, b3
        # (output affine): weights ~ N(0, weight_scale^2) drawn in that order with
        # rng.standard_normal(shape) (rng is np.random when no seed is given),
        # biases zero.
        ### BEGIN SOLUTION
        Ho, Wo = H // 2, W // 2      # same-size conv, then a 2x2 pool
        self.params["W1"] = weight_scale * rng.standard_normal((F, C, fs, fs))
        self.params["b1"] = np.zeros(F)
        self.params["W2"] = weight_scale * rng.standard_normal((F * Ho * Wo, hidden_dim))
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * rng.standard_normal((hidden_dim, num_classes))
        self.params["b3"] = np.zeros(num_classes)
        ### END SOLUTION
        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

    def loss(self, X, y=None):
        """Scores, or loss and gradients (same contract as FullyConnectedNet.loss).

        Parameters
        ----------
        X : ndarray, shape (N, C, H, W)
        y : ndarray of int, shape (N,), optional

        Returns
        -------
        scores : ndarray, shape (N, num_classes), when y is None
        loss : float, grads : dict, otherwise
        """
        _check_xy(X, y, self.input_dim)
        X = X.astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        conv_param = {"stride": 1, "pad": (self.filter_size - 1) // 2}
        pool_param = dict(_POOL_2X2)
        scores = None
        # TODO: Implement the forward pass, computing the class scores for X.
        ### BEGIN SOLUTION
        h1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        h2, cache2 = affine_relu_forward(h1, W2, b2)
        scores, cache3 = affine_forward(h2, W3, b3)
        ### END SOLUTION
        if y is None:
            return scores
        loss, grads = 0, {}
        # TODO: Implement the backward pass: softmax loss plus L2 regularisation
        # on the weights, gradients keyed like self.params.
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        dh2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
        dh1, grads["W2"], grads["b2"] = affine_relu_backward(dh2, cache2)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dh1, cache1, need_dx=False)
        loss = _l2(self, grads, loss, ("W1", "W2", "W3"))
        ### END SOLUTION
        return loss, grads


class ConvNet:
    """A configurable convolutional network::

        [conv - norm - relu - 2x2 max pool] x K - [affine - norm - relu - dropout] x M
        - affine - softmax

    Convolutions keep the spatial size (stride 1, ``pad = (filter_size - 1) // 2``);
    each block's pool halves it (floor).

    Parameters
    ----------
    input_dim : tuple (C, H, W)
    num_filters : sequence of int
        Filters of each of the K convolutional blocks.
    filter_size : int
    hidden_dims : sequence of int
        Units of each of the M hidden affine blocks (may be empty).
    num_classes : int
    normalization : {None, 'batchnorm', 'groupnorm'}
        'batchnorm': spatial batch norm in the conv blocks, batch norm in the
        affine blocks. 'groupnorm': spatial group norm with ``num_groups`` groups
        in the conv blocks, layer norm (group norm with one group) in the affine
        blocks.
    num_groups : int
        Groups of the group norm; must divide every entry of ``num_filters``.
    dropout_keep_ratio : float
        Keep probability of dropout in the affine blocks, (0, 1]; 1 = none.
    weight_scale : float or None
        Standard deviation of the weights; None (default) uses He initialisation,
        ``sqrt(2 / fan_in)`` per layer.
    reg : float
        L2 strength over all weights.
    dtype : numpy float type
    seed : int, numpy.random.Generator or None
        Seeds the weight initialisation and dropout as in FullyConnectedNet; None
        (default) draws both from numpy's global random state.

    Attributes
    ----------
    params : dict
        ``W1..W(K+M+1)``, ``b...``; ``gamma{i}``/``beta{i}`` for normalised
        blocks (shape (F,) for batch norm, (1, F, 1, 1) for group norm,
        (hidden,) in affine blocks).
    bn_params : list of dict
        One norm-param dict per normalised block.
    dropout_param : dict
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=(32, 64), filter_size=3,
                 hidden_dims=(128,), num_classes=10, normalization=None, num_groups=8,
                 dropout_keep_ratio=1, weight_scale=None, reg=0.0, dtype=np.float32, seed=None):
        C, H, W = _check_input_dim(input_dim)
        num_filters = [check_int(f"num_filters[{i}]", f, minimum=1) for i, f in enumerate(num_filters)]
        hidden_dims = [check_int(f"hidden_dims[{i}]", h, minimum=1) for i, h in enumerate(hidden_dims)]
        fs = check_int("filter_size", filter_size, minimum=1)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        if normalization not in (None, "batchnorm", "groupnorm"):
            raise ValueError(
                f"normalization must be None, 'batchnorm' or 'groupnorm', got {normalization!r}"
            )
        G = check_int("num_groups", num_groups, minimum=1)
        if normalization == "groupnorm":
            bad = [f for f in num_filters if f % G]
            if bad:
                raise ValueError(f"num_groups={G} must divide every entry of num_filters, not {bad}")
        keep = check_probability("dropout_keep_ratio", dropout_keep_ratio)
        if weight_scale is not None:
            weight_scale = check_positive_float("weight_scale", weight_scale)
        self.reg = check_positive_float("reg", reg, allow_zero=True)
        self.dtype = _check_dtype(dtype).type
        if (H >> len(num_filters)) < 1 or (W >> len(num_filters)) < 1:
            raise ValueError(
                f"input_dim {input_dim} is too small for {len(num_filters)} 2x2 max pools"
            )
        rng = _model_rng(seed)

        self.input_dim = (C, H, W)
        self.filter_size = fs
        self.normalization = normalization
        self.num_groups = G
        self.num_conv = len(num_filters)
        self.num_hidden = len(hidden_dims)
        self.num_layers = self.num_conv + self.num_hidden + 1
        self.use_dropout = keep != 1

        def init(shape, fan_in):
            std = weight_scale if weight_scale is not None else np.sqrt(2.0 / fan_in)
            return std * rng.standard_normal(shape)

        self.params = {}
        self.bn_params = []
        c, h, w = C, H, W
        for i, F in enumerate(num_filters, start=1):
            self.params[f"W{i}"] = init((F, c, fs, fs), c * fs * fs)
            self.params[f"b{i}"] = np.zeros(F)
            if normalization is not None:
                pshape = (F,) if normalization == "batchnorm" else (1, F, 1, 1)
                self.params[f"gamma{i}"] = np.ones(pshape)
                self.params[f"beta{i}"] = np.zeros(pshape)
                self.bn_params.append({"mode": "train"} if normalization == "batchnorm" else {})
            c, h, w = F, h // 2, w // 2
        d = c * h * w
        for j, hd in enumerate(hidden_dims, start=self.num_conv + 1):
            self.params[f"W{j}"] = init((d, hd), d)
            self.params[f"b{j}"] = np.zeros(hd)
            if normalization is not None:
                self.params[f"gamma{j}"] = np.ones(hd)
                self.params[f"beta{j}"] = np.zeros(hd)
                self.bn_params.append({"mode": "train"} if normalization == "batchnorm" else {})
            d = hd
        L = self.num_layers
        self.params[f"W{L}"] = init((d, num_classes), d)
        self.params[f"b{L}"] = np.zeros(num_classes)
        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = _dropout_param(keep, seed)

    def loss(self, X, y=None):
        """Scores, or loss and gradients (same contract as FullyConnectedNet.loss).

        Parameters
        ----------
        X : ndarray, shape (N, C, H, W)
        y : ndarray of int, shape (N,), optional

        Returns
        -------
        scores : ndarray, shape (N, num_classes), when y is None
        loss : float, grads : dict, otherwise
        """
        _check_xy(X, y, self.input_dim)
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for p in self.bn_params:
            if self.normalization == "batchnorm":
                p["mode"] = mode
        norm = self.normalization
        fc_norm = {"batchnorm": "batchnorm", "groupnorm": "layernorm", None: None}[norm]
        conv_param = {"stride": 1, "pad": (self.filter_size - 1) // 2}
        caches = []
        h = X
        for i in range(1, self.num_layers):
            P = self.params
            norm_param = self.bn_params[i - 1] if norm else None
            gamma, beta = P.get(f"gamma{i}"), P.get(f"beta{i}")
            if i <= self.num_conv:
                h, cache = conv_norm_relu_pool_forward(
                    h, P[f"W{i}"], P[f"b{i}"], gamma, beta, conv_param, norm_param,
                    dict(_POOL_2X2), norm, self.num_groups)
                caches.append((cache, None))
            else:
                h, cache = affine_norm_relu_forward(h, P[f"W{i}"], P[f"b{i}"], gamma, beta,
                                                    norm_param, fc_norm)
                drop_cache = None
                if self.use_dropout:
                    h, drop_cache = dropout_forward(h, self.dropout_param)
                caches.append((cache, drop_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            cache, drop_cache = caches[i - 1]
            if i <= self.num_conv:
                # the first layer's input is the data: skip its gradient
                dh, dw, db, dgamma, dbeta = conv_norm_relu_pool_backward(dh, cache, need_dx=i > 1)
            else:
                if self.use_dropout:
                    dh = dropout_backward(dh, drop_cache)
                dh, dw, db, dgamma, dbeta = affine_norm_relu_backward(dh, cache)
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
            if norm is not None:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        loss = _l2(self, grads, loss, [f"W{i}" for i in range(1, L + 1)])
        return loss, grads
