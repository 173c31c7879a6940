"""Expected values of the models (instructor only): writes ``tests/data/models.npz``.

    python tests/hidden/fixtures_models.py

Manual forward passes in plain numpy, independent of ``cs231n``: the
FullyConnectedNet's scores in test mode (running statistics for batch norm, no
dropout) and its loss in train mode (batch statistics), for every normalisation;
ThreeLayerConvNet's scores. Used by ``tests/test_models.py``; checked by
``tests/hidden/test_models_hidden.py``.
"""

import numpy as np
from _fixtures import write
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1e-5                                   # default eps of batch and layer norm

# FullyConnectedNet([7, 5], input_dim=6, num_classes=4), inputs of shape (N, 2, 3)
FC_HIDDEN, FC_INPUT, FC_CLASSES, FC_N = [7, 5], 6, 4, 8
FC_NORMS = ["none", "batchnorm", "layernorm"]
# ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size, hidden_dim=7, num_classes=4)
CNN_INPUT, CNN_FILTERS, CNN_HIDDEN, CNN_CLASSES, CNN_N = (3, 8, 8), 3, 7, 4, 3
CNN_FILTER_SIZES = [3, 5]


def softmax_loss_value(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def ref_fc_forward(params, X, normalization, running=None):
    """Scores of {affine - [norm] - relu} x (L-1) - affine.

    ``running``: list of (mean, var) per hidden layer for batch norm in test mode;
    None means batch statistics (train mode).
    """
    L = len(FC_HIDDEN) + 1
    h = X.reshape(X.shape[0], -1)
    for i in range(1, L):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        if normalization == "batchnorm":
            if running is None:
                mu, var = a.mean(axis=0), a.var(axis=0)
            else:
                mu, var = running[i - 1]
            a = (a - mu) / np.sqrt(var + EPS) * params[f"gamma{i}"] + params[f"beta{i}"]
        elif normalization == "layernorm":
            mu, var = a.mean(axis=1, keepdims=True), a.var(axis=1, keepdims=True)
            a = (a - mu) / np.sqrt(var + EPS) * params[f"gamma{i}"] + params[f"beta{i}"]
        h = np.maximum(a, 0)
    return h @ params[f"W{L}"] + params[f"b{L}"]


def ref_three_layer_forward(params, X, filter_size):
    """conv (stride 1, same padding) - relu - 2x2 max pool - affine - relu - affine."""
    pad = (filter_size - 1) // 2
    xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (filter_size, filter_size), axis=(2, 3))  # N,C,H,W,k,k
    conv = np.einsum("nchwkl,fckl->nfhw", windows, params["W1"]) + params["b1"][None, :, None, None]
    r = np.maximum(conv, 0)
    N, F, H, W = r.shape
    pooled = r[:, :, :H // 2 * 2, :W // 2 * 2].reshape(N, F, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    h = np.maximum(pooled.reshape(N, -1) @ params["W2"] + params["b2"], 0)
    return h @ params["W3"] + params["b3"]


def fc_params(gen, normalization):
    dims = [FC_INPUT, *FC_HIDDEN, FC_CLASSES]
    p = {}
    for i in range(1, len(dims)):
        p[f"W{i}"] = gen.normal(scale=0.7, size=(dims[i - 1], dims[i]))
        p[f"b{i}"] = gen.normal(scale=0.3, size=dims[i])
        if normalization != "none" and i < len(dims) - 1:
            p[f"gamma{i}"] = gen.uniform(0.5, 1.5, size=dims[i])
            p[f"beta{i}"] = gen.normal(scale=0.3, size=dims[i])
    return p


def generate():
    gen = np.random.default_rng(20261207)
    out = {}
    for norm in FC_NORMS:
        params = fc_params(gen, norm)
        X = gen.standard_normal((FC_N, 2, 3))
        y = gen.integers(FC_CLASSES, size=FC_N)
        running = None
        if norm == "batchnorm":
            running = [(gen.normal(size=h), gen.uniform(0.3, 3.0, size=h)) for h in FC_HIDDEN]
            for i, (m, v) in enumerate(running):
                out[f"fc_{norm}_running_mean{i}"], out[f"fc_{norm}_running_var{i}"] = m, v
        for k, v in params.items():
            out[f"fc_{norm}_param_{k}"] = v
        out[f"fc_{norm}_X"], out[f"fc_{norm}_y"] = X, y
        out[f"fc_{norm}_test_scores"] = ref_fc_forward(params, X, norm if norm != "none" else None,
                                                       running)
        out[f"fc_{norm}_train_loss"] = np.float64(softmax_loss_value(
            ref_fc_forward(params, X, norm if norm != "none" else None), y))
    for fs in CNN_FILTER_SIZES:
        C, H, W = CNN_INPUT
        params = {"W1": gen.normal(scale=0.4, size=(CNN_FILTERS, C, fs, fs)),
                  "b1": gen.normal(scale=0.2, size=CNN_FILTERS),
                  "W2": gen.normal(scale=0.3, size=(CNN_FILTERS * (H // 2) * (W // 2), CNN_HIDDEN)),
                  "b2": gen.normal(scale=0.2, size=CNN_HIDDEN),
                  "W3": gen.normal(scale=0.5, size=(CNN_HIDDEN, CNN_CLASSES)),
                  "b3": gen.normal(scale=0.2, size=CNN_CLASSES)}
        X = gen.standard_normal((CNN_N, *CNN_INPUT))
        y = gen.integers(CNN_CLASSES, size=CNN_N)
        for k, v in params.items():
            out[f"cnn{fs}_param_{k}"] = v
        out[f"cnn{fs}_X"], out[f"cnn{fs}_y"] = X, y
        scores = ref_three_layer_forward(params, X, fs)
        out[f"cnn{fs}_scores"] = scores
        out[f"cnn{fs}_loss"] = np.float64(softmax_loss_value(scores, y))
    return out


def main():
    write("models", generate)


if __name__ == "__main__":
    main()
