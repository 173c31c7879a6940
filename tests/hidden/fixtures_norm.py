"""Expected values of the normalisation layers (instructor only): writes ``tests/data/norm.npz``.

    python tests/hidden/fixtures_norm.py

Inputs are drawn from a fixed seed; the expected outputs and running statistics
come from the loop references in ``norm_reference.py``, independent of
``cs231n/layers.py``. The public tests (``tests/test_norm_layers.py``) compare
the student's layers with the stored arrays; ``test_norm_hidden.py`` checks that
the committed file is what this script produces.

Keys: ``<case>/<array>``; every case stores its inputs and the expected values
(``out``, and ``running_mean``/``running_var`` for batch norm in train mode).
"""
import numpy as np
from _fixtures import write
from norm_reference import (ref_batchnorm, ref_batchnorm_test, ref_groupnorm,
                            ref_layernorm, ref_running, ref_spatial_batchnorm,
                            ref_spatial_batchnorm_test)


BN_TRAIN = [  # (shape, eps or None for the default, momentum or None)
    ((4, 5), None, None), ((6, 3), 0.3, 0.25), ((3, 1), 1e-5, 0.0), ((8, 4), 1e-3, 1.0),
    ((5, 2), None, 0.7)]
BN_TEST = [((5, 4), None), ((3, 2), 0.5)]
LN = [((4, 5), None), ((3, 1), 0.2), ((2, 6), 1e-3)]
SBN_TRAIN = [((2, 3, 4, 5), 1e-4, 0.7), ((3, 2, 2, 2), None, None), ((1, 2, 3, 3), 0.1, 0.0)]
SBN_TEST = [((2, 3, 2, 2), 1e-3)]
GN = [((2, 4, 3, 3), 1, None), ((2, 4, 3, 3), 2, 0.1), ((2, 4, 3, 3), 4, None),
      ((3, 6, 2, 1), 3, 1e-3), ((1, 6, 1, 2), 2, None)]


def _params(rng, shape):
    return 1.0 + 0.5 * rng.standard_normal(shape), rng.standard_normal(shape)


def generate():
    """All expected arrays, as a dict (the content of ``norm.npz``)."""
    rng = np.random.default_rng(20261207)
    data = {}

    def put(case, **arrays):
        for k, v in arrays.items():
            data[f"{case}/{k}"] = np.asarray(v, dtype=np.float64)

    for k, (shape, eps, momentum) in enumerate(BN_TRAIN):
        x = 2.0 + 3.0 * rng.standard_normal(shape)
        gamma, beta = _params(rng, shape[1])
        rm0, rv0 = rng.standard_normal(shape[1]), rng.uniform(0.5, 1.5, shape[1])
        out, mu, var = ref_batchnorm(x, gamma, beta, 1e-5 if eps is None else eps)
        m = 0.9 if momentum is None else momentum
        put(f"bn_train{k}", x=x, gamma=gamma, beta=beta, eps=np.nan if eps is None else eps,
            momentum=np.nan if momentum is None else momentum, rm0=rm0, rv0=rv0, out=out,
            running_mean=ref_running(rm0, mu, m), running_var=ref_running(rv0, var, m))
    for k, (shape, eps) in enumerate(BN_TEST):
        x = rng.standard_normal(shape)
        gamma, beta = _params(rng, shape[1])
        rm, rv = rng.standard_normal(shape[1]), rng.uniform(0.2, 3.0, shape[1])
        out = ref_batchnorm_test(x, gamma, beta, rm, rv, 1e-5 if eps is None else eps)
        put(f"bn_test{k}", x=x, gamma=gamma, beta=beta, eps=np.nan if eps is None else eps,
            rm=rm, rv=rv, out=out)
    for k, (shape, eps) in enumerate(LN):
        x = -1.0 + 2.0 * rng.standard_normal(shape)
        gamma, beta = _params(rng, shape[1])
        out = ref_layernorm(x, gamma, beta, 1e-5 if eps is None else eps)
        put(f"ln{k}", x=x, gamma=gamma, beta=beta, eps=np.nan if eps is None else eps, out=out)
    for k, (shape, eps, momentum) in enumerate(SBN_TRAIN):
        C = shape[1]
        x = 5.0 + 2.0 * rng.standard_normal(shape)
        gamma, beta = _params(rng, C)
        rm0, rv0 = rng.standard_normal(C), rng.uniform(0.5, 1.5, C)
        out, mu, var = ref_spatial_batchnorm(x, gamma, beta, 1e-5 if eps is None else eps)
        m = 0.9 if momentum is None else momentum
        put(f"sbn_train{k}", x=x, gamma=gamma, beta=beta, eps=np.nan if eps is None else eps,
            momentum=np.nan if momentum is None else momentum, rm0=rm0, rv0=rv0, out=out,
            running_mean=ref_running(rm0, mu, m), running_var=ref_running(rv0, var, m))
    for k, (shape, eps) in enumerate(SBN_TEST):
        C = shape[1]
        x = rng.standard_normal(shape)
        gamma, beta = _params(rng, C)
        rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
        out = ref_spatial_batchnorm_test(x, gamma, beta, rm, rv, eps)
        put(f"sbn_test{k}", x=x, gamma=gamma, beta=beta, eps=eps, rm=rm, rv=rv, out=out)
    for k, (shape, G, eps) in enumerate(GN):
        C = shape[1]
        x = 3.0 + rng.standard_normal(shape)
        gamma, beta = _params(rng, (1, C, 1, 1))
        out = ref_groupnorm(x, gamma, beta, G, 1e-5 if eps is None else eps)
        put(f"gn{k}", x=x, gamma=gamma, beta=beta, G=G, eps=np.nan if eps is None else eps,
            out=out)
    return data


def main():
    write("norm", generate)


if __name__ == "__main__":
    main()
