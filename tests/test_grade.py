"""Tests of the grader (``python -m cs231n.grade``) on the synthetic demo kit.

Demo rubric: double 3 points (groups int 2, float 1; one test each), square 2
(group values, proportional, 2 tests), scaler 3 (group apply, all-or-nothing, two
public tests and one hidden), power 2 (group value, 1 test; ``fourth_power`` calls
the square part's function), notebook 4 (manual, 2 answers). Misbehaving submissions are copies of the
reference package with one function body replaced. Most runs disable pytest's
plugin auto-loading (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) to keep the child
processes quick; the CLI test runs with the plugins as an instructor would.

The last two tests (marked ``slow``) grade the real kit: the reference, its
student release and releases with ``adam`` or ``fc_net`` handed out solved (about
80 s on 2 cores); and the release with the four norm parts written by a student
from the TODOs, with a cache of their own.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cs231n.grade import GradeError, collect_manifest, failure_line, format_table, grade
from cs231n.grading.demo import write_demo_kit
from cs231n.release import build_release

REPO = Path(__file__).resolve().parents[1]
FAST = {"time_limit": 1.0, "grace": 0.5, "margin": 0.5, "total_time_limit": 60.0}
SQUARE_BODY = "    squared_value = x * x\n"
DOUBLE_BODY = "    doubled_value = _twice(x)\n"


@pytest.fixture(scope="module")
def quick_children():
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    yield
    if old is None:
        del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    else:
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return write_demo_kit(tmp_path_factory.mktemp("grade") / "kit")


@pytest.fixture(scope="module")
def manifest(kit, quick_children):
    return collect_manifest(kit)


@pytest.fixture(scope="module")
def student(kit, quick_children):
    out = kit.parent / "student"
    build_release(out, source=kit)
    return out


def _copy_package(src, dest, ops_edit=None):
    """A submission holding a copy of ``src``'s cs231n package, ops.py edited."""
    shutil.copytree(src / "cs231n", dest / "cs231n",
                    ignore=shutil.ignore_patterns("__pycache__", "grading"))
    if ops_edit is not None:
        ops = dest / "cs231n" / "ops.py"
        old, new = ops_edit
        text = ops.read_text(encoding="utf-8")
        assert old in text
        ops.write_text(text.replace(old, new), encoding="utf-8")
    return dest


def _by_part(result):
    return {p["part"]: p for p in result["parts"]}


def _outcomes(result, part):
    return {r["test"].split("::")[1]: r["outcome"] for r in _by_part(result)[part]["results"]}


def test_manifest_reads_part_and_group_markers(manifest):
    # function markers, pytest.param marks, a module's pytestmark, hidden tests
    assert manifest == {
        "tests/hidden/test_ops_hidden.py::test_scaler_by_eight": ("scaler", "apply"),
        "tests/test_ops.py::test_double_int": ("double", "int"),
        "tests/test_ops.py::test_double_float": ("double", "float"),
        "tests/test_ops.py::test_square[3-9]": ("square", "values"),
        "tests/test_ops.py::test_square[-2-4]": ("square", "values"),
        "tests/test_ops.py::test_scaler_by_four": ("scaler", "apply"),
        "tests/test_ops.py::test_scaler_by_one": ("scaler", "apply"),
        "tests/test_power.py::test_fourth_power": ("power", "value"),
    }


def test_reference_kit_gets_full_marks(kit, manifest):
    result = grade(kit, kit, manifest=manifest, **FAST)
    parts = _by_part(result)
    assert result["total"] == 10.0 and result["max_total"] == 10.0
    assert [(p, parts[p]["passed"], parts[p]["tests"], parts[p]["points"])
            for p in ("double", "square", "scaler", "power")] == [
        ("double", 2, 2, 3.0), ("square", 2, 2, 2.0), ("scaler", 3, 3, 3.0), ("power", 1, 1, 2.0)]
    assert [(g["group"], g["number"], g["scoring"], g["points"], g["max_points"])
            for g in parts["double"]["groups"] + parts["square"]["groups"]] == [
        ("int", "1.1", "all", 2.0, 2.0), ("float", "1.2", "all", 1.0, 1.0),
        ("values", "2.1", "proportional", 2.0, 2.0)]
    assert parts["notebook"]["answered"] == 2 and parts["notebook"]["regions"] == 2
    assert parts["notebook"]["points"] is None and parts["notebook"]["max_points"] == 4.0


def test_student_release_scores_zero_on_every_graded_test(kit, manifest, student):
    result = grade(student, kit, manifest=manifest, **FAST)
    assert result["total"] == 0.0
    for part in ("double", "square", "scaler", "power"):
        for r in _by_part(result)[part]["results"]:
            assert r["outcome"] == "failed"
            assert "NotImplementedError: cs231n/" in r["message"]
    nb = _by_part(result)["notebook"]
    assert (nb["answered"], nb["notebooks"][0]["status"]) == (0, "unanswered")


@pytest.mark.parametrize("part, points", [("double", 3.0), ("square", 2.0), ("scaler", 3.0),
                                          ("power", 2.0)])
def test_release_with_one_part_restored_scores_exactly_that_part(kit, manifest, tmp_path,
                                                                  part, points):
    # double and scaler share the core region: restoring one must not score the other;
    # power alone scores although square, which it calls, is still a stub
    build_release(tmp_path / "partial", source=kit, keep=[part])
    result = grade(tmp_path / "partial", kit, manifest=manifest, **FAST)
    assert result["total"] == points
    assert {p: d["points"] for p, d in _by_part(result).items() if d["kind"] == "code"} == {
        name: (points if name == part else 0.0)
        for name in ("double", "square", "scaler", "power")}


def test_a_mistake_is_charged_to_its_own_part_only(kit, manifest, tmp_path):
    # a wrong square: the square part loses, power (which calls square) does not,
    # since the grader gives power's tests the reference square
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, "    squared_value = x * x + 1\n"))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert {p: d["points"] for p, d in _by_part(result).items() if d["kind"] == "code"} == {
        "double": 3.0, "square": 0.0, "scaler": 3.0, "power": 2.0}
    plain = grade(sub, kit, manifest=manifest, substitute=False, **FAST)
    assert _by_part(plain)["power"]["points"] == 0.0        # without it, power pays too
    # the substitution is undone after each test: square's own tests saw the student's
    assert _outcomes(result, "square") == {"test_square[3-9]": "failed",
                                           "test_square[-2-4]": "failed"}


def test_another_parts_method_is_the_references_too(kit, tmp_path, quick_children):
    # a part "quad" whose function calls Scaler.apply, a method the scaler part owns
    other = tmp_path / "kit2"
    shutil.copytree(kit, other)
    with open(other / "cs231n" / "ops.py", "a", encoding="utf-8") as f:
        f.write('\n\ndef quadruple(x):\n    """Return 4 x."""\n    # TODO: Use a Scaler.\n'
                "    ### BEGIN SOLUTION\n    result = Scaler(4).apply(x)\n"
                "    ### END SOLUTION\n    return result\n")
    (other / "tests" / "test_quad.py").write_text(
        "import pytest\nfrom cs231n.ops import quadruple\n\n\n"
        "@pytest.mark.graded('quad', 'value')\ndef test_quadruple():\n"
        "    assert quadruple(5) == 20\n", encoding="utf-8")
    rubric = other / "cs231n" / "grading" / "rubric.json"
    data = json.loads(rubric.read_text(encoding="utf-8"))
    data["parts"]["quad"] = {"points": 1, "regions": ["cs231n/ops.py::quadruple"],
                             "groups": {"value": 1}}
    rubric.write_text(json.dumps(data), encoding="utf-8")
    sub = _copy_package(other, tmp_path / "sub", ("        remaining_factor = self.k\n",
                                                  "        remaining_factor = self.k * 2\n"))
    result = grade(sub, other, **FAST)
    scored = {p: d["points"] for p, d in _by_part(result).items() if d["kind"] == "code"}
    assert scored == {"double": 3.0, "square": 2.0, "scaler": 0.0, "power": 2.0, "quad": 1.0}
    assert grade(sub, other, substitute=False, **FAST)["total"] == 7.0   # quad pays too


def test_kit_modules_import_each_other_relatively():
    """The substitution imports the reference kit under another package name: an
    absolute ``cs231n`` import inside it would reach the student's package."""
    import ast

    rubric = json.loads((REPO / "cs231n" / "grading" / "rubric.json").read_text(encoding="utf-8"))
    from cs231n.grading.rubric import kit_files

    absolute = []
    for rel in kit_files(REPO, rubric["instructor_only"]):
        if not (rel.startswith("cs231n/") and rel.endswith(".py")):
            continue
        tree = ast.parse((REPO / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [])
            absolute += [f"{rel}:{node.lineno}" for n in names if n.split(".")[0] == "cs231n"]
    assert absolute == []


def test_group_scoring_all_or_nothing_and_proportional(kit, manifest, tmp_path):
    # square wrong for negative numbers: 1 of 2 checks, proportional group -> 1 of 2 points;
    # scaler wrong for k = 1: 2 of 3 checks, all-or-nothing group -> 0 of 3 points
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, "    squared_value = x * abs(x)\n"))
    ops = sub / "cs231n" / "ops.py"
    ops.write_text(ops.read_text(encoding="utf-8").replace(
        "        remaining_factor = self.k\n", "        remaining_factor = self.k\n"
        "        if remaining_factor == 1:\n            return 0\n"), encoding="utf-8")
    result = grade(sub, kit, manifest=manifest, **FAST)
    by = _by_part(result)
    assert [(g["passed"], g["tests"], g["points"]) for g in by["square"]["groups"]] == [(1, 2, 1.0)]
    assert [(g["passed"], g["tests"], g["points"]) for g in by["scaler"]["groups"]] == [(2, 3, 0.0)]
    assert result["total"] == 3.0 + 1.0 + 0.0 + 2.0


def test_hanging_test_is_stopped_by_the_time_limit(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, "    import time\n    time.sleep(1000)\n"))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert _outcomes(result, "square") == {"test_square[3-9]": "timeout",
                                           "test_square[-2-4]": "timeout"}
    msgs = [r["message"] for r in _by_part(result)["square"]["results"]]
    assert all("GradeTimeout: time limit of 1 s exceeded" in m for m in msgs), msgs
    assert result["total"] == 8.0
    assert result["run"]["restarts"] == 0


def test_hang_that_swallows_the_timeout_is_killed_and_the_rest_still_runs(kit, manifest, tmp_path):
    hang = ("    import time\n    while True:\n        try:\n            time.sleep(1000)\n"
            "        except BaseException:\n            pass\n")
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, hang))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert _outcomes(result, "square") == {"test_square[3-9]": "timeout",
                                           "test_square[-2-4]": "timeout"}
    msgs = [r["message"] for r in _by_part(result)["square"]["results"]]
    assert all(m == "killed: still running 0.5 s after the 1 s time limit" for m in msgs), msgs
    assert result["total"] == 8.0
    assert result["run"]["restarts"] == 2


def test_hang_with_the_alarm_blocked_is_killed_by_the_watchdog(kit, manifest, tmp_path):
    hang = ("    import signal, time\n"
            "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
            "    time.sleep(1000)\n")
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, hang))
    result = grade(sub, kit, manifest=manifest, **FAST)
    msgs = [r["message"] for r in _by_part(result)["square"]["results"]]
    assert all("SIGALRM ignored or blocked" in m for m in msgs), msgs
    assert result["total"] == 8.0


@pytest.mark.parametrize("crash", [
    "    import os\n    os._exit(3)\n",
    "    import ctypes\n    ctypes.string_at(0)\n",  # segmentation fault
    "    raise KeyboardInterrupt\n",                      # ends the pytest session
], ids=["os._exit", "segfault", "KeyboardInterrupt"])
def test_crashing_test_is_scored_and_later_tests_still_run(kit, manifest, tmp_path, crash):
    sub = _copy_package(kit, tmp_path, (DOUBLE_BODY, crash))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert _outcomes(result, "double") == {"test_double_int": "crashed",
                                           "test_double_float": "crashed"}
    assert result["total"] == 7.0  # square 2 + scaler 3 + power 2 ran after the crashes
    assert result["run"]["restarts"] == 2


def test_output_flood_is_contained(kit, manifest, tmp_path):
    flood = "    while True:\n        print('x' * 1000)\n"
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, flood))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert set(_outcomes(result, "square").values()) == {"timeout"}
    assert result["total"] == 8.0
    run = result["run"]
    assert run["output_bytes"] > 1_000_000            # it did flood ...
    assert len(run["output_excerpt"]) < 20_000         # ... and only head + tail were kept
    assert "bytes of output dropped" in run["output_excerpt"]
    assert all(len(r["message"]) < 4200 for p in result["parts"] for r in p.get("results", []))


def test_package_that_fails_to_import_scores_zero(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path)
    (sub / "cs231n" / "__init__.py").write_text("raise RuntimeError('broken package')\n",
                                                encoding="utf-8")
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert result["total"] == 0.0
    for p in ("double", "square", "scaler", "power"):
        for r in _by_part(result)[p]["results"]:
            assert r["outcome"] == "error"
            assert "failed to import" in r["message"] and "broken package" in r["message"]


def test_module_import_that_hangs_fails_its_tests(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path, ('"""Demo operations',
                                        'import time\ntime.sleep(1000)\n"""Demo operations'))
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert result["total"] == 0.0
    msgs = [r["message"] for p in ("double", "square", "scaler")
            for r in _by_part(result)[p]["results"]
            if "test_ops.py" in r["test"]]
    assert all(m.startswith("not collected:") and "GradeTimeout" in m for m in msgs), msgs
    assert len(msgs) == 6


def test_editable_install_of_the_reference_cannot_fill_gaps(kit, manifest, student, tmp_path):
    # Mimic setuptools' editable finder (appended to sys.meta_path, module named
    # __editable___*): it would serve cs231n._core from the reference kit.
    site = tmp_path / "site"
    site.mkdir()
    (site / "__editable___demo_finder.py").write_text(
        "import sys\nfrom importlib.machinery import PathFinder\n"
        f"REF = {str(kit / 'cs231n')!r}\n"
        "class _EditableFinder:\n"
        "    @classmethod\n"
        "    def find_spec(cls, fullname, path=None, target=None):\n"
        "        if fullname.startswith('cs231n.'):\n"
        "            return PathFinder.find_spec(fullname, [REF])\n"
        "        return None\n"
        "def install():\n    sys.meta_path.append(_EditableFinder)\n", encoding="utf-8")
    (site / "sitecustomize.py").write_text("import __editable___demo_finder as f\nf.install()\n",
                                           encoding="utf-8")
    sub = _copy_package(student, tmp_path / "sub")
    (sub / "cs231n" / "_core.py").unlink()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(sub), str(site)]))
    probe = subprocess.run([sys.executable, "-c", "import cs231n._core as c; print(c.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == str(kit / "cs231n" / "_core.py")  # the trap works
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(site)
    try:
        result = grade(sub, kit, manifest=manifest, **FAST)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    assert result["total"] == 0.0
    msgs = [r["message"] for r in _by_part(result)["double"]["results"]]
    assert all("No module named 'cs231n._core'" in m for m in msgs), msgs


def test_package_loaded_from_outside_the_submission_is_refused(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path)
    (sub / "cs231n" / "ops.py").unlink()
    (sub / "cs231n" / "__init__.py").write_text(f"__path__.append({str(kit / 'cs231n')!r})\n",
                                                encoding="utf-8")
    with pytest.raises(GradeError, match="refusing to grade: cs231n modules were imported from "
                                         "outside the submission"):
        grade(sub, kit, manifest=manifest, **FAST)


def test_zip_submission_with_a_top_folder(kit, manifest, tmp_path):
    zpath = tmp_path / "handin.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in (kit / "cs231n").rglob("*.py"):
            zf.write(f, f"alice-hw2/{f.relative_to(kit).as_posix()}")
    result = grade(zpath, kit, manifest=manifest, **FAST)
    assert result["total"] == 10.0


def test_submission_without_a_package_is_refused(kit, manifest, tmp_path):
    with pytest.raises(GradeError, match="no cs231n package"):
        grade(tmp_path, kit, manifest=manifest, **FAST)


@pytest.mark.parametrize("marker, message", [
    ("graded('sqaure', 'values')", "test_typo is graded for 'sqaure', not a part of the rubric"),
    ("graded('square', 'value')", "test_typo is graded for 'square' group 'value', which the "
                                  "rubric does not list (groups: values)"),
    ("graded('square')", "test_typo: graded marker needs exactly (PART, GROUP) as two strings, "
                         "got ('square',)"),
    ("graded('square', 'values', 'double')", "needs exactly (PART, GROUP)"),
    ("graded('notebook', 'x')", "test_typo is graded for 'notebook', a notebook part"),
])
def test_bad_marker_is_an_error(kit, tmp_path, quick_children, marker, message):
    other = tmp_path / "kit2"
    shutil.copytree(kit, other)
    with open(other / "tests" / "test_ops.py", "a", encoding="utf-8") as f:
        f.write(f"\n\n@pytest.mark.{marker}\ndef test_typo():\n    assert square(2) == 4\n")
    with pytest.raises(GradeError, match=re.escape(message)):
        collect_manifest(other)


def test_check_group_without_tests_is_an_error(kit, tmp_path, quick_children):
    other = tmp_path / "kit2"
    shutil.copytree(kit, other)
    rubric = other / "cs231n" / "grading" / "rubric.json"
    data = json.loads(rubric.read_text(encoding="utf-8"))
    data["parts"]["scaler"]["groups"] = {"apply": 2, "large": 1}
    rubric.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GradeError) as info:
        collect_manifest(other)
    assert "part 'scaler' group 'large' has no graded test" in str(info.value)
    assert "'apply'" not in str(info.value)


def test_cli_prints_the_table_and_writes_json(kit, tmp_path):
    out = tmp_path / "grades.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    proc = subprocess.run([sys.executable, "-m", "cs231n.grade", str(kit), "--kit", str(kit),
                           "--json", str(out)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = [line.split() for line in lines if line.strip()]
    i = rows.index(["double", "2/2", "3.00", "3.00"])
    assert rows[i + 1:i + 5] == [["int", "1/1", "2.00", "2.00"], ["float", "1/1", "1.00", "1.00"],
                                 ["square", "2/2", "2.00", "2.00"],
                                 ["values", "(share)", "2/2", "2.00", "2.00"]]
    assert ["notebook", "answered", "2/2", "manual", "4.00"] in rows
    assert "total (automatic)" in proc.stdout and "10.00     10.00" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total"] == 10.0 and data["outcomes"] == {"passed": 8}
    assert [g["group"] for p in data["parts"] for g in p.get("groups", [])] == [
        "int", "float", "values", "apply", "value"]
    missing = subprocess.run([sys.executable, "-m", "cs231n.grade", str(tmp_path / "nope"),
                              "--kit", str(kit)], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=300)
    assert missing.returncode == 2 and "neither a directory nor a zip" in missing.stderr


def _schema_validate(data):
    import jsonschema

    schema = json.loads((REPO / "tests" / "gradescope_schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    return data


def test_gradescope_results_follow_the_format_and_the_rubric_visibility(kit, tmp_path):
    other = tmp_path / "kit2"
    shutil.copytree(kit, other)
    rubric = other / "cs231n" / "grading" / "rubric.json"
    data = json.loads(rubric.read_text(encoding="utf-8"))
    data["visibility"] = {"hidden": "after_due_date"}
    rubric.write_text(json.dumps(data), encoding="utf-8")
    sub = _copy_package(other, tmp_path / "sub", (SQUARE_BODY, "    squared_value = x * abs(x)\n"))
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    out = tmp_path / "results" / "results.json"
    proc = subprocess.run([sys.executable, "-m", "cs231n.grade", str(sub), "--kit", str(other),
                           "--format", "gradescope", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = _schema_validate(json.loads(out.read_text(encoding="utf-8")))
    assert res["score"] == 9.0 and res["visibility"] == "visible"
    assert [(t["number"], t["name"], t["score"], t["max_score"], t["status"], t["visibility"])
            for t in res["tests"]] == [
        ("1.1", "double: int", 2.0, 2.0, "passed", "visible"),
        ("1.2", "double: float", 1.0, 1.0, "passed", "visible"),
        ("2.1", "square: values", 1.0, 2.0, "failed", "visible"),
        ("3.1", "scaler: apply", 3.0, 3.0, "passed", "after_due_date"),
        ("3.1.1", "scaler: apply (public checks; points above)", 0.0, 0.0, "passed", "visible"),
        ("4.1", "power: value", 2.0, 2.0, "passed", "visible"),
        ("5", "notebook: notebook answers (scored by hand, 4 points)", 0.0, 0.0, "failed",
         "visible")]
    square = res["tests"][2]["output"].splitlines()
    assert square[:2] == ["Points in proportion to the checks passed.",
                          "1 of 2 check(s) passed; not passed:"]
    assert square[2].startswith("- test_square[-2-4] [failed]: ")
    assert list(out.parent.iterdir()) == [out]                     # no temporary file left


def test_gradescope_results_are_written_when_grading_fails(kit, tmp_path):
    out = tmp_path / "results.json"
    out.write_text("{}", encoding="utf-8")                      # an old file is replaced
    proc = subprocess.run([sys.executable, "-m", "cs231n.grade", str(tmp_path / "empty"),
                           "--kit", str(kit), "--format", "gradescope", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    res = _schema_validate(json.loads(out.read_text(encoding="utf-8")))
    assert (res["score"], res["tests"]) == (0.0, [])
    assert res["output"].startswith("The autograder could not grade this submission (score 0):")
    assert "neither a directory nor a zip file" in res["output"]


# pytest's report of a failed array comparison (its layout; numbers made up)
ALLCLOSE_REPORT = """rng = Generator(PCG64) at 0x7F3A2C1D5E40

    def test_running_mean(rng):
        x = rng.standard_normal((6, 4))
>       np.testing.assert_allclose(param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-6)
E       AssertionError:
E       Not equal to tolerance rtol=1e-06, atol=0
E
E       Mismatched elements: 4 / 4 (100%)
E       Max absolute difference among violations: 0.3127
E       Max relative difference among violations: 9.
E        ACTUAL: array([ 0.351373, -0.107884,  0.094512, -0.261021])
E        DESIRED: array([ 0.039041, -0.011987,  0.010501, -0.029002])

tests/test_norm_layers.py:120: AssertionError"""


# the same in the grader's short tracebacks, with numpy 2's list of mismatches
ALLCLOSE_SHORT = """tests/test_norm_layers.py:120: in test_running_mean
    assert_close(param["running_mean"], ref, 1e-6)
tests/test_norm_layers.py:40: in assert_close
    np.testing.assert_allclose(a, ref, rtol=0, atol=tol)
E   AssertionError:
E   Not equal to tolerance rtol=0, atol=1e-06
E
E   Mismatched elements: 4 / 4 (100%)
E   First 4 mismatches are at indices:
E    [0]: 0.351373 (ACTUAL), 0.039041 (DESIRED)
E   Max absolute difference among violations: 0.3127
E    ACTUAL: array([ 0.351373, -0.107884,  0.094512, -0.261021])
E    DESIRED: array([ 0.039041, -0.011987,  0.010501, -0.029002])"""


def test_verbose_listing_says_why_a_test_failed():
    assert failure_line(ALLCLOSE_SHORT) == (
        "Not equal to tolerance rtol=0, atol=1e-06; Max absolute difference among violations: 0.3127")
    line = failure_line(ALLCLOSE_REPORT)
    assert line.startswith('np.testing.assert_allclose(param["running_mean"]')
    assert "Not equal to tolerance rtol=1e-06" in line
    assert "Max absolute difference among violations: 0.3127" in line
    assert "array(" not in line                        # not a row of numbers
    syntax = ("tests/test_ops.py:4: in <module>\n    from cs231n.ops import square\n"
              'E     File "/tmp/sub/cs231n/ops.py", line 20\nE       def square(x:\n'
              "E                 ^\nE   SyntaxError: '(' was never closed")
    assert failure_line(syntax) == "SyntaxError: '(' was never closed (ops.py, line 20)"
    long = failure_line("E   ValueError: " + "x" * 900)
    assert long.startswith("ValueError: x") and long.endswith("...") and len(long) == 400
    result = {"parts": [{"part": "batchnorm", "kind": "code", "passed": 0, "tests": 1,
                         "points": 0.0, "max_points": 12.0, "groups": [],
                         "results": [{"test": "tests/t.py::test_running_mean", "outcome": "failed",
                                      "message": ALLCLOSE_REPORT}]}],
              "total": 0.0, "max_total": 12.0, "manual_max": 0, "outcomes": {"failed": 1},
              "run": {"sessions": 1, "duration": 1.0, "notes": []}}
    listing = format_table(result, verbose=True).splitlines()[-1]
    assert listing == f"  failed   tests/t.py::test_running_mean: {line}"
    assert "test_running_mean" not in format_table(result, verbose=False)


def test_other_top_level_files_of_the_submission_cannot_shadow_modules(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path)
    (sub / "pytest.py").write_text("raise SystemExit('hijacked pytest')\n", encoding="utf-8")
    (sub / "sitecustomize.py").write_text("raise SystemExit('hijacked site')\n", encoding="utf-8")
    result = grade(sub, kit, manifest=manifest, **FAST)
    assert result["total"] == 10.0


def test_memory_limit_turns_a_huge_allocation_into_a_failure(kit, manifest, tmp_path):
    sub = _copy_package(kit, tmp_path, (SQUARE_BODY, "    blob = bytearray(8 * 1024 ** 3)\n"
                                                     "    squared_value = x * x\n"))
    result = grade(sub, kit, manifest=manifest, memory_limit=2 * 1024 ** 3, **FAST)
    assert _outcomes(result, "square") == {"test_square[3-9]": "failed",
                                           "test_square[-2-4]": "failed"}
    assert all("MemoryError" in r["message"] for r in _by_part(result)["square"]["results"])
    assert result["total"] == 8.0


# ---------------------------------------------------------------------------
# The real kit: the rubric's graded tests against the reference and its release
# ---------------------------------------------------------------------------
# the rubric's points (data the instructor writes; the tests check the grader adds them up)
_RUBRIC = json.loads((REPO / "cs231n" / "grading" / "rubric.json").read_text(encoding="utf-8"))
REAL_CODE_POINTS = {name: float(p["points"]) for name, p in _RUBRIC["parts"].items()
                    if p.get("kind", "code") == "code"}
REAL_NOTEBOOK_ANSWERS = {"notebook_fc": 5, "notebook_bn": 4, "notebook_dropout": 3,
                         "notebook_conv": 2}


@pytest.mark.slow
def test_real_kit_round_trip(tmp_path):
    """Reference: every graded test passes; release: every one fails; a release with
    one part handed out solved (adam, a leaf; fc_net, which calls the layers of other
    parts) scores exactly that part's points.

    Runs the whole graded suite four times (about 30 s each on 2 cores).
    """
    manifest = collect_manifest(REPO)
    parts_seen = {part for part, _ in manifest.values()}
    assert parts_seen == set(REAL_CODE_POINTS)

    ref = grade(REPO, REPO, manifest=manifest)
    assert ref["outcomes"] == {"passed": len(manifest)}
    assert ref["total"] == ref["max_total"] == sum(REAL_CODE_POINTS.values())
    by = _by_part(ref)
    assert {p: by[p]["points"] for p in REAL_CODE_POINTS} == REAL_CODE_POINTS
    assert {p: (by[p]["answered"], by[p]["regions"]) for p in REAL_NOTEBOOK_ANSWERS} == {
        p: (n, n) for p, n in REAL_NOTEBOOK_ANSWERS.items()}

    build_release(tmp_path / "student", source=REPO)
    stu = grade(tmp_path / "student", REPO, manifest=manifest)
    assert stu["outcomes"] == {"failed": len(manifest)}
    assert stu["total"] == 0.0
    by = _by_part(stu)
    for part in REAL_CODE_POINTS:
        for r in by[part]["results"]:
            assert "NotImplementedError" in r["message"], (r["test"], r["message"][-300:])
    assert {p: by[p]["answered"] for p in REAL_NOTEBOOK_ANSWERS} == dict.fromkeys(
        REAL_NOTEBOOK_ANSWERS, 0)

    for part in ("adam", "fc_net"):
        build_release(tmp_path / part, source=REPO, keep=[part])
        result = grade(tmp_path / part, REPO, manifest=manifest)
        scored = {p: d["points"] for p, d in _by_part(result).items() if d["kind"] == "code"}
        assert scored == {p: (pts if p == part else 0.0) for p, pts in REAL_CODE_POINTS.items()}
        assert result["total"] == REAL_CODE_POINTS[part]


# ---------------------------------------------------------------------------
# A student's own norm layers: the student kit must be completable as handed out
# ---------------------------------------------------------------------------
# Textbook implementations written the way the student kit's TODOs ask (float64
# means, a plain tuple of the student's own choosing as the cache), in the order of
# the stubs they replace (batchnorm_forward has two: train, then test). This file is
# instructor-only: it never ships in the student release.
TEXTBOOK_NORMS = [
("batchnorm_forward", '''
mu = x.mean(axis=0, dtype=np.float64)
var = ((x - mu) ** 2).mean(axis=0)
std = np.sqrt(var + eps)
xhat = (x - mu) / std
out = gamma * xhat + beta
running_mean = momentum * running_mean + (1 - momentum) * mu
running_var = momentum * running_var + (1 - momentum) * var
cache = (x, mu, std, xhat, gamma, True)
'''),
("batchnorm_forward", '''
std = np.sqrt(running_var + eps)
xhat = (x - running_mean) / std
out = gamma * xhat + beta
cache = (x, running_mean, std, xhat, gamma, False)
'''),
("batchnorm_backward", '''
x, mu, std, xhat, g, train = cache
N = dout.shape[0]
dbeta = dout.sum(axis=0)
dgamma = (dout * xhat).sum(axis=0)
dxhat = dout * g
if train:
    xmu = x - mu
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat / std
    dstd = -divar / std ** 2
    dvar = 0.5 * dstd / std
    dsq = np.ones_like(dout) * dvar / N
    dxmu2 = 2 * xmu * dsq
    dmu = -(dxmu1 + dxmu2).sum(axis=0)
    dx = dxmu1 + dxmu2 + dmu / N
else:
    dx = dxhat / std
'''),
("batchnorm_backward_alt", '''
x, mu, std, xhat, g, train = cache
N = dout.shape[0]
dbeta = dout.sum(axis=0)
dgamma = (dout * xhat).sum(axis=0)
if train:
    dx = g / (N * std) * (N * dout - dbeta - xhat * dgamma)
else:
    dx = dout * g / std
'''),
("layernorm_forward", '''
mu = x.mean(axis=1, keepdims=True, dtype=np.float64)
std = np.sqrt(((x - mu) ** 2).mean(axis=1, keepdims=True) + eps)
xhat = (x - mu) / std
out = gamma * xhat + beta
cache = (xhat, std, gamma)
'''),
("layernorm_backward", '''
xhat, std, g = cache
dbeta = dout.sum(axis=0)
dgamma = (dout * xhat).sum(axis=0)
dxhat = dout * g
dx = (dxhat - dxhat.mean(axis=1, keepdims=True)
      - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / std
'''),
("spatial_batchnorm_forward", '''
N, C, H, W = x.shape
x_rows = np.moveaxis(x, 1, -1).reshape(-1, C)
out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
out = np.moveaxis(out_rows.reshape(N, H, W, C), -1, 1)
'''),
("spatial_batchnorm_backward", '''
N, C, H, W = dout.shape
d_rows = np.moveaxis(dout, 1, -1).reshape(-1, C)
dx_rows, dgamma, dbeta = batchnorm_backward_alt(d_rows, cache)
dx = np.moveaxis(dx_rows.reshape(N, H, W, C), -1, 1)
'''),
("spatial_groupnorm_forward", '''
xg = x.reshape(N, G, -1)
mu = xg.mean(axis=2, keepdims=True, dtype=np.float64)
std = np.sqrt(((xg - mu) ** 2).mean(axis=2, keepdims=True) + eps)
xhat = ((xg - mu) / std).reshape(N, C, H, W)
out = gamma * xhat + beta
cache = (xhat, std, gamma, G)
'''),
("spatial_groupnorm_backward", '''
xhat, std, g, G = cache
N, C, H, W = xhat.shape
dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
dxhat = (dout * g).reshape(N, G, -1)
xh = xhat.reshape(N, G, -1)
dx = (dxhat - dxhat.mean(axis=2, keepdims=True)
      - xh * (dxhat * xh).mean(axis=2, keepdims=True)) / std
dx = dx.reshape(N, C, H, W)
'''),
]
NORM_PARTS = ("batchnorm", "layernorm", "spatial_batchnorm", "spatial_groupnorm")


def _fill_stubs(layers_py, bodies):
    """Replace the first remaining ``raise NotImplementedError`` stub of each
    (function, body) pair's function by the body, in order."""
    text = layers_py.read_text(encoding="utf-8")
    for name, body in bodies:
        stub = re.compile(r'^([ \t]*)raise NotImplementedError\("cs231n/layers\.py:' + name + ':.*$',
                          re.M)
        m = stub.search(text)
        assert m, f"no stub for {name} in the student kit"
        code = textwrap.indent(textwrap.dedent(body).strip("\n"), m.group(1))
        text = text[:m.start()] + code + text[m.end():]
    layers_py.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_textbook_student_norm_layers_earn_full_marks(tmp_path):
    """The four norm parts, written from the student kit's TODOs with a cache of the
    student's own, score every point: nothing in the given code demands the
    reference's cache type or its private core."""
    manifest = {t: pg for t, pg in collect_manifest(REPO).items() if pg[0] in NORM_PARTS}
    build_release(tmp_path / "student", source=REPO)
    _fill_stubs(tmp_path / "student" / "cs231n" / "layers.py", TEXTBOOK_NORMS)
    result = grade(tmp_path / "student", REPO, manifest=manifest)
    by = _by_part(result)
    failed = {p: [r["test"] for r in by[p]["results"] if r["outcome"] != "passed"]
              for p in NORM_PARTS}
    assert failed == dict.fromkeys(NORM_PARTS, []), failed
    assert {p: by[p]["points"] for p in NORM_PARTS} == {p: REAL_CODE_POINTS[p] for p in NORM_PARTS}
