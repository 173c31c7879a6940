"""The experiments of the notebooks, as functions (one source for notebooks and CLI).

Every experiment trains small networks on CIFAR-10 with the :class:`~cs231n.solver.Solver`
and returns a *history*: a plain, JSON-able dict (lists, floats, strings) holding the
configuration and, for every training run, its loss and accuracy curves. The plotting
functions turn a history into matplotlib figures. The notebooks and
``python -m cs231n experiment NAME`` both call these functions, so the figures of the
notebooks and the command line's PNG files come from the same code.

==================  ============================================================
experiment          what it trains (full mode; mirrors CS231n assignment 2)
==================  ============================================================
``batchnorm``       six-layer net (hidden ``[100] * 5``), 1000 examples, with and
                    without batch norm (Adam 1e-3, 10 epochs, batch 50,
                    weight scale 2e-2)
``activations``     the ``batchnorm`` net on up to 5000 examples: the 15th, 50th
                    and 85th percentiles of one hidden unit's input over training
                    and the validation accuracy (Ioffe and Szegedy's Figure 1)
``weight_scale``    eight-layer net (hidden ``[50] * 7``) for 20 weight scales in
                    ``logspace(-4, 0)``, with and without batch norm
``batch_size``      the ``batchnorm`` net with batch norm at batch sizes 5, 10, 50
                    against the baseline at batch size 5 (Adam ``10**-3.5``)
``layernorm``       the same sweep with layer norm
``dropout``         two-layer net (hidden 500) on 500 examples, keep ratio 1 vs
                    0.25 (Adam 5e-4, 25 epochs, batch 100)
``update_rules``    six-layer net (hidden ``[100] * 5``, weight scale 5e-2) on
                    4000 examples with sgd, sgd_momentum, rmsprop and adam
``spatial_norm``    :class:`~cs231n.classifiers.cnn.ConvNet` without
                    normalisation, with spatial batch norm, with group norm
==================  ============================================================

Fast mode (``fast=True``, or ``fast=None`` with the environment variable
``CS231N_FAST=1``) shortens every experiment (fewer epochs, sweep points and
examples) so that each runs in seconds, for CI; the default is the full experiment.

Randomness comes from one ``seed``: every run of an experiment starts from the same
weight draw (``numpy.random.default_rng([seed, 0])``; only the scale differs in the
weight-scale sweep) and samples minibatches from ``default_rng([seed, 1])``, so the
runs differ only in what the experiment varies. Dropout masks come from
``default_rng([seed, 2])``. numpy's global random state is never used.

History layout::

    {"experiment": "batchnorm", "title": ..., "fast": False, "seed": 0,
     "config": {...hyperparameters, num_train, num_val...},
     "runs": [{"label": "baseline", <settings of the run>,
               "loss_history": [...], "train_acc_history": [...],
               "val_acc_history": [...], "best_val_acc": 0.31,
               "best_train_acc": 0.64, "final_train_acc": 0.64,
               "final_val_acc": 0.30, "final_loss": 1.2,
               "epochs": 10, "iterations_per_epoch": 20,
               "diverged": False, "seconds": 3.1}, ...],
     "seconds": 6.5}

Accuracy histories hold one entry per check (after the first iteration and at
every epoch end, as the Solver does): ``epochs + 1`` entries, or ``epochs`` when an
epoch is a single iteration (the first iteration then also ends the first epoch).
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from typing import Callable, NamedTuple

import numpy as np

from ._checks import check_int
from ._solver_state import in_notebook as _in_notebook
from ._solver_state import progress_bar
from ._solver_state import stderr_isatty as _stderr_isatty
from .classifiers.cnn import ConvNet
from .classifiers.fc_net import FullyConnectedNet
from .solver import Solver, TrainingDivergedError

__all__ = [
    "FAST_ENV_VAR",
    "EXPERIMENTS",
    "Experiment",
    "is_fast",
    "batchnorm",
    "weight_scale",
    "batch_size",
    "layernorm",
    "dropout",
    "update_rules",
    "spatial_norm",
    "run",
    "plot",
    "summarize",
    "results_table",
    "save_history",
    "load_history",
    "plot_batchnorm",
    "plot_weight_scale",
    "plot_batch_size",
    "plot_dropout",
    "plot_update_rules",
    "plot_spatial_norm",
]

#: Environment variable that switches experiments to fast mode when ``fast=None``.
FAST_ENV_VAR = "CS231N_FAST"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
_NUM_CLASSES = 10


# --------------------------------------------------------------------------- #
# Shared machinery
# --------------------------------------------------------------------------- #
def is_fast(fast=None):
    """Resolve the fast-mode switch.

    Parameters
    ----------
    fast : bool or None
        An explicit choice wins; None reads ``CS231N_FAST`` (``1``/``true``/``yes``/
        ``on`` mean fast; unset, empty, ``0``/``false``/``no``/``off`` mean full).

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        ``fast`` is neither a bool nor None.
    ValueError
        ``CS231N_FAST`` holds another value.
    """
    if fast is not None:
        if not isinstance(fast, (bool, np.bool_)):
            raise TypeError(f"fast must be True, False or None, got {type(fast).__name__} {fast!r}")
        return bool(fast)
    value = os.environ.get(FAST_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV_VAR}={os.environ[FAST_ENV_VAR]!r} is not understood; use 1 (fast) or 0 (full)"
    )


def _check_flag(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        want = "True, False or None" if allow_none else "True or False"
        raise TypeError(f"{name} must be {want}, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_data(data, images=False):
    """Check the data dict; return ``(X_train, y_train, X_val, y_val)``.

    Only the structure is checked here (keys, arrays, one label per sample, the
    input shape the models need); the Solver checks the rest.
    """
    if not isinstance(data, Mapping):
        raise TypeError(
            "data must be a dict with X_train, y_train, X_val, y_val (e.g. from "
            f"get_CIFAR10_data()), got {type(data).__name__}"
        )
    missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
    if missing:
        raise ValueError(f"data is missing the key(s) {', '.join(missing)}")
    out = []
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        for name, a in ((f"X_{split}", X), (f"y_{split}", y)):
            if not isinstance(a, np.ndarray):
                raise TypeError(f"data['{name}'] must be a numpy array, got {type(a).__name__}")
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(
                f"data['X_{split}'] must have shape (N, ...) with N >= 1, got {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"data['y_{split}'] has shape {y.shape}, expected ({X.shape[0]},) to match "
                f"data['X_{split}']"
            )
        if images and X.ndim != 4:
            raise ValueError(
                f"data['X_{split}'] must hold images of shape (N, C, H, W) for a conv net, "
                f"got shape {X.shape}"
            )
        out += [X, y]
    if out[0].shape[1:] != out[2].shape[1:]:
        raise ValueError(
            f"data['X_train'] samples have shape {out[0].shape[1:]}, data['X_val'] samples "
            f"{out[2].shape[1:]}; they must match"
        )
    return tuple(out)


def _subset(data, num_train, num_val=None, images=False):
    """The first ``num_train`` training and ``num_val`` validation samples (as CS231n)."""
    X_train, y_train, X_val, y_val = _check_data(data, images=images)
    nv = X_val.shape[0] if num_val is None else min(num_val, X_val.shape[0])
    return {
        "X_train": X_train[:num_train], "y_train": y_train[:num_train],
        "X_val": X_val[:nv], "y_val": y_val[:nv],
    }


def _common(seed, fast, verbose, progress):
    seed = check_int("seed", seed, minimum=0)
    fast = is_fast(fast)
    verbose = _check_flag("verbose", verbose)
    progress = _check_flag("progress", progress, allow_none=True)
    return seed, fast, verbose, progress


def _want_progress(progress):
    if progress is not None:
        return progress
    return _stderr_isatty() or _in_notebook()


class _Bar:
    """One progress bar over every training iteration of an experiment (or none)."""

    def __init__(self, total, desc, enabled):
        self.bar, self.say = None, print
        if enabled:
            # A text bar; in a notebook one display updated in place, so a notebook
            # executed headless keeps the finished bar, not an empty widget.
            self.bar, self.say = progress_bar(total, desc=desc)

    def tick(self, n=1):
        if self.bar is not None:
            self.bar.update(n)

    def label(self, text):
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)

    def write(self, text):
        self.say(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _Counted:
    """A model seen through a counter: every training call of ``loss`` ticks the bar.

    The Solver reads and assigns ``params`` and calls ``loss``; both go to the
    wrapped model, so training is exactly as without the wrapper.
    """

    def __init__(self, model, tick):
        self.__dict__["_model"] = model
        self.__dict__["_tick"] = tick

    @property
    def params(self):
        return self._model.params

    @params.setter
    def params(self, value):
        self._model.params = value

    def loss(self, X, y=None):
        out = self._model.loss(X, y)
        if y is not None:
            self._tick()
        return out

    def __getattr__(self, name):
        return getattr(self._model, name)


def _iterations(num_train, batch_size, num_epochs):
    return num_epochs * max(num_train // batch_size, 1)


def _finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _train(model, data, bar, label, settings, solver_kwargs, seed, verbose, watch=None):
    """Train ``model`` with a Solver; return the run record (a JSON-able dict).

    ``watch``, when given, is called after every training forward pass (before the
    step's update), e.g. to record activations.
    """
    def tick():
        if watch is not None:
            watch()
        bar.tick()

    solver = Solver(_Counted(model, tick), data, verbose=False, progress=False,
                    seed=np.random.default_rng([seed, 1]), **solver_kwargs)
    bar.label(label)
    start = time.perf_counter()
    diverged = None
    try:
        solver.train()
    except TrainingDivergedError as exc:
        diverged = str(exc)
        # Keep the bar's count right: the iterations this run will not make.
        bar.tick(solver.num_iterations - solver.iteration - 1)
    seconds = time.perf_counter() - start
    losses = [_finite_or_none(v) for v in solver.loss_history]
    train_acc = [float(v) for v in solver.train_acc_history]
    val_acc = [float(v) for v in solver.val_acc_history]
    tail = [v for v in losses[-100:] if v is not None]
    run = {"label": label, **settings}
    run.update(
        loss_history=losses,
        train_acc_history=train_acc,
        val_acc_history=val_acc,
        best_val_acc=max(val_acc) if val_acc else None,
        best_train_acc=max(train_acc) if train_acc else None,
        final_train_acc=train_acc[-1] if train_acc else None,
        final_val_acc=val_acc[-1] if val_acc else None,
        # Mean of the last 100 losses, as the assignment plots it.
        final_loss=float(np.mean(tail)) if tail else None,
        epochs=solver.num_epochs,
        iterations_per_epoch=solver.iterations_per_epoch,
        diverged=diverged,
        seconds=round(seconds, 3),
    )
    if verbose:
        def fmt(v):
            return "n/a" if v is None else f"{v:.3f}"

        settings_text = ", ".join(f"{k}={v}" for k, v in settings.items())
        bar.write(
            f"{label} ({settings_text}): best val acc {fmt(run['best_val_acc'])}, final train "
            f"acc {fmt(run['final_train_acc'])}, {seconds:.1f} s"
            + (" DIVERGED" if diverged else "")
        )
    return run


def _history(name, title, fast, seed, config, runs, start):
    return {
        "experiment": name,
        "title": title,
        "fast": fast,
        "seed": seed,
        "config": config,
        "runs": runs,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _fc_model(seed, hidden_dims, input_dim, weight_scale, normalization=None, keep=1.0):
    model = FullyConnectedNet(
        hidden_dims, input_dim=input_dim, num_classes=_NUM_CLASSES,
        dropout_keep_ratio=keep, normalization=normalization,
        weight_scale=weight_scale, seed=np.random.default_rng([seed, 0]))
    if model.use_dropout:
        # A generator of our own: fresh masks every step, reproducible from the seed.
        model.dropout_param["rng"] = np.random.default_rng([seed, 2])
    return model


def _input_dim(X):
    return int(np.prod(X.shape[1:]))


# --------------------------------------------------------------------------- #
# Experiments
# --------------------------------------------------------------------------- #
def batchnorm(data, seed=0, fast=None, verbose=False, progress=None):
    """Batch norm against the baseline in a deep fully connected net.

    A six-layer net (hidden ``[100] * 5``, weight scale 2e-2) is trained on the
    first 1000 training examples with Adam (learning rate 1e-3, batch 50, 10
    epochs), once without normalisation and once with batch norm after every
    hidden affine layer:

    .. math:: \\hat x = \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}, \\quad
              y = \\gamma \\hat x + \\beta

    Fast mode: 4 epochs.

    Parameters
    ----------
    data : dict
        ``X_train (N, 3, 32, 32)`` (or anything flattening to 3072 per sample),
        ``y_train (N,)``, ``X_val``, ``y_val``; e.g. from ``get_CIFAR10_data()``.
    seed : int
        Seeds weights and minibatches (both runs share them).
    fast : bool or None
        Shortened run; None reads ``CS231N_FAST``.
    verbose : bool
        Print one line per finished run.
    progress : bool or None
        Progress bar over all iterations; None: on in a terminal or notebook.

    Returns
    -------
    dict
        The history (see the module docstring): runs ``baseline`` and
        ``batchnorm``.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    config = dict(hidden_dims=[100] * 5, num_train=1000, weight_scale=2e-2,
                  update_rule="adam", learning_rate=1e-3, batch_size=50,
                  num_epochs=4 if fast else 10)
    small = _subset(data, config["num_train"])
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]))
    kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
              batch_size=config["batch_size"], num_epochs=config["num_epochs"])
    start = time.perf_counter()
    bar = _Bar(2 * _iterations(config["num_train"], config["batch_size"], config["num_epochs"]),
               "batchnorm", _want_progress(progress))
    runs = []
    try:
        for norm in (None, "batchnorm"):
            model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                              config["weight_scale"], norm)
            runs.append(_train(model, small, bar, norm or "baseline",
                               {"normalization": norm}, kw, seed, verbose))
    finally:
        bar.close()
    return _history("batchnorm", "Batch normalization vs baseline (six-layer net, "
                    f"{config['num_train']} examples)", fast, seed, config, runs, start)


def _preactivations(model, X, layer):
    """Inputs to the ReLU of hidden layer ``layer`` (1-based) of a FullyConnectedNet.

    The forward pass of the net up to that ReLU, with the public layers; batch norm
    normalises with the statistics of ``X`` itself (train-mode arithmetic) on copies
    of the norm params, so the model's running statistics are not touched.
    """
    from .layers import affine_forward, batchnorm_forward, relu_forward

    h = X.reshape(X.shape[0], -1).astype(model.dtype, copy=False)
    for i in range(1, layer + 1):
        h, _ = affine_forward(h, model.params[f"W{i}"], model.params[f"b{i}"])
        if model.normalization == "batchnorm":
            h, _ = batchnorm_forward(h, model.params[f"gamma{i}"], model.params[f"beta{i}"],
                                     {"mode": "train"})
        if i < layer:
            h, _ = relu_forward(h)
    return h


class _Watch:
    """Records, every ``every`` training steps, the percentiles of one unit's input
    to its ReLU on a fixed probe batch and the validation accuracy."""

    def __init__(self, model, probe, X_val, y_val, layer, unit, every):
        self.model, self.probe, self.X_val, self.y_val = model, probe, X_val, y_val
        self.layer, self.unit, self.every = layer, unit, every
        self.steps = 0
        self.iterations, self.percentiles, self.val_acc = [], [], []

    def __call__(self):
        """Called after each training forward pass, before that step's update."""
        done = self.steps                      # updates applied so far
        self.steps += 1
        if done % self.every:
            return
        z = _preactivations(self.model, self.probe, self.layer)[:, self.unit]
        scores = self.model.loss(self.X_val)   # test mode: running statistics
        self.iterations.append(done)
        self.percentiles.append([float(v) for v in np.percentile(z, _PERCENTILES)])
        self.val_acc.append(float(np.mean(np.argmax(scores, axis=1) == self.y_val)))


_PERCENTILES = (15, 50, 85)


def activations(data, seed=0, fast=None, verbose=False, progress=None):
    """Ioffe and Szegedy's Figure 1: a hidden unit's input distribution over training.

    The six-layer net of :func:`batchnorm` (hidden ``[100] * 5``, weight scale
    2e-2, Adam 1e-3, batch 50) is trained twice from the same weights and
    minibatches, without and with batch norm, on up to 5000 training examples for
    10 epochs. Every few steps (``record_every``) the run records

    - the 15th, 50th and 85th percentiles of the input to one ReLU (unit
      ``unit`` of the last hidden layer: ``W5 h4 + b5``, after batch norm when
      there is one), over a fixed probe batch of 500 validation images;
    - the accuracy on the validation set (test mode).

    Without batch norm the input a unit sees drifts and changes its spread as the
    layers below it learn (internal covariate shift); with batch norm it stays
    centred with a spread set by the learned ``gamma`` and ``beta``.

    Fast mode: 1000 examples, 4 epochs.

    Parameters
    ----------
    data, seed, fast, verbose, progress
        As in :func:`batchnorm`.

    Returns
    -------
    dict
        The history; runs ``baseline`` and ``batchnorm``, each with the Solver's
        curves plus ``iterations`` (steps done at each record), ``percentiles``
        (one ``[p15, p50, p85]`` per record) and ``val_acc_by_iteration``.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    config = dict(hidden_dims=[100] * 5, num_train=1000 if fast else 5000, weight_scale=2e-2,
                  update_rule="adam", learning_rate=1e-3, batch_size=50,
                  num_epochs=4 if fast else 10, layer=5, unit=0,
                  percentiles=list(_PERCENTILES), probe_size=500)
    small = _subset(data, config["num_train"])
    probe = small["X_val"][:config["probe_size"]]
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]),
                  probe_size=len(probe))
    iterations = _iterations(config["num_train"], config["batch_size"], config["num_epochs"])
    config["record_every"] = max(iterations // 100, 1)
    kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
              batch_size=config["batch_size"], num_epochs=config["num_epochs"])
    start = time.perf_counter()
    bar = _Bar(2 * iterations, "activations", _want_progress(progress))
    runs = []
    try:
        for norm in (None, "batchnorm"):
            model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                              config["weight_scale"], norm)
            watch = _Watch(model, probe, small["X_val"], small["y_val"], config["layer"],
                           config["unit"], config["record_every"])
            run = _train(model, small, bar, norm or "baseline", {"normalization": norm}, kw,
                         seed, verbose, watch=watch)
            run.update(iterations=watch.iterations, percentiles=watch.percentiles,
                       val_acc_by_iteration=watch.val_acc)
            runs.append(run)
    finally:
        bar.close()
    return _history("activations", "Input distribution of a hidden unit over training "
                    f"(six-layer net, {config['num_train']} examples)", fast, seed, config,
                    runs, start)


def weight_scale(data, seed=0, fast=None, verbose=False, progress=None):
    """Sensitivity to the weight initialisation scale, with and without batch norm.

    An eight-layer net (hidden ``[50] * 7``) is trained on 1000 examples (Adam
    1e-3, batch 50, 10 epochs) for each weight scale in
    ``np.logspace(-4, 0, 20)``, once without and once with batch norm. Report per
    scale: best validation accuracy, best training accuracy and the final training
    loss (mean of the last 100 losses).

    Fast mode: 5 scales in ``logspace(-4, 0)``, 500 examples, 2 epochs.

    Parameters
    ----------
    data, seed, fast, verbose, progress
        As in :func:`batchnorm`.

    Returns
    -------
    dict
        The history; runs labelled ``baseline`` and ``batchnorm``, each with a
        ``weight_scale`` key.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    n_scales = 5 if fast else 20
    config = dict(hidden_dims=[50] * 7, num_train=500 if fast else 1000,
                  weight_scales=[float(v) for v in np.logspace(-4, 0, num=n_scales)],
                  update_rule="adam", learning_rate=1e-3, batch_size=50,
                  num_epochs=2 if fast else 10)
    small = _subset(data, config["num_train"])
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]))
    kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
              batch_size=config["batch_size"], num_epochs=config["num_epochs"])
    start = time.perf_counter()
    total = 2 * n_scales * _iterations(config["num_train"], config["batch_size"],
                                       config["num_epochs"])
    bar = _Bar(total, "weight_scale", _want_progress(progress))
    runs = []
    try:
        for ws in config["weight_scales"]:
            for norm in (None, "batchnorm"):
                model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                                  ws, norm)
                label = norm or "baseline"
                runs.append(_train(model, small, bar, label,
                                   {"normalization": norm, "weight_scale": ws}, kw, seed,
                                   verbose))
    finally:
        bar.close()
    return _history("weight_scale", "Weight initialisation scale, with and without batch "
                    "normalization", fast, seed, config, runs, start)


def batch_size(data, seed=0, fast=None, verbose=False, progress=None, normalization="batchnorm"):
    """How a normalisation behaves at small batch sizes.

    The six-layer net of :func:`batchnorm` (1000 examples, weight scale 2e-2,
    Adam ``10**-3.5``, 10 epochs) is trained with ``normalization`` at batch sizes
    5, 10 and 50, and without normalisation at batch size 5 (the baseline).

    Fast mode: 500 examples, 2 epochs.

    Parameters
    ----------
    data, seed, fast, verbose, progress
        As in :func:`batchnorm`.
    normalization : {'batchnorm', 'layernorm'}
        The normalisation compared with the baseline.

    Returns
    -------
    dict
        The history; runs ``baseline`` and ``<normalization>``, each with a
        ``batch_size`` key.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    if normalization not in ("batchnorm", "layernorm"):
        raise ValueError(
            f"normalization must be 'batchnorm' or 'layernorm', got {normalization!r}")
    name = "batch_size" if normalization == "batchnorm" else "layernorm"
    sizes = [5, 10, 50]
    config = dict(hidden_dims=[100] * 5, num_train=500 if fast else 1000, weight_scale=2e-2,
                  normalization=normalization, batch_sizes=sizes, baseline_batch_size=sizes[0],
                  update_rule="adam", learning_rate=10 ** -3.5, num_epochs=2 if fast else 10)
    small = _subset(data, config["num_train"])
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]))
    plan = [(None, sizes[0])] + [(normalization, bs) for bs in sizes]
    start = time.perf_counter()
    total = sum(_iterations(config["num_train"], bs, config["num_epochs"]) for _, bs in plan)
    bar = _Bar(total, name, _want_progress(progress))
    runs = []
    try:
        for norm, bs in plan:
            model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                              config["weight_scale"], norm)
            kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
                      batch_size=bs, num_epochs=config["num_epochs"])
            runs.append(_train(model, small, bar, f"{norm or 'baseline'}",
                               {"normalization": norm, "batch_size": bs}, kw, seed, verbose))
    finally:
        bar.close()
    pretty = {"batchnorm": "Batch", "layernorm": "Layer"}[normalization]
    return _history(name, f"{pretty} normalization and batch size", fast, seed, config, runs, start)


def layernorm(data, seed=0, fast=None, verbose=False, progress=None):
    """:func:`batch_size` with layer norm (the sweep of the assignment's layer-norm part).

    Layer norm standardises each sample over its features, so unlike batch norm
    it should not care about the batch size:

    .. math:: \\mu_i = \\frac{1}{D}\\sum_j x_{ij}, \\quad
              \\sigma_i^2 = \\frac{1}{D}\\sum_j (x_{ij} - \\mu_i)^2

    Returns
    -------
    dict
        The history; runs ``baseline`` and ``layernorm`` with a ``batch_size`` key.
    """
    return batch_size(data, seed=seed, fast=fast, verbose=verbose, progress=progress,
                      normalization="layernorm")


def dropout(data, seed=0, fast=None, verbose=False, progress=None):
    """Dropout as a regulariser.

    Two-layer nets (hidden 500) are trained on only 500 examples (Adam 5e-4,
    batch 100, 25 epochs) with keep ratio 1 (no dropout) and 0.25. Inverted
    dropout keeps a unit with probability :math:`p` and scales by :math:`1/p`
    in training, so test time needs no change.

    Fast mode: 10 epochs.

    Parameters
    ----------
    data, seed, fast, verbose, progress
        As in :func:`batchnorm`.

    Returns
    -------
    dict
        The history; runs labelled ``keep=1`` and ``keep=0.25``, each with a
        ``keep_ratio`` key.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    config = dict(hidden_dims=[500], num_train=500, keep_ratios=[1.0, 0.25],
                  weight_scale=1e-2, update_rule="adam", learning_rate=5e-4, batch_size=100,
                  num_epochs=10 if fast else 25)
    small = _subset(data, config["num_train"])
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]))
    kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
              batch_size=config["batch_size"], num_epochs=config["num_epochs"])
    start = time.perf_counter()
    total = len(config["keep_ratios"]) * _iterations(
        config["num_train"], config["batch_size"], config["num_epochs"])
    bar = _Bar(total, "dropout", _want_progress(progress))
    runs = []
    try:
        for keep in config["keep_ratios"]:
            model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                              config["weight_scale"], None, keep)
            runs.append(_train(model, small, bar, f"keep={keep:g}", {"keep_ratio": keep}, kw,
                               seed, verbose))
    finally:
        bar.close()
    return _history("dropout", f"Dropout on {config['num_train']} examples", fast, seed,
                    config, runs, start)


def update_rules(data, seed=0, fast=None, verbose=False, progress=None):
    """SGD, SGD with momentum, RMSProp and Adam on the same net.

    A six-layer net (hidden ``[100] * 5``, weight scale 5e-2) is trained on 4000
    examples for 5 epochs (batch 100) with each rule at the learning rate of the
    assignment: sgd and sgd_momentum 5e-3, rmsprop 1e-4, adam 1e-3.

    Fast mode: 1000 examples, 2 epochs.

    Parameters
    ----------
    data, seed, fast, verbose, progress
        As in :func:`batchnorm`.

    Returns
    -------
    dict
        The history; one run per rule (label = rule name).
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    rates = {"sgd": 5e-3, "sgd_momentum": 5e-3, "rmsprop": 1e-4, "adam": 1e-3}
    config = dict(hidden_dims=[100] * 5, num_train=1000 if fast else 4000, weight_scale=5e-2,
                  learning_rates=rates, batch_size=100, num_epochs=2 if fast else 5)
    small = _subset(data, config["num_train"])
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]))
    start = time.perf_counter()
    total = len(rates) * _iterations(config["num_train"], config["batch_size"],
                                     config["num_epochs"])
    bar = _Bar(total, "update_rules", _want_progress(progress))
    runs = []
    try:
        for rule, lr in rates.items():
            model = _fc_model(seed, config["hidden_dims"], _input_dim(small["X_train"]),
                              config["weight_scale"])
            kw = dict(update_rule=rule, optim_config={"learning_rate": lr},
                      batch_size=config["batch_size"], num_epochs=config["num_epochs"])
            runs.append(_train(model, small, bar, rule,
                               {"update_rule": rule, "learning_rate": lr}, kw, seed, verbose))
    finally:
        bar.close()
    return _history("update_rules", "Update rules (six-layer net, "
                    f"{config['num_train']} examples)", fast, seed, config, runs, start)


def spatial_norm(data, seed=0, fast=None, verbose=False, progress=None):
    """Convolutional nets without normalisation, with spatial batch norm, with group norm.

    :class:`~cs231n.classifiers.cnn.ConvNet` ``[conv3x3 - norm - relu - pool] x 2
    - affine(128) - norm - relu - affine`` (32 and 64 filters, He initialisation)
    is trained on 2000 examples (Adam 1e-3, batch 50, 5 epochs) with
    ``normalization`` None, ``'batchnorm'`` (spatial batch norm: statistics per
    channel over N, H, W) and ``'groupnorm'`` (8 groups: statistics per sample
    over each group's channels and H, W). The images are divided by their
    standard deviation (``config["input_std"]``) so that He initialisation,
    which assumes unit-variance inputs, is fair to the plain net.

    Fast mode: 8 and 16 filters, hidden 32, 300 examples, 300 validation
    examples, 2 epochs.

    Parameters
    ----------
    data : dict
        As in :func:`batchnorm`, with images ``X_* (N, C, H, W)``.
    seed, fast, verbose, progress
        As in :func:`batchnorm`.

    Returns
    -------
    dict
        The history; runs ``none``, ``batchnorm``, ``groupnorm``.
    """
    seed, fast, verbose, progress = _common(seed, fast, verbose, progress)
    config = dict(num_filters=[8, 16] if fast else [32, 64], filter_size=3,
                  hidden_dims=[32] if fast else [128], num_groups=4 if fast else 8,
                  num_train=300 if fast else 2000, update_rule="adam", learning_rate=1e-3,
                  batch_size=50, num_epochs=2 if fast else 5)
    small = _subset(data, config["num_train"], num_val=300 if fast else None, images=True)
    # He initialisation assumes inputs of unit variance; mean-subtracted CIFAR-10
    # pixels have a standard deviation near 60, which would start the plain net at
    # a loss in the hundreds. Dividing by it compares the normalisations fairly
    # (the normalised nets hardly notice: their first layer rescales anyway).
    scale = float(small["X_train"].std())
    small = dict(small, X_train=small["X_train"] / scale, X_val=small["X_val"] / scale)
    config.update(num_train=len(small["y_train"]), num_val=len(small["y_val"]),
                  input_std=round(scale, 3))
    kw = dict(update_rule="adam", optim_config={"learning_rate": config["learning_rate"]},
              batch_size=config["batch_size"], num_epochs=config["num_epochs"])
    norms = (None, "batchnorm", "groupnorm")
    start = time.perf_counter()
    total = len(norms) * _iterations(config["num_train"], config["batch_size"],
                                     config["num_epochs"])
    bar = _Bar(total, "spatial_norm", _want_progress(progress))
    runs = []
    try:
        for norm in norms:
            model = ConvNet(input_dim=small["X_train"].shape[1:],
                            num_filters=config["num_filters"], filter_size=config["filter_size"],
                            hidden_dims=config["hidden_dims"], num_classes=_NUM_CLASSES,
                            normalization=norm, num_groups=config["num_groups"],
                            seed=np.random.default_rng([seed, 0]))
            runs.append(_train(model, small, bar, norm or "none", {"normalization": norm}, kw,
                               seed, verbose))
    finally:
        bar.close()
    return _history("spatial_norm", "Spatial normalisation in a conv net "
                    f"({config['num_train']} examples)", fast, seed, config, runs, start)


# --------------------------------------------------------------------------- #
# Plots
# --------------------------------------------------------------------------- #
def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _epoch_axis(ax):
    """Label the x axis 'Epoch' with whole-number ticks (no 0.25 epochs on short runs)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("Epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _check_history(history, names):
    if not isinstance(history, Mapping) or "runs" not in history or "experiment" not in history:
        raise TypeError("history must be a dict returned by an experiment function "
                        f"(with 'experiment' and 'runs'), got {type(history).__name__}")
    if history["experiment"] not in names:
        raise ValueError(
            f"this plot is for the experiment(s) {', '.join(names)}, got a history of "
            f"{history['experiment']!r}")
    return history["runs"]


def _curves(fig, runs, title):
    """Three stacked panels: loss per iteration, train and val accuracy per epoch."""
    axes = fig.subplots(3, 1)
    panels = (("loss_history", "Training loss", "Loss"),
              ("train_acc_history", "Training accuracy", "Accuracy"),
              ("val_acc_history", "Validation accuracy", "Accuracy"))
    for ax, (key, name, ylabel) in zip(axes, panels):
        for run in runs:
            values = [np.nan if v is None else v for v in run[key]]
            style = dict(marker="o", markersize=3) if key != "loss_history" else dict(
                linestyle="none", marker=".", markersize=2, alpha=0.6)
            ax.plot(values, label=run["label"], **style)
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        if key == "loss_history":
            ax.set_xlabel("Iteration")
        else:
            _epoch_axis(ax)
        ax.legend(loc="lower right" if key != "loss_history" else "upper right",
                  markerscale=3 if key == "loss_history" else 1)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def _curve_figure(history, name):
    """``{name: figure}`` with the three :func:`_curves` panels of experiment ``name``."""
    runs = _check_history(history, (name,))
    fig = _pyplot().figure(figsize=(9, 11), layout="constrained")
    return {name: _curves(fig, runs, history["title"])}


def plot_batchnorm(history):
    """Loss and accuracy curves of :func:`batchnorm` (baseline vs batch norm).

    Parameters
    ----------
    history : dict
        Returned by :func:`batchnorm` (or :func:`load_history`).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"batchnorm": fig}``; three panels (training loss per iteration, training
        and validation accuracy per epoch).
    """
    return _curve_figure(history, "batchnorm")


def plot_activations(history):
    """Ioffe and Szegedy's Figure 1 from an :func:`activations` history.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"activations": fig}``; three panels side by side: (a) validation
        accuracy against the iteration, with and without batch norm; (b) and (c)
        the 15th, 50th and 85th percentiles of the unit's input over the
        iterations, without and with batch norm.
    """
    runs = {r["label"]: r for r in _check_history(history, ("activations",))}
    config = history["config"]
    fig = _pyplot().figure(figsize=(15, 4.6), layout="constrained")
    ax_acc, ax_base, ax_bn = fig.subplots(1, 3)
    for label, style in (("baseline", "--"), ("batchnorm", "-")):
        run = runs[label]
        ax_acc.plot(run["iterations"], run["val_acc_by_iteration"], style,
                    label="with batch norm" if label == "batchnorm" else "without batch norm")
    ax_acc.set_title("(a) Validation accuracy")
    ax_acc.set_ylabel("Validation accuracy")
    ax_acc.legend(loc="lower right")
    ylabel = f"Input to ReLU (layer {config['layer']}, unit {config['unit']})"
    for ax, label, title in ((ax_base, "baseline", "(b) Without batch norm"),
                             (ax_bn, "batchnorm", "(c) With batch norm")):
        run = runs[label]
        pct = np.array(run["percentiles"], dtype=float).reshape(-1, 3)
        for j, (q, style) in enumerate(zip(config["percentiles"], (":", "-", "--"))):
            ax.plot(run["iterations"], pct[:, j], style, color="C0", label=f"{q}th percentile")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        low, high = ax.get_ylim()                  # room above the curves for the legend
        ax.set_ylim(low, high + 0.3 * (high - low))
        ax.legend(loc="upper center", ncol=3, fontsize="small")
    for ax in (ax_acc, ax_base, ax_bn):
        ax.set_xlabel("Iteration")
        ax.grid(alpha=0.3)
    fig.suptitle(history["title"])
    return {"activations": fig}


def plot_weight_scale(history):
    """Best validation/training accuracy and final loss against the weight scale.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"weight_scale": fig}``; three panels with a logarithmic weight-scale axis.
    """
    runs = _check_history(history, ("weight_scale",))
    fig = _pyplot().figure(figsize=(9, 11), layout="constrained")
    axes = fig.subplots(3, 1)
    panels = (("best_val_acc", "Best validation accuracy", "Accuracy"),
              ("best_train_acc", "Best training accuracy", "Accuracy"),
              ("final_loss", "Final training loss (mean of the last 100 steps)", "Loss"))
    for ax, (key, name, ylabel) in zip(axes, panels):
        for label in ("baseline", "batchnorm"):
            pts = [(r["weight_scale"], r[key]) for r in runs if r["label"] == label]
            xs = [p[0] for p in pts]
            ys = [np.nan if p[1] is None else p[1] for p in pts]
            ax.semilogx(xs, ys, "-o", markersize=4, label=label)
        ax.set_title(f"{name} vs weight initialization scale")
        ax.set_xlabel("Weight initialization scale")
        ax.set_ylabel(ylabel)
        if key == "final_loss":
            ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(history["title"])
    return {"weight_scale": fig}


def plot_batch_size(history):
    """Training and validation accuracy per epoch for each batch size.

    Works for :func:`batch_size` and :func:`layernorm` histories.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{name: fig}`` with ``name`` the experiment; two panels.
    """
    runs = _check_history(history, ("batch_size", "layernorm"))
    fig = _pyplot().figure(figsize=(9, 8), layout="constrained")
    axes = fig.subplots(2, 1)
    for ax, (key, name) in zip(axes, (("train_acc_history", "Training accuracy"),
                                      ("val_acc_history", "Validation accuracy"))):
        for run in runs:
            marker = "-o" if run["normalization"] is None else "-^"
            ax.plot(run[key], marker, markersize=4,
                    label=f"{run['label']}, batch size {run['batch_size']}")
        ax.set_title(f"{name} ({history['title']})")
        _epoch_axis(ax)
        ax.set_ylabel("Accuracy")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
    return {history["experiment"]: fig}


def plot_dropout(history):
    """Training and validation accuracy per epoch for each keep ratio.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"dropout": fig}``; two panels side by side.
    """
    runs = _check_history(history, ("dropout",))
    fig = _pyplot().figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (key, name) in zip(axes, (("train_acc_history", "Training accuracy"),
                                      ("val_acc_history", "Validation accuracy"))):
        for run in runs:
            ax.plot(run[key], "-o", markersize=4, label=f"{run['keep_ratio']:.2f} keep ratio")
        ax.set_title(f"{name} vs epoch")
        _epoch_axis(ax)
        ax.set_ylabel("Accuracy")
        ax.legend(ncol=2, loc="lower right")
        ax.grid(alpha=0.3)
    fig.suptitle(history["title"])
    return {"dropout": fig}


def plot_update_rules(history):
    """Loss and accuracy curves of :func:`update_rules`, one line per rule.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"update_rules": fig}``.
    """
    return _curve_figure(history, "update_rules")


def plot_spatial_norm(history):
    """Loss and accuracy curves of :func:`spatial_norm`, one line per normalisation.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"spatial_norm": fig}``.
    """
    return _curve_figure(history, "spatial_norm")


# --------------------------------------------------------------------------- #
# Registry, summaries, files
# --------------------------------------------------------------------------- #
class Experiment(NamedTuple):
    """One entry of :data:`EXPERIMENTS`."""

    name: str
    function: Callable
    plot: Callable
    description: str
    #: Training examples the experiment uses: ``num_train(fast) -> int``.
    num_train: Callable
    #: Whether the data must be images ``(N, C, H, W)``.
    images: bool = False


#: Every experiment by name, in notebook order.
EXPERIMENTS = {
    e.name: e for e in (
        Experiment("batchnorm", batchnorm, plot_batchnorm,
                   "six-layer net on 1000 examples, batch norm vs baseline",
                   lambda fast: 1000),
        Experiment("activations", activations, plot_activations,
                   "a hidden unit's input over training, batch norm vs baseline "
                   "(Ioffe & Szegedy's Figure 1)",
                   lambda fast: 1000 if fast else 5000),
        Experiment("weight_scale", weight_scale, plot_weight_scale,
                   "weight initialisation scale sweep, batch norm vs baseline",
                   lambda fast: 500 if fast else 1000),
        Experiment("batch_size", batch_size, plot_batch_size,
                   "batch norm at batch sizes 5, 10, 50 vs baseline",
                   lambda fast: 500 if fast else 1000),
        Experiment("layernorm", layernorm, plot_batch_size,
                   "layer norm at batch sizes 5, 10, 50 vs baseline",
                   lambda fast: 500 if fast else 1000),
        Experiment("dropout", dropout, plot_dropout,
                   "two-layer net on 500 examples, keep ratio 1 vs 0.25",
                   lambda fast: 500),
        Experiment("update_rules", update_rules, plot_update_rules,
                   "sgd, sgd_momentum, rmsprop, adam on a six-layer net",
                   lambda fast: 1000 if fast else 4000),
        Experiment("spatial_norm", spatial_norm, plot_spatial_norm,
                   "conv net: no norm vs spatial batch norm vs group norm",
                   lambda fast: 300 if fast else 2000, images=True),
    )
}


def _lookup(name):
    if not isinstance(name, str):
        raise TypeError(f"experiment name must be a str, got {type(name).__name__}")
    if name not in EXPERIMENTS:
        raise ValueError(
            f"unknown experiment {name!r}; expected one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def run(name, data, seed=0, fast=None, verbose=False, progress=None):
    """Run the experiment ``name`` (a key of :data:`EXPERIMENTS`); return its history."""
    return _lookup(name).function(data, seed=seed, fast=fast, verbose=verbose, progress=progress)


def plot(history):
    """Figures of any experiment's history (dispatches on ``history['experiment']``).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
    """
    if not isinstance(history, Mapping) or "experiment" not in history:
        raise TypeError("history must be a dict returned by an experiment function")
    return _lookup(history["experiment"]).plot(history)


_SUMMARY_KEYS = ("best_val_acc", "best_train_acc", "final_train_acc", "final_val_acc",
                 "final_loss", "epochs", "diverged", "seconds")
_CURVES = ("loss_history", "train_acc_history", "val_acc_history",
           "iterations", "percentiles", "val_acc_by_iteration")


def summarize(history):
    """The history without its curves: configuration and per-run accuracies.

    Returns
    -------
    dict
        ``experiment``, ``title``, ``fast``, ``seed``, ``config``, ``seconds`` and
        ``results``: one dict per run with its label, settings and
        ``best_val_acc``, ``best_train_acc``, ``final_train_acc``,
        ``final_val_acc``, ``final_loss``, ``epochs``, ``diverged``, ``seconds``.
    """
    if not isinstance(history, Mapping) or "runs" not in history:
        raise TypeError("history must be a dict returned by an experiment function")
    out = {k: history[k] for k in ("experiment", "title", "fast", "seed", "config", "seconds")}
    out["results"] = [{k: v for k, v in r.items() if k not in _CURVES} for r in history["runs"]]
    return out


def results_table(history):
    """One text line per run: label, settings, best validation and final training accuracy.

    Parameters
    ----------
    history : dict
        From an experiment function (or its :func:`summarize` summary).

    Returns
    -------
    str
    """
    rows = history["results"] if "results" in history else summarize(history)["results"]
    skip = {"label", *_SUMMARY_KEYS, "iterations_per_epoch"}

    def fmt(v):
        return "  n/a" if v is None else f"{v:.3f}"

    lines = []
    for r in rows:
        settings = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in r.items() if k not in skip)
        lines.append(f"{r['label']:<13s} {settings:<44s} best val acc {fmt(r['best_val_acc'])}"
                     f"  final train acc {fmt(r['final_train_acc'])}"
                     + ("  (diverged)" if r["diverged"] else ""))
    return "\n".join(lines)


def save_history(history, path):
    """Write a history (or summary) as JSON (strict: no NaN) to ``path``; return the path."""
    text = json.dumps(history, indent=1, allow_nan=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def load_history(path):
    """Read a history written by :func:`save_history`."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
