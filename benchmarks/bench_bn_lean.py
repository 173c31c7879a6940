"""How close can numpy get to torch on batch norm? A lean straight-line version.

The batch norm targets of ``bench_norm.py`` (at most 1.0x torch) are judged
against the kit's layers, which check their arguments, keep running
statistics, guard against cancellation and serve every view through one
core. This script separates what that costs from what numpy itself costs: it
times, in one process and interleaved with torch and the kit's layer, the
leanest numpy batch norm we know how to write for the same work
(``lean``):

* no argument checks, no running statistics, no dtype or cancellation guards;
* the kit's pass structure, with nothing around it: forward ``sum(x)``
  (``ones @ x``) and ``sum(x * x)`` (``einsum``), then ``out = x a + b`` in
  two passes; backward ``sum(dout)`` and ``sum(dout * x)``, then
  ``dx = ((x c_1/k + c_0/k) + dout) k`` in four passes (module docstring of
  ``cs231n/_norm.py``); the passes run on blocks of 256 KiB against
  coefficient tiles, as in the kit;
* outputs written into two buffers allocated once (no allocation in the loop).

``lean/torch`` above 1 says that numpy calls with this pass structure do not
reach the target on this machine, whatever the code around them;
``ours/lean`` is what the kit's layer adds on top (below 1 where the kit's
output recycling and float64 statistics pay off). Both implementations are
checked against torch before timing.

Run from the repository root::

    python benchmarks/bench_bn_lean.py               # (128, 4096) and (4096, 1024), both dtypes
    python benchmarks/bench_bn_lean.py --repeats 41 --dtype float32
"""
from __future__ import annotations

import argparse
import sys

import _timing  # noqa: I001  (first: sets thread variables before numpy/torch load)

import numpy as np

import bench_norm

BLOCK_BYTES = 1 << 18                                         # as cs231n._norm._BLOCK_BYTES


def make_lean(x, gamma, beta, dout, eps=1e-5):
    """The straight-line batch norm, forward and backward, on fixed arrays.

    Parameters
    ----------
    x, dout : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)

    Returns
    -------
    callable
        ``run() -> (out, (dx, dgamma, dbeta))``. ``out`` and ``dx`` are the
        same two buffers on every call.
    """
    N, D = x.shape
    dt = x.dtype
    ones = np.ones(N, dt)
    rows = max(1, BLOCK_BYTES // (D * dt.itemsize))
    blocks = [slice(s, min(s + rows, N)) for s in range(0, N, rows)]
    tiles = [np.empty((rows, D), dt) for _ in range(3)]
    out, dx = np.empty_like(x), np.empty_like(x)

    def run():
        # forward: mu, var from raw moments; out = x a + b with a = gamma / sigma
        mean = (ones @ x) / N
        var = np.einsum("ij,ij->j", x, x) / N - mean * mean
        inv = 1.0 / np.sqrt(var + eps)
        a = gamma * inv
        np.copyto(tiles[0], a)
        np.copyto(tiles[1], beta - mean * a)
        for sl in blocks:
            n = sl.stop - sl.start
            o = out[sl]
            np.multiply(x[sl], tiles[0][:n], out=o)
            o += tiles[1][:n]
        # backward: dx = k dout + c1 x + c0 (closed form, as in cs231n/_norm.py)
        dbeta = ones @ dout
        dgamma = inv * (np.einsum("ij,ij->j", dout, x) - mean * dbeta)   # sum dout * xhat
        mean_g, mean_gx = gamma * dbeta / N, gamma * dgamma / N
        c1 = -inv * mean_gx                                   # times sigma, as in _norm
        c0 = inv * mean * mean_gx - mean_g
        np.copyto(tiles[0], c1 / gamma)
        np.copyto(tiles[1], c0 / gamma)
        np.copyto(tiles[2], gamma * inv)
        for sl in blocks:
            n = sl.stop - sl.start
            o = dx[sl]
            np.multiply(x[sl], tiles[0][:n], out=o)
            o += tiles[1][:n]
            o += dout[sl]
            o *= tiles[2][:n]
        return out, (dx, dgamma, dbeta)
    return run


def lean_case(torch, shape, dtype, repeats, rng):
    """Time torch, the lean version and the kit's layer on one workload, interleaved.

    Returns
    -------
    dict
        Median wall seconds ``torch_s``, ``lean_s``, ``ours_s`` and medians of
        per-round ratios ``lean_torch``, ``ours_torch``, ``ours_lean``.
    """
    x, gamma, beta = bench_norm.make_params("bn", shape, dtype, rng)
    ours, dout = bench_norm._ours("bn", x, gamma, beta, None)
    lean = make_lean(x, gamma, beta, dout)
    t_fn = bench_norm._torch(torch, "bn", x, gamma, beta, dout, None)
    tout, tgrads = t_fn()
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    for label, fn in (("lean", lean), ("ours", ours)):
        out, grads = fn()
        for name, a, b in zip(("out", "dx", "dgamma", "dbeta"), (out, *grads), (tout, *tgrads)):
            bench_norm._check_close(f"{label} {shape} {name}", np.ravel(a), b.numpy().ravel(), rtol)
    res = _timing.compare({"torch": t_fn, "lean": lean, "ours": ours}, repeats=repeats, warmup=2)
    t = res["times"]
    return {"torch_s": res["median"]["torch"], "lean_s": res["median"]["lean"],
            "ours_s": res["median"]["ours"], "lean_torch": res["ratio"]["lean"],
            "ours_torch": res["ratio"]["ours"], "ours_lean": bench_norm._ratio(t["ours"], t["lean"])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=31, help="interleaved rounds (default 31)")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    args = parser.parse_args(argv)
    torch = _timing.torch_or_none()
    if torch is None:
        sys.exit("bench_bn_lean.py compares with torch: pip install torch")
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    rng = np.random.default_rng(0)
    print(_timing.describe_env(torch))
    print(f"{args.repeats} interleaved rounds\n")
    rows = []
    for dtype in dtypes:
        for shape in ((128, 4096), (4096, 1024)):
            r = lean_case(torch, shape, dtype, args.repeats, rng)
            rows.append([f"batch norm {shape}", np.dtype(dtype).name,
                         f"{r['torch_s'] * 1e3:.3f}", f"{r['lean_s'] * 1e3:.3f}",
                         f"{r['ours_s'] * 1e3:.3f}", f"{r['lean_torch']:.2f}",
                         f"{r['ours_torch']:.2f}", f"{r['ours_lean']:.2f}"])
            print(f"  done: batch norm {shape} {np.dtype(dtype).name}", file=sys.stderr)
    print(_timing.format_table(rows, ["workload (fwd+bwd)", "dtype", "torch ms", "lean ms",
                                      "ours ms", "lean/torch", "ours/torch", "ours/lean"]))
    print("\nms are wall-time medians; ratios are medians of per-round ratios.")


if __name__ == "__main__":
    main()
