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


def _refuse_matrix(name, x):
    """``np.matrix`` is an ndarray whose ``*`` is a matrix product and whose
    reductions keep two dimensions: elementwise layer code would silently compute
    something else, so it is refused."""
    if isinstance(x, np.matrix):
        raise TypeError(f"{name} must be a numpy array, not np.matrix; convert it with "
                        f"np.asarray({name})")


def check_array(name, x, ndim=None, min_ndim=None):
    """Require ``x`` to be a numpy array, not ``np.matrix`` (optionally of a given ndim)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {_describe(x)}")
    _refuse_matrix(name, x)
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
    _refuse_matrix(name, a)
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


def pool_settings(x, pool_param, float_only=False):
    """Check the arguments of a max-pooling layer.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input (a floating-point array when ``float_only``).
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride``: integers >= 1.
    float_only : bool
        Require a floating-point ``x`` (the fast layer) rather than any
        numeric one (the naive layer).

    Returns
    -------
    ph, pw, stride, Ho, Wo : int
        Pool size, stride and output size ``Ho = 1 + (H - ph) // stride``,
        ``Wo = 1 + (W - pw) // stride`` (leftover rows and columns are ignored).

    Raises
    ------
    TypeError, ValueError
        Naming the argument and what was expected.
    """
    check = check_float_array if float_only else check_array
    check("x", x, ndim=4)
    check_param_dict("pool_param", pool_param, required=("pool_height", "pool_width", "stride"))
    ph = check_int("pool_param['pool_height']", pool_param["pool_height"], minimum=1)
    pw = check_int("pool_param['pool_width']", pool_param["pool_width"], minimum=1)
    stride = check_int("pool_param['stride']", pool_param["stride"], minimum=1)
    H, W = x.shape[2:]
    if ph > H or pw > W:
        raise ValueError(
            f"the pool ({ph}x{pw}) is larger than the input ({H}x{W} of x with shape {x.shape})"
        )
    return ph, pw, stride, 1 + (H - ph) // stride, 1 + (W - pw) // stride


def conv_settings(x, w, b, conv_param, float_only=False):
    """Check the arguments of a convolutional layer.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``stride`` (integer >= 1, default 1), ``pad`` (integer >= 0, default 0).
    float_only : bool
        Require floating-point arrays (the fast layer) rather than any numeric
        ones (the naive layer).

    Returns
    -------
    stride, pad, Ho, Wo : int
        ``Ho = 1 + (H + 2 pad - HH) // stride``, likewise ``Wo`` (rows and
        columns a stride leaves over at the bottom/right edge are ignored).

    Raises
    ------
    TypeError, ValueError
        Naming the argument and what was expected.
    """
    check = check_float_array if float_only else check_array
    check("x", x, ndim=4)
    check("w", w, ndim=4)
    H, W = x.shape[2:]
    F, Cw, HH, WW = w.shape
    if Cw != x.shape[1]:
        raise ValueError(
            f"w has shape {w.shape}, expected (F, {x.shape[1]}, HH, WW): its channels must "
            f"match x of shape {x.shape}"
        )
    if 0 in w.shape:
        raise ValueError(f"w has shape {w.shape}: filters, channels and the filter's height "
                         "and width must each be at least 1")
    check("b", b)
    check_shape("b", b, (F,), f"to match w of shape {w.shape}")
    check_param_dict("conv_param", conv_param)
    stride = check_int("conv_param['stride']", conv_param.get("stride", 1), minimum=1)
    pad = check_int("conv_param['pad']", conv_param.get("pad", 0), minimum=0)
    if H + 2 * pad < HH or W + 2 * pad < WW:
        raise ValueError(
            f"the filter ({HH}x{WW}) is larger than the padded input "
            f"({H + 2 * pad}x{W + 2 * pad}); increase conv_param['pad'] or use a smaller filter"
        )
    return stride, pad, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
