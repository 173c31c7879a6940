"""Argument checks shared by every public function of the kit (private module).

Each helper raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right
kind, wrong value/shape) with a message that names the argument and says what was
expected, so a student can act on it. Helpers never modify their inputs.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_array",
    "check_array",
    "check_float_array",
    "check_ndim",
    "check_shape",
    "check_param_dict",
    "check_mode",
    "check_int",
    "check_positive_float",
    "check_probability",
    "check_labels",
]


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__}"


def check_array(name, x, ndim=None, min_ndim=None):
    """Require ``x`` to be a numpy array (optionally of a given ndim); return it."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {_describe(x)}")
    if ndim is not None:
        check_ndim(name, x, ndim)
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {x.shape}"
        )
    return x


as_array = check_array


def check_float_array(name, x, ndim=None, min_ndim=None):
    """Require a floating-point numpy array (float16/32/64); return it."""
    check_array(name, x, ndim=ndim, min_ndim=min_ndim)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got dtype "
            f"{x.dtype}; convert it with {name}.astype(np.float64)"
        )
    return x


def check_ndim(name, x, ndim):
    """Require ``x.ndim == ndim`` (or one of a tuple of ndims)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise ValueError(f"{name} must be {want}-dimensional, got shape {x.shape}")


def check_shape(name, a, expected, context=""):
    """Require ``a.shape == expected``; ``context`` explains where ``expected`` came from."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {tuple(expected)}, got {_describe(a)}")
    if a.shape != tuple(expected):
        extra = f" {context}" if context else ""
        raise ValueError(f"{name} has shape {a.shape}, expected {tuple(expected)}{extra}")
    return a


def check_param_dict(name, param, required=()):
    """Require a dict holding every key in ``required``; return it."""
    if not isinstance(param, dict):
        raise TypeError(f"{name} must be a dict, got {type(param).__name__}")
    for key in required:
        if key not in param:
            raise ValueError(f"{name} is missing the required key {key!r}")
    return param


def check_mode(name, param, modes=("train", "test")):
    """Return ``param['mode']`` after checking it is one of ``modes``."""
    check_param_dict(name, param, required=("mode",))
    mode = param["mode"]
    if not isinstance(mode, str) or mode not in modes:
        allowed = ", ".join(repr(m) for m in modes)
        raise ValueError(f"{name}['mode'] must be one of {allowed}, got {mode!r}")
    return mode


def check_int(name, v, minimum=None):
    """Require an integer (not bool) of at least ``minimum``; return it as ``int``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__} {v!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def check_positive_float(name, v, allow_zero=False):
    """Require a finite real number > 0 (or >= 0); return it as ``float``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(v).__name__} {v!r}")
    v = float(v)
    ok = v >= 0 if allow_zero else v > 0
    if not (np.isfinite(v) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {v}")
    return v


def check_probability(name, v, low_open=True, high_closed=True):
    """Require a number in (0, 1] (default) or [0, 1]; return it as ``float``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(v).__name__} {v!r}")
    v = float(v)
    low_ok = v > 0 if low_open else v >= 0
    high_ok = v <= 1 if high_closed else v < 1
    if not (low_ok and high_ok):
        interval = ("(" if low_open else "[") + "0, 1" + ("]" if high_closed else ")")
        raise ValueError(f"{name} must be in {interval}, got {v}")
    return v


def check_labels(name, y, n, num_classes):
    """Require integer labels of shape ``(n,)`` with ``0 <= y < num_classes``."""
    check_array(name, y, ndim=1)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} labels, expected {n} (one per row of the scores)")
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{name} must satisfy 0 <= y < {num_classes}, got values in [{y.min()}, {y.max()}]"
        )
    return y
