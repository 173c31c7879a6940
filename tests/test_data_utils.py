"""Tests of cs231n.data_utils: CIFAR-10 batch reading, safety, location order, splits."""
import codecs
import os
import pickle
import pickletools
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import cs231n
from cs231n import data_utils
from cs231n.data_utils import (
    CIFAR10FormatError,
    CIFAR10SubsetWarning,
    UnsafePickleError,
    find_cifar10_dir,
    get_CIFAR10_data,
    load_CIFAR10,
    load_CIFAR_batch,
)


def _to_nhwc(rows):
    """Independent reference: pixel (h, w, c) of a row is at c*1024 + h*32 + w."""
    n = rows.shape[0]
    h, w, c = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), indexing="ij")
    return rows[:, c * 1024 + h * 32 + w].reshape(n, 32, 32, 3).astype(np.float64)


def _to_nchw(rows):
    n = rows.shape[0]
    c, h, w = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    return rows[:, c * 1024 + h * 32 + w].reshape(n, 3, 32, 32).astype(np.float64)


@pytest.fixture
def tree(tmp_path, make_cifar10_tree):
    """A cifar-10-batches-py with 4 images per training batch (20) and 3 test images."""
    return make_cifar10_tree(tmp_path / "data", n_train=4, n_test=3, seed=1)


@pytest.fixture
def no_default_data(monkeypatch, tmp_path):
    """Point every default location at empty folders and unset the env variable."""
    monkeypatch.delenv("CS231N_CIFAR10_DIR", raising=False)
    monkeypatch.setattr(data_utils, "KIT_DATASETS_DIR", tmp_path / "kit" / "datasets")
    monkeypatch.setattr(data_utils, "STARTER_DATASETS_DIR", tmp_path / "starter" / "datasets")


# --------------------------------------------------------------------------- #
# Reading batches
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_load_batch_matches_raw_rows(tmp_path, write_cifar_batch, rng, module):
    rows = rng.integers(0, 256, size=(5, 3072), dtype=np.uint8)
    labels = [3, 0, 9, 9, 1]
    path = tmp_path / "data_batch_1"
    write_cifar_batch(path, rows, labels, reconstruct_module=module)
    X, y = load_CIFAR_batch(path)
    assert X.shape == (5, 32, 32, 3) and X.dtype == np.float64
    assert y.dtype == np.int64 and y.tolist() == labels
    np.testing.assert_array_equal(X, _to_nhwc(rows))
    # spot check one pixel by hand: image 2, row 7, column 30, green channel
    assert X[2, 7, 30, 1] == rows[2, 1024 + 7 * 32 + 30]


def test_load_batch_float32_and_str_path(tmp_path, write_cifar_batch, rng):
    rows = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    write_cifar_batch(tmp_path / "b", rows, [1, 2])
    X, _ = load_CIFAR_batch(str(tmp_path / "b"), dtype=np.float32)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, _to_nhwc(rows))


def test_python3_pickle_with_str_keys_is_accepted(tmp_path, rng):
    # A batch re-pickled by Python 3 (protocol 4, str keys) uses the same globals.
    rows = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": rows, "labels": [0, 5, 7]}, protocol=4))
    X, y = load_CIFAR_batch(path)
    np.testing.assert_array_equal(X, _to_nhwc(rows))
    assert y.tolist() == [0, 5, 7]


def test_load_pickle_returns_official_dict(tmp_path, write_cifar_batch, rng):
    rows = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    write_cifar_batch(tmp_path / "b", rows, [4, 8], batch_label=b"x")
    with open(tmp_path / "b", "rb") as fh:
        d = data_utils.load_pickle(fh)
    assert set(d) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert d[b"labels"] == [4, 8] and d[b"batch_label"] == b"x"
    np.testing.assert_array_equal(d[b"data"], rows)


class _RunsShell:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _CallsEval:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (eval, (self.code,))


@pytest.mark.parametrize("protocol", [2, 4])
def test_planted_pickle_is_refused_and_does_not_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    payload = {"data": _RunsShell(f"touch {marker}"), "labels": [0]}
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(UnsafePickleError) as err:
        load_CIFAR_batch(path)
    assert not marker.exists()
    msg = str(err.value)
    assert str(path) in msg and "system" in msg and "refusing" in msg
    assert isinstance(err.value, ValueError)


def test_eval_in_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "test_batch"
    code = f"open({str(marker)!r}, 'w').close()"
    path.write_bytes(pickle.dumps(_CallsEval(code), protocol=2))
    with pytest.raises(UnsafePickleError, match=r"refusing to load the global (__builtin__|builtins)\.eval"):
        load_CIFAR_batch(path)
    assert not marker.exists()


# --------------------------------------------------------------------------- #
# Batches re-pickled by Python 3 (any protocol) and what stays refused
# --------------------------------------------------------------------------- #
def _official_dict(rows, labels):
    """The official batch layout (bytes keys and strings), as conftest writes it."""
    return {
        b"batch_label": b"training batch 1 of 5",
        b"labels": labels,
        b"data": rows,
        b"filenames": [f"image_{i:05d}.png".encode() for i in range(rows.shape[0])],
    }


def _globals_of(raw):
    """``module.name`` of every global a pickle references (GLOBAL / STACK_GLOBAL)."""
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(raw):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}.{strings[-1]}")
        elif isinstance(arg, str):
            strings.append(arg)
    return found


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("label_kind", ["int", "np.int64", "ndarray"])
def test_python3_pickle_of_any_protocol_loads_equal(tmp_path, rng, protocol, label_kind):
    rows = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
    labels = [7, 0, 9, 3]
    stored = {"int": list(labels), "np.int64": [np.int64(v) for v in labels],
              "ndarray": np.array(labels, dtype=np.int64)}[label_kind]
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as fh:
        pickle.dump(_official_dict(rows, stored), fh, protocol=protocol)
    refs = _globals_of(path.read_bytes())
    if protocol <= 2:   # how Python 3 writes bytes at protocols 0-2
        assert "_codecs.encode" in refs
    if protocol == 5:   # numpy's protocol-5 array reconstruction
        assert any(r.endswith("numeric._frombuffer") for r in refs)
    if label_kind == "np.int64":
        assert any(r.endswith("multiarray.scalar") for r in refs)
    X, y = load_CIFAR_batch(path)
    np.testing.assert_array_equal(X, _to_nhwc(rows))
    assert y.dtype == np.int64 and y.shape == (4,) and y.tolist() == labels
    y[0] = 1                                   # a writable array of its own
    with open(path, "rb") as fh:               # the bytes come back unchanged too
        d = data_utils.load_pickle(fh)
    assert d[b"batch_label"] == b"training batch 1 of 5"
    assert d[b"filenames"] == [f"image_{i:05d}.png".encode() for i in range(4)]
    np.testing.assert_array_equal(d[b"data"], rows)


def _respell_numpy(raw, protocol, prefix):
    """Rename ``numpy.core`` / ``numpy._core`` globals of a pickle to ``prefix``."""
    if protocol >= 4:   # STACK_GLOBAL: length-prefixed strings, then re-frame
        def short(m):
            text = f"{prefix}.{m.group(2).decode()}".encode()
            return b"\x8c" + bytes([len(text)]) + text
        raw = re.sub(rb"\x8c[\x00-\xff](numpy\._?core)\.(multiarray|numeric)(?=[\x00-\xff])",
                     short, raw)
        return pickletools.optimize(raw)
    return re.sub(rb"c(numpy\._?core)\.(multiarray|numeric)\n",
                  lambda m: b"c" + prefix.encode() + b"." + m.group(2) + b"\n", raw)


@pytest.mark.parametrize("prefix", ["numpy.core", "numpy._core"])   # numpy 1.x, numpy 2
@pytest.mark.parametrize("protocol", [2, 5])
def test_both_numpy_spellings_are_admitted(tmp_path, rng, prefix, protocol):
    rows = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    raw = pickle.dumps({"data": rows, "labels": [np.int64(4), np.int64(8)]}, protocol=protocol)
    raw = _respell_numpy(raw, protocol, prefix)
    numpy_refs = {r for r in _globals_of(raw) if r.startswith("numpy.") and r.count(".") > 1}
    assert numpy_refs and all(r.startswith(prefix + ".") for r in numpy_refs)
    path = tmp_path / "b"
    path.write_bytes(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # resolved by the allow-list, never imported
        X, y = load_CIFAR_batch(path)
    np.testing.assert_array_equal(X, _to_nhwc(rows))
    assert y.tolist() == [4, 8]


class _Reduces:
    """Pickles as ``function(*args)``."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize("payload, refused", [
    ("system", r"(os|posix|nt)\.system"),
    ("eval", r"(__builtin__|builtins)\.eval"),
    ("getattr", r"(__builtin__|builtins)\.getattr"),
], ids=["os.system", "eval", "getattr"])
def test_admitted_globals_do_not_open_the_door(tmp_path, rng, protocol, payload, refused):
    # Bytes, an array and numpy integers come first (so _codecs.encode, _frombuffer and
    # scalar are admitted and used), then the dangerous global: still refused, never run.
    marker = tmp_path / "pwned"
    bad = {"system": _Reduces(os.system, f"touch {marker}"),
           "eval": _Reduces(eval, f"open({str(marker)!r}, 'w').close()"),
           "getattr": _Reduces(getattr, "x", "upper")}[payload]
    d = _official_dict(rng.integers(0, 256, size=(1, 3072), dtype=np.uint8), [np.int64(1)])
    d[b"zz_payload"] = bad
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(d, protocol=protocol))
    with pytest.raises(UnsafePickleError, match="refusing to load the global " + refused) as err:
        load_CIFAR_batch(path)
    assert str(path) in str(err.value) and "delete it" in str(err.value)
    assert not marker.exists()


def test_codecs_encode_is_admitted_only_as_pickle_uses_it(tmp_path):
    path = tmp_path / "b"
    # what pickle writes for b"\x00\xffab" at protocols 0-2: fine
    path.write_bytes(pickle.dumps(_Reduces(codecs.encode, "\x00\xffab", "latin1"), protocol=2))
    with open(path, "rb") as fh:
        assert data_utils.load_pickle(fh) == b"\x00\xffab"
    # any other codec or argument: refused before the codec runs
    for args in [("abc", "rot13"), (b"abc", "zlib_codec"), ("abc", "utf-8"),
                 ("\u20ac", "latin1", "ignore"), (b"abc", "latin1")]:
        path.write_bytes(pickle.dumps(_Reduces(codecs.encode, *args), protocol=2))
        with open(path, "rb") as fh, pytest.raises(UnsafePickleError, match=r"_codecs\.encode"):
            data_utils.load_pickle(fh)


@pytest.mark.parametrize("labels, shown", [
    ([0, 2**70], str(2**70)),
    ([np.uint64(2**64 - 1), np.int64(0)], str(2**64 - 1)),
    (np.array([0, 2**64 - 1], dtype=np.uint64), str(2**64 - 1)),
    ([-2**70, 3], str(-2**70)),
])
def test_huge_label_is_a_format_error(tmp_path, labels, shown):
    path = tmp_path / "data_batch_4"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": labels},
                                  protocol=4))
    with pytest.raises(CIFAR10FormatError) as err:
        load_CIFAR_batch(path)
    msg = str(err.value)
    assert "data_batch_4" in msg and "0..9" in msg and shown in msg


@pytest.mark.parametrize("keep", [0, 1, 100, 5000, "half"])
def test_truncated_batch_names_the_file(tmp_path, write_cifar_batch, rng, keep):
    path = tmp_path / "data_batch_3"
    write_cifar_batch(path, rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), [0, 1, 2, 3])
    raw = path.read_bytes()
    n = len(raw) // 2 if keep == "half" else keep
    path.write_bytes(raw[:n])
    with pytest.raises(CIFAR10FormatError, match="data_batch_3"):
        load_CIFAR_batch(path)


def test_garbage_file_is_a_format_error(tmp_path, rng):
    path = tmp_path / "data_batch_1"
    path.write_bytes(rng.integers(0, 256, size=2000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="data_batch_1"):
        load_CIFAR_batch(path)


def _good():
    return {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 9]}


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.update(data=np.zeros((2, 3072), np.float32)), "uint8"),
    (lambda d: d.update(data=np.zeros((2, 3071), np.uint8)), "3072"),
    (lambda d: d.update(data=np.zeros((0, 3072), np.uint8)), "n >= 1"),
    (lambda d: d.update(data=[[0] * 3072] * 2), "uint8 array"),
    (lambda d: d.update(labels=[0]), "1 entries, expected 2"),
    (lambda d: d.update(labels=[0, 10]), "0..9"),
    (lambda d: d.update(labels=[-1, 0]), "0..9"),
    (lambda d: d.update(labels=[0.0, 1.0]), "integers"),
    (lambda d: d.update(labels=[np.float64(0), np.float64(1)]), "integers"),
    (lambda d: d.update(labels=[True, False]), "integers"),
    (lambda d: d.update(labels=[np.bool_(True), np.bool_(False)]), "integers"),
    (lambda d: d.update(labels=[np.int64(0), np.int64(10)]), "0..9"),
    (lambda d: d.pop("labels"), "lacks"),
])
def test_invalid_contents_are_rejected(tmp_path, change, fragment):
    d = _good()
    change(d)
    path = tmp_path / "data_batch_2"
    path.write_bytes(pickle.dumps(d, protocol=4))
    with pytest.raises(CIFAR10FormatError) as err:
        load_CIFAR_batch(path)
    assert fragment in str(err.value) and "data_batch_2" in str(err.value)


def test_non_dict_pickle_is_rejected(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(CIFAR10FormatError, match="dict"):
        load_CIFAR_batch(path)


def test_missing_batch_says_how_to_get_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m cs231n.datasets download"):
        load_CIFAR_batch(tmp_path / "nope")


def test_bad_argument_types(tmp_path):
    with pytest.raises(TypeError, match="filename"):
        load_CIFAR_batch(3)
    with pytest.raises(ValueError, match="dtype"):
        load_CIFAR_batch(tmp_path / "x", dtype=np.int32)


# --------------------------------------------------------------------------- #
# load_CIFAR10
# --------------------------------------------------------------------------- #
def test_load_cifar10_concatenates_batches_in_order(tree):
    folder, Xtr, ytr, Xte, yte = tree
    A, a, B, b = load_CIFAR10(folder)
    np.testing.assert_array_equal(A, _to_nhwc(Xtr))
    np.testing.assert_array_equal(B, _to_nhwc(Xte))
    assert a.tolist() == ytr.tolist() and b.tolist() == yte.tolist()
    assert A.dtype == np.float64 and a.dtype == np.int64


def test_load_cifar10_accepts_parent_folder(tree):
    folder = tree[0]
    A, *_ = load_CIFAR10(folder.parent)
    assert A.shape == (20, 32, 32, 3)


def test_load_cifar10_missing_test_batch(tree):
    folder = tree[0]
    (folder / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_CIFAR10(folder)


# --------------------------------------------------------------------------- #
# Where the data lives
# --------------------------------------------------------------------------- #
def test_default_locations_are_kit_and_starter():
    pkg = Path(cs231n.__file__).resolve().parent
    assert Path(data_utils.KIT_DATASETS_DIR) == pkg.parent / "datasets"
    assert Path(data_utils.STARTER_DATASETS_DIR) == pkg / "datasets"


def _fake_tree(root):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(b"")
    return folder


def test_location_order(monkeypatch, tmp_path, no_default_data):
    explicit = _fake_tree(tmp_path / "explicit")
    env = _fake_tree(tmp_path / "env")
    kit = _fake_tree(tmp_path / "kit" / "datasets")
    starter = _fake_tree(tmp_path / "starter" / "datasets")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(env))

    assert find_cifar10_dir(explicit) == explicit          # explicit wins
    assert find_cifar10_dir() == env                       # then the environment
    monkeypatch.delenv("CS231N_CIFAR10_DIR")
    assert find_cifar10_dir() == kit                       # then the kit's download
    (kit / "test_batch").unlink()                          # incomplete -> skipped
    assert find_cifar10_dir() == starter                   # then the starter's place
    (starter / "data_batch_5").unlink()
    with pytest.raises(FileNotFoundError) as err:
        find_cifar10_dir()
    msg = str(err.value)
    assert str(kit) in msg and str(starter) in msg
    assert "lacks test_batch" in msg and "lacks data_batch_5" in msg
    assert "python -m cs231n.datasets download" in msg and "CS231N_CIFAR10_DIR" in msg


def test_nothing_anywhere_lists_places(no_default_data, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        find_cifar10_dir()
    assert "does not exist" in str(err.value)
    assert str(tmp_path / "kit" / "datasets" / "cifar-10-batches-py") in str(err.value)


def test_bad_explicit_or_env_does_not_fall_back(monkeypatch, tmp_path, no_default_data):
    _fake_tree(tmp_path / "kit" / "datasets")
    with pytest.raises(FileNotFoundError, match="directory given"):
        find_cifar10_dir(tmp_path / "empty")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(tmp_path / "wrong"))
    with pytest.raises(FileNotFoundError, match="CS231N_CIFAR10_DIR is set to"):
        find_cifar10_dir()


def test_env_may_name_the_parent_folder(monkeypatch, tmp_path, no_default_data):
    folder = _fake_tree(tmp_path / "somewhere")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(tmp_path / "somewhere"))
    assert find_cifar10_dir() == folder


def test_find_rejects_non_path():
    with pytest.raises(TypeError, match="cifar10_dir"):
        find_cifar10_dir(12)


def test_get_data_follows_env_over_kit(monkeypatch, tmp_path, no_default_data, make_cifar10_tree):
    env_folder, _, env_y, _, _ = make_cifar10_tree(tmp_path / "env", n_train=3, n_test=2, seed=5)
    kit_folder, _, kit_y, _, _ = make_cifar10_tree(tmp_path / "kit" / "datasets", 3, 2, seed=6)
    assert env_y.tolist() != kit_y.tolist()
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(env_folder))
    d = get_CIFAR10_data(10, 5, 2)
    assert d["y_train"].tolist() + d["y_val"].tolist() == env_y.tolist()
    monkeypatch.delenv("CS231N_CIFAR10_DIR")
    d = get_CIFAR10_data(10, 5, 2)
    assert d["y_train"].tolist() + d["y_val"].tolist() == kit_y.tolist()


# --------------------------------------------------------------------------- #
# get_CIFAR10_data
# --------------------------------------------------------------------------- #
def test_official_split_and_mean(tree):
    folder, Xtr, ytr, Xte, yte = tree
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # enough data: no warning
        d = get_CIFAR10_data(12, 5, 2, cifar10_dir=folder)
    train, val, test = _to_nchw(Xtr[:12]), _to_nchw(Xtr[12:17]), _to_nchw(Xte[:2])
    mean = train.sum(axis=0) / 12
    np.testing.assert_allclose(d["X_train"], train - mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d["X_val"], val - mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d["X_test"], test - mean, rtol=0, atol=1e-12)
    assert d["y_train"].tolist() == ytr[:12].tolist()
    assert d["y_val"].tolist() == ytr[12:17].tolist()
    assert d["y_test"].tolist() == yte[:2].tolist()
    assert all(d[k].dtype == np.float64 for k in ("X_train", "X_val", "X_test"))
    assert all(d[k].dtype == np.int64 for k in ("y_train", "y_val", "y_test"))
    assert d["X_train"].flags.c_contiguous


def test_no_mean_subtraction_gives_pixels(tree):
    folder, Xtr, _, _, _ = tree
    d = get_CIFAR10_data(3, 1, 1, subtract_mean=False, cifar10_dir=folder)
    np.testing.assert_array_equal(d["X_train"], _to_nchw(Xtr[:3]))
    np.testing.assert_array_equal(d["X_val"], _to_nchw(Xtr[3:4]))
    assert d["X_train"][1, 2, 5, 31] == Xtr[1, 2 * 1024 + 5 * 32 + 31]


def test_subset_takes_validation_from_end_and_warns(tree):
    folder, Xtr, ytr, Xte, yte = tree                     # 20 train, 3 test on disk
    with pytest.warns(CIFAR10SubsetWarning) as rec:
        d = get_CIFAR10_data(18, 5, 10, subtract_mean=False, cifar10_dir=folder)
    msg = str(rec[0].message)
    assert "15 training" in msg and "5 validation" in msg and "3 test" in msg
    np.testing.assert_array_equal(d["X_val"], _to_nchw(Xtr[15:20]))
    np.testing.assert_array_equal(d["X_train"], _to_nchw(Xtr[:15]))
    np.testing.assert_array_equal(d["X_test"], _to_nchw(Xte))
    assert d["y_val"].tolist() == ytr[15:].tolist()


def test_subset_with_small_training_request(tree):
    folder, Xtr, _, _, _ = tree
    with pytest.warns(CIFAR10SubsetWarning, match="returning 1 training, 19 validation"):
        d = get_CIFAR10_data(2, 19, 3, subtract_mean=False, cifar10_dir=folder)
    np.testing.assert_array_equal(d["X_val"], _to_nchw(Xtr[1:20]))
    np.testing.assert_array_equal(d["X_train"], _to_nchw(Xtr[:1]))  # only 1 remains


def test_float32_option(tree):
    folder = tree[0]
    d64 = get_CIFAR10_data(10, 5, 3, cifar10_dir=folder)
    d32 = get_CIFAR10_data(10, 5, 3, cifar10_dir=folder, dtype=np.float32)
    for k in ("X_train", "X_val", "X_test"):
        assert d32[k].dtype == np.float32
        np.testing.assert_allclose(d32[k], d64[k], rtol=0, atol=1e-4)


@pytest.mark.parametrize("kwargs, exc, fragment", [
    ({"num_training": 0}, ValueError, "num_training"),
    ({"num_training": 2.5}, TypeError, "num_training"),
    ({"num_validation": -1}, ValueError, "num_validation"),
    ({"num_test": "3"}, TypeError, "num_test"),
    ({"subtract_mean": "yes"}, TypeError, "subtract_mean"),
    ({"dtype": np.int64}, ValueError, "dtype"),
    ({"num_validation": 20}, ValueError, "num_validation=20 leaves no training image"),
])
def test_get_data_bad_arguments(tree, kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        get_CIFAR10_data(cifar10_dir=tree[0], **kwargs)


# --------------------------------------------------------------------------- #
# The real shared subset (800 images per batch)
# --------------------------------------------------------------------------- #
def _trusted_labels(path):
    with open(path, "rb") as fh:                     # the shared files are trusted here
        return list(pickle.load(fh, encoding="bytes")[b"labels"])


def test_real_subset_defaults(cifar10_dir):
    with pytest.warns(CIFAR10SubsetWarning) as rec:
        d = get_CIFAR10_data(cifar10_dir=cifar10_dir)
    msg = str(rec[0].message)
    assert "4000 training and 800 test" in msg
    assert "3000 training, 1000 validation" in msg and "800 test images" in msg
    assert d["X_train"].shape == (3000, 3, 32, 32)
    assert d["X_val"].shape == (1000, 3, 32, 32)
    assert d["X_test"].shape == (800, 3, 32, 32)
    assert d["y_train"].shape == (3000,) and d["y_val"].shape == (1000,)
    assert d["y_test"].shape == (800,)
    # validation = the last 1000 training images: the end of batch 4 and all of batch 5
    expected_val = (_trusted_labels(cifar10_dir / "data_batch_4")[600:]
                    + _trusted_labels(cifar10_dir / "data_batch_5"))
    assert d["y_val"].tolist() == expected_val
    assert d["y_test"].tolist() == _trusted_labels(cifar10_dir / "test_batch")
    assert np.abs(d["X_train"].mean(axis=0)).max() < 1e-9
    assert set(np.unique(d["y_train"])) == set(range(10))


def test_real_subset_load_cifar10(cifar10_dir):
    Xtr, ytr, Xte, yte = load_CIFAR10(cifar10_dir)
    assert Xtr.shape == (4000, 32, 32, 3) and Xte.shape == (800, 32, 32, 3)
    assert Xtr.min() >= 0 and Xtr.max() <= 255 and Xtr.max() > 200
    assert ytr.tolist()[:800] == _trusted_labels(cifar10_dir / "data_batch_1")
