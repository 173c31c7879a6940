"""cs231n/_alloc.py: aligned outputs, recycled only when nobody holds them.

Recycling is an optimisation that must never be visible: an array a caller
still holds, in any form, must not be handed out again. These tests hold
arrays in the ways a user might and check that later calls neither share their
memory nor change their values; and they check that recycling does happen once
an array is dropped (otherwise the optimisation silently stopped working).
"""
import threading

import numpy as np
import pytest

from cs231n import _alloc, layers

BIG = (2048, 2048)                     # 16 MiB of float32: recycled
SMALL = (16, 16)                       # left to numpy
recycling = pytest.mark.skipif(_alloc._IDLE_REFS is None,
                               reason="this interpreter has no exact reference counts")


@pytest.fixture(autouse=True)
def fresh_pool():
    """Each test starts with an empty pool in this thread (and leaves one)."""
    _alloc._LOCAL.__dict__.pop("pool", None)
    yield
    _alloc._LOCAL.__dict__.pop("pool", None)


@pytest.mark.parametrize("shape", [SMALL, BIG, (3, 5, 7), (0, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_shape_dtype_alignment(shape, dtype):
    a = _alloc.empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype
    assert a.flags.c_contiguous and a.flags.writeable
    if a.size:                                          # an empty array has no data to align
        assert a.ctypes.data % 64 == 0


@recycling
def test_dropped_array_is_recycled():
    a = _alloc.empty(BIG, np.float32)
    address = a.ctypes.data
    del a
    b = _alloc.empty(BIG, np.float32)
    assert b.ctypes.data == address


@recycling
def test_recycled_for_a_slightly_smaller_request_but_not_a_much_smaller_one():
    a = _alloc.empty(BIG, np.float32)
    address = a.ctypes.data
    del a
    b = _alloc.empty((2000, 2048), np.float32)          # fits, wastes under half
    assert b.ctypes.data == address
    del b
    c = _alloc.empty((2048, 2047), np.float32)          # same buffer again
    assert c.ctypes.data == address
    del c
    d = _alloc.empty((2048, 2048), np.float64)          # larger: a new buffer
    assert not d.ctypes.data == address
    del d
    e = _alloc.empty((2048, 1024), np.float64)          # the first buffer is idle again
    assert e.ctypes.data == address
    del e
    f = _alloc.empty((1024, 1536), np.float32)          # 6 MiB: would waste over half
    assert not f.ctypes.data == address


def _holders():
    """Ways of keeping an array alive without keeping the array object itself."""
    return {
        "array": lambda a: a,
        "reshaped view": lambda a: a.reshape(-1),
        "strided slice": lambda a: a[::3, 1:],
        "transpose": lambda a: a.T,
        "memoryview": lambda a: memoryview(a),
        "frombuffer": lambda a: np.frombuffer(a, dtype=np.uint8),
        "as_strided": lambda a: np.lib.stride_tricks.as_strided(a, shape=(4,), strides=(4,)),
        "in a list": lambda a: [a[0]],
        "dtype view": lambda a: a.view(np.int32),
    }


@pytest.mark.parametrize("how", list(_holders()))
def test_held_array_is_never_handed_out_again(how):
    a = _alloc.empty(BIG, np.float32)
    a[...] = 7.0
    keep = _holders()[how](a)
    del a
    later = [_alloc.empty(BIG, np.float32) for _ in range(3)]
    for b in later:
        b[...] = -1.0
    base = np.asarray(keep if not isinstance(keep, list) else keep[0])
    if base.dtype == np.uint8:
        base = base.view(np.float32)
    if base.dtype == np.int32:
        base = base.view(np.float32)
    assert np.all(base == 7.0)
    for b in later:
        assert not np.shares_memory(b, base)


@recycling
def test_pool_keeps_at_most_its_budget(monkeypatch):
    monkeypatch.setattr(_alloc, "_POOL_BYTES", 3 * (BIG[0] * BIG[1] * 4 + 64))
    held = [_alloc.empty(BIG, np.float32) for _ in range(10)]
    pool = _alloc._LOCAL.pool
    assert 1 <= len(pool) <= 3
    assert sum(b.nbytes for b in pool) <= _alloc._POOL_BYTES
    for i, h in enumerate(held):                         # forgotten buffers stay valid
        h[...] = i
    assert [float(h[0, 0]) for h in held] == list(range(10))


def test_another_threads_array_is_safe():
    """An array made in one thread and held in another is not reused by either."""
    box = {}

    def make():
        box["a"] = _alloc.empty(BIG, np.float32)
        box["a"][...] = 3.0
        box["b"] = _alloc.empty(BIG, np.float32)         # the thread's pool sees it held

    t = threading.Thread(target=make)
    t.start()
    t.join()
    mine = [_alloc.empty(BIG, np.float32) for _ in range(2)]
    for m in mine:
        m[...] = 0.0
        assert not np.shares_memory(m, box["a"])
    assert np.all(box["a"] == 3.0)
    assert not np.shares_memory(box["a"], box["b"])


def test_layer_outputs_held_by_the_caller_keep_their_values(rng):
    """Outputs of successive calls, all kept, are distinct and unchanged."""
    gamma = np.ones(1024, np.float32)
    beta = np.zeros(1024, np.float32)
    kept, copies = [], []
    for _ in range(4):
        x = rng.standard_normal((1024, 1024)).astype(np.float32)
        out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        dx, _, _ = layers.batchnorm_backward_alt(x, cache)
        kept.append((out, dx))
        copies.append((out.copy(), dx.copy()))
    for (out, dx), (out_c, dx_c) in zip(kept, copies):
        np.testing.assert_array_equal(out, out_c)
        np.testing.assert_array_equal(dx, dx_c)
    arrays = [a for pair in kept for a in pair]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)


@recycling
def test_training_loop_reuses_layer_outputs(rng):
    """Dropping a step's outputs lets the next step use the same memory."""
    x = rng.standard_normal((1024, 1024)).astype(np.float32)
    gamma = np.ones(1024, np.float32)
    beta = np.zeros(1024, np.float32)
    out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    first = out.ctypes.data
    del out, cache
    out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert out.ctypes.data == first
