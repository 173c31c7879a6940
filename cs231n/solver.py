"""The training loop: minibatch SGD-style optimisation of a classification model.

A :class:`Solver` trains any object that follows the model API below with one of
the update rules of :mod:`cs231n.optim`, records the loss and the accuracies, keeps
the parameters that scored best on the validation set and, when asked, writes
checkpoints from which training can be resumed exactly.

This file is the loop itself, as in the course's Solver: :meth:`Solver.train`,
:meth:`Solver._step` and :meth:`Solver.check_accuracy`. The kit's extras (argument
checks, checkpoint files, rollback of a failed step, the progress bar, catching up
after an interruption) are short calls into :mod:`cs231n._solver_state`.

Model API (duck-typed; the Solver never imports a model)
--------------------------------------------------------
- ``model.params``: dict mapping a parameter name to a float ndarray.
- ``model.loss(X, y=None)``: with labels, returns ``(loss, grads)`` where ``loss`` is
  a scalar and ``grads`` has the keys of ``params``; without labels (test time)
  returns the class scores, an array of shape ``(N, C)``.
- Optional state saved in checkpoints when present: ``model.bn_params`` (list of
  dicts, e.g. running means) and ``model.dropout_param`` (dict, e.g. a generator).

Randomness
----------
As in the course, with no ``seed`` the minibatches (``np.random.choice(num_train,
batch_size)``) and the accuracy subsamples (``np.random.choice(N, num_samples)``)
come from numpy's global random state, so ``np.random.seed(231)`` at the top of a
notebook repeats the run. ``seed=`` (int or ``numpy.random.Generator``) gives the
Solver a generator of its own (the same minibatch draw; accuracy subsamples without
replacement) and leaves the global state alone.

Example
-------
>>> data = {"X_train": X_train, "y_train": y_train,  # doctest: +SKIP
...         "X_val": X_val, "y_val": y_val}
>>> solver = Solver(model, data, update_rule="sgd",  # doctest: +SKIP
...                 optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
...                 num_epochs=10, batch_size=100, print_every=100)
>>> solver.train()  # doctest: +SKIP

Checkpoints
-----------
With ``checkpoint_name="run/net"`` every accuracy check writes
``run/net_epoch_{epoch}.npz`` (the checkpoint, read without pickle) and a readable
``.json`` sidecar, both atomically. :meth:`Solver.from_checkpoint` and
:meth:`Solver.load_checkpoint` resume a run with results identical to an
uninterrupted one; the file format is described in :mod:`cs231n._solver_state`.
"""
from __future__ import annotations

import os

import numpy as np

from . import _solver_state as _state
from . import optim  # noqa: F401  (the update rules, looked up by name)
from ._checks import check_int, check_positive_float
from ._solver_state import InvalidDataError, InvalidDataTypeError, TrainingDivergedError
from ._solver_state import in_notebook as _in_notebook
from ._solver_state import stderr_isatty as _stderr_isatty

__all__ = [
    "Solver",
    "TrainingDivergedError",
    "InvalidDataError",
    "InvalidDataTypeError",
]

# Model attributes (besides params) whose state checkpoints and rollback carry.
_MODEL_STATE_ATTRS = ("bn_params", "dropout_param")


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
        Training samples used to measure the training accuracy (a random subset,
        see :meth:`check_accuracy`); None uses them all.
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
        None: minibatches and accuracy subsamples come from numpy's global random
        state, as in the course (``np.random.seed`` repeats the run). An int or a
        Generator drives them instead, leaving the global state alone; the same
        seed gives the same run. A Generator is used as is (and so advanced).
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
    rng : numpy.random.Generator or None
        The generator behind the sampler; None means numpy's global random state.

    Raises
    ------
    ValueError
        Unknown keyword argument, unknown update rule name, malformed ``data``.
    TypeError
        ``model`` without ``params``/``loss``; argument of the wrong kind.
    """


    def __init__(self, model, data, **kwargs):
        _state.check_model(model)
        X_train, y_train, X_val, y_val = _state.check_data(data)

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

        self.update_rule, self.update_rule_name = _state.resolve_update_rule(update_rule)
        if not isinstance(optim_config, dict):
            raise TypeError(f"optim_config must be a dict, got {type(optim_config).__name__}")
        self.lr_decay = check_positive_float("lr_decay", lr_decay)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.num_epochs = check_int("num_epochs", num_epochs, minimum=0)
        self.num_train_samples = _state.check_optional_int("num_train_samples", num_train_samples, 1)
        self.num_val_samples = _state.check_optional_int("num_val_samples", num_val_samples, 1)
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
        self.rng = _state.sampler_rng(seed)
        _state.check_labels_fit_model(model, y_train, y_val, X_train[:1])

        self.model = model
        self.X_train, self.y_train = X_train, y_train
        self.X_val, self.y_val = X_val, y_val
        self.optim_config = optim_config
        self._reset()

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

    @property
    def _random(self):
        """Where samples are drawn: the Solver's generator, else ``np.random`` itself."""
        return np.random if self.rng is None else self.rng

    # -- one step -------------------------------------------------------------
    def _step(self):
        """Make one update on a random minibatch (called by :meth:`train`).

        Nothing is committed (parameters, optimiser configs, loss history) unless
        the loss and every updated parameter are finite; otherwise
        :class:`TrainingDivergedError` is raised and the model is unchanged: the
        state its forward pass wrote (``bn_params`` running statistics, dropout
        generators) is rolled back too, as on any other error in the step.
        """
        # Make a minibatch of training data
        num_train = self.X_train.shape[0]
        batch_mask = self._random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        before = _state.snapshot(self.model, _MODEL_STATE_ATTRS)
        try:
            # Compute loss and gradient
            out = self.model.loss(X_batch, y_batch)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("model.loss(X, y) must return a tuple (loss, grads)")
            loss, grads = float(out[0]), out[1]
            if not np.isfinite(loss):
                raise _state.diverged(self, f"the loss is {loss}", loss)

            # Perform a parameter update (committed only once every update is good)
            new_params, new_configs = {}, {}
            for p, w in self.model.params.items():
                dw, config = self._gradient_and_config(p, grads)
                next_w, next_config = self.update_rule(w, dw, config)
                self._check_update(p, w, next_w, loss)
                new_params[p], new_configs[p] = next_w, next_config
        except BaseException:
            _state.roll_back(self.model, before)
            raise
        self.model.params.update(new_params)
        self.optim_configs.update(new_configs)
        self.loss_history.append(loss)
        self.iteration += 1

    def _gradient_and_config(self, p, grads):
        """``grads[p]`` and a shallow copy of ``p``'s config (a failure keeps the stored one)."""
        if p not in grads:
            raise ValueError(f"model.loss returned no gradient for parameter {p!r}")
        if p not in self.optim_configs:
            raise ValueError(
                f"model.params has a parameter {p!r} the Solver was not built with; "
                "build a new Solver after changing the model's parameters")
        return grads[p], dict(self.optim_configs[p])

    def _check_update(self, p, w, next_w, loss):
        if np.shape(next_w) != w.shape or getattr(next_w, "dtype", None) != w.dtype:
            raise ValueError(
                f"the update rule returned shape {np.shape(next_w)} and dtype "
                f"{getattr(next_w, 'dtype', type(next_w).__name__)} for parameter {p!r} "
                f"of shape {w.shape} and dtype {w.dtype}"
            )
        if not np.isfinite(next_w).all():
            raise _state.diverged(self, f"the update of parameter {p!r} is not finite", loss, p)

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
            samples: ``np.random.choice(N, num_samples)`` as in the course (with
            replacement, numpy's global random state), or without replacement from
            the generator of a seeded Solver.
        batch_size : int
            Samples scored per call of ``model.loss(X_batch)``.

        Returns
        -------
        float
            Fraction of samples whose highest score is their label,
            :math:`\\frac{1}{N}\\sum_i [\\arg\\max_c s_{ic} = y_i]`.
        """
        _state.check_inputs("X", X)
        _state.check_labels("y", y, X.shape[0])
        num_samples = _state.check_optional_int("num_samples", num_samples, 1)
        batch_size = check_int("batch_size", batch_size, minimum=1)

        # Maybe subsample the data
        N = X.shape[0]
        if N == 0:
            raise ValueError("X is empty: accuracy needs at least one sample")
        if num_samples is not None and N > num_samples:
            if self.rng is None:
                mask = np.random.choice(N, num_samples)      # as the course draws it
            else:  # a seeded Solver's subsample, unchanged since the kit's first release
                mask = self.rng.choice(N, num_samples, replace=False)
            N = num_samples
            X = X[mask]
            y = y[mask]

        # Compute predictions in batches
        y_pred = [
            np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
            for start in range(0, N, batch_size)
        ]
        return float(np.mean(np.concatenate(y_pred) == y))

    # -- training -------------------------------------------------------------
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
        iterations_per_epoch = self.iterations_per_epoch
        num_iterations = self.num_iterations
        bar, say = None, print
        if self._show_progress() and self.iteration < num_iterations:
            bar, say = _state.progress_bar(num_iterations, self.iteration)
        try:
            _state.catch_up(self, say)
            for t in range(self.iteration, num_iterations):
                self._step()

                # Maybe print training loss
                if self.verbose and t % self.print_every == 0:
                    say("(Iteration %d / %d) loss: %f"
                        % (t + 1, num_iterations, self.loss_history[-1]))

                # At the end of every epoch, increment the epoch counter and decay
                # the learning rate.
                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self._end_epoch()
                if bar is not None:
                    bar.set_postfix(loss=f"{self.loss_history[-1]:.4g}",
                                    epochs_done=self.epoch, refresh=False)
                    bar.update(1)

                # Check train and val accuracy on the first iteration, the last
                # iteration, and at the end of each epoch.
                first_it = t == 0
                last_it = t == num_iterations - 1
                if first_it or last_it or epoch_end:
                    self._record_accuracy(say)
        finally:
            if bar is not None:
                bar.close()

        # At the end of training swap the best params into the model (copies, so
        # further training never writes into best_params).
        self.model.params = {k: v.copy() for k, v in self.best_params.items()}

    def _show_progress(self):
        if self.progress is not None:
            return self.progress
        return self.verbose and (_stderr_isatty() or _in_notebook())

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

        # Keep track of the best model
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        if self.checkpoint_name is not None:
            path = self.save_checkpoint(f"{self.checkpoint_name}_epoch_{self.epoch}.npz")
            if self.verbose:
                say('Saving checkpoint to "%s"' % path)

    # -- checkpoints ----------------------------------------------------------
    def save_checkpoint(self, path):
        """Write the full training state to ``path`` and return the ``.npz`` path written.

        ``.npz`` is appended to ``path`` unless it already ends so (a ``.json``
        ending is replaced); a readable ``.json`` sidecar with the same stem is
        written beside it.
        """
        return _state.write_checkpoint(self, path, _MODEL_STATE_ATTRS)

    def load_checkpoint(self, path):
        """Restore the training state :meth:`save_checkpoint` wrote to ``path``
        (the ``.npz``; its ``.json`` sidecar or the common stem also work).

        Restores the model's parameters (and ``bn_params``/``dropout_param``
        state), the optimiser configs, ``epoch``, ``iteration``, the histories,
        ``best_params``/``best_val_acc`` and the sampler's random state, so that
        :meth:`train` continues exactly where the saved run was. For a run saved
        without ``seed`` that is numpy's global random state, which loading sets
        (``np.random.set_state``). This Solver's hyperparameters are kept (see
        :meth:`from_checkpoint`). Everything is checked first: a ``ValueError``
        (not a checkpoint; parameters of other names, shapes or dtypes; another
        training-set size or batch size) leaves the Solver and the model as they were.
        """
        meta, arrays = _state.read_checkpoint(path)
        _state.restore(self, meta, arrays, os.fspath(path))

    @classmethod
    def from_checkpoint(cls, model, data, path, **kwargs):
        """A Solver for ``model`` (same parameter names, shapes and dtypes as the
        saved one) and ``data`` (the same training data), restored from the
        checkpoint ``path`` and ready to continue with :meth:`train`.

        The saved hyperparameters are used unless ``kwargs`` override them (e.g.
        ``num_epochs=20`` to train longer). Entries of an ``optim_config`` given
        here replace the saved ones in every parameter's config (e.g. a lower
        ``learning_rate``), keeping the optimiser's state (velocity, moments); an
        ``update_rule`` other than the saved one is refused, since the saved
        state belongs to that rule.
        """
        return _state.solver_from_checkpoint(cls, model, data, path, kwargs)
