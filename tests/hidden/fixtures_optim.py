"""Expected values of the update rules (instructor only): writes ``tests/data/optim.npz``.

    python tests/hidden/fixtures_optim.py

The arrays come from the reference formulas below, written out step by step
independently of ``cs231n/optim.py``. The public tests (``tests/test_optim.py``)
compare the student's rules with the stored arrays; ``tests/hidden/test_optim_hidden.py``
checks that the committed file is what this script produces.
"""

import numpy as np
from _fixtures import write

N, D = 4, 5
STEPS = 5

MOMENTUM = {"learning_rate": 0.05, "momentum": 0.8}
RMSPROP = {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-6}
ADAM = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7}


def ref_momentum(w, dw, v, lr, mu):
    v_new = mu * v - lr * dw
    return w + v_new, v_new


def ref_rmsprop(w, dw, cache, lr, rho, eps):
    cache_new = rho * cache + (1.0 - rho) * dw**2
    return w - lr * dw / (np.sqrt(cache_new) + eps), cache_new


def ref_adam(w, dw, m, v, t, lr, b1, b2, eps):
    t = t + 1
    m = b1 * m + (1.0 - b1) * dw
    v = b2 * v + (1.0 - b2) * dw**2
    mhat = m / (1.0 - b1**t)
    vhat = v / (1.0 - b2**t)
    return w - lr * mhat / (np.sqrt(vhat) + eps), m, v, t


def notebook_arrays():
    """The inputs of the CS231n optimiser checks (float64)."""
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


def generate():
    """All expected arrays, as a dict (the content of ``optim.npz``)."""
    gen = np.random.default_rng(20261207)
    w0, dw0 = notebook_arrays()
    grads = gen.normal(size=(STEPS, N, D))
    out = {"w0": w0, "grads": grads}

    w, v = w0.copy(), np.zeros_like(w0)
    ws, vs = [], []
    for g in grads:
        w, v = ref_momentum(w, g, v, MOMENTUM["learning_rate"], MOMENTUM["momentum"])
        ws.append(w)
        vs.append(v)
    out["momentum_w"], out["momentum_velocity"] = np.array(ws), np.array(vs)

    w, c = w0.copy(), np.zeros_like(w0)
    ws, cs = [], []
    for g in grads:
        w, c = ref_rmsprop(w, g, c, RMSPROP["learning_rate"], RMSPROP["decay_rate"],
                           RMSPROP["epsilon"])
        ws.append(w)
        cs.append(c)
    out["rmsprop_w"], out["rmsprop_cache"] = np.array(ws), np.array(cs)

    w, m, v, t = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), 0
    ws, ms, vs = [], [], []
    for g in grads:
        w, m, v, t = ref_adam(w, g, m, v, t, ADAM["learning_rate"], ADAM["beta1"],
                              ADAM["beta2"], ADAM["epsilon"])
        ws.append(w)
        ms.append(m)
        vs.append(v)
    out["adam_w"], out["adam_m"], out["adam_v"] = np.array(ws), np.array(ms), np.array(vs)

    # one step of each rule with its default hyperparameters, from zero state
    zero = np.zeros_like(w0)
    out["momentum_default_w"], out["momentum_default_velocity"] = ref_momentum(
        w0, dw0, zero, 1e-2, 0.9)
    out["rmsprop_default_w"], out["rmsprop_default_cache"] = ref_rmsprop(
        w0, dw0, zero, 1e-2, 0.99, 1e-8)
    out["adam_default_w"], out["adam_default_m"], out["adam_default_v"], _ = ref_adam(
        w0, dw0, zero, zero, 0, 1e-3, 0.9, 0.999, 1e-8)
    return out


def main():
    write("optim", generate)


if __name__ == "__main__":
    main()
