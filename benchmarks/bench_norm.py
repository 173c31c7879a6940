"""Speed of the normalisation layers (the model answers in cs231n/layers.py).

Forward + backward of batch, spatial batch, layer and group norm against two
anchors measured in the same process, interleaved (see ``_timing.py``):

* **bound**: the cheapest numpy code touching the same five full arrays as a
  normalisation layer must (``np.copyto(out, x)``: read x, write out;
  ``np.add(x, dout, out=dx)``: read x, read dout, write dx), into preallocated
  buffers. "ours/bound" says how many memory passes' worth of time we take,
  in units of those five.
* **torch**: ``torch.nn.functional.batch_norm(training=True)`` / ``layer_norm``
  / ``group_norm`` forward, then ``out.backward(dout)`` with x, weight and bias
  requiring grad (one thread, huge-page allocator: the fast torch).

It also times ``batchnorm_backward`` (step by step through the graph) against
``batchnorm_backward_alt`` (closed form) on the same cache.

Every ratio is the median over interleaved rounds of the per-round ratio, in
wall time (the figure the targets refer to) and in CPU time of the calling
thread (``time.thread_time``; torch runs single-threaded in the calling thread,
checked). On a shared machine wall time also counts the time a process waits
for a core, so the CPU-time ratios are the steadier figures when the load
average (printed first) is above the number of cores.

Run from the repository root::

    python benchmarks/bench_norm.py            # full run (a minute or two)
    python benchmarks/bench_norm.py --quick    # smoke run: 1/8 of the batch, 3 repeats

Workloads, float32 and float64, one thread:

* batch norm (128, 4096) and (4096, 1024)
* spatial batch norm (64, 64, 32, 32)
* layer norm on (64, 64, 32, 32) (``layernorm_forward`` on the (64, 65536) view;
  torch: ``F.layer_norm`` over the last three axes)
* group norm, G = 8, on (64, 64, 32, 32)

Guard rails (the layers are plain numpy model answers, not tuned code): batch
and spatial batch norm at most 2.0x torch, layer and group norm at most 3.0x
torch; ``batchnorm_backward_alt`` faster than ``batchnorm_backward``. The bound
column is information only.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import _timing  # noqa: I001  (first: sets thread variables before numpy/torch load)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs231n import layers  # noqa: E402

TARGETS = {"bn": 2.0, "sbn": 2.0, "ln": 3.0, "gn": 3.0}   # at most this many times torch


def workloads(div=1):
    """The benchmark's workloads ``(label, kind, shape)``, batch divided by ``div``."""
    return [
        ("batch norm", "bn", (128 // div, 4096)),
        ("batch norm", "bn", (4096 // div, 1024)),
        ("spatial batch norm", "sbn", (64 // div, 64, 32, 32)),
        ("layer norm", "ln", (64 // div, 64, 32, 32)),
        ("group norm G=8", "gn", (64 // div, 64, 32, 32)),
    ]


def make_params(kind, shape, dtype, rng):
    """Input, gamma and beta for one workload (gamma near 1, beta near 0)."""
    x = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    if kind == "ln":
        pshape = (int(np.prod(shape[1:])),)
    elif kind == "gn":
        pshape = (1, C, 1, 1)
    else:
        pshape = (C,)
    gamma = (1.0 + 0.1 * rng.standard_normal(pshape)).astype(dtype)
    beta = (0.1 * rng.standard_normal(pshape)).astype(dtype)
    return x, gamma, beta


def _check_close(name, ours, ref, rtol, ref_name="torch"):
    """Fail loudly if ours and the reference disagree (never time wrong code)."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-30)
    if not err <= rtol:
        raise AssertionError(f"{name}: ours differs from {ref_name} (max rel err {err:.2e})")


def _ours(kind, x, gamma, beta, G, layers=layers):
    """Forward + backward closure for one of our layers.

    ``layers`` is the kit's layer module to time.

    Returns
    -------
    run : callable
        ``run() -> (out, (dx, dgamma, dbeta))``.
    dout : ndarray
        The upstream gradient ``run`` uses (standard normal, dtype of x).
    """
    dout = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    if kind in ("bn", "sbn"):
        fwd = layers.batchnorm_forward if kind == "bn" else layers.spatial_batchnorm_forward
        bwd = layers.batchnorm_backward_alt if kind == "bn" else layers.spatial_batchnorm_backward

        def run():
            out, cache = fwd(x, gamma, beta, {"mode": "train"})
            return out, bwd(dout, cache)
    elif kind == "ln":
        x2 = x.reshape(x.shape[0], -1)                        # normalise all but the batch axis

        def run():
            out, cache = layers.layernorm_forward(x2, gamma, beta, {})
            dx, dg, db = layers.layernorm_backward(dout.reshape(x2.shape), cache)
            return out.reshape(x.shape), (dx.reshape(x.shape), dg, db)
    else:
        def run():
            out, cache = layers.spatial_groupnorm_forward(x, gamma, beta, G, {})
            return out, layers.spatial_groupnorm_backward(dout, cache)
    return run, dout


def _torch(torch, kind, x, gamma, beta, dout, G):
    """Forward + backward closure for torch.nn.functional's version.

    Returns
    -------
    callable
        ``run() -> (out, (dx, dweight, dbias))`` as torch tensors; x, weight
        and bias share memory with the numpy arrays.
    """
    F = torch.nn.functional
    pshape = x.shape[1:] if kind == "ln" else (-1,)           # torch: (C,), or (C, H, W) for LN
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(np.ascontiguousarray(gamma).reshape(pshape)).requires_grad_()
    bt = torch.from_numpy(np.ascontiguousarray(beta).reshape(pshape)).requires_grad_()
    gt = torch.from_numpy(dout)

    def run():
        if kind in ("bn", "sbn"):
            y = F.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
        elif kind == "ln":
            y = F.layer_norm(xt, x.shape[1:], wt, bt, eps=1e-5)
        else:
            y = F.group_norm(xt, G, wt, bt, eps=1e-5)
        y.backward(gt)
        grads = (xt.grad, wt.grad, bt.grad)
        xt.grad = wt.grad = bt.grad = None
        return y.detach(), grads
    return run


def _cpu_timed(fns):
    """Wrap functions so each call's thread CPU time is recorded.

    Returns the wrapped dict and a dict of lists the times go into (one entry
    per call, warm-up calls included).
    """
    cpu = {name: [] for name in fns}

    def wrap(name, fn):
        def run():
            t0 = time.thread_time()
            fn()
            cpu[name].append(time.thread_time() - t0)
        return run
    return {name: wrap(name, fn) for name, fn in fns.items()}, cpu


def _ratio(a, b):
    """Median of per-round ratios ``a[i] / b[i]``."""
    return statistics.median(x / y for x, y in zip(a, b))


def norm_case(torch, kind, shape, dtype, repeats, rng, G=8):
    """Time one workload: ours, the 5-pass bound and torch (if given), interleaved.

    Returns
    -------
    dict
        ``ours_s``, ``bound_s``, ``torch_s`` (median wall seconds),
        ``ratio_bound``, ``ratio_torch`` (ours over each, median of per-round
        wall ratios) and ``cpu_ratio_bound``, ``cpu_ratio_torch`` (the same in
        thread CPU time).
    """
    x, gamma, beta = make_params(kind, shape, dtype, rng)
    ours, dout = _ours(kind, x, gamma, beta, G)
    out_buf, dx_buf = np.empty_like(x), np.empty_like(x)

    def bound():
        np.copyto(out_buf, x)                                 # read x, write out
        np.add(x, dout, out=dx_buf)                           # read x, read dout, write dx

    fns = {"ours": ours, "bound": bound}
    if torch is not None:
        torch_fn = _torch(torch, kind, x, gamma, beta, dout, G)
        out, (dx, dg, db) = ours()
        tout, (tdx, tdg, tdb) = torch_fn()
        rtol = 1e-3 if dtype == np.float32 else 1e-9
        pairs = (("out", out, tout), ("dx", dx, tdx), ("dgamma", dg, tdg), ("dbeta", db, tdb))
        for name, a, b in pairs:
            _check_close(f"{kind} {name}", np.ravel(a), b.numpy().ravel(), rtol)
        fns = {"torch": torch_fn, **fns}
    timed, cpu = _cpu_timed(fns)
    warmup = 1
    res = _timing.compare(timed, repeats=repeats, warmup=warmup, baseline="bound")
    t = res["times"]
    c = {name: v[warmup:] for name, v in cpu.items()}       # drop the warm-up calls
    row = {
        "ours_s": res["median"]["ours"],
        "bound_s": res["median"]["bound"],
        "ratio_bound": res["ratio"]["ours"],
        "cpu_ratio_bound": _ratio(c["ours"], c["bound"]),
    }
    if torch is not None:
        row["torch_s"] = res["median"]["torch"]
        row["ratio_torch"] = _ratio(t["ours"], t["torch"])
        row["cpu_ratio_torch"] = _ratio(c["ours"], c["torch"])
    return row


def alt_case(shape, dtype, repeats, rng):
    """Time batchnorm_backward (graph) against batchnorm_backward_alt on one cache.

    Returns
    -------
    dict
        ``graph_s``, ``alt_s`` (median wall seconds), ``speedup`` and
        ``cpu_speedup`` (graph over alt: median of per-round ratios).
    """
    x = rng.standard_normal(shape).astype(dtype)
    D = shape[1]
    gamma, beta = np.ones(D, dtype), np.zeros(D, dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    timed, cpu = _cpu_timed({
        "alt": lambda: layers.batchnorm_backward_alt(dout, cache),
        "graph": lambda: layers.batchnorm_backward(dout, cache),
    })
    res = _timing.compare(timed, repeats=repeats, warmup=1)
    return {"alt_s": res["median"]["alt"], "graph_s": res["median"]["graph"],
            "speedup": res["ratio"]["graph"],
            "cpu_speedup": _ratio(cpu["graph"][1:], cpu["alt"][1:])}      # [1:]: drop warm-up


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1/8 of each batch, 3 repeats")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats per workload (default 15; 3 with --quick)")
    parser.add_argument("--no-torch", action="store_true", help="skip torch")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    args = parser.parse_args(argv)

    div = 8 if args.quick else 1
    repeats = args.repeats or (3 if args.quick else 15)
    torch = None if args.no_torch else _timing.torch_or_none()
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    rng = np.random.default_rng(0)
    print(_timing.describe_env(torch))
    print(f"{repeats} interleaved repeats, batch divided by {div}\n")

    rows, missed = [], []
    for dtype in dtypes:
        for label, kind, shape in workloads(div):
            r = norm_case(torch, kind, shape, dtype, repeats, rng)
            what = f"{label} {shape} {np.dtype(dtype).name}"
            if "ratio_torch" in r and r["ratio_torch"] > TARGETS[kind]:
                missed.append(f"{what}: {r['ratio_torch']:.2f}x torch")
            rows.append([
                f"{label} {shape}", np.dtype(dtype).name,
                f"{r['torch_s'] * 1e3:.2f}" if "torch_s" in r else "-",
                f"{r['ours_s'] * 1e3:.2f}",
                f"{r['bound_s'] * 1e3:.2f}",
                f"{r['ratio_torch']:.2f}" if "ratio_torch" in r else "-",
                f"{r['cpu_ratio_torch']:.2f}" if "cpu_ratio_torch" in r else "-",
                f"{r['ratio_bound']:.2f}",
                f"{r['cpu_ratio_bound']:.2f}",
            ])
            print(f"  done: {label} {shape} {np.dtype(dtype).name}", file=sys.stderr)
    print(_timing.format_table(
        rows, ["workload (fwd+bwd)", "dtype", "torch ms", "ours ms", "bound ms",
               "ours/torch", "ours/torch CPU", "ours/bound", "ours/bound CPU"]))
    print("\nms are wall-time medians; ratios are medians of per-round ratios (wall, and CPU "
          "time of the thread). Guard rails: batch and spatial batch norm <= 2.0x torch; layer "
          "and group norm <= 3.0x torch.")

    alt_rows = []
    for dtype in dtypes:
        for shape in ((128 // div, 4096), (4096 // div, 1024)):
            r = alt_case(shape, dtype, repeats, rng)
            if r["speedup"] <= 1.0:
                missed.append(f"batchnorm_backward_alt {shape} {np.dtype(dtype).name}: not faster")
            alt_rows.append([f"batch norm backward {shape}", np.dtype(dtype).name,
                             f"{r['graph_s'] * 1e3:.2f}", f"{r['alt_s'] * 1e3:.2f}",
                             f"{r['speedup']:.2f}", f"{r['cpu_speedup']:.2f}"])
    print()
    print(_timing.format_table(
        alt_rows, ["workload", "dtype", "graph ms", "alt ms", "graph/alt", "graph/alt CPU"]))
    print("\nMissed targets: " + ("; ".join(missed) if missed else "none"))


if __name__ == "__main__":
    main()
