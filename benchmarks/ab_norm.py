"""A/B timing of the normalisation layers: this checkout against another git revision.

A change to ``cs231n/_norm.py`` is judged by timing it against the code it
replaces, in one process, interleaved: on a shared virtual machine absolute
times drift by tens of percent within minutes, while the ratio of two versions
measured round by round stays within a few percent (two copies of the same
code give 0.97-1.03).

The base revision's ``cs231n/`` is extracted with ``git archive`` into a
temporary directory and imported under another package name (the package uses
relative imports only), so both versions live side by side. For each workload
the script checks that the two versions give the same output and gradients,
then times them (and torch, when importable) with ``_timing.compare``:
``new/base`` is the median over rounds of this checkout's time over the base
revision's, so 0.90 means 10% faster.

Run from the repository root::

    python benchmarks/ab_norm.py --base HEAD~1                # bench_norm's workloads
    python benchmarks/ab_norm.py --base 3c11845 --small       # plus small layers (kit sizes)
    python benchmarks/ab_norm.py --base main --only ln,gn --dtype float32 --repeats 31

Workloads: those of ``bench_norm.py`` and, with ``--small``, the sizes the kit's
own models use (batch norm and layer norm on (200, 100), spatial batch norm and
group norm on (50, 16, 8, 8)), where the fixed cost of a call dominates.
"""
from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import _timing  # noqa: I001  (first: sets thread variables before numpy/torch load)

import numpy as np

import bench_norm

ROOT = Path(__file__).resolve().parents[1]

SMALL = [                                                     # (label, kind, shape, G)
    ("batch norm", "bn", (200, 100), None),
    ("layer norm", "ln", (200, 100), None),
    ("spatial batch norm", "sbn", (50, 16, 8, 8), None),
    ("group norm G=4", "gn", (50, 16, 8, 8), 4),
]


def import_revision(rev, into):
    """Import ``cs231n.layers`` of git revision ``rev`` as a separate package.

    Parameters
    ----------
    rev : str
        Any git revision of this repository.
    into : str
        Directory to extract ``cs231n/`` into (as package ``cs231n_base``).

    Returns
    -------
    module
        The base revision's ``layers`` module.
    """
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "cs231n"],
                         check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        try:
            tf.extractall(into, filter="data")
        except TypeError:                                     # Python without extraction filters
            tf.extractall(into)                               # (our own archive: trusted)
    Path(into, "cs231n").rename(Path(into, "cs231n_base"))
    sys.path.insert(0, into)
    return importlib.import_module("cs231n_base.layers")


def ab_case(torch, base_layers, kind, shape, G, dtype, repeats, rng):
    """Time one workload: new (this checkout), base and torch, interleaved.

    Returns
    -------
    dict
        ``new_s``, ``base_s`` (and ``torch_s``): median wall seconds;
        ``new_over_base`` (and ``new_over_torch``, ``base_over_torch``):
        medians of per-round ratios.
    """
    x, gamma, beta = bench_norm.make_params(kind, shape, dtype, rng)
    new, dout = bench_norm._ours(kind, x, gamma, beta, G)
    base, _ = bench_norm._ours(kind, x, gamma, beta, G, layers=base_layers)
    (o1, g1), (o2, g2) = new(), base()
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for name, a, b in zip(("out", "dx", "dgamma", "dbeta"), (o1, *g1), (o2, *g2)):
        bench_norm._check_close(f"{kind} {shape} {name}", np.ravel(a), np.ravel(b), rtol,
                                ref_name="the base revision")
    fns = {"new": new, "base": base}
    if torch is not None:
        fns["torch"] = bench_norm._torch(torch, kind, x, gamma, beta, dout, G)
    res = _timing.compare(fns, repeats=repeats, warmup=1, baseline="base")
    t = res["times"]
    row = {"new_s": res["median"]["new"], "base_s": res["median"]["base"],
           "new_over_base": res["ratio"]["new"]}
    if torch is not None:
        row["torch_s"] = res["median"]["torch"]
        row["new_over_torch"] = bench_norm._ratio(t["new"], t["torch"])
        row["base_over_torch"] = bench_norm._ratio(t["base"], t["torch"])
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--repeats", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--only", default="", help="comma-separated kinds: bn, sbn, ln, gn")
    parser.add_argument("--small", action="store_true", help="also the kit's small layer sizes")
    parser.add_argument("--no-torch", action="store_true", help="skip torch")
    args = parser.parse_args(argv)

    torch = None if args.no_torch else _timing.torch_or_none()
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    kinds = set(filter(None, args.only.split(",")))
    cases = [(label, kind, shape, 8) for label, kind, shape in bench_norm.workloads()]
    cases += SMALL if args.small else []
    cases = [c for c in cases if not kinds or c[1] in kinds]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        base_layers = import_revision(args.base, tmp)
        print(_timing.describe_env(torch))
        print(f"this checkout (new) against {args.base} (base), {args.repeats} interleaved rounds\n")
        rows = []
        for dtype in dtypes:
            for label, kind, shape, G in cases:
                r = ab_case(torch, base_layers, kind, shape, G, dtype, args.repeats, rng)
                rows.append([
                    f"{label} {shape}", np.dtype(dtype).name,
                    f"{r['torch_s'] * 1e3:.3f}" if torch is not None else "-",
                    f"{r['base_s'] * 1e3:.3f}", f"{r['new_s'] * 1e3:.3f}",
                    f"{r['new_over_base']:.3f}",
                    f"{r['base_over_torch']:.2f}" if torch is not None else "-",
                    f"{r['new_over_torch']:.2f}" if torch is not None else "-",
                ])
                print(f"  done: {label} {shape} {np.dtype(dtype).name}", file=sys.stderr)
    print(_timing.format_table(rows, ["workload (fwd+bwd)", "dtype", "torch ms", "base ms", "new ms",
                                      "new/base", "base/torch", "new/torch"]))
    print("\nms are wall-time medians; ratios are medians of per-round ratios.")


if __name__ == "__main__":
    main()
