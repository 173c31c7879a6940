"""CIFAR-10 loading (CS231n assignment-2 compatible).

The CIFAR-10 "python version" (Krizhevsky, 2009) is a folder ``cifar-10-batches-py``
holding six pickled batches, ``data_batch_1`` .. ``data_batch_5`` (training) and
``test_batch``, plus ``batches.meta``. Each batch is a pickle (protocol 2, written by
Python 2) of a dict with

- ``data``: ``uint8`` array of shape ``(n, 3072)``; a row is one 32x32 colour image
  stored channel-major (1024 red, 1024 green, 1024 blue values, each row-major), so
  ``data.reshape(n, 3, 32, 32)`` is the image in ``(C, H, W)`` layout;
- ``labels``: ``n`` integers in ``0 .. 9``;
- ``batch_label`` and (in the official files) ``filenames``.

The batches are read with a *restricted* unpickler that only admits the globals the
official files contain (numpy's array reconstruction, ``numpy.ndarray`` and
``numpy.dtype``) plus the three a batch re-pickled by Python 3 may contain (``bytes``
as ``_codecs.encode(text, "latin1")`` at protocols 0-2, numpy's ``_frombuffer`` at
protocol 5, numpy's ``scalar`` for labels stored as numpy integers), so a planted
pickle cannot run code, and every batch is validated (shape, dtype, label range)
before use.

Where the data lives (first match wins; see :func:`find_cifar10_dir`):

1. an explicit directory argument;
2. the environment variable ``CS231N_CIFAR10_DIR``;
3. the kit's own download location, ``<repo>/datasets/cifar-10-batches-py``
   (what ``python -m cs231n.datasets download`` writes);
4. the official CS231n starter's location, ``cs231n/datasets/cifar-10-batches-py``.
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np

from ._checks import check_int

__all__ = [
    "CIFAR10FormatError",
    "UnsafePickleError",
    "CIFAR10SubsetWarning",
    "ENV_VAR",
    "CIFAR10_FOLDER",
    "TRAIN_BATCHES",
    "TEST_BATCH",
    "META_FILE",
    "find_cifar10_dir",
    "cifar10_search_paths",
    "load_pickle",
    "load_CIFAR_batch",
    "load_CIFAR10",
    "get_CIFAR10_data",
]

#: Environment variable naming a ``cifar-10-batches-py`` directory; wins over defaults.
ENV_VAR = "CS231N_CIFAR10_DIR"
#: Name of the folder inside the official archive.
CIFAR10_FOLDER = "cifar-10-batches-py"
#: Training batch file names, in the order they are concatenated.
TRAIN_BATCHES = tuple(f"data_batch_{b}" for b in range(1, 6))
#: Test batch file name.
TEST_BATCH = "test_batch"
#: Metadata file of the official archive (label names); not needed for loading.
META_FILE = "batches.meta"

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The kit's download folder (top level of the repository); the data goes in
#: ``KIT_DATASETS_DIR / CIFAR10_FOLDER``. Looked up at call time (tests patch it).
KIT_DATASETS_DIR = _PACKAGE_DIR.parent / "datasets"
#: The official CS231n starter's folder, ``cs231n/datasets``.
STARTER_DATASETS_DIR = _PACKAGE_DIR / "datasets"

_NUM_CLASSES = 10
_IMAGE_SHAPE = (3, 32, 32)
_ROW_SIZE = 3 * 32 * 32

_GET_DATA_HINT = (
    "Get the data with `python -m cs231n.datasets download` (or `datasets/get_datasets.sh`), "
    f"or place the extracted `{CIFAR10_FOLDER}` folder (data_batch_1..5, test_batch, "
    f"batches.meta) anywhere and set {ENV_VAR} to its path."
)


class CIFAR10FormatError(ValueError):
    """A CIFAR-10 batch file is truncated, corrupt or not in the official format."""


class UnsafePickleError(CIFAR10FormatError):
    """A pickle asked for a global the official CIFAR-10 files never contain."""


class CIFAR10SubsetWarning(UserWarning):
    """The data on disk holds fewer images than requested; smaller splits returned."""


# --------------------------------------------------------------------------- #
# Restricted unpickling
# --------------------------------------------------------------------------- #
# numpy's array-reconstruction function, obtained from numpy itself so that neither
# the deprecated ``numpy.core`` (numpy 2) nor ``numpy._core`` (numpy < 1.26) has to be
# imported by name.
_RECONSTRUCT = np.empty(0).__reduce__()[0]

# numpy's constructor of an array from a buffer, what ``ndarray.__reduce_ex__(5)``
# (pickle protocol 5) references: ``numpy._core.numeric._frombuffer`` in numpy 2,
# ``numpy.core.numeric._frombuffer`` in numpy 1.x. Obtained from numpy itself, like
# ``_RECONSTRUCT``.
_FROMBUFFER = np.zeros(1, np.uint8).__reduce_ex__(5)[0]
# numpy's scalar constructor ``scalar(dtype, raw_bytes)``, what a pickled numpy integer
# (e.g. a label stored as ``np.int64``) references: ``numpy._core.multiarray.scalar``
# in numpy 2, ``numpy.core.multiarray.scalar`` in numpy 1.x.
_SCALAR = np.int64(0).__reduce__()[0]

# The only globals an official CIFAR-10 batch references (checked with pickletools on
# the real files: GLOBAL numpy.core.multiarray._reconstruct, numpy.ndarray,
# numpy.dtype), plus the ones a batch re-pickled by Python 3 references
# (``_codecs.encode`` for ``bytes`` at protocols 0-2, admitted separately through
# ``_latin1_encoder``; numpy's ``_frombuffer`` at protocol 5; numpy's ``scalar`` for
# labels held as numpy integers). These only build bytes, arrays and numpy scalars
# (PyTorch's weights-only unpickler admits the same ones). Every numpy function is
# listed under both spellings: ``numpy.core`` (numpy 1.x) and ``numpy._core`` (numpy 2),
# both mapped to the object this numpy provides.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
#: How pickle (protocols 0-2) stores ``bytes``: ``_codecs.encode(text, "latin1")``.
_CODECS_ENCODE = ("_codecs", "encode")


def _latin1_encoder(source):
    """A stand-in for ``_codecs.encode`` that only does what pickle asks of it.

    Python 3 pickles ``b`` at protocols 0-2 as ``_codecs.encode(b.decode("latin1"),
    "latin1")``. The stand-in returns exactly that, ``text.encode("latin1")``, and
    refuses any other call (another codec, a non-``str`` argument, an ``errors``
    handler), so admitting the global cannot reach any codec but latin-1.

    Parameters
    ----------
    source : str or os.PathLike
        The file being read, named in the error message.

    Returns
    -------
    callable
        ``encode(obj, encoding="utf-8", errors="strict") -> bytes``.
    """
    def encode(obj, encoding="utf-8", errors="strict"):
        if not (isinstance(obj, str) and encoding in ("latin1", "latin-1")
                and errors == "strict"):
            raise UnsafePickleError(
                f"{source}: refusing the call _codecs.encode({type(obj).__name__}, "
                f"{encoding!r}, {errors!r}); pickle only stores bytes as "
                "_codecs.encode(str, 'latin1'). The file is not a CIFAR-10 batch and may "
                "be malicious; delete it and download the data again."
            )
        return obj.encode("latin1")

    return encode


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals listed in ``_ALLOWED_GLOBALS`` (and
    ``_codecs.encode``, restricted to latin-1, see :func:`_latin1_encoder`).

    Every other ``module.name`` (e.g. ``os.system``, ``builtins.eval``) raises
    :class:`UnsafePickleError` *before* anything is called, so a planted pickle
    cannot run code.
    """

    def __init__(self, file, source):
        # encoding="bytes" keeps Python-2 strings as bytes: the 30 MB image string
        # goes straight into the array without a latin1 decode/encode round trip.
        super().__init__(file, encoding="bytes")
        self._source = source

    def find_class(self, module, name):  # noqa: D401 - pickle hook
        if (module, name) == _CODECS_ENCODE:
            return _latin1_encoder(self._source)
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refusing to load the global {module}.{name}; a CIFAR-10 "
                "batch only references numpy array and scalar reconstruction (numpy.core."
                "multiarray._reconstruct / .scalar, numpy.core.numeric._frombuffer, "
                "numpy.ndarray, numpy.dtype) and _codecs.encode for bytes. The file is not "
                "an official CIFAR-10 batch and may be malicious; delete it and download "
                "the data again."
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(
            f"{self._source}: refusing a persistent id; CIFAR-10 batches contain none"
        )


def _check_path(name, path):
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(path).__name__}")
    return Path(path)


def _unpickle(fileobj, source):
    """Run the restricted unpickler on an open binary file; wrap every failure."""
    try:
        return _RestrictedUnpickler(fileobj, source).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # EOFError, UnpicklingError, ValueError from numpy, MemoryError...
        raise CIFAR10FormatError(
            f"{source}: cannot read the pickle, the file is truncated or corrupt "
            f"({type(exc).__name__}: {exc}); download the data again"
        ) from exc


def load_pickle(f):
    """Load a pickle with the restricted (CIFAR-10 only) unpickler.

    Kept for compatibility with the official starter's helper of the same name, but
    safe: only numpy array and scalar reconstruction and latin-1 ``bytes`` are admitted.

    Parameters
    ----------
    f : binary file object
        Open file positioned at the start of a pickle.

    Returns
    -------
    object
        The unpickled object. Python-2 strings (dict keys of the official files)
        come back as ``bytes``.

    Raises
    ------
    UnsafePickleError
        The pickle references any other global.
    CIFAR10FormatError
        The pickle is truncated or corrupt.
    """
    return _unpickle(f, getattr(f, "name", "<pickle>"))


def _read_batch(filename):
    """Read and validate one batch; return ``(data uint8 (n, 3072), labels int64 (n,))``."""
    path = _check_path("filename", filename)
    try:
        with open(path, "rb") as fh:
            obj = _unpickle(fh, path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"CIFAR-10 batch {path} does not exist. {_GET_DATA_HINT}"
        ) from None
    if not isinstance(obj, dict):
        raise CIFAR10FormatError(
            f"{path}: expected a pickled dict with 'data' and 'labels', got {type(obj).__name__}"
        )
    # Keys are bytes (Python-2 strings) in the official files, str if re-pickled by Python 3.
    batch = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    missing = [k for k in ("data", "labels") if k not in batch]
    if missing:
        raise CIFAR10FormatError(
            f"{path}: the batch dict lacks {missing}; found keys {sorted(map(str, batch))}"
        )
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != _ROW_SIZE or data.shape[0] == 0:
        got = (f"array of shape {data.shape} and dtype {data.dtype}"
               if isinstance(data, np.ndarray) else type(data).__name__)
        raise CIFAR10FormatError(
            f"{path}: 'data' must be a uint8 array of shape (n, {_ROW_SIZE}) with n >= 1, got {got}"
        )
    n = data.shape[0]
    labels = batch["labels"]
    if not isinstance(labels, (list, tuple, np.ndarray)):
        raise CIFAR10FormatError(
            f"{path}: 'labels' must be a list of {n} integers, got {type(labels).__name__}"
        )
    if isinstance(labels, np.ndarray):
        ok = labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer)
    else:
        # Python ints (official files) or numpy integers (a re-pickled batch); not bools.
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels)
    if not ok:
        raise CIFAR10FormatError(f"{path}: 'labels' must hold integers only")
    if len(labels) != n:
        raise CIFAR10FormatError(
            f"{path}: 'labels' has {len(labels)} entries, expected {n} (one per row of 'data')"
        )
    # Range check on exact Python ints *before* converting to int64, so that a huge
    # value (2**70, or a uint64 above 2**63) is a format error, not an OverflowError
    # or a silent wrap-around.
    if isinstance(labels, np.ndarray):
        lo, hi = int(labels.min()), int(labels.max())
    else:
        lo, hi = min(map(int, labels)), max(map(int, labels))
    if lo < 0 or hi >= _NUM_CLASSES:
        raise CIFAR10FormatError(
            f"{path}: labels must lie in 0..{_NUM_CLASSES - 1}, got values in [{lo}, {hi}]"
        )
    # A copy: a protocol-5 array may be a read-only view of the pickle's bytes.
    y = np.array(labels, dtype=np.int64)
    return data, y


def _check_float_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numpy floating dtype, got {dtype!r}") from None
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype must be a floating dtype (float32 or float64), got {dt}")
    return dt


def load_CIFAR_batch(filename, dtype=np.float64):
    """Load one CIFAR-10 batch file.

    Parameters
    ----------
    filename : str or os.PathLike
        Path of a batch (``data_batch_1`` .. ``data_batch_5`` or ``test_batch``).
    dtype : numpy floating dtype, optional
        dtype of the returned images; default float64 like the official starter.

    Returns
    -------
    X : ndarray, shape (n, 32, 32, 3)
        Images in ``(H, W, C)`` layout with pixel values 0..255 (n = 10000 in the
        full data set).
    Y : ndarray of int64, shape (n,)
        Labels in ``0 .. 9``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    UnsafePickleError
        The file references a global an official batch never contains.
    CIFAR10FormatError
        (a ``ValueError``) The file is truncated, corrupt or its contents do not
        have the CIFAR-10 shapes; the message names the file.
    """
    dt = _check_float_dtype(dtype)
    data, y = _read_batch(filename)
    X = data.reshape((-1,) + _IMAGE_SHAPE).transpose(0, 2, 3, 1).astype(dt)
    return X, y


def _load_raw(root):
    """Load all six batches as uint8 rows: ``Xtr (Ntr, 3072), ytr, Xte (Nte, 3072), yte``."""
    xs, ys = [], []
    for name in TRAIN_BATCHES:
        x, y = _read_batch(root / name)
        xs.append(x)
        ys.append(y)
    Xtr = np.concatenate(xs)
    ytr = np.concatenate(ys)
    del xs, ys
    Xte, yte = _read_batch(root / TEST_BATCH)
    return Xtr, ytr, Xte, yte


def load_CIFAR10(root=None, dtype=np.float64):
    """Load the whole of CIFAR-10 (training batches 1-5 and the test batch).

    Parameters
    ----------
    root : str or os.PathLike, optional
        The ``cifar-10-batches-py`` directory (or a folder containing it). When
        ``None``, the data is looked up with :func:`find_cifar10_dir`.
    dtype : numpy floating dtype, optional
        dtype of the returned images; default float64 like the official starter.

    Returns
    -------
    Xtr : ndarray, shape (Ntr, 32, 32, 3)
        Training images (``Ntr = 50000`` in the full data set), pixel values 0..255.
    Ytr : ndarray of int64, shape (Ntr,)
    Xte : ndarray, shape (Nte, 32, 32, 3)
        Test images (``Nte = 10000``).
    Yte : ndarray of int64, shape (Nte,)

    Raises
    ------
    FileNotFoundError
        No data at ``root`` (the message says how to get it).
    CIFAR10FormatError
        A batch is truncated, corrupt or unsafe (the message names the file).
    """
    dt = _check_float_dtype(dtype)
    directory = find_cifar10_dir(root)
    Xtr, ytr, Xte, yte = _load_raw(directory)

    def to_nhwc(rows):
        return rows.reshape((-1,) + _IMAGE_SHAPE).transpose(0, 2, 3, 1).astype(dt)

    return to_nhwc(Xtr), ytr, to_nhwc(Xte), yte


# --------------------------------------------------------------------------- #
# Locating the data
# --------------------------------------------------------------------------- #
def _missing_files(directory, names=TRAIN_BATCHES + (TEST_BATCH,)):
    return [n for n in names if not (directory / n).is_file()]


def cifar10_search_paths():
    """The default places searched for CIFAR-10, in order, with where each came from.

    Returns
    -------
    list of (str, pathlib.Path)
        ``(origin, path)`` pairs: the ``CS231N_CIFAR10_DIR`` directory when the
        variable is set, the kit's download location and the official starter's
        location.
    """
    paths = []
    env = os.environ.get(ENV_VAR)
    if env:
        paths.append((f"${ENV_VAR}", Path(env).expanduser()))
    paths.append(("kit download location", Path(KIT_DATASETS_DIR) / CIFAR10_FOLDER))
    paths.append(("CS231n starter location", Path(STARTER_DATASETS_DIR) / CIFAR10_FOLDER))
    return paths


def _accept(path):
    """Return the data directory at ``path`` (itself, or its ``cifar-10-batches-py``)."""
    if path.is_dir() and not _missing_files(path):
        return path
    inner = path / CIFAR10_FOLDER
    if inner.is_dir() and not _missing_files(inner):
        return inner
    return None


def _describe_miss(path):
    if not path.exists():
        return "does not exist"
    if not path.is_dir():
        return "is not a directory"
    return "lacks " + ", ".join(_missing_files(path))


def find_cifar10_dir(explicit=None):
    """Locate the ``cifar-10-batches-py`` directory.

    Order: ``explicit`` wins; else ``$CS231N_CIFAR10_DIR``; else the kit's download
    location ``<repo>/datasets/cifar-10-batches-py``; else the official starter's
    ``cs231n/datasets/cifar-10-batches-py``. A directory qualifies when it holds
    ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``; a folder that
    *contains* a qualifying ``cifar-10-batches-py`` is accepted too. An explicit
    directory or a set environment variable that does not qualify is an error (no
    silent fallback to another copy).

    Parameters
    ----------
    explicit : str or os.PathLike, optional
        Directory given by the caller.

    Returns
    -------
    pathlib.Path
        The directory holding the batch files.

    Raises
    ------
    TypeError
        ``explicit`` is not a path.
    FileNotFoundError
        No qualifying directory; the message lists the places searched and how to
        get the data.
    """
    if explicit is not None:
        path = _check_path("cifar10_dir", explicit).expanduser()
        found = _accept(path)
        if found is None:
            raise FileNotFoundError(
                f"CIFAR-10 not found in the directory given ({path}): it "
                f"{_describe_miss(path)}. {_GET_DATA_HINT}"
            )
        return found
    searched = []
    for origin, path in cifar10_search_paths():
        found = _accept(path)
        if found is not None:
            return found
        if origin.startswith("$"):
            raise FileNotFoundError(
                f"CIFAR-10 not found: {origin} is set to {path}, which "
                f"{_describe_miss(path)}. Fix or unset {ENV_VAR}. {_GET_DATA_HINT}"
            )
        searched.append(f"  - {path} ({origin}): {_describe_miss(path)}")
    raise FileNotFoundError(
        f"CIFAR-10 not found ({ENV_VAR} is not set). Searched:\n"
        + "\n".join(searched) + "\n" + _GET_DATA_HINT
    )


# --------------------------------------------------------------------------- #
# The assignment's data dict
# --------------------------------------------------------------------------- #
def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, *, cifar10_dir=None, dtype=np.float64):
    """Load CIFAR-10 and split it for the classifiers of the assignment.

    With the full data set this matches the official starter exactly: training
    images are ``0 .. num_training-1`` of the concatenated training batches,
    validation images the next ``num_validation``, test images the first
    ``num_test`` of the test batch. When the data on disk holds fewer training
    images ``Ntr`` than ``num_training + num_validation`` (a subset), validation
    is the last ``num_validation`` training images, training the first
    ``min(num_training, Ntr - num_validation)``; test gets ``min(num_test, Nte)``;
    a :class:`CIFAR10SubsetWarning` states the sizes returned.

    With ``subtract_mean`` the mean training image
    :math:`\\mu = \\frac{1}{N}\\sum_{i} x_i` (over the returned training images
    only) is subtracted from every split.

    Parameters
    ----------
    num_training : int, optional
        Training images wanted (>= 1).
    num_validation : int, optional
        Validation images wanted (>= 0).
    num_test : int, optional
        Test images wanted (>= 0).
    subtract_mean : bool, optional
        Subtract the mean training image.
    cifar10_dir : str or os.PathLike, optional
        Where the data lives; default: see :func:`find_cifar10_dir`.
    dtype : numpy floating dtype, optional
        dtype of the images; default float64 (the official starter's).

    Returns
    -------
    dict
        ``X_train (Ntrain, 3, 32, 32)``, ``y_train (Ntrain,)``, ``X_val (Nval, 3, 32,
        32)``, ``y_val``, ``X_test (Ntest, 3, 32, 32)``, ``y_test``; images of
        ``dtype``, labels int64.

    Raises
    ------
    TypeError, ValueError
        Bad argument (named in the message); ``ValueError`` also when
        ``num_validation`` leaves no training image.
    FileNotFoundError
        No data found (the message lists the places searched).
    CIFAR10FormatError
        A batch file is corrupt or unsafe.
    """
    num_training = check_int("num_training", num_training, minimum=1)
    num_validation = check_int("num_validation", num_validation, minimum=0)
    num_test = check_int("num_test", num_test, minimum=0)
    if not isinstance(subtract_mean, (bool, np.bool_)):
        raise TypeError(f"subtract_mean must be a bool, got {type(subtract_mean).__name__}")
    dt = _check_float_dtype(dtype)

    root = find_cifar10_dir(cifar10_dir)
    Xtr, ytr, Xte, yte = _load_raw(root)
    n_tr, n_te = Xtr.shape[0], Xte.shape[0]

    if num_training + num_validation <= n_tr:
        # The official split: validation right after the training images.
        tr = slice(0, num_training)
        va = slice(num_training, num_training + num_validation)
        val_note = ""
    else:
        if num_validation >= n_tr:
            raise ValueError(
                f"num_validation={num_validation} leaves no training image: the data at "
                f"{root} holds only {n_tr} training images"
            )
        va = slice(n_tr - num_validation, n_tr)
        tr = slice(0, min(num_training, n_tr - num_validation))
        val_note = " (the last training images)"
    te = slice(0, min(num_test, n_te))

    def images(rows):
        # The rows are channel-major, so this reshape is already (N, C, H, W).
        return rows.reshape((-1,) + _IMAGE_SHAPE).astype(dt)

    X_train, X_val, X_test = images(Xtr[tr]), images(Xtr[va]), images(Xte[te])
    y_train, y_val, y_test = ytr[tr].copy(), ytr[va].copy(), yte[te].copy()
    if subtract_mean:
        # Sums of integers are exact in float64, so the mean equals the starter's.
        mean_image = Xtr[tr].mean(axis=0, dtype=np.float64).reshape(_IMAGE_SHAPE).astype(dt)
        X_train -= mean_image
        X_val -= mean_image
        X_test -= mean_image

    got = (X_train.shape[0], X_val.shape[0], X_test.shape[0])
    if got != (num_training, num_validation, num_test):
        warnings.warn(
            f"CIFAR-10 at {root} holds {n_tr} training and {n_te} test images (a subset?); "
            f"requested num_training={num_training}, num_validation={num_validation}, "
            f"num_test={num_test}; returning {got[0]} training, {got[1]} validation"
            f"{val_note} and {got[2]} test images",
            CIFAR10SubsetWarning,
            stacklevel=2,
        )
    return {
        "X_train": X_train, "y_train": y_train,
        "X_val": X_val, "y_val": y_val,
        "X_test": X_test, "y_test": y_test,
    }
