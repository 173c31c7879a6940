"""A tiny synthetic kit to rehearse the instructor tools (and to test them).

    python -m cs231n.grading.demo DIR      # writes the demo kit into DIR

then, from this repository::

    python -m cs231n.release student OUT --source DIR
    python -m cs231n.grade OUT --kit DIR    # 0 / 10
    python -m cs231n.grade DIR --kit DIR    # 10 / 10

The demo kit is pure Python (no numpy) so a grading run takes about a second:

* ``cs231n/_core.py``: a shared private core, ``_twice`` (one region; CRLF line
  ends, to exercise them);
* ``cs231n/ops.py``: ``double`` (calls the core), ``square``, ``Scaler.apply``
  (calls the core) and ``fourth_power`` (calls ``square``, another part's
  function: the grader substitutes the reference ``square`` while grading it),
  each with a region, plus an argument check that stays in the release;
* ``notebooks/demo.py`` and its paired ``notebooks/demo.ipynb`` (with outputs):
  one markdown answer and one code answer each;
* ``tests/test_ops.py``: public graded tests (``@pytest.mark.graded(PART, GROUP)``
  on functions, on ``pytest.param`` cases, and as a module's ``pytestmark`` in
  ``tests/test_power.py``) and one ungraded test; ``tests/hidden/test_ops_hidden.py``:
  a hidden graded test (instructor-only, never released);
* ``cs231n/grading/rubric.json``: parts double (3 points: groups int 2, float 1;
  regions double and the core), square (2: group values, proportional), scaler
  (3: group apply; Scaler.apply and the core), power (2: group value), notebook
  (4, manual);
* files that must not be released: ``runs/``, ``*.log`` (``.gitignore``), a
  ``__pycache__``, ``docs/INSTRUCTORS.md``, the hidden tests and the rubric
  (instructor-only);
* files copied as they are: README, pyproject, a binary blob.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["SOLUTION_LINES", "write_demo_kit"]

CORE = '''"""Shared private core of the demo kit."""


def _twice(x):
    """Return ``x + x``."""
    # TODO: Return x added to itself. Do not multiply.
    ### BEGIN SOLUTION
    return x + x
    ### END SOLUTION
'''

OPS = '''"""Demo operations (each body is a student part)."""
from cs231n._core import _twice


def _check_number(x, name):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")


def double(x):
    """Return ``2 * x`` through the core helper."""
    _check_number(x, "x")
    # TODO: Return twice x using the core helper `_twice`.
    ### BEGIN SOLUTION
    doubled_value = _twice(x)
    ### END SOLUTION
    return doubled_value


def square(x):
    """Return ``x * x``."""
    _check_number(x, "x")
    # TODO: Return x times x.
    ### BEGIN SOLUTION
    squared_value = x * x
    ### END SOLUTION
    return squared_value


class Scaler:
    """Multiply by a power of two ``k`` by repeated doubling."""

    def __init__(self, k):
        self.k = k

    def apply(self, x):
        """Return ``k * x``."""
        # TODO: Double x repeatedly (log2(k) times) with `_twice`.
        # Assume k is a power of two.
        ### BEGIN SOLUTION
        scaled_value = x
        remaining_factor = self.k
        while remaining_factor > 1:
            scaled_value = _twice(scaled_value)
            remaining_factor //= 2
        ### END SOLUTION
        return scaled_value


def fourth_power(x):
    """Return ``x ** 4`` by squaring twice."""
    _check_number(x, "x")
    # TODO: Square the square of x with `square`.
    ### BEGIN SOLUTION
    power_four = square(square(x))
    ### END SOLUTION
    return power_four
'''

TESTS = '''"""Tests of the demo kit."""
import pytest

from cs231n.ops import Scaler, double, square


@pytest.mark.graded("double", "int")
def test_double_int():
    assert double(3) == 6


@pytest.mark.graded("double", "float")
def test_double_float():
    assert double(1.5) == 3.0


@pytest.mark.parametrize("x, expected", [
    pytest.param(3, 9, marks=pytest.mark.graded("square", "values")),
    pytest.param(-2, 4, marks=pytest.mark.graded("square", "values")),
])
def test_square(x, expected):
    assert square(x) == expected


@pytest.mark.graded("scaler", "apply")
def test_scaler_by_four():
    assert Scaler(4).apply(3) == 12


@pytest.mark.graded("scaler", "apply")
def test_scaler_by_one():
    assert Scaler(1).apply(5) == 5


def test_double_rejects_text():  # not graded: the check stays in the release
    with pytest.raises(TypeError):
        double("a")
'''

POWER_TESTS = '''"""Tests of fourth_power (every test of the module is graded)."""
import pytest

from cs231n.ops import fourth_power

pytestmark = pytest.mark.graded("power", "value")


def test_fourth_power():
    assert fourth_power(3) == 81
'''

HIDDEN_TESTS = '''"""Hidden test of the demo kit (instructor-only)."""
import pytest

from cs231n.ops import Scaler


@pytest.mark.graded("scaler", "apply")
def test_scaler_by_eight():
    assert Scaler(8).apply(2) == 16
'''

NOTEBOOK_PY = '''# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
# ---

# %% [markdown]
# # Demo notebook
#
# **Question 1.** Why is doubling a linear map?
#
# ### BEGIN SOLUTION
# Because twice a sum is the sum of the doubles: 2(x + y) = 2x + 2y.
# ### END SOLUTION

# %%
from cs231n.ops import double

# TODO: store double of 21 in `answer`.
### BEGIN SOLUTION
answer = double(21)
### END SOLUTION
print(answer)
'''


def _notebook_json():
    def lines(text):
        return text.splitlines(keepends=True)

    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": lines(
                "# Demo notebook\n\n**Question 1.** Why is doubling a linear map?\n\n"
                "### BEGIN SOLUTION\n"
                "Because twice a sum is the sum of the doubles: 2(x + y) = 2x + 2y.\n"
                "### END SOLUTION")},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": lines(
                "from cs231n.ops import double\n\n# TODO: store double of 21 in `answer`.\n"
                "### BEGIN SOLUTION\nanswer = double(21)\n### END SOLUTION\nprint(answer)"),
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["42\n"]}]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, sort_keys=True) + "\n"


RUBRIC = {
    "time_limit": 10,
    "grace": 2,
    "total_time_limit": 120,
    "instructor_only": ["cs231n/grading/", "docs/INSTRUCTORS.md", "tests/hidden/"],
    "parts": {
        "double": {"points": 3, "regions": ["cs231n/ops.py::double", "cs231n/_core.py::_twice"],
                   "groups": {"int": 2, "float": 1}},
        "square": {"points": 2, "regions": ["cs231n/ops.py::square"],
                   "groups": {"values": {"points": 2, "scoring": "proportional"}}},
        "scaler": {"points": 3, "regions": ["cs231n/ops.py::Scaler.apply", "cs231n/_core.py::_twice"],
                   "groups": {"apply": 3}},
        "power": {"points": 2, "regions": ["cs231n/ops.py::fourth_power"],
                  "groups": {"value": 2}},
        "notebook": {"kind": "notebook", "points": 4, "regions": ["notebooks/demo.*"]},
    },
}

#: Every line of solution text in the demo kit (what must never reach a release).
SOLUTION_LINES = (
    "return x + x",
    "doubled_value = _twice(x)",
    "squared_value = x * x",
    "scaled_value = x",
    "remaining_factor = self.k",
    "while remaining_factor > 1:",
    "scaled_value = _twice(scaled_value)",
    "remaining_factor //= 2",
    "power_four = square(square(x))",
    "Because twice a sum is the sum of the doubles: 2(x + y) = 2x + 2y.",
    "answer = double(21)",
)

#: Files of the demo kit that a release must contain, unchanged.
UNCHANGED_FILES = ("README.md", "pyproject.toml", ".gitignore", "cs231n/__init__.py",
                   "data/blob.bin", "tests/test_ops.py", "tests/test_power.py")


def write_demo_kit(root):
    """Write the demo kit into ``root`` (created if needed); return its Path."""
    root = Path(root)
    files = {
        "README.md": "# Demo kit\n\nRun `python -m pytest`.\n",
        "pyproject.toml": ('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-ra"\n'
                           'markers = ["graded(part, group): counts toward a rubric check group"]\n'),
        ".gitignore": "runs/\n*.log\n",
        "cs231n/__init__.py": '"""Demo kit package."""\n',
        "cs231n/ops.py": OPS,
        "cs231n/grading/rubric.json": json.dumps(RUBRIC, indent=2) + "\n",
        "tests/test_ops.py": TESTS,
        "tests/test_power.py": POWER_TESTS,
        "tests/hidden/test_ops_hidden.py": HIDDEN_TESTS,
        "notebooks/demo.py": NOTEBOOK_PY,
        "notebooks/demo.ipynb": _notebook_json(),
        "docs/INSTRUCTORS.md": "Instructor notes: the answers are in the markers.\n",
        "runs/old-run.txt": "experiment output\n",
        "debug.log": "log\n",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="\n")
    (root / "cs231n" / "_core.py").write_bytes(CORE.replace("\n", "\r\n").encode("utf-8"))
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "blob.bin").write_bytes(bytes(range(256)) * 4 + b"\xff\xfe\x00BEGIN")
    (root / "cs231n" / "__pycache__").mkdir(exist_ok=True)
    (root / "cs231n" / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"\x00not real")
    return root


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m cs231n.grading.demo DIR", file=sys.stderr)
        return 2
    root = write_demo_kit(argv[0])
    print(f"demo kit written to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
