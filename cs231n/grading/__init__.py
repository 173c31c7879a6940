"""Instructor tooling behind ``python -m cs231n.release`` and ``python -m cs231n.grade``.

Instructor-only: this package is left out of the student release. It reads and
writes files (solution markers, rubric, test results) and never imports the
numerical code of the kit.

Modules
-------
markers
    Find ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions in Python modules,
    jupytext percent notebooks and ``.ipynb`` files; stub them; check a release for
    leaked solution text.
rubric
    Load and validate ``rubric.json`` (parts, points, check groups, regions) and
    select the files that make up a kit.
runner
    A stand-alone script the grader runs in a fresh interpreter: pytest with a
    per-test time limit, one JSON line per event, a check that ``cs231n`` is
    imported from the submission, and the reference's versions of other parts'
    functions while a part's test runs.
autograder
    The Gradescope autograder zip (``python -m cs231n.release autograder``).
interop
    Otter Grader test files and nbgrader source notebooks from the rubric and the kit.
demo
    Writes a tiny synthetic kit, to rehearse the tools and to test them.
"""
