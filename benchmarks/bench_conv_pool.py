"""Speed of cs231n.fast_layers (conv, max pool) against PyTorch CPU and the naive layers.

One thread, float32, torch in the same process, interleaved repeats; the figures
are medians of per-repeat ratios (see ``_timing.py``). Run from the repository
root::

    python benchmarks/bench_conv_pool.py            # full run (a few minutes)
    python benchmarks/bench_conv_pool.py --quick    # smoke run: small batch, few repeats

Workloads (the ones the CS231n ConvolutionalNetworks notebook and
``ThreeLayerConvNet`` use, at batch 128):

* conv 7x7: x (128, 3, 32, 32), w (32, 3, 7, 7), stride 1, pad 3
* conv 3x3: x (128, 64, 16, 16), w (64, 64, 3, 3), stride 1, pad 1
* max pool 2x2 stride 2 on (128, 32, 32, 32)

"fwd+bwd" is one forward and one backward pass computing every gradient (torch:
``F.conv2d``/``F.max_pool2d`` + ``backward`` with all inputs requiring grad);
"no dx" rows leave out the input gradient (torch: x does not require grad; ours:
``need_dx=False``), as for a network's first layer. The naive layers are far too
slow for the full batch: they run once on a few images and the time is scaled
up linearly to the full batch (for the naive pool forward, which loops over
output positions only and is vectorised over the batch, that overstates its
time a little).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _timing  # noqa: I001  (first: sets thread variables before numpy/torch load)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs231n import fast_layers  # noqa: E402

try:  # the naive layers (cs231n/layers.py)
    from cs231n.layers import (  # noqa: E402
        conv_backward_naive,
        conv_forward_naive,
        max_pool_backward_naive,
        max_pool_forward_naive,
    )
except ImportError:  # pragma: no cover - during development
    conv_forward_naive = None


def _check_close(name, ours, ref, rtol=1e-4):
    """Fail loudly if ours and the reference disagree (never time wrong code)."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-30)
    if not err <= rtol:
        raise AssertionError(f"{name}: ours differs from the reference (max rel err {err:.2e})")


def _time_row(fns, repeats, clock, N, naive_images, naive_fn):
    """Time ``fns`` (``ours``, and ``torch`` if present) interleaved; add the naive layer.

    ``naive_fn`` runs the naive forward + backward on ``naive_images`` images; its
    time is scaled linearly to the batch of ``N``. Returns the figures of one row.
    """
    res = _timing.compare(fns, repeats=repeats, clock=clock)
    row = {"ours_s": res["median"]["ours"]}
    if "torch" in fns:
        row["torch_s"] = res["median"]["torch"]
        row["ratio_torch"] = res["ratio"]["ours"]
    if naive_images and conv_forward_naive is not None:
        row["naive_s"] = _timing.time_call(naive_fn, clock) * N / naive_images
        row["naive_ratio"] = row["naive_s"] / row["ours_s"]
    return row


def conv_case(torch, N, C, HW, F, k, pad, repeats, naive_images, rng, clock, need_dx=True):
    """Time conv fwd+bwd: torch vs ours; return a dict of figures."""
    x = rng.standard_normal((N, C, HW, HW), dtype=np.float32)
    w = rng.standard_normal((F, C, k, k), dtype=np.float32) / np.float32(np.sqrt(C * k * k))
    b = rng.standard_normal(F, dtype=np.float32)
    cp = {"stride": 1, "pad": pad}
    Ho = HW + 2 * pad - k + 1
    dout = rng.standard_normal((N, F, Ho, Ho), dtype=np.float32)

    def ours():
        out, cache = fast_layers.conv_forward_fast(x, w, b, cp)
        return fast_layers.conv_backward_fast(dout, cache, need_dx=need_dx)

    fns = {"ours": ours}
    if torch is not None:
        tf = torch.nn.functional
        xt = torch.from_numpy(x).requires_grad_(need_dx)
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.from_numpy(b).requires_grad_()
        gt = torch.from_numpy(dout)

        def torch_fn():
            y = tf.conv2d(xt, wt, bt, stride=1, padding=pad)
            y.backward(gt)
            grads = (xt.grad, wt.grad, bt.grad)
            xt.grad = wt.grad = bt.grad = None
            return grads

        # Same numbers as torch before timing anything.
        dx, dw, db = ours()
        tdx, tdw, tdb = torch_fn()
        _check_close("conv dw", dw, tdw.numpy())
        _check_close("conv db", db, tdb.numpy())
        if need_dx:
            _check_close("conv dx", dx, tdx.numpy())
        fns = {"torch": torch_fn, "ours": ours}
    n = naive_images
    return _time_row(fns, repeats, clock, N, n, lambda: conv_backward_naive(
        dout[:n], conv_forward_naive(x[:n], w, b, cp)[1]))


def pool_case(torch, N, C, HW, repeats, naive_images, rng, clock):
    """Time 2x2 stride-2 max pool fwd+bwd: torch vs ours."""
    x = rng.standard_normal((N, C, HW, HW), dtype=np.float32)
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dout = rng.standard_normal((N, C, HW // 2, HW // 2), dtype=np.float32)

    def ours():
        out, cache = fast_layers.max_pool_forward_fast(x, pp)
        return fast_layers.max_pool_backward_fast(dout, cache)

    fns = {"ours": ours}
    if torch is not None:
        tf = torch.nn.functional
        xt = torch.from_numpy(x).requires_grad_()
        gt = torch.from_numpy(dout)

        def torch_fn():
            y = tf.max_pool2d(xt, 2, 2)
            y.backward(gt)
            g = xt.grad
            xt.grad = None
            return g

        _check_close("pool dx", ours(), torch_fn().numpy(), rtol=0)
        fns = {"torch": torch_fn, "ours": ours}
    n = naive_images
    return _time_row(fns, repeats, clock, N, n, lambda: max_pool_backward_naive(
        dout[:n], max_pool_forward_naive(x[:n], pp)[1]))


def breakdown_case(torch, N, C, HW, F, k, pad, repeats, rng, clock):
    """Where our conv time goes: forward, backward, and the bare matrix products.

    "GEMMs only" runs the three per-image products of our implementation with
    its exact shapes (forward, dW, dcols; junk columns and the bias row
    included) on preallocated buffers, N times each: a lower bound for this
    design with numpy's BLAS, no gather, padding or col2im.
    """
    x = rng.standard_normal((N, C, HW, HW), dtype=np.float32)
    w = rng.standard_normal((F, C, k, k), dtype=np.float32) / np.float32(np.sqrt(C * k * k))
    b = rng.standard_normal(F, dtype=np.float32)
    cp = {"stride": 1, "pad": pad}
    out, cache = fast_layers.conv_forward_fast(x, w, b, cp)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    plan = fast_layers._conv_plan(x.shape, w.shape, 1, pad, 4)
    K, L = C * k * k, plan.Ho * plan.Wc
    Lx = plan.Hq * plan.P if plan.flat else plan.Ho * plan.Wo
    w_aug = rng.standard_normal((F, K + 1), dtype=np.float32)
    w_t = np.ascontiguousarray(w_aug[:, :K].T)
    cols = rng.standard_normal((K + 1, L), dtype=np.float32)
    g = rng.standard_normal((F, Lx), dtype=np.float32)
    o_f = np.empty((F, L), np.float32)
    o_w = np.empty((K + 1, F), np.float32)
    o_x = np.empty((K, Lx), np.float32)

    def gemms():
        for _ in range(N):
            np.matmul(w_aug, cols, out=o_f)
            np.matmul(cols, g[:, :L].T, out=o_w)
            np.matmul(w_t, g, out=o_x)

    fns = {
        "ours fwd": lambda: fast_layers.conv_forward_fast(x, w, b, cp),
        "ours bwd": lambda: fast_layers.conv_backward_fast(dout, cache),
        "GEMMs only": gemms,
    }
    if torch is not None:
        tf = torch.nn.functional
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.from_numpy(b).requires_grad_()
        gt = torch.from_numpy(dout)

        def torch_fn():
            y = tf.conv2d(xt, wt, bt, stride=1, padding=pad)
            y.backward(gt)
            xt.grad = wt.grad = bt.grad = None

        fns = {"torch fwd+bwd": torch_fn, **fns}
    res = _timing.compare(fns, repeats=repeats, clock=clock)
    return res, plan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: batch 16, 3 repeats, naive on 1 image")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats per workload (default 15; 3 with --quick)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive layers")
    parser.add_argument("--no-torch", action="store_true", help="skip torch")
    parser.add_argument("--clock", choices=sorted(_timing.CLOCKS), default="wall",
                        help="wall time (default) or the thread's CPU time (busy machines)")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: our conv forward/backward and the bare GEMMs vs torch")
    args = parser.parse_args(argv)

    N = 16 if args.quick else 128
    repeats = args.repeats or (3 if args.quick else 15)
    naive_conv = 0 if args.no_naive else (1 if args.quick else 2)
    naive_pool = 0 if args.no_naive else (1 if args.quick else 8)
    torch = None if args.no_torch else _timing.torch_or_none()
    rng = np.random.default_rng(0)
    print(_timing.describe_env(torch))
    print(f"batch {N}, {repeats} interleaved repeats, float32, {args.clock} clock\n", flush=True)

    if args.breakdown:
        rows = []
        for name, C, HW, F, k, pad in [("conv 7x7 3->32, 32x32, pad 3", 3, 32, 32, 7, 3),
                                       ("conv 3x3 64->64, 16x16, pad 1", 64, 16, 64, 3, 1)]:
            res, plan = breakdown_case(torch, N, C, HW, F, k, pad, repeats, rng, args.clock)
            base = res["baseline"]
            for part, t in res["median"].items():
                rows.append([name, part, f"{t * 1e3:.1f}", f"{res['ratio'][part]:.2f}"])
            print(f"  {name}: {plan}", file=sys.stderr, flush=True)
        print(_timing.format_table(rows, ["workload", "part", "ms", f"ratio to {base}"]))
        return

    cases = [
        ("conv 7x7 3->32, 32x32, pad 3: fwd+bwd",
         lambda: conv_case(torch, N, 3, 32, 32, 7, 3, repeats, naive_conv, rng, args.clock)),
        ("conv 3x3 64->64, 16x16, pad 1: fwd+bwd",
         lambda: conv_case(torch, N, 64, 16, 64, 3, 1, repeats, naive_conv, rng, args.clock)),
        ("conv 7x7 3->32: fwd+bwd, no dx",
         lambda: conv_case(torch, N, 3, 32, 32, 7, 3, repeats, 0, rng, args.clock, need_dx=False)),
        ("conv 3x3 64->64: fwd+bwd, no dx",
         lambda: conv_case(torch, N, 64, 16, 64, 3, 1, repeats, 0, rng, args.clock, need_dx=False)),
        ("max pool 2x2 s2, (N, 32, 32, 32): fwd+bwd",
         lambda: pool_case(torch, N, 32, 32, repeats, naive_pool, rng, args.clock)),
    ]
    rows = []
    for name, run in cases:
        r = run()
        rows.append([
            name,
            f"{r['torch_s'] * 1e3:.1f}" if "torch_s" in r else "-",
            f"{r['ours_s'] * 1e3:.1f}",
            f"{r['ratio_torch']:.2f}" if "ratio_torch" in r else "-",
            f"{r['naive_s'] * 1e3:,.0f}" if "naive_s" in r else "-",
            f"{r['naive_ratio']:,.0f}" if "naive_ratio" in r else "-",
        ])
        print(f"  done: {name}", file=sys.stderr, flush=True)
    print(_timing.format_table(
        rows,
        ["workload", "torch ms", "ours ms", "ours/torch", "naive ms (scaled)", "naive/ours"],
    ))
    print("\nms are medians; ours/torch is the median of per-repeat ratios "
          "(targets: conv <= 1.5, pool <= 1.0; naive/ours >= 100).")


if __name__ == "__main__":
    main()
