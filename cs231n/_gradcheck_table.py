"""Numerical gradient check of every layer's backward pass (``python -m cs231n gradcheck``).

Private module of the command line. Each check builds small float64 inputs from one
seeded generator, runs the layer's forward and backward pass, computes the same
gradients by centred differences (:mod:`cs231n.gradient_check`) and compares them
with :func:`~cs231n.gradient_check.rel_error`,

.. math:: \\max_i \\frac{|a_i - n_i|}{\\max(10^{-8}, |a_i| + |n_i|)},

against a tolerance per row. The tolerances sit about two orders of magnitude above
the errors a correct float64 implementation shows (typically 1e-12 .. 1e-8), and
many orders below what a wrong gradient gives (about 1e-2 .. 1).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from . import fast_layers as fl
from . import layers as L
from .gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

__all__ = ["Row", "CHECKS", "run_checks", "format_table"]


class Row(NamedTuple):
    """One line of the table."""

    layer: str
    param: str
    error: float | None
    tolerance: float
    status: str          # "PASS", "FAIL", "TODO" (not implemented) or "ERROR"
    note: str = ""

    @property
    def ok(self):
        return self.status == "PASS"


def _compare(layer, pairs, tolerances):
    """Rows for ``pairs`` = ``[(param, analytic, numeric), ...]``.

    ``tolerances`` is one float for every parameter or a dict by parameter name.
    """
    rows = []
    for param, analytic, numeric in pairs:
        tolerance = tolerances[param] if isinstance(tolerances, dict) else tolerances
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != numeric.shape:
            rows.append(Row(layer, param, None, tolerance, "FAIL",
                            f"gradient has shape {analytic.shape}, expected {numeric.shape}"))
            continue
        err = rel_error(analytic, numeric)
        ok = np.isfinite(err) and err <= tolerance
        rows.append(Row(layer, param, err, tolerance, "PASS" if ok else "FAIL"))
    return rows


def _array_check(layer, forward, backward, inputs, names, tolerance, rng):
    """Check ``backward`` against ``forward`` for array inputs ``inputs``.

    ``tolerance``: a float, or a dict by input name.

    ``forward(*inputs) -> (out, cache)``, ``backward(dout, cache) -> grads`` (one per
    input, in order). The upstream gradient ``dout`` is drawn from ``rng``.
    """
    out, cache = forward(*inputs)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    numeric = []
    for k, x in enumerate(inputs):
        def f(_, k=k):
            return forward(*inputs)[0]
        numeric.append(eval_numerical_gradient_array(f, x, dout))
    return _compare(layer, list(zip(names, grads, numeric)), tolerance)


def _scalar_check(layer, loss, x, y, tolerance):
    _, dx = loss(x, y)
    numeric = eval_numerical_gradient(lambda z: loss(z, y)[0], x, verbose=False)
    return _compare(layer, [("x", dx, numeric)], tolerance)


# --------------------------------------------------------------------------- #
# The checks (each: rng -> list of Row)
# --------------------------------------------------------------------------- #
def _affine(rng):
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    return _array_check("affine", L.affine_forward, L.affine_backward, (x, w, b),
                        ("x", "w", "b"), 1e-6, rng)


def _relu(rng):
    x = rng.standard_normal((6, 8))
    x[np.abs(x) < 1e-3] = 0.5   # keep clear of the kink at 0
    return _array_check("relu", L.relu_forward, L.relu_backward, (x,), ("x",), 1e-9, rng)


def _softmax(rng):
    x = 0.1 * rng.standard_normal((8, 5))
    return _scalar_check("softmax_loss", L.softmax_loss, x, rng.integers(5, size=8), 1e-7)


def _svm(rng):
    x = rng.standard_normal((8, 5))
    return _scalar_check("svm_loss", L.svm_loss, x, rng.integers(5, size=8), 1e-7)


# dx of a normalisation sums to zero over the normalised axes, so some of its entries
# are tiny and their elementwise relative error is dominated by round-off (up to ~1e-5
# over many seeds); gamma and beta gradients are well conditioned.
_NORM_TOL = {"x": 1e-4, "gamma": 1e-7, "beta": 1e-7}


def _bn_inputs(rng, N=6, D=5):
    x = 2 * rng.standard_normal((N, D)) + 3
    return x, rng.standard_normal(D), rng.standard_normal(D)


def _batchnorm(rng, backward, layer):
    def forward(x, g, b):
        return L.batchnorm_forward(x, g, b, {"mode": "train"})
    return _array_check(layer, forward, backward, _bn_inputs(rng), ("x", "gamma", "beta"),
                        _NORM_TOL, rng)


def _layernorm(rng):
    def forward(x, g, b):
        return L.layernorm_forward(x, g, b, {})
    return _array_check("layernorm", forward, L.layernorm_backward, _bn_inputs(rng),
                        ("x", "gamma", "beta"), _NORM_TOL, rng)


def _spatial_bn(rng):
    x = 2 * rng.standard_normal((2, 3, 4, 5)) + 3

    def forward(x, g, b):
        return L.spatial_batchnorm_forward(x, g, b, {"mode": "train"})
    return _array_check("spatial_batchnorm", forward, L.spatial_batchnorm_backward,
                        (x, rng.standard_normal(3), rng.standard_normal(3)),
                        ("x", "gamma", "beta"), _NORM_TOL, rng)


def _groupnorm(rng):
    C, G = 6, 2
    x = 2 * rng.standard_normal((2, C, 4, 5)) + 3

    def forward(x, g, b):
        return L.spatial_groupnorm_forward(x, g, b, G, {})
    return _array_check("spatial_groupnorm", forward, L.spatial_groupnorm_backward,
                        (x, rng.standard_normal((1, C, 1, 1)), rng.standard_normal((1, C, 1, 1))),
                        ("x", "gamma", "beta"), _NORM_TOL, rng)


def _dropout(rng):
    x = rng.standard_normal((10, 10)) + 10

    def forward(x):
        # A seed in dropout_param gives the same mask on every call.
        return L.dropout_forward(x, {"mode": "train", "p": 0.2, "seed": 123})
    return _array_check("dropout", forward, L.dropout_backward, (x,), ("x",), 1e-9, rng)


def _conv(rng, forward, backward, layer):
    x, w, b = (rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 3, 3, 3)),
               rng.standard_normal(3))
    conv_param = {"stride": 2, "pad": 1}

    def fwd(x, w, b):
        return forward(x, w, b, conv_param)
    return _array_check(layer, fwd, backward, (x, w, b), ("x", "w", "b"),
                        {"x": 1e-5, "w": 1e-5, "b": 1e-7}, rng)


def _pool(rng, forward, backward, layer):
    # Distinct values spaced far more than the step h = 1e-5: no ties, no argmax flips.
    x = rng.permutation(3 * 2 * 6 * 6).reshape(3, 2, 6, 6) * 0.01 + 0.005
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    def fwd(x):
        return forward(x, pool_param)
    return _array_check(layer, fwd, backward, (x,), ("x",), 1e-9, rng)


class Check(NamedTuple):
    """A named gradient check: ``run(rng) -> list of Row``."""

    layer: str
    run: Callable


#: Every check, in table order.
CHECKS = (
    Check("affine", _affine),
    Check("relu", _relu),
    Check("softmax_loss", _softmax),
    Check("svm_loss", _svm),
    Check("batchnorm", lambda r: _batchnorm(r, L.batchnorm_backward, "batchnorm")),
    Check("batchnorm_alt", lambda r: _batchnorm(r, L.batchnorm_backward_alt, "batchnorm_alt")),
    Check("layernorm", _layernorm),
    Check("spatial_batchnorm", _spatial_bn),
    Check("spatial_groupnorm", _groupnorm),
    Check("dropout", _dropout),
    Check("conv_naive", lambda r: _conv(r, L.conv_forward_naive, L.conv_backward_naive,
                                        "conv_naive")),
    Check("conv_fast", lambda r: _conv(r, fl.conv_forward_fast, fl.conv_backward_fast,
                                       "conv_fast")),
    Check("max_pool_naive", lambda r: _pool(r, L.max_pool_forward_naive,
                                            L.max_pool_backward_naive, "max_pool_naive")),
    Check("max_pool_fast", lambda r: _pool(r, fl.max_pool_forward_fast,
                                           fl.max_pool_backward_fast, "max_pool_fast")),
)


def run_checks(seed=231, checks=CHECKS):
    """Run the gradient checks; a layer that raises becomes a failing row.

    Parameters
    ----------
    seed : int
        Seeds the inputs of every check (each check gets its own generator
        ``default_rng([seed, k])``, so one check's draws never shift another's).
    checks : sequence of Check
        Which checks to run (default: all).

    Returns
    -------
    list of Row
    """
    rows = []
    for k, check in enumerate(checks):
        rng = np.random.default_rng([seed, k])
        try:
            rows += check.run(rng)
        except NotImplementedError as exc:
            rows.append(Row(check.layer, "-", None, float("nan"), "TODO",
                            str(exc) or "not implemented yet"))
        except Exception as exc:  # a broken layer must not hide the other rows
            rows.append(Row(check.layer, "-", None, float("nan"), "ERROR",
                            f"{type(exc).__name__}: {exc}"))
    return rows


def format_table(rows):
    """The rows as a text table with a closing summary line.

    Returns
    -------
    str
    """
    head = ("layer", "param", "rel. error", "tolerance", "result")
    body = []
    for r in rows:
        err = "-" if r.error is None else f"{r.error:.2e}"
        tol = "-" if not np.isfinite(r.tolerance) else f"{r.tolerance:.0e}"
        body.append((r.layer, r.param, err, tol, r.status + (f"  {r.note}" if r.note else "")))
    widths = [max(len(line[i]) for line in [head] + body) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line[:4], widths)) + "  " + line[4]
             for line in [head] + body]
    lines.insert(1, "-" * len(lines[0]))
    failed = sum(not r.ok for r in rows)
    lines.append("")
    lines.append(f"{len(rows) - failed} of {len(rows)} gradients within tolerance"
                 + (f"; {failed} FAILED" if failed else " (float64, centred differences, h=1e-5)"))
    return "\n".join(lines)
