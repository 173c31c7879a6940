"""Command line of the kit: ``python -m cs231n`` (also installed as ``cs231n``).

.. code-block:: text

    python -m cs231n experiment NAME [--out DIR] [--fast] [--seed N]
                                     [--data-dir DIR] [--no-download] [--quiet]
    python -m cs231n experiment --list
    python -m cs231n gradcheck [--seed N]
    python -m cs231n notebooks [--dest DIR] [--force] [NAME ...]
    python -m cs231n submit [--out ZIP] [--kit DIR] [--no-tests]

``experiment`` runs one of the notebook experiments (:mod:`cs231n.experiments`)
headless with a progress bar and writes, into ``--out`` (default ``runs/NAME``),
the figures as PNG files, ``summary.json`` (configuration, accuracies per run,
seconds) and ``history.json`` (the full curves; :func:`cs231n.experiments.plot`
redraws the figures from it). When CIFAR-10 is missing it is downloaded with
:func:`cs231n.datasets.download_cifar10` unless ``--no-download`` is given; without
network the command stops with instructions for placing the files by hand.

``gradcheck`` prints, for every layer's backward pass, the relative error between
the analytic and the numerical gradient, its tolerance and PASS/FAIL.

``notebooks`` writes Jupyter ``.ipynb`` copies of the notebook sources
(``notebooks/*.py``, jupytext percent format) next to them; existing notebooks are
never overwritten without ``--force``.

``submit`` checks your work and writes the zip to upload (:mod:`cs231n.submit`).

Exit status: 0 success, 1 failure (missing data, failed gradient check, ...),
2 usage error, 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

__all__ = ["main", "build_parser"]

_PACKAGE_DIR = Path(__file__).resolve().parent
#: Where the notebook sources live in a source checkout.
NOTEBOOK_SOURCES = _PACKAGE_DIR.parent / "notebooks"


class _Failure(Exception):
    """An error reported as ``error: <message>`` with exit status 1 (no traceback)."""


class _Usage(Exception):
    """A usage error reported with exit status 2."""


def _experiment_names():
    from .experiments import EXPERIMENTS

    return list(EXPERIMENTS)


def build_parser():
    """The argument parser (subcommands ``experiment``, ``gradcheck``, ``notebooks``).

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="python -m cs231n",
        description="cs231n-bn: run the notebook experiments headless, check every "
        "layer's gradients, or make Jupyter copies of the notebooks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    names = _experiment_names()
    ex = sub.add_parser(
        "experiment", help="run a notebook experiment, write PNG plots and summary.json",
        description="Run a notebook experiment headless (progress bar on stderr) and write "
        "its figures (PNG), summary.json and history.json to --out. Experiments: "
        + ", ".join(names) + ". CIFAR-10 is downloaded when missing (unless --no-download).")
    ex.add_argument("name", nargs="?", choices=names, metavar="NAME",
                    help="experiment to run (see --list)")
    ex.add_argument("--list", action="store_true", help="list the experiments and exit")
    ex.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    ex.add_argument("--fast", action="store_true",
                    help="shortened run (fewer epochs, sweep points and examples), as with "
                    "CS231N_FAST=1; default: the full experiment")
    ex.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    ex.add_argument("--data-dir", default=None,
                    help="cifar-10-batches-py folder (default: $CS231N_CIFAR10_DIR, else the "
                    "kit's datasets/ folder)")
    ex.add_argument("--no-download", action="store_true",
                    help="fail instead of downloading CIFAR-10 when it is missing")
    ex.add_argument("--quiet", action="store_true",
                    help="no progress bar and no per-run lines (paths are still printed)")

    gc = sub.add_parser(
        "gradcheck", help="numerical gradient check of every layer (table, PASS/FAIL)",
        description="Compare every layer's backward pass with centred differences in "
        "float64 on small inputs; print the relative errors against their tolerances. "
        "Exit status 1 if any check fails.")
    gc.add_argument("--seed", type=int, default=231,
                    help="seed of the inputs (default: %(default)s)")

    nb = sub.add_parser(
        "notebooks", help="write .ipynb copies of the notebook sources",
        description=f"Convert the jupytext sources in {NOTEBOOK_SOURCES} to .ipynb files "
        "(outputs empty) that Jupyter opens. Existing .ipynb files (your work) are kept "
        "unless --force is given.")
    nb.add_argument("names", nargs="*", metavar="NAME",
                    help="notebooks to convert, e.g. BatchNormalization (default: all)")
    nb.add_argument("--dest", default=None,
                    help="folder for the .ipynb files (default: beside the sources)")
    nb.add_argument("--force", action="store_true", help="overwrite existing .ipynb files")

    from .submit import add_parser as _add_submit_parser

    _add_submit_parser(sub)
    return parser


# --------------------------------------------------------------------------- #
# experiment
# --------------------------------------------------------------------------- #
def _download_dest(data_dir):
    """Folder that should receive ``cifar-10-batches-py`` for a given ``--data-dir``."""
    from .data_utils import CIFAR10_FOLDER, ENV_VAR
    from .datasets import default_dest

    wanted = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    if wanted is None:
        return default_dest()
    path = Path(wanted).expanduser()
    return path.parent if path.name == CIFAR10_FOLDER else path


def _locate_data(data_dir, download, verbose):
    """The CIFAR-10 directory, downloading the data first if allowed and needed."""
    from .data_utils import find_cifar10_dir
    from .datasets import ChecksumError, DownloadError, UnsafeArchiveError, download_cifar10

    try:
        return find_cifar10_dir(data_dir)
    except FileNotFoundError as exc:
        if not download:
            raise _Failure(
                f"{exc}\nNothing was downloaded because --no-download was given; rerun "
                "without it to fetch CIFAR-10 (about 170 MB), or place the files by hand "
                "as described above and pass --data-dir.") from None
    dest = _download_dest(data_dir)
    from .data_utils import ENV_VAR

    named = os.environ.get(ENV_VAR) if data_dir is None else None
    where = (f" (where ${ENV_VAR}={named} points: if that path is mistyped, stop and fix "
             "the variable)" if named else "")
    print(f"CIFAR-10 not found; downloading it into {dest}{where}. Use --no-download to "
          "prevent this.", file=sys.stderr)
    try:
        target = download_cifar10(dest=dest, progress=verbose, verbose=verbose)
    except (DownloadError, ChecksumError, UnsafeArchiveError, FileExistsError, OSError) as exc:
        raise _Failure(str(exc)) from None
    return find_cifar10_dir(target)


def _load_data(experiment, fast, root):
    import numpy as np

    from .data_utils import CIFAR10SubsetWarning, get_CIFAR10_data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CIFAR10SubsetWarning)
        try:
            data = get_CIFAR10_data(num_training=experiment.num_train(fast),
                                    num_validation=1000, num_test=0, cifar10_dir=root,
                                    dtype=np.float32)
        except (OSError, ValueError) as exc:  # includes CIFAR10FormatError
            raise _Failure(f"cannot load CIFAR-10 from {root}: {exc}") from None
    for w in caught:
        if issubclass(w.category, CIFAR10SubsetWarning):
            print(f"note: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return data


def _check_out_folder(out):
    """Fail now, not after the run, when the results could not be written to ``out``."""
    if out.exists() and not out.is_dir():
        raise _Failure(f"--out {out} exists and is not a folder")
    parent = out
    while not parent.exists():                               # the nearest existing ancestor
        parent = parent.parent
    if not parent.is_dir():
        raise _Failure(f"--out {out} cannot be created: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _Failure(f"--out {out} cannot be written: no write permission in {parent}")


def _run_experiment(args):
    from . import experiments as E

    if args.list or args.name is None:
        if args.name is None and not args.list:
            raise _Usage("experiment: give an experiment NAME or --list")
        width = max(map(len, E.EXPERIMENTS))
        for e in E.EXPERIMENTS.values():
            print(f"{e.name:<{width}}  {e.description}")
        return 0
    experiment = E.EXPERIMENTS[args.name]
    if args.seed < 0:
        raise _Usage("--seed must be >= 0")
    fast = True if args.fast else None
    try:
        fast = E.is_fast(fast)
    except ValueError as exc:
        raise _Failure(str(exc)) from None
    verbose = not args.quiet
    out = Path(args.out) if args.out is not None else Path("runs") / args.name
    _check_out_folder(out)

    root = _locate_data(args.data_dir, not args.no_download, verbose)
    data = _load_data(experiment, fast, root)
    mode = "fast" if fast else "full"
    print(f"Running {args.name} ({mode} mode, seed {args.seed}) on CIFAR-10 from {root}: "
          f"loaded {len(data['y_train'])} training, {len(data['y_val'])} validation images "
          "(the experiment takes the sizes in its config)",
          file=sys.stderr)
    start = time.perf_counter()
    history = experiment.function(data, seed=args.seed, fast=fast, verbose=verbose,
                                  progress=verbose)
    seconds = time.perf_counter() - start

    import matplotlib

    matplotlib.use("Agg")  # headless: files only
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    summary = E.summarize(history)
    summary["data"] = {"cifar10_dir": str(root), "num_train_loaded": len(data["y_train"]),
                       "num_val_loaded": len(data["y_val"])}
    written = [E.save_history(summary, out / "summary.json"),
               E.save_history(history, out / "history.json")]
    for key, fig in experiment.plot(history).items():
        path = out / f"{key}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    print(f"{history['title']} ({mode} mode, {seconds:.1f} s):")
    print("\n".join("  " + line for line in E.results_table(summary).splitlines()))
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0


# --------------------------------------------------------------------------- #
# gradcheck
# --------------------------------------------------------------------------- #
def _run_gradcheck(args):
    from ._gradcheck_table import format_table, run_checks

    if args.seed < 0:
        raise _Usage("--seed must be >= 0")
    rows = run_checks(seed=args.seed)
    print(format_table(rows))
    return 0 if all(r.ok for r in rows) else 1


# --------------------------------------------------------------------------- #
# notebooks
# --------------------------------------------------------------------------- #
def _run_notebooks(args):
    sources = sorted(NOTEBOOK_SOURCES.glob("*.py")) if NOTEBOOK_SOURCES.is_dir() else []
    if not sources:
        raise _Failure(
            f"no notebook sources found in {NOTEBOOK_SOURCES}; the notebooks ship with the "
            "source checkout of the kit (git clone), not with an installed package")
    by_name = {p.stem: p for p in sources}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        raise _Usage(f"unknown notebook(s) {', '.join(unknown)}; expected some of "
                     f"{', '.join(by_name)}")
    try:
        import jupytext
        import nbformat
    except ImportError:
        raise _Failure("jupytext and nbformat are needed: pip install -e '.[notebooks]'") from None
    dest = Path(args.dest) if args.dest is not None else NOTEBOOK_SOURCES
    dest.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(by_name):
        target = dest / f"{name}.ipynb"
        if target.exists() and not args.force:
            print(f"kept {target} (exists; --force overwrites it)")
            continue
        nb = jupytext.read(by_name[name])
        tmp = target.with_name(f".{target.name}.tmp")
        nbformat.write(nb, str(tmp))
        os.replace(tmp, target)
        print(f"wrote {target}")
    print(f"Open them with:  jupyter lab {dest}")
    return 0


def _run_submit(args):
    from .submit import run

    return run(args)


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 failure, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): return, do not exit
        return exc.code if isinstance(exc.code, int) else 2
    handlers = {"experiment": _run_experiment, "gradcheck": _run_gradcheck,
                "notebooks": _run_notebooks, "submit": _run_submit}
    try:
        return handlers[args.command](args)
    except _Usage as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except _Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except NotImplementedError as exc:  # the student kit: a TODO not written yet
        print(f"error: this needs code that is not written yet: {exc}\n"
              "Implement it (the TODO above the stub says what to do), check it with "
              "`python -m pytest`, then run this again.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
