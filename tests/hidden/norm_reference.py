"""Independent references for the normalisation layers (instructor only).

Plain Python loops in float64, written without looking at ``cs231n/layers.py``:
each statistic is a Python sum over one flat block. Used by the hidden tests
(``test_norm_hidden.py``) and by ``fixtures_norm.py``, which stores their results
as the expected values of the public tests.
"""
import numpy as np


def standardise_block(v, eps):
    """``(v - mean) / sqrt(biased var + eps)`` of a flat block, with Python sums."""
    v = np.asarray(v, dtype=np.float64).ravel()
    m = len(v)
    mu = sum(v) / m
    var = sum((t - mu) ** 2 for t in v) / m
    return (v - mu) / np.sqrt(var + eps), mu, var


def ref_batchnorm(x, gamma, beta, eps):
    """Per column: standardise over the batch, scale, shift. Returns out, mu, var."""
    N, D = x.shape
    out = np.empty((N, D))
    mus, vars_ = np.empty(D), np.empty(D)
    for j in range(D):
        xhat, mus[j], vars_[j] = standardise_block(x[:, j], eps)
        out[:, j] = gamma[j] * xhat + beta[j]
    return out, mus, vars_


def ref_batchnorm_test(x, gamma, beta, mean, var, eps):
    N, D = x.shape
    out = np.empty((N, D))
    for i in range(N):
        for j in range(D):
            out[i, j] = gamma[j] * (x[i, j] - mean[j]) / np.sqrt(var[j] + eps) + beta[j]
    return out


def ref_running(old, batch, momentum):
    return np.array([momentum * o + (1 - momentum) * b for o, b in zip(old, batch)])


def ref_layernorm(x, gamma, beta, eps):
    N, D = x.shape
    out = np.empty((N, D))
    for i in range(N):
        xhat, _, _ = standardise_block(x[i], eps)
        out[i] = gamma * xhat + beta
    return out


def ref_spatial_batchnorm(x, gamma, beta, eps):
    N, C, H, W = x.shape
    out = np.empty(x.shape)
    mus, vars_ = np.empty(C), np.empty(C)
    for c in range(C):
        xhat, mus[c], vars_[c] = standardise_block(x[:, c], eps)
        out[:, c] = gamma[c] * xhat.reshape(N, H, W) + beta[c]
    return out, mus, vars_


def ref_spatial_batchnorm_test(x, gamma, beta, mean, var, eps):
    out = np.empty(x.shape)
    for c in range(x.shape[1]):
        out[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
    return out


def ref_groupnorm(x, gamma, beta, G, eps):
    N, C, H, W = x.shape
    cg = C // G
    out = np.empty(x.shape)
    for n in range(N):
        for g in range(G):
            block = x[n, g * cg:(g + 1) * cg]
            xhat, _, _ = standardise_block(block, eps)
            xhat = xhat.reshape(block.shape)
            for k in range(cg):
                c = g * cg + k
                out[n, c] = gamma[0, c, 0, 0] * xhat[k] + beta[0, c, 0, 0]
    return out
