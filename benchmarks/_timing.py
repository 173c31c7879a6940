"""Shared timing helpers for the benchmark scripts (fair numpy-vs-torch ratios).

Import this module **before numpy and torch**: on import it sets the thread and
allocator environment variables that fair one-thread figures need, and they
only take effect if set before the libraries load:

=========================  =====  ==================================================
variable                   value  why
=========================  =====  ==================================================
``OPENBLAS_NUM_THREADS``   1      one-thread figures (numpy's BLAS)
``OMP_NUM_THREADS``        1      one-thread figures (torch, other OpenMP code)
``MKL_NUM_THREADS``        1      one-thread figures (if numpy uses MKL)
``OPENBLAS_THREAD_TIMEOUT`` 4     idle OpenBLAS workers stop spinning quickly, so
                                  they do not slow torch in the same process
``THP_MEM_ALLOC_ENABLE``   1      torch's CPU allocator uses huge pages: the faster
                                  torch is the anchor to beat
=========================  =====  ==================================================

Values already present in the environment win (``setdefault``), so
``OPENBLAS_NUM_THREADS=2 python benchmarks/...`` measures two threads.

Typical use::

    import _timing                      # first
    import numpy as np
    torch = _timing.torch_or_none()     # None when torch is not installed
    res = _timing.compare({"torch": f_torch, "ours": f_ours}, repeats=9)
    res["ratio"]["ours"]                # median over repeats of t_ours / t_torch

``compare`` runs the functions in turn (A B A B ..., rotating which goes first),
so a noisy neighbour slows both sides of a pair alike, and reports the median of
the per-repeat ratios: a robust figure on a shared machine, where absolute
times drift. On a machine busy with other work, ``clock="cpu"`` times the
calling thread's CPU time instead of wall time (one-thread runs only).
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
import warnings

ENV_DEFAULTS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_THREAD_TIMEOUT": "4",
    "THP_MEM_ALLOC_ENABLE": "1",
}

__all__ = [
    "ENV_DEFAULTS",
    "configure_env",
    "torch_or_none",
    "CLOCKS",
    "time_call",
    "compare",
    "format_table",
    "describe_env",
]


def configure_env():
    """Set the variables of ``ENV_DEFAULTS`` unless already set (done on import).

    Warns when numpy or torch was imported earlier, because then the settings
    may not apply to it.
    """
    late = [m for m in ("numpy", "torch") if m in sys.modules]
    missing = [k for k in ENV_DEFAULTS if k not in os.environ]
    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if late and missing:
        warnings.warn(
            f"{', '.join(late)} was imported before benchmarks/_timing.py set "
            f"{', '.join(missing)}; import _timing first for fair one-thread figures",
            RuntimeWarning,
            stacklevel=2,
        )


configure_env()


def torch_or_none(threads=None):
    """Import torch for comparison, or return None if it is not installed.

    Parameters
    ----------
    threads : int or None
        Threads for torch's intra-op pool; default ``OMP_NUM_THREADS`` (1 unless
        overridden in the environment).

    Returns
    -------
    module or None
    """
    try:
        import torch  # noqa: PLC0415 (optional, benchmarks only)
    except ImportError:
        return None
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    return torch


CLOCKS = {
    # Wall time: what a user waits. The default, as in PERF_NOTES.md.
    "wall": time.perf_counter,
    # CPU time of the calling thread: robust when other processes share the
    # cores (a descheduled thread does not count time). Valid for one-thread
    # runs only (numpy's BLAS and torch then compute in the calling thread).
    "cpu": time.thread_time,
}


def time_call(fn, clock="wall"):
    """Seconds taken by one call of ``fn()`` on ``clock`` ("wall" or "cpu")."""
    tick = CLOCKS[clock]
    t0 = tick()
    fn()
    return tick() - t0


def compare(fns, repeats=7, warmup=1, baseline=None, clock="wall"):
    """Time several functions interleaved; medians and per-repeat ratios.

    Parameters
    ----------
    fns : dict[str, callable]
        Name -> zero-argument function doing one unit of work. Order matters
        only for the default baseline.
    repeats : int
        Rounds; each round calls every function once. The starting function
        rotates from round to round.
    warmup : int
        Untimed rounds first (first-touch of buffers, caches, lazy imports).
    baseline : str or None
        Name the ratios are taken against; default the first key of ``fns``.
    clock : {"wall", "cpu"}
        ``"wall"``: ``time.perf_counter``; ``"cpu"``: ``time.thread_time``, the
        calling thread's CPU time (for one-thread runs on a busy machine).

    Returns
    -------
    dict
        ``"median"``: name -> median seconds; ``"min"``: name -> fastest
        seconds; ``"ratio"``: name -> median over rounds of
        ``t[name] / t[baseline]`` (measured in the same round);
        ``"times"``: name -> list of seconds per round; ``"baseline"``: the
        baseline's name; ``"repeats"``: number of rounds; ``"clock"``.
    """
    names = list(fns)
    if not names:
        raise ValueError("fns must hold at least one function")
    if baseline is None:
        baseline = names[0]
    if baseline not in fns:
        raise ValueError(f"baseline {baseline!r} is not one of {names}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(repeats):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                times[name].append(time_call(fns[name], clock))
    finally:
        if gc_was_enabled:
            gc.enable()
    ratio = {
        name: statistics.median(t / b for t, b in zip(times[name], times[baseline]))
        for name in names
    }
    return {
        "median": {name: statistics.median(times[name]) for name in names},
        "min": {name: min(times[name]) for name in names},
        "ratio": ratio,
        "times": times,
        "baseline": baseline,
        "repeats": repeats,
        "clock": clock,
    }


def format_table(rows, headers):
    """Render rows (sequences of str/number) as a Markdown table string."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in body]
    return "\n".join(lines)


def _cpu_facts():
    """CPU model, widest vector instructions and L2 cache size, where Linux tells them.

    Ratios to torch depend on the machine (torch's convolutions use AVX-512
    where it exists), so every result is printed with these.
    """
    facts = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = f.read()
    except OSError:
        return facts
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    if "model name" in fields:
        facts.append(fields["model name"])
    flags = set(fields.get("flags", "").split())
    if flags:
        facts.append("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size", encoding="utf-8") as f:
            facts.append(f"L2 {f.read().strip()} per core")
    except OSError:
        pass
    return facts


def describe_env(torch=None):
    """One line: Python, numpy (and torch) versions, CPU count, thread settings."""
    import numpy as np  # noqa: PLC0415 (after configure_env)

    parts = [
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
    ]
    if torch is not None:
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s))")
    parts.append(f"{os.cpu_count()} CPUs")
    parts += _cpu_facts()
    if hasattr(os, "getloadavg"):
        parts.append("load average {:.2f}".format(os.getloadavg()[0]))
    parts += [f"{k}={os.environ.get(k)}" for k in ENV_DEFAULTS]
    return ", ".join(parts)
