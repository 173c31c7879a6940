"""Hints for classic mistakes, appended to a failing test's message.

Each function looks at what a student's layer returned (never at a reference
implementation) and, when the numbers have the signature of a well-known
mistake, returns one sentence saying so; otherwise it returns "". The
instructor's tests plant each mistake and check that its hint appears, and that
no hint appears for correct code.
"""
import numpy as np

__all__ = ["HINTS", "batchnorm_train_hint", "running_stats_hint", "dropout_train_hint",
           "spatial_batchnorm_hint", "with_hint"]

# the sentence of each hint (tests look for these)
HINTS = {
    "unbiased": "the spread of the output is off by sqrt((N-1)/N): batch norm divides the "
                "variance by N (biased), not N-1 (np.var's ddof=0)",
    "momentum_swapped": "the running averages move the wrong way: momentum weighs the OLD "
                        "running value (running = momentum * running + (1 - momentum) * batch)",
    "not_written_back": "bn_param's running statistics did not change in train mode: update "
                        "the running_mean/running_var variables (the given code stores them "
                        "in bn_param)",
    "keep_vs_drop": "the fraction of units kept is about 1 - p: p is the probability of "
                    "KEEPING a unit (mask = rng.random(x.shape) < p), not of dropping it",
    "no_rescale": "the kept units are not divided by p: inverted dropout scales them by 1/p "
                  "at train time so that test time needs no change",
    "mixed_channels": "the statistics mix channels: transpose x so that the channels "
                      "become the columns before reshaping to (N*H*W, C)",
}


def _fmt(key):
    return f" Hint: {HINTS[key]}."


def batchnorm_train_hint(out, gamma, beta):
    """Train-mode batch norm output whose per-feature spread is sqrt((N-1)/N)."""
    out = np.asarray(out, dtype=np.float64)
    N = out.shape[0]
    if N < 2 or out.ndim != 2:
        return ""
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = ((out - beta) / gamma).std(axis=0)
    if np.all(np.isfinite(spread)) and np.allclose(spread, np.sqrt((N - 1) / N), rtol=1e-3):
        return _fmt("unbiased")
    return ""


def running_stats_hint(got_mean, old_mean, batch_mean, momentum):
    """Running mean after one train step: unchanged, or moved with the weights swapped."""
    got, old, batch = (np.asarray(a, dtype=np.float64) for a in (got_mean, old_mean, batch_mean))
    if got.shape != old.shape:
        return ""
    right = momentum * old + (1 - momentum) * batch
    if np.allclose(got, right, rtol=1e-9, atol=1e-12):
        return ""
    if np.array_equal(got, old) and not np.allclose(right, old):
        return _fmt("not_written_back")
    swapped = (1 - momentum) * old + momentum * batch
    if np.allclose(got, swapped, rtol=1e-6, atol=1e-9):
        return _fmt("momentum_swapped")
    return ""


def dropout_train_hint(x, out, p):
    """Train-mode dropout output: kept fraction near 1 - p, or kept units not scaled."""
    x, out = np.asarray(x, dtype=np.float64), np.asarray(out, dtype=np.float64)
    nonzero = x != 0
    if nonzero.sum() < 1000 or not 0 < p < 1:
        return ""
    kept = out[nonzero] != 0
    frac = kept.mean()
    tol = 5 * np.sqrt(p * (1 - p) / nonzero.sum()) + 1e-3
    if abs(p - 0.5) > 3 * tol and abs(frac - (1 - p)) < tol:
        return _fmt("keep_vs_drop")
    ratio = out[nonzero][kept] / x[nonzero][kept]
    if ratio.size and np.allclose(ratio, 1.0) and p < 1:
        return _fmt("no_rescale")
    return ""


def spatial_batchnorm_hint(out, gamma, beta):
    """Train-mode spatial batch norm whose statistics came from x.reshape(-1, C)."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim != 4:
        return ""
    C = out.shape[1]
    gamma, beta = np.asarray(gamma).reshape(-1), np.asarray(beta).reshape(-1)
    if gamma.shape != (C,) or np.any(gamma == 0):
        return ""
    per_channel = (out - beta[None, :, None, None]) / gamma[None, :, None, None]
    right = np.allclose(per_channel.mean(axis=(0, 2, 3)), 0, atol=1e-6)
    rows = (out.reshape(-1, C) - beta) / gamma            # the columns a plain reshape makes
    if not right and np.allclose(rows.mean(axis=0), 0, atol=1e-6) and \
            np.allclose(rows.std(axis=0), 1, atol=1e-3):
        return _fmt("mixed_channels")
    return ""


def with_hint(check, hint):
    """Run ``check()``; if it fails, re-raise its message with ``hint()`` appended."""
    __tracebackhide__ = True
    try:
        check()
    except AssertionError as err:
        raise AssertionError(f"{err}{hint()}") from None
