"""Pack your work for upload: ``python -m cs231n submit``.

.. code-block:: text

    python -m cs231n submit [--out cs231n_submission.zip] [--kit DIR] [--no-tests]

1. Checks that every required file is there: the ``cs231n`` modules you write code
   in and, for every notebook source ``notebooks/NAME.py``, your executed
   ``notebooks/NAME.ipynb``; and that each notebook was run top to bottom in one
   go (every code cell executed, execution counts 1, 2, 3, ... in cell order, no
   error output), as *Kernel > Restart & Run All* leaves it. Anything wrong: the
   command lists every problem and writes nothing (exit status 1).
2. Runs the public graded checks (``tests/``, the tests marked ``graded``) and
   prints how many pass per part and check group, with the first failing check of
   each group in one line. The grade also runs checks you do not have, so this is a
   lower bound of what can go wrong, not a score.
3. Writes the zip (atomically): every ``.py`` file of ``cs231n/`` (no data, no
   caches) and ``notebooks/*.ipynb`` with their ``.py`` sources, paths relative to
   the kit folder. Upload it as it is.

Inline answers still reading ``YOUR ANSWER HERE`` (or code cells with ``YOUR CODE
HERE``) are listed as warnings; they do not stop the zip.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

from ._files import atomic_write

__all__ = ["REQUIRED_MODULES", "add_parser", "find_problems", "notebook_problems",
           "public_check_summary", "write_zip", "run"]

#: The modules that hold code you write (required in every submission).
REQUIRED_MODULES = ("cs231n/__init__.py", "cs231n/layers.py", "cs231n/optim.py",
                    "cs231n/classifiers/fc_net.py", "cs231n/classifiers/cnn.py")
_SKIP_DIRS = {"__pycache__", "cifar-10-batches-py", ".ipynb_checkpoints"}
_UNANSWERED = ("YOUR ANSWER HERE", "YOUR CODE HERE")


def default_kit():
    """The kit folder: the one that holds this ``cs231n`` package."""
    return Path(__file__).resolve().parents[1]


def _cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def notebook_problems(path):
    """Problems of one executed notebook (empty list: run top to bottom, no error).

    Returns
    -------
    problems : list of str
    warnings : list of str
        Inline answers or code cells still holding the hand-out placeholder.
    """
    rel = path.name
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{rel}: not a readable notebook ({exc})"], []
    problems, warnings, expected = [], [], 1
    for i, cell in enumerate(cells, start=1):
        src = _cell_source(cell)
        left = sum(src.count(s) for s in _UNANSWERED)
        if left:
            warnings.append(f"{rel}: cell {i} still reads "
                            + " / ".join(s for s in _UNANSWERED if s in src))
        if cell.get("cell_type") != "code" or not src.strip():
            continue
        count = cell.get("execution_count")
        if count is None:
            problems.append(f"{rel}: cell {i} was not run")
            break
        if count != expected:
            problems.append(f"{rel}: cell {i} has execution count {count}, expected {expected} "
                            "(cells were run out of order or one at a time)")
            break
        expected += 1
        for out in cell.get("outputs") or []:
            if out.get("output_type") == "error":
                problems.append(f"{rel}: cell {i} ended with an error "
                                f"({out.get('ename', 'error')}: {out.get('evalue', '')})")
                break
    if problems:
        problems[-1] += "; run Kernel > Restart & Run All, then save the notebook"
    return problems, warnings


def find_problems(kit):
    """(problems, warnings) of a kit folder about to be packed."""
    kit = Path(kit)
    problems, warnings = [], []
    for rel in REQUIRED_MODULES:
        if not (kit / rel).is_file():
            problems.append(f"{rel}: missing")
    sources = sorted((kit / "notebooks").glob("*.py")) if (kit / "notebooks").is_dir() else []
    if not sources:
        problems.append("notebooks/: no notebook sources found (is --kit the kit folder?)")
    for src in sources:
        nb = src.with_suffix(".ipynb")
        if not nb.is_file():
            problems.append(f"notebooks/{nb.name}: missing (write it with `python -m cs231n "
                            "notebooks`, work in it, run it top to bottom and save)")
            continue
        p, w = notebook_problems(nb)
        problems += [f"notebooks/{x}" for x in p]
        warnings += [f"notebooks/{x}" for x in w]
    return problems, warnings


def _files_to_pack(kit):
    kit = Path(kit)
    out = []
    for dirpath, dirnames, filenames in os.walk(kit / "cs231n"):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for f in sorted(filenames):
            if f.endswith(".py"):
                out.append(Path(dirpath, f).relative_to(kit).as_posix())
    for nb in sorted((kit / "notebooks").glob("*.ipynb")) + sorted((kit / "notebooks").glob("*.py")):
        out.append(nb.relative_to(kit).as_posix())
    return out


def write_zip(kit, out):
    """Write the submission zip of ``kit`` to ``out`` (atomically); return the files packed."""
    kit, out = Path(kit), Path(out)
    files = _files_to_pack(kit)
    out.parent.mkdir(parents=True, exist_ok=True)

    def pack(fileobj):
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel in files:
                zf.write(kit / rel, rel)
    atomic_write(out, pack)
    return files


class _Collector:
    """pytest plugin: keep the graded tests, record each one's outcome."""

    def __init__(self):
        self.groups = {}        # nodeid -> (part, group)
        self.outcome = {}       # nodeid -> (passed, message)

    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            mark = item.get_closest_marker("graded")
            if mark is not None and len(mark.args) == 2:
                self.groups[item.nodeid] = tuple(str(a) for a in mark.args)
                keep.append(item)
            else:
                drop.append(item)
        items[:] = keep
        if drop:
            config.hook.pytest_deselected(items=drop)

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.groups:
            return
        ok, msg = self.outcome.get(report.nodeid, (True, ""))
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            text = crash.message if crash is not None else str(report.longrepr)
            ok, msg = False, " ".join(text.strip().splitlines()[:1])[:400]
        elif report.skipped:
            ok, msg = False, "skipped"
        elif report.when == "call":
            ok = ok and report.passed
        self.outcome[report.nodeid] = (ok, msg)


def public_check_summary(kit):
    """Run the public graded checks of ``kit``; return ``(rows, lines)``.

    ``rows``: ``{(part, group): [passed, total, first failure]}`` in run order;
    ``lines``: the printed summary.
    """
    import pytest

    kit = Path(kit)
    plugin = _Collector()
    args = [str(kit / "tests"), "--rootdir", str(kit), "-q", "-p", "no:cacheprovider",
            "-o", "addopts="]
    with contextlib.redirect_stdout(io.StringIO()):    # pytest's own report: not shown
        code = pytest.main(args, plugins=[plugin])
    rows = {}
    for node, key in plugin.groups.items():
        ok, msg = plugin.outcome.get(node, (False, "not run"))
        row = rows.setdefault(key, [0, 0, ""])
        row[1] += 1
        if ok:
            row[0] += 1
        elif not row[2]:
            row[2] = f"{node.split('::', 1)[-1]}: {msg}"
    lines = ["public checks (the grade also runs checks you do not have):"]
    parts = {}
    for (part, group), row in rows.items():
        parts.setdefault(part, []).append((group, row))
    width = max([len(p) for p in parts] + [len(g) + 2 for gs in parts.values() for g, _ in gs] + [10])
    for part, groups in parts.items():
        passed = sum(r[0] for _, r in groups)
        total = sum(r[1] for _, r in groups)
        lines.append(f"{part:<{width}}  {passed:>4}/{total:<4}")
        for group, (p, t, first) in groups:
            lines.append(f"  {group:<{width - 2}}  {p:>4}/{t:<4}" + (f"  first failure: {first}"
                                                                    if p < t else ""))
    if not rows:
        lines.append(f"  no graded test was found in {kit / 'tests'} (pytest exit status {int(code)})")
    return rows, lines


def add_parser(sub):
    """Add the ``submit`` subcommand to the CLI's subparsers."""
    sp = sub.add_parser(
        "submit", help="check your work and pack the zip to upload",
        description="Check that every required file is there and every notebook ran top "
        "to bottom, run the public graded checks (per-part summary), then write the zip to "
        "upload. Nothing is written when a required file is missing or a notebook was not "
        "run top to bottom.")
    sp.add_argument("--out", default=None,
                    help="zip to write (default: cs231n_submission.zip in the kit folder)")
    sp.add_argument("--kit", default=None, help="kit folder (default: the one holding this "
                                                "cs231n package)")
    sp.add_argument("--no-tests", action="store_true", help="skip the public checks")
    return sp


def run(args, stdout=None):
    """Run ``python -m cs231n submit``; return the exit status (0 written, 1 refused)."""
    out_stream = stdout or sys.stdout
    kit = Path(args.kit).resolve() if args.kit else default_kit()
    problems, warnings = find_problems(kit)
    if problems:
        print("Not packed: fix these first.", file=out_stream)
        for p in problems:
            print(f"  - {p}", file=out_stream)
        return 1
    for w in warnings:
        print(f"warning: {w}", file=out_stream)
    if not args.no_tests:
        _, lines = public_check_summary(kit)
        print("\n".join(lines), file=out_stream)
    out = Path(args.out) if args.out else kit / "cs231n_submission.zip"
    files = write_zip(kit, out)
    n_nb = sum(f.endswith(".ipynb") for f in files)
    print(f"wrote {out}: {len(files)} files ({n_nb} notebooks). Upload this zip.", file=out_stream)
    return 0


def main(argv=None):
    """Stand-alone entry point (``python -m cs231n submit`` is the usual one)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cs231n")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["submit", *(sys.argv[1:] if argv is None else argv)]))
