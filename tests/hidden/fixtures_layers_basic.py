"""Expected values of affine, softmax and SVM loss (instructor only):
writes ``tests/data/layers_basic.npz``.

    python tests/hidden/fixtures_layers_basic.py

References by plain loops and per-row ``math`` formulas, independent of
``cs231n/layers.py``. Used by ``tests/test_layers_basic.py``; checked by
``tests/hidden/test_layers_basic_hidden.py``.
"""
import math

import numpy as np
from _fixtures import write


AFFINE_SHAPES = [((3, 4), 5), ((2, 3, 4), 2), ((2, 2, 3, 2), 3), ((1, 6), 1)]
LOSS_SHAPES = [(5, 3), (1, 4), (8, 10)]


def ref_affine(x, w, b):
    """out[n, m] = sum_d x[n].flat[d] * w[d, m] + b[m], by plain loops."""
    N = x.shape[0]
    rows = [x[n].ravel() for n in range(N)]
    D, M = w.shape
    out = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            out[n, m] = sum(rows[n][d] * w[d, m] for d in range(D)) + b[m]
    return out


def ref_softmax_loss(x, y):
    """Loss and gradient by plain per-row formulas with math.exp/log."""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        m = max(x[i])
        e = [math.exp(v - m) for v in x[i]]
        s = sum(e)
        loss -= math.log(e[y[i]] / s)
        for j in range(C):
            dx[i, j] = (e[j] / s - (1.0 if j == y[i] else 0.0)) / N
    return loss / N, dx


def ref_svm_loss(x, y):
    """Hinge loss (margin 1) and its gradient by plain loops."""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1.0
            if margin > 0:
                loss += margin
                dx[i, j] += 1.0 / N
                dx[i, y[i]] -= 1.0 / N
    return loss / N, dx


def generate():
    gen = np.random.default_rng(20261207)
    out = {}
    for k, (x_shape, M) in enumerate(AFFINE_SHAPES):
        D = int(np.prod(x_shape[1:]))
        x, w, b = gen.standard_normal(x_shape), gen.standard_normal((D, M)), gen.standard_normal(M)
        out.update({f"affine{k}_x": x, f"affine{k}_w": w, f"affine{k}_b": b,
                    f"affine{k}_out": ref_affine(x, w, b)})
    for k, (N, C) in enumerate(LOSS_SHAPES):
        x = 3 * gen.standard_normal((N, C))
        y = gen.integers(C, size=N)
        out[f"loss{k}_x"], out[f"loss{k}_y"] = x, y
        out[f"loss{k}_softmax_loss"], out[f"loss{k}_softmax_dx"] = ref_softmax_loss(x, y)
        out[f"loss{k}_svm_loss"], out[f"loss{k}_svm_dx"] = ref_svm_loss(x, y)
    # rows on very different scales (each row must be shifted by its own maximum)
    x, y = np.array([[0.0, 1.0], [-1000.0, -1001.0]]), np.array([1, 0])
    out["scales_x"], out["scales_y"] = x, y
    out["scales_softmax_loss"], out["scales_softmax_dx"] = ref_softmax_loss(x, y)
    return {k: np.asarray(v) for k, v in out.items()}


def main():
    write("layers_basic", generate)


if __name__ == "__main__":
    main()
