"""Large output arrays: cache-line aligned, and recycled once nobody holds them.

A layer returns new arrays (``out``, ``dx``) on every call, and a training step
drops the previous step's arrays before the next one asks for new ones of the
same size. Getting that memory from the operating system again each time is
expensive on the reference machines: the first touch of a fresh 16 MiB array
(page faults, the kernel zeroing the pages) costs several passes of arithmetic
over it (``python benchmarks/bench_first_touch.py`` measures it; figures in
``benchmarks/README.md``).

:func:`empty` therefore keeps, per thread, the buffers of the large arrays it
has handed out. A buffer is handed out again only when its reference count
shows that nothing outside this module refers to it any more: every numpy view
of an array (``out.reshape(...)``, ``out[::2]``, a ``memoryview``, an array
made with ``np.frombuffer``) keeps a reference to the buffer, so an array a
caller still holds, in any form, is never reused. The pool holds at most
``_POOL_BYTES`` per thread; idle buffers beyond that are released.

Recycling needs exact reference counts, so it is switched off where they are
not available or not exact (interpreters without ``sys.getrefcount``, CPython
built without the GIL); :func:`empty` then allocates afresh.
"""
from __future__ import annotations

import ctypes
import math
import sys
import threading

import numpy as np

# Arrays smaller than this are left to numpy's allocator (cheap to get).
_MIN_BYTES = 1 << 22

# Bytes of buffers one thread keeps (in use or idle) for recycling.
_POOL_BYTES = 1 << 28

_LOCAL = threading.local()


def _refs(pool, i):
    """Reference count of ``pool[i]`` as seen from here (calibrated below)."""
    return sys.getrefcount(pool[i])


def _calibrate():
    """References an idle pooled buffer has: the pool's, and this call path's."""
    if not hasattr(sys, "getrefcount"):
        return None
    if not getattr(sys, "_is_gil_enabled", lambda: True)():    # free-threaded CPython
        return None
    return _refs([np.empty(1, np.uint8)], 0)


_IDLE_REFS = _calibrate()


def _address(buf):
    """Address of a writable byte buffer's first byte (3x cheaper than ``buf.ctypes.data``)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def _aligned(buf, shape, dtype, nbytes):
    """View ``nbytes`` of ``buf`` starting at the first 64-byte boundary."""
    start = -_address(buf) % 64
    return buf[start:start + nbytes].view(dtype).reshape(shape)


def empty(shape, dtype):
    """An uninitialised array, aligned to a 64-byte cache line.

    Large numpy arrays come from ``malloc``'s mmap path and start 16 bytes past
    a page boundary, so every 64-byte SIMD access straddles two cache lines;
    aligned outputs made the elementwise passes of batch norm 10-15% faster
    (measured). Arrays of ``_MIN_BYTES`` or more reuse the buffer of an earlier
    array that nobody holds any more (see the module docstring).

    Parameters
    ----------
    shape : tuple of int
    dtype : data-type

    Returns
    -------
    ndarray, shape ``shape``
        A C-contiguous view of a byte buffer (``owndata`` is False). Its
        contents are arbitrary.
    """
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _MIN_BYTES or _IDLE_REFS is None:
        return _aligned(np.empty(nbytes + 64, np.uint8), shape, dtype, nbytes)
    pool = _LOCAL.__dict__.setdefault("pool", [])
    for i in range(len(pool)):
        # an idle buffer of the right size (not more than twice what is asked)
        if nbytes + 64 <= pool[i].nbytes <= 2 * nbytes + 64 and _refs(pool, i) <= _IDLE_REFS:
            pool.append(pool.pop(i))                          # most recently used last
            return _aligned(pool[-1], shape, dtype, nbytes)
    buf = np.empty(nbytes + 64, np.uint8)
    pool.append(buf)
    total = sum(b.nbytes for b in pool)
    while total > _POOL_BYTES and len(pool) > 1:              # forget the oldest others
        total -= pool.pop(0).nbytes                           # in use: its holders keep it alive
    return _aligned(buf, shape, dtype, nbytes)
