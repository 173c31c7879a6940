"""What a float64 statistic of float32 data costs in numpy (one thread).

The normalisation model answers take the mean of x in float64 (float32 sums lose
a small spread under a large common offset) and keep everything else in x's
dtype. This script times the column mean of a float32 array in float32 and with
``dtype=np.float64``, and the two-pass variance's reduction both ways, so the
choice can be rechecked on any machine::

    python benchmarks/bench_reductions.py
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


if __name__ == "__main__":
    main()
