"""What the numpy choices of the normalisation model answers cost (one thread).

The model answers in ``cs231n/layers.py`` take the mean of x in float64
(float32 sums lose a small spread under a large common offset) and keep
everything else in x's dtype, and they keep the number of new full-size arrays
small. This script times both choices, so they can be rechecked on any machine::

    python benchmarks/bench_reductions.py

First table: the column mean of a float32 array in float32 and with
``dtype=np.float64``, and the two-pass variance's reduction both ways.

Second table, float32 and float64 arrays: a sum of products over the batch as
``(a * b).sum(axis=0)`` (a full-size product first) and as
``np.einsum("nd,nd->d", a, b)`` (none), and the scale-and-shift as
``gamma * xhat + beta`` (two new full-size arrays) and as
``out = gamma * xhat; out += beta`` (one). Times include what a new array costs
where it comes back from the system with page faults, as it does in a layer.
"""
import argparse
import time

import numpy as np


def median_ms(fn, repeats):
    """Median wall time of ``fn()`` in milliseconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}; median of {args.repeats} calls, ms")
    print(f"{'shape':>14} {'mean f32':>9} {'mean f64':>9} {'ratio':>6} "
          f"{'var f32':>8} {'var f64':>8} {'ratio':>6}")
    for shape in ((128, 4096), (4096, 1024), (65536, 64)):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        xmu = x - x.mean(axis=0)
        m32 = median_ms(lambda: x.mean(axis=0), args.repeats)
        m64 = median_ms(lambda: x.mean(axis=0, dtype=np.float64), args.repeats)
        v32 = median_ms(lambda: (xmu ** 2).mean(axis=0), args.repeats)
        v64 = median_ms(lambda: (xmu ** 2).mean(axis=0, dtype=np.float64), args.repeats)
        print(f"{str(shape):>14} {m32:9.2f} {m64:9.2f} {m64 / m32:6.1f} "
              f"{v32:8.2f} {v64:8.2f} {v64 / v32:6.1f}")

    print(f"\n{'shape':>14} {'dtype':>8} {'(a*b).sum':>10} {'einsum':>8} {'ratio':>6} "
          f"{'g*x+b':>8} {'in place':>9} {'ratio':>6}")
    for shape in ((128, 4096), (4096, 1024)):
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(0)
            a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
            gamma, beta = a[0].copy(), b[0].copy()

            def shift_in_place():
                out = gamma * a
                out += beta
                return out

            s_prod = median_ms(lambda: (a * b).sum(axis=0), args.repeats)
            s_ein = median_ms(lambda: np.einsum("nd,nd->d", a, b), args.repeats)
            f_two = median_ms(lambda: gamma * a + beta, args.repeats)
            f_one = median_ms(shift_in_place, args.repeats)
            print(f"{str(shape):>14} {np.dtype(dtype).name:>8} {s_prod:10.2f} {s_ein:8.2f} "
                  f"{s_prod / s_ein:6.1f} {f_two:8.2f} {f_one:9.2f} {f_two / f_one:6.1f}")


if __name__ == "__main__":
    main()
