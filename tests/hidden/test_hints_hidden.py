"""The hints of ``tests/_hints.py``: each fires on its planted mistake, none on correct code.

Instructor only: the planted mistakes below are near-solutions, so they are not shipped.

Every mistake is planted with a few lines of deliberately wrong numpy below
(never with the kit's layers), and the correct outputs come from the kit's
layers, so both sides of each hint are exercised.
"""
import numpy as np
import pytest
from _hints import (HINTS, batchnorm_train_hint, dropout_train_hint, running_stats_hint,
                    spatial_batchnorm_hint)

from cs231n.layers import batchnorm_forward, dropout_forward, spatial_batchnorm_forward


def _standardise(a, axis, ddof=0):
    return (a - a.mean(axis=axis, keepdims=True)) / a.std(axis=axis, ddof=ddof, keepdims=True)


@pytest.fixture
def bn_case(rng):
    x = 3.0 + 2.0 * rng.standard_normal((16, 5))
    gamma, beta = 1.0 + 0.5 * rng.standard_normal(5), rng.standard_normal(5)
    return x, gamma, beta


def test_unbiased_variance_hint(bn_case):
    x, gamma, beta = bn_case
    wrong = gamma * _standardise(x, 0, ddof=1) + beta          # divides the variance by N-1
    assert HINTS["unbiased"] in batchnorm_train_hint(wrong, gamma, beta)
    right, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert batchnorm_train_hint(right, gamma, beta) == ""


@pytest.mark.parametrize("momentum", [0.9, 0.3])
def test_momentum_swapped_and_not_written_back_hints(bn_case, momentum):
    x, gamma, beta = bn_case
    old = np.linspace(-1.0, 1.0, 5)
    batch = x.mean(axis=0)
    swapped = (1 - momentum) * old + momentum * batch
    assert HINTS["momentum_swapped"] in running_stats_hint(swapped, old, batch, momentum)
    assert HINTS["not_written_back"] in running_stats_hint(old.copy(), old, batch, momentum)
    bn_param = {"mode": "train", "momentum": momentum, "running_mean": old.copy()}
    batchnorm_forward(x, gamma, beta, bn_param)
    assert running_stats_hint(bn_param["running_mean"], old, batch, momentum) == ""


@pytest.mark.parametrize("p", [0.2, 0.8])
def test_dropout_keep_vs_drop_and_no_rescale_hints(rng, p):
    x = 1.0 + rng.random((100, 100))
    drop_with_p = x * (rng.random(x.shape) >= p) / (1 - p)     # p used as the DROP probability
    assert HINTS["keep_vs_drop"] in dropout_train_hint(x, drop_with_p, p)
    not_scaled = x * (rng.random(x.shape) < p)                  # kept units not divided by p
    assert HINTS["no_rescale"] in dropout_train_hint(x, not_scaled, p)
    right, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 0})
    assert dropout_train_hint(x, right, p) == ""


def test_spatial_batchnorm_mixed_channels_hint(rng):
    N, C, H, W = 4, 3, 5, 5
    x = rng.standard_normal((N, C, H, W)) * np.array([1.0, 5.0, 0.2])[:, None, None] \
        + np.array([0.0, 10.0, -3.0])[:, None, None]
    gamma, beta = 1.0 + 0.5 * rng.standard_normal(C), rng.standard_normal(C)
    # reshape to (N*H*W, C) without moving the channel axis last first
    wrong = (gamma * _standardise(x.reshape(-1, C), 0) + beta).reshape(N, C, H, W)
    assert HINTS["mixed_channels"] in spatial_batchnorm_hint(wrong, gamma, beta)
    right, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert spatial_batchnorm_hint(right, gamma, beta) == ""
