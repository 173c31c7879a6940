"""First-order update rules for training neural networks.

Every rule has the signature::

    next_w, config = rule(w, dw, config=None)

where

- ``w`` is an array holding the current weights (any shape, floating point),
- ``dw`` is an array of the same shape holding the gradient of the loss with
  respect to ``w``,
- ``config`` is a dict of hyperparameters (learning rate, momentum, ...) and of the
  state the rule carries from one step to the next (velocity, moving averages,
  step count). Missing keys get the defaults listed in each docstring. The dict
  is updated in place and also returned, so a caller (the ``Solver``) keeps one
  config per parameter and passes it back at the next step.

``next_w`` has the shape and dtype of ``w`` (float32 weights stay float32, and so do
the state arrays stored in ``config``). ``w`` and ``dw`` are never modified.

Hyperparameters are checked before anything is written to ``config``: a bad value
raises ``TypeError``/``ValueError`` naming the key and leaves the dict untouched.

Notation used in the docstrings: :math:`\\eta` learning rate, :math:`g` = ``dw``,
element-wise products and square roots.
"""
from __future__ import annotations

import numpy as np

from ._checks import (
    check_float_array,
    check_int,
    check_param_dict,
    check_positive_float,
    check_probability,
    check_shape,
)

__all__ = ["sgd", "sgd_momentum", "rmsprop", "adam"]


# ---------------------------------------------------------------------------
# argument checks (kit infrastructure)
# ---------------------------------------------------------------------------
def _check_args(rule, w, dw, config):
    """Check ``w``/``dw``/``config``; return the config dict to use (new if None)."""
    check_float_array("w", w)
    check_float_array("dw", dw)
    check_shape("dw", dw, w.shape, context=f"to match w in {rule}()")
    if config is None:
        return {}
    return check_param_dict("config", config)


def _learning_rate(name, value):
    # Zero is allowed (it freezes the weights); negative or non-finite is not.
    return check_positive_float(name, value, allow_zero=True)


def _positive(name, value):
    return check_positive_float(name, value)


def _unit_interval(name, value):
    # Decay factors and momenta live in [0, 1): 1 would never forget anything.
    return check_probability(name, value, low_open=False, high_closed=False)


def _step_count(name, value):
    # Adam's t counts the updates made so far: an integer >= 0.
    return check_int(name, value, minimum=0)


def _check_hyperparameters(config, spec):
    """Check the hyperparameters ``spec = {key: (default, checker)}`` without writing."""
    for key, (default, checker) in spec.items():
        checker(f"config[{key!r}]", config.get(key, default))


def _check_state(config, w, *keys):
    """Check that state arrays already in ``config`` have the shape of ``w``."""
    for key in keys:
        if key in config:
            check_float_array(f"config[{key!r}]", config[key])
            check_shape(f"config[{key!r}]", config[key], w.shape, context="to match w")


def _set_defaults(config, w, spec, *state_keys):
    """Write the defaults of ``spec`` and zero state arrays for missing keys."""
    for key, (default, _) in spec.items():
        config.setdefault(key, default)
    for key in state_keys:
        if key not in config:
            config[key] = np.zeros_like(w)


def _prepare(rule, w, dw, config, spec, *state_keys):
    """Check everything first, then fill in defaults; return the config to use.

    Nothing is written to the caller's ``config`` unless every check passes.
    """
    config = _check_args(rule, w, dw, config)
    _check_hyperparameters(config, spec)
    _check_state(config, w, *state_keys)
    _set_defaults(config, w, spec, *state_keys)
    return config


def _as_dtype(a, dtype):
    """``a`` cast to ``dtype`` (no copy when it already has it)."""
    return np.asarray(a).astype(dtype, copy=False)


# ---------------------------------------------------------------------------
# update rules
# ---------------------------------------------------------------------------
_SGD = {"learning_rate": (1e-2, _learning_rate)}


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent.

    .. math:: w \\leftarrow w - \\eta\\, g

    Parameters
    ----------
    w : ndarray, any shape, floating point
        Current weights (not modified).
    dw : ndarray, shape of ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        ``learning_rate`` (float, default 1e-2).

    Returns
    -------
    next_w : ndarray, shape and dtype of ``w``
        Updated weights.
    config : dict
        The same dict (created when None was passed), defaults filled in.
    """
    config = _prepare("sgd", w, dw, config, _SGD)

    next_w = w - config["learning_rate"] * dw
    return _as_dtype(next_w, w.dtype), config


_MOMENTUM = {"learning_rate": (1e-2, _learning_rate), "momentum": (0.9, _unit_interval)}


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    .. math::

        v &\\leftarrow \\mu\\, v - \\eta\\, g \\\\
        w &\\leftarrow w + v

    Parameters
    ----------
    w : ndarray, any shape, floating point
        Current weights (not modified).
    dw : ndarray, shape of ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        - ``learning_rate`` :math:`\\eta` (float, default 1e-2);
        - ``momentum`` :math:`\\mu` in [0, 1) (float, default 0.9);
        - ``velocity`` :math:`v` (ndarray, shape of ``w``, default zeros): moving
          average of the gradients, updated by this call.

    Returns
    -------
    next_w : ndarray, shape and dtype of ``w``
        Updated weights.
    config : dict
        The same dict with the new ``velocity`` (dtype of ``w``).
    """
    config = _prepare("sgd_momentum", w, dw, config, _MOMENTUM, "velocity")
    v = config["velocity"]

    next_w = None
    # TODO: Implement the momentum update formula. Store the updated value in the
    # next_w variable. You should also use and update the velocity v.
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION

    config["velocity"] = _as_dtype(v, w.dtype)
    return _as_dtype(next_w, w.dtype), config


_RMSPROP = {
    "learning_rate": (1e-2, _learning_rate),
    "decay_rate": (0.99, _unit_interval),
    "epsilon": (1e-8, _positive),
}


def rmsprop(w, dw, config=None):
    """RMSProp: scale the step by a moving average of squared gradients.

    .. math::

        c &\\leftarrow \\rho\\, c + (1 - \\rho)\\, g^2 \\\\
        w &\\leftarrow w - \\eta\\, g / (\\sqrt{c} + \\epsilon)

    Parameters
    ----------
    w : ndarray, any shape, floating point
        Current weights (not modified).
    dw : ndarray, shape of ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        - ``learning_rate`` :math:`\\eta` (float, default 1e-2);
        - ``decay_rate`` :math:`\\rho` in [0, 1) (float, default 0.99);
        - ``epsilon`` :math:`\\epsilon` > 0 (float, default 1e-8), avoids division by 0;
        - ``cache`` :math:`c` (ndarray, shape of ``w``, default zeros): moving
          average of the squared gradients, updated by this call.

    Returns
    -------
    next_w : ndarray, shape and dtype of ``w``
        Updated weights.
    config : dict
        The same dict with the new ``cache`` (dtype of ``w``).
    """
    config = _prepare("rmsprop", w, dw, config, _RMSPROP, "cache")

    next_w = None
    # TODO: Implement the RMSprop update formula, storing the next value of w in
    # the next_w variable. Don't forget to update the cache value stored in
    # config['cache'].
    ### BEGIN SOLUTION
    rho = config["decay_rate"]
    cache = rho * config["cache"] + (1 - rho) * (dw * dw)
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    ### END SOLUTION

    config["cache"] = _as_dtype(config["cache"], w.dtype)
    return _as_dtype(next_w, w.dtype), config


_ADAM = {
    "learning_rate": (1e-3, _learning_rate),
    "beta1": (0.9, _unit_interval),
    "beta2": (0.999, _unit_interval),
    "epsilon": (1e-8, _positive),
    "t": (0, _step_count),
}


def adam(w, dw, config=None):
    """Adam: momentum on the gradient and RMSProp scaling, both bias-corrected.

    The step count is incremented **before** it is used:

    .. math::

        t &\\leftarrow t + 1 \\\\
        m &\\leftarrow \\beta_1 m + (1 - \\beta_1)\\, g \\\\
        v &\\leftarrow \\beta_2 v + (1 - \\beta_2)\\, g^2 \\\\
        \\hat m &= m / (1 - \\beta_1^t), \\qquad \\hat v = v / (1 - \\beta_2^t) \\\\
        w &\\leftarrow w - \\eta\\, \\hat m / (\\sqrt{\\hat v} + \\epsilon)

    so the very first step (from zero moments) moves every weight by about
    :math:`\\eta` against the sign of its gradient.

    Parameters
    ----------
    w : ndarray, any shape, floating point
        Current weights (not modified).
    dw : ndarray, shape of ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        - ``learning_rate`` :math:`\\eta` (float, default 1e-3);
        - ``beta1`` :math:`\\beta_1` in [0, 1) (float, default 0.9);
        - ``beta2`` :math:`\\beta_2` in [0, 1) (float, default 0.999);
        - ``epsilon`` :math:`\\epsilon` > 0 (float, default 1e-8);
        - ``m``, ``v`` (ndarray, shape of ``w``, default zeros): moving averages
          of the gradient and of its square;
        - ``t`` (int >= 0, default 0): number of steps taken so far.

    Returns
    -------
    next_w : ndarray, shape and dtype of ``w``
        Updated weights.
    config : dict
        The same dict with the new ``m``, ``v`` (dtype of ``w``) and ``t``.
    """
    config = _prepare("adam", w, dw, config, _ADAM, "m", "v")

    next_w = None
    # TODO: Implement the Adam update formula, storing the next value of w in
    # the next_w variable. Don't forget to update the m, v, and t variables
    # stored in config.
    #
    # NOTE: In order to match the reference output, please modify t _before_
    # using it in any calculations.
    ### BEGIN SOLUTION
    b1, b2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    m = b1 * config["m"] + (1 - b1) * dw
    v = b2 * config["v"] + (1 - b2) * (dw * dw)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["m"] = m
    config["v"] = v
    ### END SOLUTION

    config["m"] = _as_dtype(config["m"], w.dtype)
    config["v"] = _as_dtype(config["v"], w.dtype)
    return _as_dtype(next_w, w.dtype), config
