"""Gradescope autograder zip: ``python -m cs231n.release autograder OUT.zip``.

The zip holds, at its root::

    setup.sh           installs Python's venv tooling if needed, then the pinned
                       grading dependencies (requirements.txt) into a virtual environment
    run_autograder     executable; Gradescope runs it for every submission
    requirements.txt   the kit's runtime and test dependencies, pinned to the versions
                       installed where the zip was built
    autograde.py       the driver run_autograder calls (standard library only)
    autograder.json    the driver's time budget and memory limit
    grader/cs231n/     the grader (cs231n/grade.py and cs231n/grading/ of the kit
                       that builds the zip), run with ``grader/`` on PYTHONPATH
    kit/               the reference kit: cs231n/ (with the rubric), tests/ (public
                       and hidden), notebooks/, pyproject.toml, and manifest.json (the
                       graded tests, collected when the zip was built)

On Gradescope the zip is unpacked into ``/autograder/source``, ``setup.sh`` runs once
when the image is built, and ``run_autograder`` runs from ``/autograder`` with the
student's files in ``/autograder/submission``; it must leave
``/autograder/results/results.json``. The driver writes a valid results file (score
0, "grading did not finish") before anything else, then runs ``python -m cs231n.grade
--format gradescope`` on the submission under a time budget, so a missing package,
a syntax error, an endless loop or a grader crash all end in a valid file with an
explanation.

Every path can be moved by environment variable (the tests run the zip in a
temporary root): ``AUTOGRADER_ROOT`` (default ``/autograder``),
``AUTOGRADER_SUBMISSION`` (``$AUTOGRADER_ROOT/submission``), ``AUTOGRADER_RESULTS``
(``$AUTOGRADER_ROOT/results/results.json``), ``AUTOGRADER_VENV``
(``$AUTOGRADER_ROOT/venv``; the driver uses its Python when it exists, else the
one running it), ``AUTOGRADER_PYTHON`` (``python3``, the interpreter of
``run_autograder`` and ``setup.sh``). ``AUTOGRADER_MEMORY_LIMIT_GB`` and
``AUTOGRADER_TIME_BUDGET`` (seconds) override the values baked in at build time;
``AUTOGRADER_GRADE_ARGS`` appends arguments to the grader's command line.

Instructor-only; reads and writes files, never imports the kit's numerical code.
"""
from __future__ import annotations

import json
import re
import stat
import time
import zipfile
from importlib import metadata
from pathlib import Path

from cs231n._files import atomic_write
from cs231n.grading.rubric import kit_files, load_rubric

__all__ = ["GRADING_DEPENDENCIES", "pinned_requirements", "build_autograder"]

#: Distributions grading needs (the kit's runtime dependencies and its test tools);
#: used when pyproject.toml cannot be read.
GRADING_DEPENDENCIES = ("numpy", "matplotlib", "tqdm", "pytest", "hypothesis")
#: Test-extra packages only the instructor tools' own tests use.
NOT_FOR_GRADING = ("jsonschema",)
#: Top-level entries of the reference kit the zip carries.
KIT_ENTRIES = ("cs231n/", "tests/", "notebooks/", "pyproject.toml")

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, from /autograder/source, when it builds the image.
# It installs the kit's grading dependencies, pinned, into a virtual environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${AUTOGRADER_VENV:-$ROOT/venv}"
PY="${AUTOGRADER_PYTHON:-python3}"
if ! { command -v "$PY" && "$PY" -c "import venv, ensurepip"; } >/dev/null 2>&1 \
        && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-pip
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir -r requirements.txt
"$VENV/bin/python" -c "import numpy, pytest; print('grading environment ready:', numpy.__version__, pytest.__version__)"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. The driver always leaves a valid
# results file (see autograde.py); this script always exits 0.
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
# Gradescope copies run_autograder to /autograder; the zip's files are in source/
if [ ! -f "$SOURCE/autograde.py" ]; then SOURCE="$ROOT/source"; fi
VENV="${AUTOGRADER_VENV:-$ROOT/venv}"
PY="${AUTOGRADER_PYTHON:-python3}"
if [ -x "$VENV/bin/python" ]; then PY="$VENV/bin/python"; fi
"$PY" "$SOURCE/autograde.py"
exit 0
"""

DRIVER = r'''"""Gradescope driver of the cs231n kit's grader (written by python -m cs231n.release autograder).

Writes a valid results.json first (score 0, "did not finish"), finds the student's
cs231n package in the submission (a folder, or a single uploaded zip), runs
``python -m cs231n.grade SUBMISSION --format gradescope --out RESULTS`` from the
reference kit under a time budget, and replaces the file with an explanation
whenever the grader did not write one. Standard library only.
"""
import glob
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.join(HERE, "kit")
GRADER = os.path.join(HERE, "grader")
CONFIG = json.load(open(os.path.join(HERE, "autograder.json"), encoding="utf-8"))
ROOT = os.environ.get("AUTOGRADER_ROOT", "/autograder")
SUBMISSION = os.environ.get("AUTOGRADER_SUBMISSION", os.path.join(ROOT, "submission"))
RESULTS = os.environ.get("AUTOGRADER_RESULTS", os.path.join(ROOT, "results", "results.json"))
HELP = ("Upload your cs231n/ folder and your notebooks (the zip written by "
        "`python -m cs231n submit` does this).")


def write(data):
    os.makedirs(os.path.dirname(os.path.abspath(RESULTS)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results.", dir=os.path.dirname(os.path.abspath(RESULTS)))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, RESULTS)


def failure(message, t0, placeholder=False):
    data = {"score": 0.0, "execution_time": int(round(time.monotonic() - t0)),
            "output": "The autograder could not grade this submission (score 0):\n" + message,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "visible",
            "tests": []}
    if placeholder:
        data["extra_data"] = {"placeholder": True}
    return data


def find_submission(root):
    """The folder (or a single uploaded zip) to grade, or None."""
    if not os.path.isdir(root):
        return None
    for pattern in ("cs231n", "*/cs231n", "*/*/cs231n"):
        if glob.glob(os.path.join(glob.escape(root), pattern, "__init__.py")):
            return root
    zips = [f for f in os.listdir(root) if f.lower().endswith(".zip")]
    if len(zips) == 1 and zipfile.is_zipfile(os.path.join(root, zips[0])):
        return os.path.join(root, zips[0])
    return None


def main():
    t0 = time.monotonic()
    write(failure("grading did not finish (the autograder was stopped before it wrote "
                  "its results).", t0, placeholder=True))
    sub = find_submission(SUBMISSION)
    if sub is None:
        write(failure("no cs231n package (cs231n/__init__.py) was found in the upload. " + HELP, t0))
        return 0
    budget = float(os.environ.get("AUTOGRADER_TIME_BUDGET") or CONFIG["time_budget"])
    memory = os.environ.get("AUTOGRADER_MEMORY_LIMIT_GB", CONFIG.get("memory_limit_gb") or "")
    cmd = [sys.executable, "-m", "cs231n.grade", sub, "--kit", KIT,
           "--manifest", os.path.join(KIT, "manifest.json"),
           "--format", "gradescope", "--out", RESULTS, "-v"]
    if str(memory).strip():
        cmd += ["--memory-limit", str(memory)]
    cmd += shlex.split(os.environ.get("AUTOGRADER_GRADE_ARGS", ""))
    env = dict(os.environ, PYTHONPATH=GRADER, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    work = tempfile.mkdtemp(prefix="cs231n-autograder-")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=budget)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, _ = proc.communicate()
        timed_out = True
    text = out.decode("utf-8", "replace")
    sys.stdout.write(text[-20000:])
    try:
        with open(RESULTS, encoding="utf-8") as f:
            data = json.load(f)
        written = not (data.get("extra_data") or {}).get("placeholder")
    except (OSError, ValueError):
        written = False
    if timed_out:
        write(failure(f"grading took longer than the autograder's budget of {budget:g} s and "
                      "was stopped. Look for an endless loop, or code far slower than "
                      "the vectorised numpy the assignment asks for.", t0))
    elif not written:
        tail = "\n".join(text.strip().splitlines()[-15:])
        write(failure(f"the grader stopped (exit status {proc.returncode}) without "
                      f"writing results:\n{tail}", t0))
    return 0


if __name__ == "__main__":
    START = time.monotonic()
    try:
        main()
    except BaseException as exc:  # noqa: BLE001 - a results file in every case
        write(failure(f"internal error of the autograder driver: {type(exc).__name__}: {exc}",
                      START))
    sys.exit(0)
'''


_PACKAGE = Path(__file__).resolve().parents[1]


def _grader_files():
    """The grader's modules: cs231n/grade.py, _files.py and grading/*.py of this kit."""
    return [_PACKAGE / "grade.py", _PACKAGE / "_files.py"] + sorted((_PACKAGE / "grading").glob("*.py"))


def _dependency_names(source):
    """Distribution names of the kit's runtime dependencies and its ``test`` extra."""
    pyproject = Path(source) / "pyproject.toml"
    try:
        import tomllib
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = data["project"]
        specs = list(project.get("dependencies", []))
        specs += list(project.get("optional-dependencies", {}).get("test", []))
    except (ImportError, OSError, KeyError, ValueError):
        return list(GRADING_DEPENDENCIES)
    names = []
    for spec in specs:
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if m and m.group(1).lower() not in NOT_FOR_GRADING and m.group(1) not in names:
            names.append(m.group(1))
    return names


def pinned_requirements(source):
    """``requirements.txt`` lines: each grading dependency at its installed version.

    Raises
    ------
    RuntimeError
        A dependency is not installed here (nothing to pin it to).
    """
    lines, missing = [], []
    for name in _dependency_names(source):
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        raise RuntimeError("cannot pin grading dependencies that are not installed here: "
                           + ", ".join(missing))
    return lines


def _add(zf, arcname, data, mode=0o644):
    info = zipfile.ZipInfo(arcname, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, data)


def build_autograder(out_zip, source, rubric=None, manifest=None, *, memory_limit_gb=None,
                     time_budget=None):
    """Write the Gradescope autograder zip of a kit; return a summary dict.

    Parameters
    ----------
    out_zip : path
        The zip to write (replaced atomically).
    source : path
        Reference kit root.
    rubric : path or Rubric, optional
        Default ``<source>/cs231n/grading/rubric.json``.
    manifest : dict, optional
        ``{node: (part, group)}`` from :func:`cs231n.grade.collect_manifest`
        (collected here when not given).
    memory_limit_gb : float, optional
        ``--memory-limit`` of every grading run (default: none).
    time_budget : float, optional
        Seconds after which the driver stops the grader and reports a timeout;
        default: the rubric's ``total_time_limit`` plus 60.
    """
    from cs231n.grade import collect_manifest

    source = Path(source).resolve()
    rub = rubric if hasattr(rubric, "parts") else load_rubric(
        rubric or source / "cs231n" / "grading" / "rubric.json")
    if manifest is None:
        manifest = collect_manifest(source, rub)
    requirements = pinned_requirements(source)
    files = [f for f in kit_files(source) if f.startswith(KIT_ENTRIES)]
    config = {"time_budget": float(time_budget or rub.total_time_limit + 60),
              "memory_limit_gb": memory_limit_gb}
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)

    def pack(fileobj):
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "setup.sh", SETUP_SH, 0o755)
            _add(zf, "run_autograder", RUN_AUTOGRADER, 0o755)
            _add(zf, "requirements.txt", "\n".join(requirements) + "\n")
            _add(zf, "autograde.py", DRIVER)
            _add(zf, "autograder.json", json.dumps(config, indent=2) + "\n")
            _add(zf, "kit/manifest.json",
                 json.dumps({n: list(pg) for n, pg in manifest.items()}, indent=1) + "\n")
            _add(zf, "grader/cs231n/__init__.py",
                 '"""The kit\'s grader, shipped apart from the reference kit it grades with."""\n')
            for f in _grader_files():
                _add(zf, f"grader/cs231n/{f.relative_to(_PACKAGE).as_posix()}", f.read_bytes())
            for rel in files:
                mode = (source / rel).stat().st_mode & 0o777
                _add(zf, f"kit/{rel}", (source / rel).read_bytes(), mode)
    atomic_write(out_zip, pack)
    return {"zip": str(out_zip), "files": len(files), "graded_tests": len(manifest),
            "requirements": requirements, **config}
