"""Cost of touching fresh memory on this machine (why allocation dominates some timings).

Every page of a freshly mapped array costs a page fault on its first write. On
bare metal that is a fraction of a microsecond per 4 KiB page; inside some
virtual machines it is ten times more, and then an operation that allocates its
output afresh on every call (or a library whose allocator returns memory to the
operating system between calls) pays for it on every call. The script maps
fresh anonymous memory, writes one byte per page and unmaps it, against the
same writes to memory that is already mapped, and reports microseconds per
page and the first-touch cost of one array in units of one pass over it.

Run from the repository root::

    python benchmarks/bench_first_touch.py
"""
from __future__ import annotations

import mmap
import statistics
import time

import _timing  # noqa: F401,I001  (first: thread settings, as in every benchmark)

import numpy as np

PAGE = mmap.PAGESIZE


def _median_us(fn, repeats=15):
    fn()                                                      # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def first_touch(nbytes):
    """Microseconds to map ``nbytes``, write one byte per page and unmap; and to rewrite mapped memory."""
    def fresh():
        m = mmap.mmap(-1, nbytes)
        a = np.frombuffer(m, np.uint8)
        a[::PAGE] = 1                                         # one write per page: one fault each
        del a
        m.close()

    held = np.zeros(nbytes, np.uint8)

    def mapped():
        held[::PAGE] = 1

    def one_pass():
        np.add(held, 1, out=held)                             # read and write every byte once

    return _median_us(fresh), _median_us(mapped), _median_us(one_pass)


def main():
    print(_timing.describe_env(None))
    rows = []
    for nbytes in (256 << 10, 2 << 20, 16 << 20, 64 << 20):
        fresh, mapped, one_pass = first_touch(nbytes)
        pages = nbytes // PAGE
        rows.append([f"{nbytes >> 10:,} KiB", f"{fresh:,.0f}", f"{fresh / pages:.2f}",
                     f"{mapped:,.0f}", f"{one_pass:,.0f}", f"{fresh / one_pass:.1f}"])
    print(_timing.format_table(rows, ["array", "fresh us", "us / page", "mapped us",
                                      "one pass us", "fresh / pass"]))
    print(f"\n{PAGE}-byte pages; 'fresh' maps, touches and unmaps; 'mapped' touches the same "
          "pages of an array already mapped; 'one pass' is np.add(a, 1, out=a) over it.")


if __name__ == "__main__":
    main()
