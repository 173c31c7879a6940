"""The training loop: minibatch SGD-style optimisation of a classification model.

A :class:`Solver` trains any object that follows the model API below with one of
the update rules of :mod:`cs231n.optim`, records the loss and the accuracies, keeps
the parameters that scored best on the validation set and, when asked, writes
checkpoints from which training can be resumed exactly.

Model API (duck-typed; the Solver never imports a model)
--------------------------------------------------------
- ``model.params``: dict mapping a parameter name to a float ndarray.
- ``model.loss(X, y=None)``: with labels, returns ``(loss, grads)`` where ``loss`` is
  a scalar and ``grads`` has the keys of ``params``; without labels (test time)
  returns the class scores, an array of shape ``(N, C)``.
- Optional state saved in checkpoints when present: ``model.bn_params`` (list of
  dicts, e.g. running means) and ``model.dropout_param`` (dict, e.g. a generator).

Example
-------
>>> data = {"X_train": X_train, "y_train": y_train,  # doctest: +SKIP
...         "X_val": X_val, "y_val": y_val}
>>> solver = Solver(model, data, update_rule="sgd",  # doctest: +SKIP
...                 optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
...                 num_epochs=10, batch_size=100, print_every=100, seed=0)
>>> solver.train()  # doctest: +SKIP

Checkpoints
-----------
With ``checkpoint_name="run/net"`` every accuracy check (first iteration, each epoch
end) writes ``run/net_epoch_{epoch}.npz`` and a human-readable sidecar
``run/net_epoch_{epoch}.json``. The ``.npz`` alone is the checkpoint: it holds the
parameters, the best parameters, the per-parameter optimiser state and (as UTF-8
JSON text in the array ``__meta__``) the hyperparameters, histories, epoch, step
count and the sampler's random-generator state. Both files are read without
pickle (``np.load(..., allow_pickle=False)``, ``json``), so loading a checkpoint
cannot run code, and both are written atomically (temporary file in the same
directory, then ``os.replace``), so an interrupted save leaves the previous file
intact and never a partial file under the final name. Resume with
:meth:`Solver.from_checkpoint` or :meth:`Solver.load_checkpoint`; a resumed run
reproduces the uninterrupted one exactly (same losses, same parameters).
"""
from __future__ import annotations

import copy
import inspect
import json
import numbers
import os
import sys
import uuid
import warnings
from collections.abc import Mapping

import numpy as np

from . import optim
from ._checks import check_int, check_positive_float

__all__ = [
    "Solver",
    "TrainingDivergedError",
    "InvalidDataError",
    "InvalidDataTypeError",
]

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
_FORMAT = "cs231n-bn-solver-checkpoint"
_FORMAT_VERSION = 1
# Model attributes (besides params) whose state a checkpoint carries when present.
_MODEL_STATE_ATTRS = ("bn_params", "dropout_param")
# Bit generators a checkpoint may name (never an arbitrary attribute lookup).
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class TrainingDivergedError(FloatingPointError):
    """The loss or an updated parameter became non-finite (nan or inf).

    Attributes
    ----------
    iteration : int
        The failing training step, counted from 1 as in the
        ``(Iteration i / n)`` lines.
    epoch : int
        The epoch in progress, counted from 1.
    loss : float
        The loss of the failing step.
    param : str or None
        The parameter whose update was non-finite (None when the loss was).
    """

    def __init__(self, message, iteration=None, epoch=None, loss=None, param=None):
        super().__init__(message)
        self.iteration = iteration
        self.epoch = epoch
        self.loss = loss
        self.param = param

    def __reduce__(self):  # keep the attributes through pickle (multiprocessing sweeps)
        return type(self), (str(self), self.iteration, self.epoch, self.loss, self.param)


class InvalidDataError(ValueError):
    """The ``data`` dict given to the Solver is malformed (bad value or shape)."""


class InvalidDataTypeError(InvalidDataError, TypeError):
    """An entry of ``data`` has the wrong kind (not an array, labels not integer).

    It is both a ``ValueError`` (malformed data) and a ``TypeError`` (wrong kind).
    """


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def _available_rules():
    return sorted(
        name
        for name, fn in vars(optim).items()
        if not name.startswith("_")
        and inspect.isfunction(fn)
        and fn.__module__ == optim.__name__
    )


def _resolve_update_rule(rule):
    """Return ``(function, name)``; name is None for a callable not from optim."""
    if isinstance(rule, str):
        if rule not in _available_rules():
            raise ValueError(
                f'Invalid update_rule "{rule}"; expected one of '
                f'{", ".join(_available_rules())} or a callable'
            )
        return getattr(optim, rule), rule
    if callable(rule):
        name = getattr(rule, "__name__", None)
        known = name in _available_rules() and getattr(optim, name) is rule
        return rule, (name if known else None)
    raise TypeError(
        f"update_rule must be the name of a rule in cs231n.optim or a callable, "
        f"got {type(rule).__name__}"
    )


def _check_model(model):
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        raise TypeError(
            f"model must have a dict attribute 'params' (name -> ndarray), got "
            f"{type(params).__name__}"
        )
    for name, value in params.items():
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            raise TypeError(
                f"model.params[{name!r}] must be a floating-point numpy array, got "
                f"{type(value).__name__}"
                + (f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else "")
            )
    if not callable(getattr(model, "loss", None)):
        raise TypeError("model must have a method loss(X, y=None)")


def _check_labels(name, y, n):
    if not isinstance(y, np.ndarray):
        raise InvalidDataTypeError(f"{name} must be a numpy array of labels, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.integer):
        raise InvalidDataTypeError(
            f"{name} must hold integer class labels, got dtype {y.dtype}; "
            f"convert it with {name}.astype(np.int64)"
        )
    if y.ndim != 1:
        raise InvalidDataError(f"{name} must be 1-dimensional, got shape {y.shape}")
    if y.shape[0] != n:
        raise InvalidDataError(f"{name} has {y.shape[0]} labels, expected {n} (one per sample)")
    if n and y.min() < 0:
        raise InvalidDataError(f"{name} holds the negative label {y.min()}; labels must be >= 0")


def _check_inputs(name, X):
    if not isinstance(X, np.ndarray):
        raise InvalidDataTypeError(f"{name} must be a numpy array, got {type(X).__name__}")
    if not np.issubdtype(X.dtype, np.number):
        raise InvalidDataTypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.ndim < 2:
        raise InvalidDataError(
            f"{name} must have shape (N, ...) with at least 2 dimensions, got shape {X.shape}"
        )


def _check_data(data):
    """Check the structure of ``data``; return ``(X_train, y_train, X_val, y_val)``."""
    if not isinstance(data, Mapping):
        raise InvalidDataTypeError(
            f"data must be a dict with keys {', '.join(_DATA_KEYS)}, got {type(data).__name__}"
        )
    missing = [k for k in _DATA_KEYS if k not in data]
    if missing:
        raise InvalidDataError(
            f"data is missing the key(s) {', '.join(missing)}; expected {', '.join(_DATA_KEYS)}"
        )
    X_train, y_train, X_val, y_val = (data[k] for k in _DATA_KEYS)
    for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
        _check_inputs(f"data['X_{split}']", X)
        _check_labels(f"data['y_{split}']", y, X.shape[0])
        if X.shape[0] == 0:
            raise InvalidDataError(f"data['X_{split}'] is empty: the {split} set needs samples")
    if X_train.shape[1:] != X_val.shape[1:]:
        raise InvalidDataError(
            f"data['X_train'] holds samples of shape {X_train.shape[1:]} but data['X_val'] "
            f"holds samples of shape {X_val.shape[1:]}; they must match"
        )
    return X_train, y_train, X_val, y_val


def _check_optional_int(name, v, minimum):
    return None if v is None else check_int(name, v, minimum=minimum)


def _check_seed(seed):
    ok = seed is None or isinstance(seed, (numbers.Integral, np.random.Generator, np.random.SeedSequence))
    if isinstance(seed, bool) or not ok:
        raise TypeError(
            f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# progress display
# ---------------------------------------------------------------------------
def _in_notebook():
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_isatty():
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _make_progress_bar(total, initial):
    """A tqdm bar (widget in a notebook, text elsewhere); None if tqdm is missing."""
    try:
        with warnings.catch_warnings():
            # In a notebook without ipywidgets tqdm.auto warns and falls back to text.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    kwargs = dict(total=total, initial=initial, desc="Training", unit="it", leave=True)
    try:
        return tqdm(**kwargs)
    except ImportError:
        # tqdm.auto picked the notebook bar but ipywidgets is missing: use text.
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm(**kwargs)


# ---------------------------------------------------------------------------
# checkpoint encoding: JSON for structure, npz (no pickle) for arrays
# ---------------------------------------------------------------------------
class _Packer:
    """Turn nested Python/numpy values into JSON plus a dict of arrays."""

    def __init__(self):
        self.arrays = {}

    def _store(self, array):
        if array.dtype.hasobject:
            raise TypeError("cannot store an object array in a checkpoint (it would need pickle)")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def pack(self, value, where):
        if isinstance(value, np.ndarray):
            return {"__array__": self._store(value)}
        if isinstance(value, np.generic):
            return {"__scalar__": self._store(np.asarray(value))}
        if isinstance(value, np.random.Generator):
            return {"__generator__": self.pack(value.bit_generator.state, where)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"cannot store {where} in a checkpoint: its keys must be strings")
            return {k: self.pack(v, f"{where}[{k!r}]") for k, v in value.items()}
        if isinstance(value, list):
            return [self.pack(v, where) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [self.pack(v, where) for v in value]}
        raise TypeError(
            f"cannot store {where} (a {type(value).__name__}) in a checkpoint; "
            "use numbers, strings, numpy arrays, lists or dicts"
        )


def _make_generator(state):
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"checkpoint names an unknown bit generator {name!r}")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _unpack(value, arrays):
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag in ("__array__", "__scalar__"):
            if inner not in arrays:
                raise ValueError(f"checkpoint is corrupt: array {inner!r} is missing")
            return arrays[inner] if tag == "__array__" else arrays[inner][()]
        if tag == "__generator__":
            return _make_generator(_unpack(inner, arrays))
        if tag == "__tuple__":
            return tuple(_unpack(v, arrays) for v in inner)
    return {k: _unpack(v, arrays) for k, v in value.items()}


def _atomic_write(path, write):
    """Write a file through ``write(fileobj)`` so that ``path`` is all or nothing.

    The bytes go to a temporary file in the same directory (same filesystem), are
    flushed to disk, and only then renamed over ``path`` with ``os.replace``
    (atomic on POSIX and Windows). On any error the temporary file is removed and
    ``path`` keeps its previous content.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _checkpoint_paths(path):
    """``(npz_path, json_path)`` for a checkpoint given by either file or its stem."""
    path = os.fspath(path)
    stem, ext = os.path.splitext(path)
    if ext not in (".npz", ".json"):
        stem = path
    return stem + ".npz", stem + ".json"


def _read_checkpoint(path):
    """Load a checkpoint ``.npz`` without pickle; return ``(meta, arrays)``."""
    npz_path, _ = _checkpoint_paths(path)
    try:
        with np.load(npz_path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except Exception as e:  # zipfile.BadZipFile, ValueError (pickled content), OSError
        raise ValueError(f"{npz_path} is not a readable checkpoint: {e}") from e
    meta_bytes = arrays.pop("__meta__", None)
    if meta_bytes is None:
        raise ValueError(f"{npz_path} is not a Solver checkpoint (no '__meta__' entry)")
    try:
        meta = json.loads(meta_bytes.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{npz_path} holds unreadable checkpoint metadata: {e}") from e
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"{npz_path} is not a Solver checkpoint")
    if meta.get("version") != _FORMAT_VERSION:
        raise ValueError(
            f"{npz_path} has checkpoint format version {meta.get('version')!r}; "
            f"this kit reads version {_FORMAT_VERSION}"
        )
    return meta, arrays


# ---------------------------------------------------------------------------
# the Solver
# ---------------------------------------------------------------------------
class Solver:
    """Train a classification model with minibatch stochastic optimisation.

    Each iteration samples a minibatch of ``batch_size`` training samples (with
    replacement, as in CS231n), calls ``model.loss(X_batch, y_batch)`` and updates
    every parameter ``p`` with the update rule and its own config dict:
    ``model.params[p], optim_configs[p] = update_rule(w, grads[p], optim_configs[p])``.
    One epoch is ``iterations_per_epoch = max(N_train // batch_size, 1)`` iterations;
    training runs ``num_epochs * iterations_per_epoch`` of them.

    Training and validation accuracy are measured after the first iteration, at
    every epoch end and after the last iteration; the learning rate of every
    parameter is multiplied by ``lr_decay`` at each epoch end; the parameters with
    the best validation accuracy so far are kept (as copies) and put back into the
    model when :meth:`train` returns.

    Parameters
    ----------
    model : object
        Has ``params`` (dict of float ndarrays) and ``loss(X, y=None)``; see the
        module docstring.
    data : dict
        ``X_train`` ``(N_train, d1, ..., dk)``, ``y_train`` ``(N_train,)`` integer
        labels, ``X_val`` ``(N_val, d1, ..., dk)``, ``y_val`` ``(N_val,)``; other keys
        are ignored. Checked when the Solver is built (``ValueError``, see
        :class:`InvalidDataError`): keys present, one label per sample, integer
        labels in ``0 <= y < C`` where ``C`` is the width of the model's scores,
        same sample shape in both splits, non-empty splits.
    update_rule : str or callable, default 'sgd'
        Name of a rule in :mod:`cs231n.optim` (``'sgd'``, ``'sgd_momentum'``,
        ``'rmsprop'``, ``'adam'``) or a function ``rule(w, dw, config)``.
    optim_config : dict, default {}
        Hyperparameters given to the update rule; each parameter gets its own
        copy (state arrays are never shared between parameters).
    lr_decay : float, default 1.0
        Factor applied to every ``optim_configs[p]['learning_rate']`` after each
        epoch (configs without a learning rate are left alone).
    batch_size : int, default 100
        Minibatch size.
    num_epochs : int, default 10
        Number of epochs :meth:`train` runs to.
    num_train_samples : int or None, default 1000
        Training samples (drawn without replacement) used to measure the
        training accuracy; None uses them all.
    num_val_samples : int or None, default None
        Same for validation; None uses the whole validation set.
    checkpoint_name : str or path or None, default None
        If given, a checkpoint ``{checkpoint_name}_epoch_{epoch}.npz`` (+ ``.json``)
        is written at every accuracy check; its directory is created if needed.
    print_every : int, default 10
        Print the loss every ``print_every`` iterations (when ``verbose``).
    verbose : bool, default True
        Print progress lines ``(Iteration i / n) loss: ...`` and
        ``(Epoch e / E) train acc: ...; val_acc: ...``.
    seed : None, int or numpy.random.Generator, default None
        Drives the minibatch sampler and the accuracy subsampling; the same seed
        gives the same run. A Generator is used as is (and so advanced). None
        draws fresh entropy from the OS (numpy's global random state is never used).
    progress : bool or None, default None
        Show a tqdm progress bar beside the printed lines. None: on when
        ``verbose`` and stderr is a terminal or the code runs in a notebook.

    Attributes
    ----------
    epoch : int
        Completed epochs.
    iteration : int
        Completed training steps (``len(loss_history)``).
    best_val_acc : float
        Best validation accuracy seen (0 before any check).
    best_params : dict
        Copies of the parameters that scored ``best_val_acc``; before any
        improvement, copies of the initial parameters.
    loss_history : list of float
        Loss of every step.
    train_acc_history, val_acc_history : list of float
        Accuracies at every check.
    optim_config : dict
        The base config given by the user (not modified).
    optim_configs : dict
        Per-parameter configs, updated by the rule (learning rate, state).
    update_rule : callable
        The update rule in use.
    rng : numpy.random.Generator
        The generator behind the sampler.

    Raises
    ------
    ValueError
        Unknown keyword argument, unknown update rule name, malformed ``data``.
    TypeError
        ``model`` without ``params``/``loss``; argument of the wrong kind.
    """

    def __init__(self, model, data, **kwargs):
        _check_model(model)
        X_train, y_train, X_val, y_val = _check_data(data)

        update_rule = kwargs.pop("update_rule", "sgd")
        optim_config = kwargs.pop("optim_config", {})
        lr_decay = kwargs.pop("lr_decay", 1.0)
        batch_size = kwargs.pop("batch_size", 100)
        num_epochs = kwargs.pop("num_epochs", 10)
        num_train_samples = kwargs.pop("num_train_samples", 1000)
        num_val_samples = kwargs.pop("num_val_samples", None)
        checkpoint_name = kwargs.pop("checkpoint_name", None)
        print_every = kwargs.pop("print_every", 10)
        verbose = kwargs.pop("verbose", True)
        seed = kwargs.pop("seed", None)
        progress = kwargs.pop("progress", None)
        if kwargs:
            extra = ", ".join(f'"{k}"' for k in kwargs)
            raise ValueError(f"Unrecognized arguments {extra}")

        self.update_rule, self.update_rule_name = _resolve_update_rule(update_rule)
        if not isinstance(optim_config, dict):
            raise TypeError(f"optim_config must be a dict, got {type(optim_config).__name__}")
        self.lr_decay = check_positive_float("lr_decay", lr_decay)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.num_epochs = check_int("num_epochs", num_epochs, minimum=0)
        self.num_train_samples = _check_optional_int("num_train_samples", num_train_samples, 1)
        self.num_val_samples = _check_optional_int("num_val_samples", num_val_samples, 1)
        if checkpoint_name is not None and not isinstance(checkpoint_name, (str, os.PathLike)):
            raise TypeError(
                f"checkpoint_name must be None or a path, got {type(checkpoint_name).__name__}"
            )
        self.checkpoint_name = None if checkpoint_name is None else os.fspath(checkpoint_name)
        self.print_every = check_int("print_every", print_every, minimum=1)
        self.verbose = bool(verbose)
        if progress is not None and not isinstance(progress, bool):
            raise TypeError(f"progress must be None, True or False, got {progress!r}")
        self.progress = progress
        self.rng = _check_seed(seed)

        self._check_labels_fit_model(model, X_train, y_train, y_val)
        self.model = model
        self.X_train, self.y_train = X_train, y_train
        self.X_val, self.y_val = X_val, y_val
        self.optim_config = optim_config
        self._reset()

    # -- set-up ---------------------------------------------------------------
    @staticmethod
    def _check_labels_fit_model(model, X_train, y_train, y_val):
        """Score one training sample to learn the number of classes C; check labels."""
        scores = model.loss(X_train[:1])
        if not isinstance(scores, np.ndarray) or scores.ndim != 2 or scores.shape[0] != 1:
            got = scores.shape if isinstance(scores, np.ndarray) else type(scores).__name__
            raise TypeError(
                "model.loss(X) without labels must return class scores of shape (N, C); "
                f"for one sample it returned {got}"
            )
        num_classes = scores.shape[1]
        for name, y in (("y_train", y_train), ("y_val", y_val)):
            if y.max() >= num_classes:
                raise InvalidDataError(
                    f"data[{name!r}] holds the label {y.max()} but the model scores "
                    f"{num_classes} classes; labels must be in 0..{num_classes - 1}"
                )

    def _reset(self):
        """Set up the book-keeping; called by ``__init__`` (not by ``train``)."""
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0
        # Copies of the initial parameters, so that restoring the "best" ones can
        # never empty the model (even if the validation accuracy stays 0).
        self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        # One config per parameter; arrays copied so no state is ever shared.
        self.optim_configs = {
            p: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.optim_config.items()}
            for p in self.model.params
        }

    @property
    def iterations_per_epoch(self):
        """``max(N_train // batch_size, 1)``."""
        return max(self.X_train.shape[0] // self.batch_size, 1)

    @property
    def num_iterations(self):
        """``num_epochs * iterations_per_epoch``: steps :meth:`train` runs up to."""
        return self.num_epochs * self.iterations_per_epoch

    # -- one step -------------------------------------------------------------
    def _diverged(self, what, loss, param=None):
        best = (
            f"the best validated ones (val acc {self.best_val_acc:f}) are in solver.best_params"
            if self.val_acc_history
            else "solver.best_params holds a copy of the initial ones"
        )
        it, ep = self.iteration + 1, self.epoch + 1
        message = (
            f"Training diverged: {what} at iteration {it} / {self.num_iterations} "
            f"(during epoch {ep} / {self.num_epochs}). The update was not applied: the "
            f"model keeps its last finite parameters and running statistics; {best}. "
            "Try a smaller learning rate or weight scale."
        )
        return TrainingDivergedError(message, iteration=it, epoch=ep, loss=loss, param=param)

    def _step(self):
        """Make one update on a random minibatch (called by :meth:`train`).

        Nothing is committed (parameters, optimiser configs, loss history) unless
        the loss and every updated parameter are finite; otherwise
        :class:`TrainingDivergedError` is raised and the model is unchanged: the
        state its forward pass wrote (``bn_params`` running statistics, dropout
        generators) is rolled back too, as on any other error in the step.
        """
        num_train = self.X_train.shape[0]
        batch_mask = self.rng.integers(num_train, size=self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        before = self._snapshot_model_state()
        try:
            self._update(X_batch, y_batch)
        except BaseException:
            self._roll_back_model_state(before)
            raise

    def _update(self, X_batch, y_batch):
        """The body of :meth:`_step`: loss, checks, update (committed last)."""
        out = self.model.loss(X_batch, y_batch)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("model.loss(X, y) must return a tuple (loss, grads)")
        loss, grads = out
        loss = float(loss)
        if not np.isfinite(loss):
            raise self._diverged(f"the loss is {loss}", loss)

        new_params, new_configs = {}, {}
        for p, w in self.model.params.items():
            if p not in grads:
                raise ValueError(f"model.loss returned no gradient for parameter {p!r}")
            if p not in self.optim_configs:
                raise ValueError(
                    f"model.params has a parameter {p!r} the Solver was not built with; "
                    "build a new Solver after changing the model's parameters")
            # A shallow copy, so a failure below leaves the stored config as it was.
            next_w, next_config = self.update_rule(w, grads[p], dict(self.optim_configs[p]))
            if np.shape(next_w) != w.shape or getattr(next_w, "dtype", None) != w.dtype:
                raise ValueError(
                    f"the update rule returned shape {np.shape(next_w)} and dtype "
                    f"{getattr(next_w, 'dtype', type(next_w).__name__)} for parameter {p!r} "
                    f"of shape {w.shape} and dtype {w.dtype}"
                )
            if not np.isfinite(next_w).all():
                raise self._diverged(f"the update of parameter {p!r} is not finite", loss, p)
            new_params[p], new_configs[p] = next_w, next_config

        self.model.params.update(new_params)
        self.optim_configs.update(new_configs)
        self.loss_history.append(loss)
        self.iteration += 1

    # -- evaluation -----------------------------------------------------------
    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Classification accuracy of the model on ``(X, y)``.

        Parameters
        ----------
        X : ndarray, shape (N, d1, ..., dk)
            Samples.
        y : ndarray of int, shape (N,)
            Labels.
        num_samples : int or None
            If given and smaller than N, score a random subset of that many
            samples (drawn without replacement from the Solver's generator).
        batch_size : int
            Samples scored per call of ``model.loss(X_batch)``.

        Returns
        -------
        float
            Fraction of samples whose highest score is their label,
            :math:`\\frac{1}{N}\\sum_i [\\arg\\max_c s_{ic} = y_i]`.
        """
        _check_inputs("X", X)
        _check_labels("y", y, X.shape[0])
        num_samples = _check_optional_int("num_samples", num_samples, 1)
        batch_size = check_int("batch_size", batch_size, minimum=1)
        N = X.shape[0]
        if N == 0:
            raise ValueError("X is empty: accuracy needs at least one sample")
        if num_samples is not None and N > num_samples:
            mask = self.rng.choice(N, size=num_samples, replace=False)
            X, y, N = X[mask], y[mask], num_samples

        y_pred = [
            np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
            for start in range(0, N, batch_size)
        ]
        return float(np.mean(np.concatenate(y_pred) == y))

    # -- training -------------------------------------------------------------
    def _show_progress(self):
        if self.progress is not None:
            return self.progress
        return self.verbose and (_stderr_isatty() or _in_notebook())

    def train(self):
        """Run the optimisation until ``num_epochs`` epochs are complete.

        Continues from the current ``iteration`` (0 for a new Solver, the saved
        one after :meth:`load_checkpoint`), first finishing the bookkeeping of a
        step an interruption cut short (its epoch count, learning-rate decay and
        accuracy check), so calling it again after Ctrl-C gives the run an
        uninterrupted call would have given. Calling it after it finished does
        nothing but restore the best parameters; raise ``num_epochs`` to train
        longer (from the best parameters, which the finished call put back, with
        the optimiser's last state). When it returns, ``model.params`` holds
        copies of ``best_params``.

        Raises
        ------
        TrainingDivergedError
            The loss or an updated parameter became nan/inf. The failing update is
            not applied: the model keeps the last finite parameters it had
            (useful to inspect what went wrong) and the state its forward pass
            wrote (batch-norm running statistics) is rolled back; the histories
            stop at the last good step, ``best_params`` and ``best_val_acc`` keep
            the best validated state, and checkpoints already written are
            untouched (none is written for the failing step).
        """
        ipe = self.iterations_per_epoch
        num_iterations = self.num_iterations
        bar = None
        if self._show_progress() and self.iteration < num_iterations:
            bar = _make_progress_bar(num_iterations, self.iteration)
        say = print if bar is None else bar.write
        try:
            self._catch_up(say)
            for t in range(self.iteration, num_iterations):
                self._step()
                loss = self.loss_history[-1]
                if self.verbose and t % self.print_every == 0:
                    say("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, loss))

                epoch_end = (t + 1) % ipe == 0
                if epoch_end:
                    self._end_epoch()
                if bar is not None:
                    bar.set_postfix(loss=f"{loss:.4g}", epochs_done=self.epoch, refresh=False)
                    bar.update(1)

                if t == 0 or t == num_iterations - 1 or epoch_end:
                    self._record_accuracy(say)
        finally:
            if bar is not None:
                bar.close()

        # Copies again, so further training never writes into best_params.
        self.model.params = {k: v.copy() for k, v in self.best_params.items()}

    def _end_epoch(self):
        """Count an epoch and decay every learning rate."""
        self.epoch += 1
        for config in self.optim_configs.values():
            if "learning_rate" in config:
                config["learning_rate"] *= self.lr_decay

    def _record_accuracy(self, say):
        """Check train/val accuracy, keep the best parameters, write a checkpoint."""
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            say("(Epoch %d / %d) train acc: %f; val_acc: %f"
                % (self.epoch, self.num_epochs, train_acc, val_acc))
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        path = self._save_checkpoint()
        if path is not None and self.verbose:
            say('Saving checkpoint to "%s"' % path)

    def _catch_up(self, say):
        """Finish the bookkeeping of the last step when an interruption (Ctrl-C in a
        notebook) cut it short: its epoch count and learning-rate decay, and its
        accuracy check (after the first step and at every epoch end)."""
        n, ipe = self.iteration, self.iterations_per_epoch
        if n == 0:
            return
        if self.epoch < n // ipe:
            self._end_epoch()
        checks_due = n // ipe + (1 if ipe > 1 else 0)     # step 1, then every epoch end
        if len(self.val_acc_history) < checks_due and (n == 1 or n % ipe == 0):
            self._record_accuracy(say)

    # -- checkpoints ----------------------------------------------------------
    def _hyperparameters(self):
        return {
            "update_rule": self.update_rule_name,
            "optim_config": self.optim_config,
            "lr_decay": self.lr_decay,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "checkpoint_name": self.checkpoint_name,
            "print_every": self.print_every,
            "verbose": self.verbose,
        }

    def _model_state_dicts(self):
        """The model's state dicts by attribute: a dict, or a list of dicts (``bn_params``)."""
        dicts = {}
        for attr in _MODEL_STATE_ATTRS:
            value = getattr(self.model, attr, None)
            if isinstance(value, dict):
                dicts[attr] = value
            elif isinstance(value, (list, tuple)) and all(isinstance(d, dict) for d in value):
                dicts[attr] = list(value)
        return dicts

    def _model_state(self):
        """Extra model state (BN running statistics, dropout generators) to save."""
        return {attr: (_savable_items(v) if isinstance(v, dict) else [_savable_items(d) for d in v])
                for attr, v in self._model_state_dicts().items()}

    def save_checkpoint(self, path):
        """Write the full training state to ``path`` (``.npz``) and a ``.json`` sidecar.

        Parameters
        ----------
        path : str or path
            File name; ``.npz`` is appended unless it already ends so (a ``.json``
            ending is replaced). The sidecar has the same stem and ends in ``.json``.

        Returns
        -------
        str
            The ``.npz`` path written.
        """
        npz_path, json_path = _checkpoint_paths(path)
        packer = _Packer()
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "hyperparameters": packer.pack(self._hyperparameters(), "hyperparameters"),
            "epoch": self.epoch,
            "iteration": self.iteration,
            "best_val_acc": float(self.best_val_acc),
            "loss_history": [float(v) for v in self.loss_history],
            "train_acc_history": [float(v) for v in self.train_acc_history],
            "val_acc_history": [float(v) for v in self.val_acc_history],
            "rng": packer.pack(self.rng, "the sampler's generator"),
            "params": packer.pack(dict(self.model.params), "model.params"),
            "best_params": packer.pack(dict(self.best_params), "best_params"),
            "optim_configs": packer.pack(self.optim_configs, "optim_configs"),
            "model_state": packer.pack(self._model_state(), "model state"),
            "data_shapes": {"X_train": list(self.X_train.shape), "X_val": list(self.X_val.shape)},
        }
        text = json.dumps(meta, indent=1)
        arrays = dict(packer.arrays)
        arrays["__meta__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

        directory = os.path.dirname(os.path.abspath(npz_path))
        os.makedirs(directory, exist_ok=True)
        _atomic_write(npz_path, lambda f: np.savez(f, **arrays))
        # The sidecar is for people and tools; the npz alone is read back.
        _atomic_write(json_path, lambda f: f.write(text.encode("utf-8")))
        return npz_path

    def _save_checkpoint(self):
        """Save ``{checkpoint_name}_epoch_{epoch}.npz`` if a name was given; return its path."""
        if self.checkpoint_name is None:
            return None
        return self.save_checkpoint(f"{self.checkpoint_name}_epoch_{self.epoch}.npz")

    def load_checkpoint(self, path):
        """Restore the training state saved by :meth:`save_checkpoint`.

        Restores the model's parameters (and ``bn_params``/``dropout_param`` state
        when saved), the per-parameter optimiser configs, ``epoch``,
        ``iteration``, the histories, ``best_params``/``best_val_acc`` and the
        sampler's generator, so that :meth:`train` continues exactly where the
        saved run was. Hyperparameters of this Solver are not changed (see
        :meth:`from_checkpoint`). Everything is checked before anything is
        changed: on error the Solver and the model are left as they were.

        Parameters
        ----------
        path : str or path
            The ``.npz`` file (its ``.json`` sidecar or the common stem also work).

        Raises
        ------
        ValueError
            Not a checkpoint; parameters whose names, shapes or dtypes differ from
            the model's; a checkpoint made with another training-set size or
            batch size (the epoch boundaries would not match).
        """
        meta, arrays = _read_checkpoint(path)
        self._restore(meta, arrays, os.fspath(path))

    def _restore(self, meta, arrays, where):
        def fail(msg):
            raise ValueError(f"cannot resume from {where}: {msg}")

        try:
            params = _unpack(meta["params"], arrays)
            best_params = _unpack(meta["best_params"], arrays)
            optim_configs = _unpack(meta["optim_configs"], arrays)
            model_state = _unpack(meta.get("model_state", {}), arrays)
            rng = _unpack(meta["rng"], arrays)
            epoch, iteration = int(meta["epoch"]), int(meta["iteration"])
            missing = [k for k in ("best_val_acc", "loss_history", "train_acc_history",
                                   "val_acc_history") if k not in meta]
            if missing:
                raise KeyError(", ".join(missing))
        except (KeyError, TypeError) as e:
            fail(f"the checkpoint is incomplete or corrupt ({e!r})")

        own = self.model.params
        for name, saved in (("params", params), ("best_params", best_params),
                            ("optim_configs", optim_configs)):
            if set(saved) != set(own):
                fail(f"its {name} have the keys {sorted(saved)}, the model has {sorted(own)}")
        for k, w in own.items():
            for name, saved in (("params", params), ("best_params", best_params)):
                a = saved[k]
                if not isinstance(a, np.ndarray) or a.shape != w.shape or a.dtype != w.dtype:
                    fail(
                        f"{name}[{k!r}] has shape {getattr(a, 'shape', None)} and dtype "
                        f"{getattr(a, 'dtype', None)}; the model's has {w.shape}, {w.dtype}"
                    )
        shapes = meta.get("data_shapes", {})
        for key in ("X_train", "X_val"):
            here = list(getattr(self, key).shape)
            if shapes.get(key) != here:
                fail(f"it was trained with {key} of shape {shapes.get(key)}, this data has {here}")
        if iteration // self.iterations_per_epoch != epoch:
            fail(
                f"it stopped at step {iteration} in epoch {epoch}, which does not fit "
                f"{self.iterations_per_epoch} steps per epoch (batch_size {self.batch_size})"
            )
        if len(meta["loss_history"]) != iteration:
            fail("its loss history does not match its step count")
        model_state_ok = self._check_model_state(model_state)
        if model_state_ok is not None:
            fail(model_state_ok)

        # Every check passed: commit.
        for k in own:
            own[k] = params[k]
        self.best_params = best_params
        self.optim_configs = optim_configs
        self.epoch, self.iteration = epoch, iteration
        self.best_val_acc = meta["best_val_acc"]
        self.loss_history = list(meta["loss_history"])
        self.train_acc_history = list(meta["train_acc_history"])
        self.val_acc_history = list(meta["val_acc_history"])
        self.rng = rng
        self._set_model_state(model_state)

    def _check_model_state(self, state):
        for attr, saved in state.items():
            current = getattr(self.model, attr, None)
            if isinstance(saved, list):
                if not isinstance(current, (list, tuple)) or len(current) != len(saved):
                    return f"it saved {len(saved)} model.{attr} entries, the model has a different number"
            elif not isinstance(current, dict):
                return f"it saved model.{attr}, which this model does not have"
        return None

    def _snapshot_model_state(self):
        """Copies of the model's state dicts (``bn_params``, ``dropout_param``).

        They are small (running statistics, settings, a generator), so a copy per
        step costs little next to the step itself.
        """
        return copy.deepcopy(self._model_state_dicts())

    def _roll_back_model_state(self, snap):
        """Put the model's state dicts back as :meth:`_snapshot_model_state` found them."""
        for attr, saved in snap.items():
            current = getattr(self.model, attr)
            pairs = zip(current, saved) if isinstance(saved, list) else [(current, saved)]
            for target, values in pairs:
                for key in [k for k in target if k not in values]:
                    del target[key]                           # written by the failed step
        self._set_model_state(snap)

    def _set_model_state(self, state):
        for attr, saved in state.items():
            current = getattr(self.model, attr)
            pairs = zip(current, saved) if isinstance(saved, list) else [(current, saved)]
            for target, values in pairs:
                for key, value in values.items():
                    old = target.get(key)
                    if isinstance(value, np.random.Generator) and isinstance(old, np.random.Generator):
                        # Keep the model's own generator object (it may be shared).
                        old.bit_generator.state = value.bit_generator.state
                    elif (isinstance(value, np.ndarray) and isinstance(old, np.ndarray)
                          and old.shape == value.shape and old.dtype == value.dtype
                          and old.flags.writeable):
                        old[...] = value
                    else:
                        target[key] = value

    @classmethod
    def from_checkpoint(cls, model, data, path, **kwargs):
        """Build a Solver from a checkpoint and restore its state.

        The hyperparameters saved in the checkpoint are used unless overridden by
        ``kwargs`` (e.g. ``num_epochs=20`` to train longer, ``verbose=False``).
        Entries of an ``optim_config`` given here replace the saved ones in every
        parameter's config (e.g. a lower ``learning_rate``), keeping the
        optimiser's state (velocity, moments); an ``update_rule`` other than the
        saved one is refused, since the saved state belongs to that rule.

        Parameters
        ----------
        model : object
            A model with the same parameter names, shapes and dtypes as the saved
            one (e.g. built with the same constructor arguments).
        data : dict
            The same training data as the saved run.
        path : str or path
            The checkpoint ``.npz``.
        **kwargs
            Solver keyword arguments overriding the saved ones.

        Returns
        -------
        Solver
            Ready to continue with :meth:`train`.
        """
        meta, arrays = _read_checkpoint(path)
        try:
            hyper = _unpack(meta["hyperparameters"], arrays)
        except KeyError:
            raise ValueError(f"cannot resume from {os.fspath(path)}: the checkpoint has no "
                             "hyperparameters (incomplete or corrupt)") from None
        saved_rule = hyper.get("update_rule")
        if saved_rule is not None and kwargs.get("update_rule") is not None:
            if _resolve_update_rule(kwargs["update_rule"])[0] is not _resolve_update_rule(saved_rule)[0]:
                raise ValueError(
                    f"{os.fspath(path)} was trained with update_rule {saved_rule!r}; its "
                    "optimiser state belongs to that rule (start a new Solver to change it)"
                )
        hyper.update(kwargs)
        if hyper.get("update_rule") is None:
            raise ValueError(
                f"{os.fspath(path)} was trained with a custom update rule; pass it as "
                "update_rule=... to from_checkpoint"
            )
        solver = cls(model, data, **hyper)
        solver._restore(meta, arrays, os.fspath(path))
        if "optim_config" in kwargs:                          # overrides, state kept
            for config in solver.optim_configs.values():
                config.update(copy.deepcopy(solver.optim_config))
        return solver


def _savable_items(d):
    """The items of ``d`` a checkpoint can hold (arrays, generators, plain values)."""
    keep = (np.ndarray, np.generic, np.random.Generator, bool, int, float, str, type(None))
    return {
        k: v for k, v in d.items()
        if isinstance(k, str) and isinstance(v, keep)
        and not (isinstance(v, np.ndarray) and v.dtype.hasobject)
    }
