"""The Solver's book-keeping, kept out of the training loop a student reads.

:mod:`cs231n.solver` holds the loop (sampling, step, accuracy checks, histories).
This private module holds what surrounds it:

- argument checks for the Solver's model, data and keyword arguments;
- the progress bar (a text bar that also ends up right in executed notebooks);
- checkpoint files: npz + JSON without pickle, written atomically, read back with
  every check done before anything is changed;
- the model-state snapshot and rollback a failed step uses;
- the catch-up of a step an interruption (Ctrl-C in a notebook) cut short.

Checkpoint format
-----------------
``NAME.npz`` alone is the checkpoint: it holds the parameters, the best
parameters, the per-parameter optimiser state and (as UTF-8 JSON text in the
array ``__meta__``) the hyperparameters, histories, epoch, step count and the
sampler's random state: its generator (``rng``) for a seeded Solver, numpy's
global random state (``global_random_state``) for one without seed. Arrays are
referred to from the JSON by name, so both files are read without pickle
(``np.load(..., allow_pickle=False)``, ``json``) and loading a checkpoint cannot
run code. ``NAME.json`` repeats the metadata for people and tools. Both are
written atomically (temporary file in the same directory, then ``os.replace``),
so an interrupted save leaves the previous file intact and never a partial file
under the final name.
"""
from __future__ import annotations

import copy
import inspect
import json
import numbers
import os
import sys
import warnings
from collections.abc import Mapping

import numpy as np

from . import optim
from ._files import atomic_write
from ._checks import check_int

DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
FORMAT = "cs231n-bn-solver-checkpoint"
FORMAT_VERSION = 1
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

    __module__ = "cs231n.solver"

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

    __module__ = "cs231n.solver"


class InvalidDataTypeError(InvalidDataError, TypeError):
    """An entry of ``data`` has the wrong kind (not an array, labels not integer).

    It is both a ``ValueError`` (malformed data) and a ``TypeError`` (wrong kind).
    """

    __module__ = "cs231n.solver"


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def available_rules():
    return sorted(
        name
        for name, fn in vars(optim).items()
        if not name.startswith("_")
        and inspect.isfunction(fn)
        and fn.__module__ == optim.__name__
    )


def resolve_update_rule(rule):
    """Return ``(function, name)``; name is None for a callable not from optim."""
    if isinstance(rule, str):
        if rule not in available_rules():
            raise ValueError(
                f'Invalid update_rule "{rule}"; expected one of '
                f'{", ".join(available_rules())} or a callable'
            )
        return getattr(optim, rule), rule
    if callable(rule):
        name = getattr(rule, "__name__", None)
        known = name in available_rules() and getattr(optim, name) is rule
        return rule, (name if known else None)
    raise TypeError(
        f"update_rule must be the name of a rule in cs231n.optim or a callable, "
        f"got {type(rule).__name__}"
    )


def check_model(model):
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


def check_labels(name, y, n):
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


def check_inputs(name, X):
    if not isinstance(X, np.ndarray):
        raise InvalidDataTypeError(f"{name} must be a numpy array, got {type(X).__name__}")
    if not np.issubdtype(X.dtype, np.number):
        raise InvalidDataTypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.ndim < 2:
        raise InvalidDataError(
            f"{name} must have shape (N, ...) with at least 2 dimensions, got shape {X.shape}"
        )


def check_data(data):
    """Check the structure of ``data``; return ``(X_train, y_train, X_val, y_val)``."""
    if not isinstance(data, Mapping):
        raise InvalidDataTypeError(
            f"data must be a dict with keys {', '.join(DATA_KEYS)}, got {type(data).__name__}"
        )
    missing = [k for k in DATA_KEYS if k not in data]
    if missing:
        raise InvalidDataError(
            f"data is missing the key(s) {', '.join(missing)}; expected {', '.join(DATA_KEYS)}"
        )
    X_train, y_train, X_val, y_val = (data[k] for k in DATA_KEYS)
    for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
        check_inputs(f"data['X_{split}']", X)
        check_labels(f"data['y_{split}']", y, X.shape[0])
        if X.shape[0] == 0:
            raise InvalidDataError(f"data['X_{split}'] is empty: the {split} set needs samples")
    if X_train.shape[1:] != X_val.shape[1:]:
        raise InvalidDataError(
            f"data['X_train'] holds samples of shape {X_train.shape[1:]} but data['X_val'] "
            f"holds samples of shape {X_val.shape[1:]}; they must match"
        )
    return X_train, y_train, X_val, y_val


def check_labels_fit_model(model, y_train, y_val, X_one):
    """Score one training sample to learn the number of classes C; check labels."""
    scores = model.loss(X_one)
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


def check_optional_int(name, v, minimum):
    return None if v is None else check_int(name, v, minimum=minimum)


def sampler_rng(seed):
    """The Solver's own generator for ``seed``, or None for numpy's global state."""
    ok = seed is None or isinstance(seed, (numbers.Integral, np.random.Generator, np.random.SeedSequence))
    if isinstance(seed, bool) or not ok:
        raise TypeError(
            f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    return None if seed is None else np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# progress display
# ---------------------------------------------------------------------------
def in_notebook():
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def stderr_isatty():
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class _DisplayLine:
    """A file-like target for a text tqdm bar in a notebook: one display, updated.

    The bar is shown with ``IPython.display.display(..., display_id=True)`` and each
    redraw updates that display. A live notebook shows the bar moving; a notebook
    executed headless (nbconvert, nbclient) stores the last state, not the empty
    bar a widget leaves behind.
    """

    def __init__(self):
        from IPython.display import display

        self.handle = display({"text/plain": ""}, raw=True, display_id=True)
        self.text = ""

    def write(self, s):
        line = s.rsplit("\r", 1)[-1].strip("\n")
        if line.strip():
            self.text = line
            self.handle.update({"text/plain": line}, raw=True)

    def flush(self):
        pass


def progress_bar(total, initial=0, desc="Training", mininterval=None):
    """A tqdm text bar over ``total`` iterations and the function to print lines with.

    Returns ``(bar, say)``: in a terminal ``say`` is ``bar.write`` (lines above the
    bar); in a notebook the bar is one display updated in place and ``say`` is
    ``print``. ``(None, print)`` when tqdm cannot be imported.
    """
    try:
        from tqdm.std import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None, print
    notebook = in_notebook()
    if mininterval is None:          # fewer redraws when stderr is a log file
        mininterval = 0.5 if notebook else 0.1 if stderr_isatty() else 5.0
    kwargs = dict(total=total, initial=initial, desc=desc, unit="it", mininterval=mininterval)
    if notebook:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bar = tqdm(file=_DisplayLine(), ncols=100, **kwargs)
        return bar, print
    bar = tqdm(dynamic_ncols=True, **kwargs)
    return bar, bar.write


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


def unpack(value, arrays):
    if isinstance(value, list):
        return [unpack(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag in ("__array__", "__scalar__"):
            if inner not in arrays:
                raise ValueError(f"checkpoint is corrupt: array {inner!r} is missing")
            return arrays[inner] if tag == "__array__" else arrays[inner][()]
        if tag == "__generator__":
            return _make_generator(unpack(inner, arrays))
        if tag == "__tuple__":
            return tuple(unpack(v, arrays) for v in inner)
    return {k: unpack(v, arrays) for k, v in value.items()}


def checkpoint_paths(path):
    """``(npz_path, json_path)`` for a checkpoint given by either file or its stem."""
    path = os.fspath(path)
    stem, ext = os.path.splitext(path)
    if ext not in (".npz", ".json"):
        stem = path
    return stem + ".npz", stem + ".json"


def read_checkpoint(path):
    """Load a checkpoint ``.npz`` without pickle; return ``(meta, arrays)``."""
    npz_path, _ = checkpoint_paths(path)
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
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{npz_path} is not a Solver checkpoint")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{npz_path} has checkpoint format version {meta.get('version')!r}; "
            f"this kit reads version {FORMAT_VERSION}"
        )
    return meta, arrays


def hyperparameters(solver):
    """The Solver's keyword arguments as a checkpoint records them."""
    return {
        "update_rule": solver.update_rule_name,
        "optim_config": solver.optim_config,
        "lr_decay": solver.lr_decay,
        "batch_size": solver.batch_size,
        "num_epochs": solver.num_epochs,
        "num_train_samples": solver.num_train_samples,
        "num_val_samples": solver.num_val_samples,
        "checkpoint_name": solver.checkpoint_name,
        "print_every": solver.print_every,
        "verbose": solver.verbose,
    }


def write_checkpoint(solver, path, state_attrs):
    """Write ``solver``'s full training state to ``path`` (npz) and its JSON sidecar.

    An unseeded Solver draws from numpy's global random state, so that state is
    what the checkpoint records for the sampler (``global_random_state``); a seeded
    one records its generator (``rng``). Returns the ``.npz`` path.
    """
    npz_path, json_path = checkpoint_paths(path)
    packer = _Packer()
    global_state = np.random.get_state(legacy=False) if solver.rng is None else None
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "hyperparameters": packer.pack(hyperparameters(solver), "hyperparameters"),
        "epoch": solver.epoch,
        "iteration": solver.iteration,
        "best_val_acc": float(solver.best_val_acc),
        "loss_history": [float(v) for v in solver.loss_history],
        "train_acc_history": [float(v) for v in solver.train_acc_history],
        "val_acc_history": [float(v) for v in solver.val_acc_history],
        "rng": packer.pack(solver.rng, "the sampler's generator"),
        "global_random_state": packer.pack(global_state, "numpy's global random state"),
        "params": packer.pack(dict(solver.model.params), "model.params"),
        "best_params": packer.pack(dict(solver.best_params), "best_params"),
        "optim_configs": packer.pack(solver.optim_configs, "optim_configs"),
        "model_state": packer.pack(_savable_state(solver.model, state_attrs), "model state"),
        "data_shapes": {"X_train": list(solver.X_train.shape), "X_val": list(solver.X_val.shape)},
    }
    text = json.dumps(meta, indent=1)
    arrays = dict(packer.arrays)
    arrays["__meta__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    os.makedirs(os.path.dirname(os.path.abspath(npz_path)), exist_ok=True)
    atomic_write(npz_path, lambda f: np.savez(f, **arrays))
    # The sidecar is for people and tools; the npz alone is read back.
    atomic_write(json_path, lambda f: f.write(text.encode("utf-8")))
    return npz_path


def restore(solver, meta, arrays, where):
    """Put the state of a read checkpoint into ``solver`` (and its model).

    Everything is checked first; on error (``ValueError`` naming ``where``) the
    Solver, the model and numpy's global random state are left as they were.
    """
    def fail(msg):
        raise ValueError(f"cannot resume from {where}: {msg}")

    try:
        params = unpack(meta["params"], arrays)
        best_params = unpack(meta["best_params"], arrays)
        optim_configs = unpack(meta["optim_configs"], arrays)
        model_state = unpack(meta.get("model_state", {}), arrays)
        rng = unpack(meta["rng"], arrays)
        global_state = unpack(meta.get("global_random_state"), arrays)
        epoch, iteration = int(meta["epoch"]), int(meta["iteration"])
        missing = [k for k in ("best_val_acc", "loss_history", "train_acc_history",
                               "val_acc_history") if k not in meta]
        if missing:
            raise KeyError(", ".join(missing))
    except (KeyError, TypeError) as e:
        fail(f"the checkpoint is incomplete or corrupt ({e!r})")
    if rng is None:
        try:
            np.random.RandomState().set_state(global_state)   # checked on a scratch state
        except (TypeError, ValueError, KeyError) as e:
            fail(f"it holds neither a generator nor numpy's global random state ({e!r})")

    own = solver.model.params
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
        here = list(getattr(solver, key).shape)
        if shapes.get(key) != here:
            fail(f"it was trained with {key} of shape {shapes.get(key)}, this data has {here}")
    if iteration // solver.iterations_per_epoch != epoch:
        fail(
            f"it stopped at step {iteration} in epoch {epoch}, which does not fit "
            f"{solver.iterations_per_epoch} steps per epoch (batch_size {solver.batch_size})"
        )
    if len(meta["loss_history"]) != iteration:
        fail("its loss history does not match its step count")
    problem = _check_model_state(solver.model, model_state)
    if problem is not None:
        fail(problem)

    # Every check passed: commit.
    for k in own:
        own[k] = params[k]
    solver.best_params = best_params
    solver.optim_configs = optim_configs
    solver.epoch, solver.iteration = epoch, iteration
    solver.best_val_acc = meta["best_val_acc"]
    solver.loss_history = list(meta["loss_history"])
    solver.train_acc_history = list(meta["train_acc_history"])
    solver.val_acc_history = list(meta["val_acc_history"])
    solver.rng = rng
    if rng is None:
        np.random.set_state(global_state)
    set_model_state(solver.model, model_state)


def solver_from_checkpoint(cls, model, data, path, kwargs):
    """The body of ``Solver.from_checkpoint``: saved hyperparameters, overridden by kwargs."""
    meta, arrays = read_checkpoint(path)
    try:
        hyper = unpack(meta["hyperparameters"], arrays)
    except KeyError:
        raise ValueError(f"cannot resume from {os.fspath(path)}: the checkpoint has no "
                         "hyperparameters (incomplete or corrupt)") from None
    saved_rule = hyper.get("update_rule")
    if saved_rule is not None and kwargs.get("update_rule") is not None:
        if resolve_update_rule(kwargs["update_rule"])[0] is not resolve_update_rule(saved_rule)[0]:
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
    restore(solver, meta, arrays, os.fspath(path))
    if "optim_config" in kwargs:                          # overrides, state kept
        for config in solver.optim_configs.values():
            config.update(copy.deepcopy(solver.optim_config))
    return solver


# ---------------------------------------------------------------------------
# model state: bn_params running statistics, dropout generators
# ---------------------------------------------------------------------------
def model_state_dicts(model, attrs):
    """The model's state dicts by attribute: a dict, or a list of dicts (``bn_params``)."""
    dicts = {}
    for attr in attrs:
        value = getattr(model, attr, None)
        if isinstance(value, dict):
            dicts[attr] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(d, dict) for d in value):
            dicts[attr] = list(value)
    return dicts


def _savable_items(d):
    """The items of ``d`` a checkpoint can hold (arrays, generators, plain values)."""
    keep = (np.ndarray, np.generic, np.random.Generator, bool, int, float, str, type(None))
    return {
        k: v for k, v in d.items()
        if isinstance(k, str) and isinstance(v, keep)
        and not (isinstance(v, np.ndarray) and v.dtype.hasobject)
    }


def _savable_state(model, attrs):
    """Extra model state (BN running statistics, dropout generators) to save."""
    return {attr: (_savable_items(v) if isinstance(v, dict) else [_savable_items(d) for d in v])
            for attr, v in model_state_dicts(model, attrs).items()}


def _check_model_state(model, state):
    for attr, saved in state.items():
        current = getattr(model, attr, None)
        if isinstance(saved, list):
            if not isinstance(current, (list, tuple)) or len(current) != len(saved):
                return f"it saved {len(saved)} model.{attr} entries, the model has a different number"
        elif not isinstance(current, dict):
            return f"it saved model.{attr}, which this model does not have"
    return None


def snapshot(model, attrs):
    """Copies of the model's state dicts (``bn_params``, ``dropout_param``).

    They are small (running statistics, settings, a generator), so a copy per
    step costs little next to the step itself.
    """
    return copy.deepcopy(model_state_dicts(model, attrs))


def roll_back(model, snap):
    """Put the model's state dicts back as :func:`snapshot` found them."""
    for attr, saved in snap.items():
        current = getattr(model, attr)
        pairs = zip(current, saved) if isinstance(saved, list) else [(current, saved)]
        for target, values in pairs:
            for key in [k for k in target if k not in values]:
                del target[key]                           # written by the failed step
    set_model_state(model, snap)


def set_model_state(model, state):
    for attr, saved in state.items():
        current = getattr(model, attr)
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


# ---------------------------------------------------------------------------
# a failed step
# ---------------------------------------------------------------------------
def diverged(solver, what, loss, param=None):
    """The :class:`TrainingDivergedError` for a failed step of ``solver``."""
    best = (
        f"the best validated ones (val acc {solver.best_val_acc:f}) are in solver.best_params"
        if solver.val_acc_history
        else "solver.best_params holds a copy of the initial ones"
    )
    it, ep = solver.iteration + 1, solver.epoch + 1
    message = (
        f"Training diverged: {what} at iteration {it} / {solver.num_iterations} "
        f"(during epoch {ep} / {solver.num_epochs}). The update was not applied: the "
        f"model keeps its last finite parameters and running statistics; {best}. "
        "Try a smaller learning rate or weight scale."
    )
    return TrainingDivergedError(message, iteration=it, epoch=ep, loss=loss, param=param)


# ---------------------------------------------------------------------------
# interruption
# ---------------------------------------------------------------------------
def catch_up(solver, say):
    """Finish the bookkeeping of the last step when an interruption (Ctrl-C in a
    notebook) cut it short: its epoch count and learning-rate decay, and its
    accuracy check (after the first step and at every epoch end)."""
    n, ipe = solver.iteration, solver.iterations_per_epoch
    if n == 0:
        return
    if solver.epoch < n // ipe:
        solver._end_epoch()
    checks_due = n // ipe + (1 if ipe > 1 else 0)     # step 1, then every epoch end
    if len(solver.val_acc_history) < checks_due and (n == 1 or n % ipe == 0):
        solver._record_accuracy(say)
