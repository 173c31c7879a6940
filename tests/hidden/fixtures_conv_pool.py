"""Expected values of the naive convolution and max pooling (instructor only):
writes ``tests/data/conv_pool.npz``.

    python tests/hidden/fixtures_conv_pool.py

References by index arithmetic (no padding array: out-of-range taps are skipped),
independent of ``cs231n/layers.py``. Used by ``tests/test_conv_pool_naive.py``;
checked by ``tests/hidden/test_conv_pool_hidden.py``.
"""

import numpy as np
from _fixtures import write


CONV_CASES = [
    # x shape, w shape, stride, pad
    ((1, 3, 4, 4), (2, 3, 3, 3), 1, 1),
    ((1, 2, 4, 5), (3, 2, 2, 3), 2, 0),
    ((2, 1, 5, 4), (1, 1, 3, 3), 2, 1),
    ((1, 2, 3, 3), (2, 2, 3, 3), 1, 0),     # filter covers the whole input: 1x1 output
    ((1, 1, 2, 2), (1, 1, 3, 3), 3, 1),     # filter as large as the padded input
    ((1, 1, 6, 7), (2, 1, 2, 2), 3, 2),
]
POOL_CASES = [
    # x shape, pool height, pool width, stride
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 5), 3, 3, 2),     # overlapping windows
    ((2, 1, 4, 6), 2, 3, 1),
    ((1, 1, 5, 4), 2, 2, 3),     # stride larger than the window: some pixels unused
    ((1, 2, 3, 3), 3, 3, 1),
]


def ref_conv(x, w, b, stride, pad):
    """out[n,f,i,j] = b[f] + sum_{c,k,l} x[n,c,i*s+k-pad, j*s+l-pad] w[f,c,k,l] (zero outside)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    acc = b[f]
                    for c in range(C):
                        for k in range(HH):
                            for l in range(WW):
                                r, s = i * stride + k - pad, j * stride + l - pad
                                if 0 <= r < H and 0 <= s < W:
                                    acc += x[n, c, r, s] * w[f, c, k, l]
                    out[n, f, i, j] = acc
    return out


def ref_max_pool(x, ph, pw, stride):
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.empty((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = max(x[n, c, i * stride + k, j * stride + l]
                                          for k in range(ph) for l in range(pw))
    return out


def generate():
    gen = np.random.default_rng(20261207)
    out = {}
    for k, (x_shape, w_shape, stride, pad) in enumerate(CONV_CASES):
        x, w, b = gen.standard_normal(x_shape), gen.standard_normal(w_shape), gen.standard_normal(w_shape[0])
        out.update({f"conv{k}_x": x, f"conv{k}_w": w, f"conv{k}_b": b,
                    f"conv{k}_param": np.array([stride, pad]),
                    f"conv{k}_out": ref_conv(x, w, b, stride, pad)})
    for k, (shape, ph, pw, stride) in enumerate(POOL_CASES):
        x = gen.standard_normal(shape)
        out.update({f"pool{k}_x": x, f"pool{k}_param": np.array([ph, pw, stride]),
                    f"pool{k}_out": ref_max_pool(x, ph, pw, stride)})
    return out


def main():
    write("conv_pool", generate)


if __name__ == "__main__":
    main()
