"""The student's packer, ``python -m cs231n submit``, on small kits written here.

Each kit is a folder with a ``cs231n`` package (the required modules, tiny, plus
copies of ``cs231n/submit.py`` and the ``cs231n/_files.py`` it imports), two graded
public tests and one notebook; the packer runs in a fresh interpreter with that
folder first on ``sys.path`` (and nothing of the installed kit: see ``_submit``).
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cs231n import submit
from cs231n.grading import markers
from cs231n.grading.rubric import kit_files

REPO = Path(__file__).resolve().parents[1]
# Runs the packer, then fails (exit 3) if any cs231n module came from outside the
# kit: an installed kit (an editable install's import finder, say) must not fill
# in a module the fake kit lacks, or the test would pass where a student's fails.
DRIVER = """
import os, sys
from cs231n.submit import main
rc = main()
kit = os.path.realpath(os.getcwd())
stray = sorted(name for name, mod in sys.modules.items()
               if name.split(".")[0] == "cs231n" and getattr(mod, "__file__", None)
               and not os.path.realpath(mod.__file__).startswith(kit + os.sep))
if stray:
    print("cs231n modules imported from outside the kit:", ", ".join(stray), file=sys.stderr)
    sys.exit(3)
sys.exit(rc)
"""

TESTS = '''import pytest
from cs231n.layers import twice


@pytest.mark.graded("twice", "value")
def test_twice_value():
    assert twice(2) == 4


@pytest.mark.graded("twice", "negative")
def test_twice_negative():
    assert twice(-3) == -6, "twice(-3) should be -6"


def test_not_graded():
    assert True
'''


def _notebook(counts, error=False, answer="My own answer."):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A\n\n**Question.** Why?"},
             {"cell_type": "markdown", "metadata": {}, "source": answer}]
    for k, c in enumerate(counts):
        outputs = []
        if error and k == len(counts) - 1:
            outputs = [{"output_type": "error", "ename": "NameError", "evalue": "x",
                        "traceback": []}]
        cells.append({"cell_type": "code", "execution_count": c, "metadata": {},
                      "outputs": outputs, "source": f"x{k} = {k}"})
    cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                  "source": ""})                                    # empty cells never run
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def kit(tmp_path):
    root = tmp_path / "kit"
    files = {
        "cs231n/__init__.py": "",
        "cs231n/layers.py": "def twice(x):\n    return x + x if x > 0 else x\n",
        "cs231n/optim.py": "",
        "cs231n/classifiers/__init__.py": "",
        "cs231n/classifiers/fc_net.py": "",
        "cs231n/classifiers/cnn.py": "",
        # the packer and the one module it imports, as the student release ships them
        "cs231n/submit.py": (REPO / "cs231n" / "submit.py").read_text(encoding="utf-8"),
        "cs231n/_files.py": (REPO / "cs231n" / "_files.py").read_text(encoding="utf-8"),
        "tests/test_twice.py": TESTS,
        "notebooks/A.py": "# %%\nx = 1\n",
        "notebooks/A.ipynb": _notebook([1, 2, 3]),
        "cs231n/datasets/cifar-10-batches-py/data_batch_1": "data",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "cs231n" / "__pycache__").mkdir()
    (root / "cs231n" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"\0")
    return root


def _submit(kit, *args):
    env = dict(os.environ, PYTHONPATH=str(kit), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=kit, env=env,
                          capture_output=True, text=True, timeout=300)


def test_complete_kit_is_checked_summarised_and_packed(kit):
    proc = _submit(kit)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "public checks (the grade also runs checks you do not have):"
    assert lines[1].split() == ["twice", "1/2"]
    assert lines[2].split() == ["value", "1/1"]
    assert lines[3].split()[:2] == ["negative", "0/1"]
    assert "first failure: test_twice_negative: AssertionError: twice(-3) should be -6" in lines[3]
    assert lines[-1] == (f"wrote {kit / 'cs231n_submission.zip'}: 10 files (1 notebooks). "
                         "Upload this zip.")
    with zipfile.ZipFile(kit / "cs231n_submission.zip") as zf:
        assert sorted(zf.namelist()) == [
            "cs231n/__init__.py", "cs231n/_files.py", "cs231n/classifiers/__init__.py",
            "cs231n/classifiers/cnn.py", "cs231n/classifiers/fc_net.py", "cs231n/layers.py",
            "cs231n/optim.py", "cs231n/submit.py", "notebooks/A.ipynb", "notebooks/A.py"]
        assert zf.read("notebooks/A.ipynb") == (kit / "notebooks" / "A.ipynb").read_bytes()


@pytest.mark.parametrize("breakage, message", [
    ("no optim", "cs231n/optim.py: missing"),
    ("no notebook", "notebooks/A.ipynb: missing (write it with `python -m cs231n notebooks`"),
    ("never run", "notebooks/A.ipynb: cell 3 was not run"),
    ("out of order", "notebooks/A.ipynb: cell 4 has execution count 5, expected 2 (cells were "
                     "run out of order or one at a time)"),
    ("error", "notebooks/A.ipynb: cell 5 ended with an error (NameError: x)"),
])
def test_incomplete_kit_is_refused_with_a_list(kit, breakage, message):
    if breakage == "no optim":
        (kit / "cs231n" / "optim.py").unlink()
    elif breakage == "no notebook":
        (kit / "notebooks" / "A.ipynb").unlink()
    else:
        counts = {"never run": [None, None, None], "out of order": [1, 5, 6],
                  "error": [1, 2, 3]}[breakage]
        (kit / "notebooks" / "A.ipynb").write_text(_notebook(counts, error=breakage == "error"),
                                                   encoding="utf-8")
    proc = _submit(kit)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Not packed: fix these first."
    assert lines[1].startswith(f"  - {message}"), lines
    assert "public checks" not in proc.stdout          # nothing run, nothing written
    assert not (kit / "cs231n_submission.zip").exists()


def test_every_problem_is_listed_and_placeholders_warn(kit):
    (kit / "cs231n" / "optim.py").unlink()
    (kit / "cs231n" / "layers.py").unlink()
    problems, warnings = submit.find_problems(kit)
    assert problems == ["cs231n/layers.py: missing", "cs231n/optim.py: missing"]
    (kit / "notebooks" / "A.ipynb").write_text(_notebook([1, 2, 3], answer="YOUR ANSWER HERE"),
                                               encoding="utf-8")
    assert submit.notebook_problems(kit / "notebooks" / "A.ipynb") == (
        [], ["A.ipynb: cell 2 still reads YOUR ANSWER HERE"])


def test_required_modules_are_every_module_with_a_solution_region():
    rubric = json.loads((REPO / "cs231n" / "grading" / "rubric.json").read_text(encoding="utf-8"))
    with_regions = set()
    for rel in kit_files(REPO, rubric["instructor_only"]):
        if rel.startswith("cs231n/") and rel.endswith(".py"):
            if markers.scan_source(markers.read_source(REPO / rel), rel):
                with_regions.add(rel)
    assert with_regions and with_regions <= set(submit.REQUIRED_MODULES)
    assert set(submit.REQUIRED_MODULES) - with_regions == {"cs231n/__init__.py"}


def test_cli_has_the_submit_command():
    proc = subprocess.run([sys.executable, "-m", "cs231n", "submit", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "--no-tests" in proc.stdout and "--out" in proc.stdout
