"""Fully connected networks of any depth with optional batch/layer norm and dropout."""
from __future__ import annotations

import numpy as np

from .. import layer_utils as _layer_utils
from .. import layers as _layers
from .._checks import check_int, check_positive_float, check_probability
# As in the official starter, ``from cs231n.classifiers.fc_net import *`` also
# brings in every layer and sandwich layer: the official notebooks call
# ``batchnorm_forward``, ``dropout_forward``, ... after that one import.
from ..layer_utils import *  # noqa: F401,F403
from ..layers import *  # noqa: F401,F403

__all__ = ["FullyConnectedNet", *_layers.__all__, *_layer_utils.__all__]


def _model_rng(seed):
    """Where weight initialisation draws from.

    None: numpy's global random state (the ``np.random`` module itself, so
    ``rng.standard_normal(shape)`` is the course's ``np.random.randn(*shape)`` and
    ``np.random.seed(231)`` repeats it). An int seeds a generator of its own; a
    ``numpy.random.Generator`` is used as is. Either way the global state is then
    never touched.
    """
    if seed is None:
        return np.random
    if isinstance(seed, np.random.Generator):
        return seed
    check_int("seed", seed, minimum=0)
    return np.random.default_rng(seed)


def _dropout_param(keep, seed):
    """The CS231n dropout dict ``{"mode": "train", "p": keep}`` and where its masks come from.

    An int seed is kept as ``seed`` (as in the course: the same mask on every call,
    for gradient checks); a Generator goes under ``rng`` (fresh masks drawn from it);
    with no seed the masks come from numpy's global random state.
    """
    param = {"mode": "train", "p": keep}
    if isinstance(seed, np.random.Generator):
        param["rng"] = seed
    elif seed is not None:
        param["seed"] = seed
    return param


def _check_dtype(dtype):
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"dtype must be a floating-point type (np.float32 or np.float64), got {dt}")
    return dt


def _check_xy(X, y, input_shape, name="X"):
    """Check model inputs: X of shape (N, *input_shape); y None or N labels."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(X).__name__}")
    if X.ndim < 1 or int(np.prod(X.shape[1:])) != int(np.prod(input_shape)) or (
            len(input_shape) > 1 and X.shape[1:] != tuple(input_shape)):
        raise ValueError(
            f"{name} has shape {X.shape}, expected (N, {', '.join(map(str, input_shape))})"
        )
    if y is not None:
        if not isinstance(y, np.ndarray) or y.shape != (X.shape[0],):
            got = y.shape if isinstance(y, np.ndarray) else type(y).__name__
            raise ValueError(f"y must be an array of {X.shape[0]} labels (one per row of {name}), got {got}")


class FullyConnectedNet:
    """A fully connected network with an arbitrary number of hidden layers.

    Architecture (``L`` = ``len(hidden_dims) + 1`` affine layers)::

        {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    Parameters
    ----------
    hidden_dims : list of int
        Size of each hidden layer.
    input_dim : int
        Size of one input (``D``); inputs may have any shape that flattens to D.
    num_classes : int
        Number of classes ``C``.
    dropout_keep_ratio : float
        Probability of keeping a unit in dropout, in (0, 1]; 1 means no dropout.
    normalization : {None, 'batchnorm', 'layernorm'}
    reg : float
        L2 strength: the loss gains ``0.5 * reg * sum(W ** 2)`` over weights only.
    weight_scale : float
        Standard deviation of the normal initialisation of the weights.
    dtype : numpy float type
        All parameters and computations use it (float64 for gradient checks).
    seed : int, numpy.random.Generator or None
        None (default): weights and dropout masks are drawn from numpy's global
        random state, in the course's order, so ``np.random.seed(231)`` repeats
        them. An int seeds the weight initialisation and is kept as
        ``dropout_param['seed']``, making every dropout mask the same (useful for
        gradient checks); a Generator draws the weights and then the dropout masks
        (``dropout_param['rng']``). Either leaves the global state untouched.

    Attributes
    ----------
    params : dict of ndarray
        ``W1..WL`` (shapes ``(D_{i-1}, D_i)``), ``b1..bL``, and ``gamma1..gamma(L-1)``,
        ``beta1..beta(L-1)`` when normalised.
    num_layers, normalization, use_dropout, reg, dtype, dropout_param, bn_params
        As in the CS231n assignment.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None):
        if isinstance(hidden_dims, (int, np.integer)) or not hasattr(hidden_dims, "__iter__"):
            raise TypeError(f"hidden_dims must be a list of layer sizes, got {hidden_dims!r}")
        hidden_dims = [check_int(f"hidden_dims[{i}]", h, minimum=1) for i, h in enumerate(hidden_dims)]
        input_dim = check_int("input_dim", input_dim, minimum=1)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        keep = check_probability("dropout_keep_ratio", dropout_keep_ratio)
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError(
                f"normalization must be None, 'batchnorm' or 'layernorm', got {normalization!r}"
            )
        self.reg = check_positive_float("reg", reg, allow_zero=True)
        weight_scale = check_positive_float("weight_scale", weight_scale)
        self.dtype = _check_dtype(dtype).type
        rng = _model_rng(seed)

        self.normalization = normalization
        self.use_dropout = keep != 1
        self.num_layers = 1 + len(hidden_dims)
        self.input_dim = input_dim
        self.num_classes = num_classes
        self.params = {}
        # TODO: Initialise the parameters: W{i} ~ N(0, weight_scale^2) of shape
        # (dims[i-1], dims[i]), drawn layer by layer with rng.standard_normal(shape)
        # (rng is np.random itself when no seed is given), b{i} zeros; with
        # normalisation, gamma{i} ones and beta{i} zeros for every hidden layer.
        # Everything in self.dtype.
        ### BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = weight_scale * rng.standard_normal((dims[i - 1], dims[i]))
            self.params[f"b{i}"] = np.zeros(dims[i])
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i])
                self.params[f"beta{i}"] = np.zeros(dims[i])
        ### END SOLUTION

        # Dropout and normalisation state travels in plain dicts (CS231n API).
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = _dropout_param(keep, seed)
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        elif normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

    def loss(self, X, y=None):
        """Scores, or loss and gradients.

        Parameters
        ----------
        X : ndarray, shape (N, d_1, ..., d_k)
            Inputs, each flattening to ``input_dim`` values.
        y : ndarray of int, shape (N,), optional
            Labels. When None the network runs in test mode and returns scores.

        Returns
        -------
        scores : ndarray, shape (N, C)
            When ``y`` is None.
        loss : float, grads : dict
            Otherwise: the softmax loss plus ``0.5 * reg * sum(W**2)`` over the
            weights, and the gradient of every parameter, keyed like ``params``.
        """
        _check_xy(X, y, (self.input_dim,))
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        scores = None
        # TODO: Implement the forward pass, computing the class scores for X and
        # storing them in `scores`. Use the sandwich layers of layer_utils, dropout
        # after each ReLU when self.use_dropout, and pass self.dropout_param and
        # self.bn_params[i] to the dropout and normalisation layers.
        ### BEGIN SOLUTION
        caches = []
        h = X
        L = self.num_layers
        for i in range(1, L):
            gamma = self.params.get(f"gamma{i}")
            beta = self.params.get(f"beta{i}")
            norm_param = self.bn_params[i - 1] if self.normalization else None
            h, cache = affine_norm_relu_forward(h, self.params[f"W{i}"], self.params[f"b{i}"],
                                                gamma, beta, norm_param, self.normalization)
            drop_cache = None
            if self.use_dropout:
                h, drop_cache = dropout_forward(h, self.dropout_param)
            caches.append((cache, drop_cache))
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        ### END SOLUTION

        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # TODO: Implement the backward pass: softmax loss plus L2 regularisation
        # (0.5 * reg * sum(W**2) for every weight matrix, not the biases or
        # gamma/beta), and the gradient of every parameter in `grads`.
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            cache, drop_cache = caches[i - 1]
            if self.use_dropout:
                dh = dropout_backward(dh, drop_cache)
            dh, dw, db, dgamma, dbeta = affine_norm_relu_backward(dh, cache)
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
            if self.normalization is not None:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * float(np.sum(W * W))
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * W
        ### END SOLUTION
        return loss, grads
