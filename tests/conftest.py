"""Shared fixtures for the cs231n-bn test suite."""
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


DATA_DIR = Path(__file__).resolve().parent / "data"


def load_expected(area):
    """Expected values of one area, ``tests/data/<area>.npz``, as a dict of arrays.

    The files were written from independent reference implementations that the kit
    does not ship; public tests compare against them instead of computing the
    graded results themselves.
    """
    path = DATA_DIR / f"{area}.npz"
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def assert_close(function, check, got, expected, rtol=0.0, atol=0.0, what="out",
                 against="the expected values"):
    """Compare arrays; on failure raise one line naming the function, the check and
    the size of the error, e.g. ``affine_forward (values): out differs from the
    expected values by 3.2e-01, expected <= 1e-12 + 1e-12 * |expected|``."""
    __tracebackhide__ = True
    got_a, exp_a = np.asarray(got), np.asarray(expected)
    if got_a.shape != exp_a.shape:
        raise AssertionError(f"{function} ({check}): {what} has shape {got_a.shape}, "
                             f"expected {exp_a.shape}")
    if got_a.size == 0:
        return
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got_a.astype(np.float64) - exp_a.astype(np.float64))
        bad = ~(diff <= atol + rtol * np.abs(exp_a.astype(np.float64)))
    if bad.any():
        worst = float(np.nanmax(np.where(np.isnan(diff), np.inf, diff)))
        bound = f"{atol:.0e}" if rtol == 0 else (
            f"{rtol:.0e} * |expected|" if atol == 0 else f"{atol:.0e} + {rtol:.0e} * |expected|")
        where = f" at {int(bad.sum())} of {bad.size} entries" if bad.size > 1 else ""
        raise AssertionError(f"{function} ({check}): {what} differs from {against} by "
                             f"{worst:.1e}{where}, expected <= {bound}")


@pytest.fixture
def rng():
    """A fresh, seeded generator per test (never numpy's global state)."""
    return np.random.default_rng(231)


@pytest.fixture(scope="session")
def cifar10_dir():
    """Directory of the real CIFAR-10 data, found where the loader and the CLI find it.

    ``CS231N_CIFAR10_DIR`` when set; else the kit's download location
    (``datasets/cifar-10-batches-py``, filled by ``python -m cs231n.datasets
    download``); else the official starter's location
    (``cs231n/datasets/cifar-10-batches-py``). Missing data is a failure, not a
    skip: the tests that need it are part of the suite.
    """
    from cs231n.data_utils import find_cifar10_dir

    try:
        return find_cifar10_dir().resolve()
    except FileNotFoundError as exc:
        missing = str(exc)
    pytest.fail(f"{missing}\n(`python -m cs231n.datasets where` shows what the loader "
                "looks for)", pytrace=False)


# --------------------------------------------------------------------------- #
# CIFAR-10 files in the official format, built by the tests themselves
# --------------------------------------------------------------------------- #
def _py2_pickle(obj, reconstruct_module="numpy.core.multiarray"):
    """Pickle ``obj`` the way Python 2's cPickle wrote the official batches.

    Protocol 2 with ``bytes`` written as Python-2 strings (SHORT_BINSTRING /
    BINSTRING), so no ``_codecs.encode`` global appears; numpy arrays reduce to
    ``<reconstruct_module>._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``,
    the globals the real files reference.
    """
    import io
    import pickle
    import struct

    class _Py2Pickler(pickle._Pickler):
        dispatch = pickle._Pickler.dispatch.copy()

        def _save_py2_str(self, s):
            if len(s) < 256:
                self.write(pickle.SHORT_BINSTRING + bytes([len(s)]) + s)
            else:
                self.write(pickle.BINSTRING + struct.pack("<i", len(s)) + s)
            self.memoize(s)

        dispatch[bytes] = _save_py2_str

    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    raw = buf.getvalue()
    # GLOBAL opcodes are newline-terminated text: name the module like the real files.
    for mod in (b"numpy._core.multiarray", b"numpy.core.multiarray"):
        raw = raw.replace(b"c" + mod + b"\n_reconstruct\n",
                          b"c" + reconstruct_module.encode() + b"\n_reconstruct\n")
    return raw


def _write_cifar_batch(path, data, labels, batch_label=b"training batch 1 of 5",
                       reconstruct_module="numpy.core.multiarray"):
    """Write one batch file: dict of b'batch_label', b'labels', b'data', b'filenames'."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    obj = {
        b"batch_label": batch_label,
        b"labels": [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"image_{i:05d}.png".encode() for i in range(data.shape[0])],
    }
    Path(path).write_bytes(_py2_pickle(obj, reconstruct_module))


def _make_cifar10_tree(root, n_train=4, n_test=3, seed=0):
    """Create ``root/cifar-10-batches-py`` with random images in the official format.

    Returns ``(folder, train_rows uint8 (5*n_train, 3072), train_labels,
    test_rows (n_test, 3072), test_labels)``; batch ``b`` holds rows
    ``(b-1)*n_train .. b*n_train-1``.
    """
    gen = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    Xtr = gen.integers(0, 256, size=(5 * n_train, 3072), dtype=np.uint8)
    ytr = gen.integers(0, 10, size=5 * n_train)
    Xte = gen.integers(0, 256, size=(n_test, 3072), dtype=np.uint8)
    yte = gen.integers(0, 10, size=n_test)
    for b in range(5):
        rows = slice(b * n_train, (b + 1) * n_train)
        _write_cifar_batch(folder / f"data_batch_{b + 1}", Xtr[rows], ytr[rows],
                           f"training batch {b + 1} of 5".encode())
    _write_cifar_batch(folder / "test_batch", Xte, yte, b"testing batch 1 of 1")
    meta = {b"num_cases_per_batch": n_train, b"num_vis": 3072,
            b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                             b"dog", b"frog", b"horse", b"ship", b"truck"]}
    (folder / "batches.meta").write_bytes(_py2_pickle(meta))
    (folder / "readme.html").write_text("<meta HTTP-EQUIV='REFRESH'>\n")
    return folder, Xtr, ytr, Xte, yte


@pytest.fixture(scope="session")
def write_cifar_batch():
    """Function ``(path, data, labels, batch_label=..., reconstruct_module=...)``
    writing one batch pickled like the official CIFAR-10 files."""
    return _write_cifar_batch


@pytest.fixture(scope="session")
def make_cifar10_tree():
    """Function ``(root, n_train=4, n_test=3, seed=0)`` building a small
    ``cifar-10-batches-py`` in the official format; see ``_make_cifar10_tree``."""
    return _make_cifar10_tree
