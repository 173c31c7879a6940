"""Numerical gradients by centred differences, for checking backward passes.

All functions perturb ``x`` **in place** one element at a time and restore it, so
``f`` must read ``x`` (not a copy made earlier). Use float64 arrays: with float32
the round-off of ``f`` swamps a difference quotient with ``h = 1e-5``.

The centred difference is

.. math:: \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose truncation error is :math:`O(h^2)`.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_array, check_positive_float

__all__ = [
    "rel_error",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "eval_numerical_gradient_blobs",
    "grad_check_sparse",
]


def rel_error(x, y):
    """Maximum elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    Parameters
    ----------
    x, y : array_like
        Arrays of the same shape (scalars allowed).

    Returns
    -------
    float
        The largest relative error; about 1e-7 or less means the two agree for
        float64 gradients.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _check_inputs(x, h):
    check_array("x", x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating-point array to be perturbed, got dtype {x.dtype}")
    return check_positive_float("h", h)


def _centred_pairs(f, x, h, indices=None):
    """Yield ``(index, f(x + h e_i), f(x - h e_i))`` for each index of ``x``.

    ``indices`` defaults to every index in C order. ``x`` is perturbed in place,
    one entry at a time, and each entry is restored before the next is perturbed.
    """
    for ix in np.ndindex(x.shape) if indices is None else indices:
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        yield ix, plus, minus


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; called with ``x`` itself (perturbed in place).
    x : ndarray, any shape
        Point at which to evaluate the gradient; restored on return.
    verbose : bool
        Print each index and its partial derivative.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : ndarray, same shape as x
        ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)``.
    """
    h = _check_inputs(x, h)
    grad = np.zeros_like(x)
    for ix, fxph, fxmh in _centred_pairs(f, x, h):
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of ``sum(f(x) * df)`` for an array-valued ``f``.

    This is the vector-Jacobian product a backward pass computes: with upstream
    gradient ``df = dL/df(x)``, the result is ``dL/dx``.

    Parameters
    ----------
    f : callable
        ``f(x) -> ndarray`` of the same shape as ``df``.
    x : ndarray, any shape
        Perturbed in place and restored.
    df : ndarray
        Upstream gradient, shape of ``f(x)``.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : ndarray, same shape as x
        ``grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2 h)``.
    """
    h = _check_inputs(x, h)
    grad = np.zeros_like(x)
    # copies: f may return a view of x, which the next perturbation would change
    for ix, pos, neg in _centred_pairs(lambda v: np.array(f(v), copy=True), x, h):
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Numerical gradients for a function of several arrays (official-kit helper).

    Parameters
    ----------
    f : callable
        ``f(*inputs) -> ndarray`` shaped like ``output``.
    inputs : sequence of ndarray
        Each is perturbed in place and restored.
    output : ndarray
        Upstream gradient, shape of ``f(*inputs)``.

    Returns
    -------
    list of ndarray
        ``d sum(f * output) / d input`` for each input.
    """
    grads = []
    for k, x in enumerate(inputs):
        def f_k(_, k=k):
            return f(*inputs)
        grads.append(eval_numerical_gradient_array(f_k, x, output, h=h))
    return grads


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare an analytic gradient with centred differences at random entries.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray
        Perturbed in place and restored.
    analytic_grad : ndarray, shape of x
    num_checks : int
        Number of random entries to check (printed one per line).
    seed : int or None
        Seed of the generator that picks the entries.

    Returns
    -------
    list of float
        The relative error at each checked entry.
    """
    h = _check_inputs(x, h)
    check_array("analytic_grad", analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"analytic_grad has shape {analytic_grad.shape}, expected {x.shape} (the shape of x)"
        )
    gen = np.random.default_rng(seed)
    errors = []
    picks = (tuple(int(gen.integers(m)) for m in x.shape) for _ in range(num_checks))
    for ix, fxph, fxmh in _centred_pairs(f, x, h, picks):
        num = (fxph - fxmh) / (2 * h)
        ana = analytic_grad[ix]
        err = abs(num - ana) / max(1e-12, abs(num) + abs(ana))
        errors.append(float(err))
        print(f"numerical: {num:f} analytic: {ana:f}, relative error: {err:e}")
    return errors
