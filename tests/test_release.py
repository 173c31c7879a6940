"""Tests of the student release (``python -m cs231n.release``) on a synthetic kit.

The demo kit (``cs231n.grading.demo``) is written into a temporary directory; its
solution text, expected stubs and expected file list are spelled out here, not
taken from the code under test.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cs231n.grading import markers
from cs231n.grading.demo import write_demo_kit
from cs231n.grading.rubric import PathFilter, RubricError, load_rubric
from cs231n.release import (ReleaseError, build_release, scan_kit, strip_instructor_blocks,
                            verify_release)

REPO = Path(__file__).resolve().parents[1]

# Every solution line of the demo kit, written out by hand.
SOLUTION_LINES = [
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
]

RELEASED_FILES = {
    ".gitignore", "README.md", "pyproject.toml", "cs231n/__init__.py", "cs231n/_core.py",
    "cs231n/ops.py", "data/blob.bin", "notebooks/demo.py", "notebooks/demo.ipynb",
    "tests/test_ops.py", "tests/test_power.py",
}
UNCHANGED = RELEASED_FILES - {"cs231n/_core.py", "cs231n/ops.py", "notebooks/demo.py",
                              "notebooks/demo.ipynb"}


def _files(root):
    return {p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()}


def _env_with(path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture
def kit(tmp_path):
    return write_demo_kit(tmp_path / "kit")


@pytest.fixture
def student(kit, tmp_path):
    build_release(tmp_path / "student", source=kit)
    return tmp_path / "student"


def test_release_holds_exactly_the_student_files(student):
    # left out: runs/ and *.log (.gitignore), __pycache__, the rubric,
    # docs/INSTRUCTORS.md and the hidden tests (instructor_only)
    assert _files(student) == RELEASED_FILES


def test_files_without_solutions_are_byte_identical(kit, student):
    for rel in sorted(UNCHANGED):
        assert (student / rel).read_bytes() == (kit / rel).read_bytes(), rel


def test_module_regions_become_stubs_that_keep_todo_and_checks(student):
    ops = (student / "cs231n" / "ops.py").read_text(encoding="utf-8").splitlines()
    i = ops.index("def double(x):")
    assert ops[i:i + 6] == [
        "def double(x):",
        '    """Return ``2 * x`` through the core helper."""',
        '    _check_number(x, "x")',
        "    # TODO: Return twice x using the core helper `_twice`.",
        '    raise NotImplementedError("cs231n/ops.py:double: Return twice x using the core '
        'helper `_twice`.")',
        "    return doubled_value",
    ]
    j = ops.index("    def apply(self, x):")
    assert ops[j + 2:j + 6] == [
        "        # TODO: Double x repeatedly (log2(k) times) with `_twice`.",
        "        # Assume k is a power of two.",
        '        raise NotImplementedError("cs231n/ops.py:Scaler.apply: Double x repeatedly '
        '(log2(k) times) with `_twice`.")',
        "        return scaled_value",
    ]


def test_crlf_file_keeps_its_line_ends(student):
    core = (student / "cs231n" / "_core.py").read_bytes()
    assert core.endswith(
        b'    # TODO: Return x added to itself. Do not multiply.\r\n'
        b'    raise NotImplementedError("cs231n/_core.py:_twice: Return x added to itself.")\r\n')
    assert b"\n" not in core.replace(b"\r\n", b"")


def test_no_solution_text_reaches_the_release(kit, student):
    reference = b"".join((kit / f).read_bytes() for f in _files(kit))
    released = {f: (student / f).read_bytes() for f in _files(student)}
    for line in SOLUTION_LINES:
        assert line.encode() in reference, f"stale test list: {line!r} not in the kit"
        for f, data in released.items():
            assert line.encode() not in data, f"{line!r} leaked into {f}"
    for f, data in released.items():
        if f.endswith((".py", ".ipynb")):
            assert b"BEGIN SOLUTION" not in data and b"END SOLUTION" not in data, f


def test_release_imports_and_stubs_raise_with_their_todo(student, tmp_path):
    code = (
        "import cs231n.ops as ops\n"
        "assert ops.__file__.startswith(%r), ops.__file__\n"
        "try:\n    ops.double(2)\nexcept NotImplementedError as e:\n    print(e)\n"
        "try:\n    ops.double('a')\nexcept TypeError as e:\n    print('TypeError', e)\n"
    ) % str(student)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env_with(student),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "cs231n/ops.py:double: Return twice x using the core helper `_twice`.",
        "TypeError x must be a number, got str",
    ]


def test_percent_notebook_answers_become_placeholders(student):
    text = (student / "notebooks" / "demo.py").read_text(encoding="utf-8")
    assert text.endswith(
        "# **Question 1.** Why is doubling a linear map?\n"
        "#\n"
        "# *Your answer:* YOUR ANSWER HERE\n"
        "\n"
        "# %%\n"
        "from cs231n.ops import double\n"
        "\n"
        "# TODO: store double of 21 in `answer`.\n"
        "# YOUR CODE HERE\n"
        "pass\n"
        "print(answer)\n")
    compile(text, "demo.py", "exec")


def test_ipynb_answers_replaced_and_outputs_cleared(kit, student):
    ref = json.loads((kit / "notebooks" / "demo.ipynb").read_text(encoding="utf-8"))
    nb = json.loads((student / "notebooks" / "demo.ipynb").read_text(encoding="utf-8"))
    assert ref["cells"][1]["outputs"] and ref["cells"][1]["execution_count"] == 1
    assert nb["cells"][1]["outputs"] == [] and nb["cells"][1]["execution_count"] is None
    assert "".join(nb["cells"][0]["source"]).endswith(
        "**Question 1.** Why is doubling a linear map?\n\n*Your answer:* YOUR ANSWER HERE")
    assert "".join(nb["cells"][1]["source"]) == (
        "from cs231n.ops import double\n\n# TODO: store double of 21 in `answer`.\n"
        "# YOUR CODE HERE\npass\nprint(answer)")
    assert nb["metadata"] == ref["metadata"] and nb["nbformat"] == 4


def test_keep_hands_out_the_parts_regions_solved(kit, tmp_path):
    out = tmp_path / "partial"
    build_release(out, source=kit, keep=["double"])
    ops = (out / "cs231n" / "ops.py").read_text(encoding="utf-8")
    core = (out / "cs231n" / "_core.py").read_text(encoding="utf-8")
    assert "    doubled_value = _twice(x)\n    return doubled_value\n" in ops
    assert "    return x + x" in core           # the shared core belongs to part double
    assert "squared_value = x * x" not in ops   # other parts stay stubbed
    assert 'raise NotImplementedError("cs231n/ops.py:square: Return x times x.")' in ops
    assert "SOLUTION" not in ops + core


def test_cli_writes_tree_and_matching_zip(kit, tmp_path):
    out = tmp_path / "handout"
    proc = subprocess.run(
        [sys.executable, "-m", "cs231n.release", "student", str(out), "--source", str(kit),
         "--zip"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "handout.zip") as zf:
        names = set(zf.namelist())
        assert names == {f"handout/{f}" for f in RELEASED_FILES}
        for f in RELEASED_FILES:
            assert zf.read(f"handout/{f}") == (out / f).read_bytes(), f


def test_existing_outdir_needs_force(kit, student):
    (student / "extra.txt").write_text("left over", encoding="utf-8")
    with pytest.raises(ReleaseError, match="exists; pass --force"):
        build_release(student, source=kit)
    build_release(student, source=kit, force=True)
    assert _files(student) == RELEASED_FILES


def test_outdir_inside_the_kit_must_be_ignored(kit):
    with pytest.raises(ReleaseError, match="inside the kit and not ignored"):
        build_release(kit / "handout", source=kit)
    assert not (kit / "handout").exists()
    build_release(kit / "runs" / "handout", source=kit)  # runs/ is in the kit's .gitignore
    assert _files(kit / "runs" / "handout") == RELEASED_FILES


BAD_MODULES = [
    ("unclosed", "def f():\n    # TODO: x.\n    ### BEGIN SOLUTION\n    return 1\n", 3,
     "without a matching"),
    ("end without begin", "def f():\n    return 1\n    ### END SOLUTION\n", 3,
     "without a '### BEGIN SOLUTION'"),
    ("nested", "def f():\n    # TODO: x.\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"
               "    a = 1\n    ### END SOLUTION\n", 4, "cannot nest"),
    ("indent mismatch", "def f():\n    # TODO: x.\n    ### BEGIN SOLUTION\n    a = 1\n"
                        "### END SOLUTION\n", 5, "indented"),
    ("empty", "def f():\n    # TODO: x.\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", 4,
     "empty solution region"),
    ("no todo", "def f():\n    ### BEGIN SOLUTION\n    a = 1\n    ### END SOLUTION\n", 2,
     "no '# TODO"),
    ("module level", "# TODO: x.\n### BEGIN SOLUTION\nA = 1\n### END SOLUTION\n", 2,
     "outside any function"),
    ("class body", "class C:\n    # TODO: x.\n    ### BEGIN SOLUTION\n    A = 1\n"
                   "    ### END SOLUTION\n", 3, "body of class C"),
    ("two hashes", "def f():\n    # TODO: x.\n    ## BEGIN SOLUTION\n    a = 1\n", 3,
     "malformed solution marker"),
    ("trailing words", "def f():\n    # TODO: x.\n    ### BEGIN SOLUTION here\n    a = 1\n", 3,
     "malformed solution marker"),
    ("commented marker in a module", "def f():\n    # TODO: x.\n    # ### BEGIN SOLUTION\n", 3,
     "malformed solution marker"),
]


@pytest.mark.parametrize("name, source, line, message", BAD_MODULES, ids=[b[0] for b in BAD_MODULES])
def test_bad_markers_are_reported_with_their_line(name, source, line, message):
    with pytest.raises(markers.MarkerError, match=message) as info:
        markers.scan_source(source, "pkg/mod.py")
    assert info.value.line == line
    assert str(info.value).startswith(f"pkg/mod.py:{line}: ")


def test_notebook_region_may_not_cross_a_cell():
    src = "# %%\n### BEGIN SOLUTION\na = 1\n# %%\nb = 2\n### END SOLUTION\n"
    with pytest.raises(markers.MarkerError, match="new cell starts inside") as info:
        markers.scan_source(src, "notebooks/n.py")
    assert info.value.line == 4


def test_region_names_use_the_enclosing_function():
    src = ("class Net:\n    def loss(self):\n        def inner():\n            # TODO: a.\n"
           "            ### BEGIN SOLUTION\n            return 1\n            ### END SOLUTION\n"
           "        # TODO: b. More words.\n        ### BEGIN SOLUTION\n        x = 2\n"
           "        ### END SOLUTION\n        return x\n")
    regions = markers.scan_source(src, "m.py")
    assert [(r.id, r.start, r.stop, r.todo) for r in regions] == [
        ("m.py::Net.loss.inner", 5, 7, "a."),
        ("m.py::Net.loss", 9, 11, "b."),
    ]


def test_bad_markers_stop_the_release_before_writing(kit, tmp_path):
    ops = kit / "cs231n" / "ops.py"
    ops.write_text(ops.read_text(encoding="utf-8").replace("    ### END SOLUTION\n", "", 1),
                   encoding="utf-8")
    with pytest.raises(ReleaseError, match="cs231n/ops.py:23: '### BEGIN SOLUTION' inside the "
                       "region opened at line 14"):
        build_release(tmp_path / "out", source=kit)
    assert not (tmp_path / "out").exists()


def test_verify_reports_leaks_markers_and_broken_code(kit, student):
    scan = scan_kit(kit)
    assert verify_release(scan, student) == []
    (student / "README.md").write_text("hint:\n    squared_value = x * x\n", encoding="utf-8")
    nb = student / "notebooks" / "demo.py"
    nb.write_text(nb.read_text(encoding="utf-8") + "# ### END SOLUTION\n", encoding="utf-8")
    (student / "cs231n" / "ops.py").write_text("def broken(:\n", encoding="utf-8")
    problems = verify_release(scan, student)
    assert any(p.startswith("README.md:2: solution text of cs231n/ops.py::square leaked")
               for p in problems), problems
    assert any(p.startswith("notebooks/demo.py:") and "marker left" in p for p in problems)
    assert any(p.startswith("cs231n/ops.py:1: does not compile") for p in problems)


def test_verify_reports_a_release_that_does_not_import(kit, student):
    (student / "cs231n" / "__init__.py").write_text("import missing_module_xyz\n",
                                                    encoding="utf-8")
    problems = verify_release(scan_kit(kit), student)
    assert problems and all("release does not import" in p for p in problems)
    assert any("missing_module_xyz" in p for p in problems)


def test_check_lists_regions_and_flags_unowned_ones(kit):
    def run():
        return subprocess.run([sys.executable, "-m", "cs231n.release", "check", "--source",
                               str(kit)], cwd=REPO, capture_output=True, text=True, timeout=60)

    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "cs231n/ops.py::Scaler.apply" in ok.stdout and "problem" not in ok.stdout
    assert "part square                      2 points: values 2 (share) [2 tests]" in ok.stdout
    assert "part scaler                      3 points: apply 3 [3 tests]" in ok.stdout
    rubric = kit / "cs231n" / "grading" / "rubric.json"
    data = json.loads(rubric.read_text(encoding="utf-8"))
    data["parts"]["square"]["regions"] = ["cs231n/ops.py::sqare"]
    rubric.write_text(json.dumps(data), encoding="utf-8")
    bad = run()
    assert bad.returncode == 1
    assert "problem: part 'square': region pattern 'cs231n/ops.py::sqare' matches no region" in bad.stdout
    assert "problem: region cs231n/ops.py::square belongs to no part" in bad.stdout
    data["parts"]["square"]["regions"] = ["cs231n/ops.py::square"]
    data["parts"]["scaler"]["groups"] = {"apply": 2, "big": 1}
    rubric.write_text(json.dumps(data), encoding="utf-8")
    with open(kit / "README.md", "a", encoding="utf-8") as f:
        f.write("See docs/INSTRUCTORS.md.\n")
    groups = run()
    assert groups.returncode == 1
    assert "problem: part 'scaler' group 'big' has no graded test" in groups.stdout
    assert "problem: README.md:4: mentions 'docs/INSTRUCTORS.md'" in groups.stdout


def test_release_mentions_nothing_it_leaves_out(kit, tmp_path):
    (kit / "README.md").write_text(
        "# Demo\n<!-- instructor-only -->\nGrade with docs/INSTRUCTORS.md.\n"
        "<!-- /instructor-only -->\nData in ../shared/data, hidden tests in tests/hidden/.\n",
        encoding="utf-8")
    with open(kit / "cs231n" / "ops.py", "a", encoding="utf-8") as f:
        f.write("# graded by cs231n.grading (not released)\n")
    with pytest.raises(ReleaseError) as info:
        build_release(tmp_path / "out", source=kit)
    assert str(info.value).splitlines()[1:] == [
        "README.md:2: mentions '../shared', which the student kit does not have",
        "cs231n/ops.py:46: mentions 'cs231n.grading', which the student kit does not have",
    ]


@pytest.mark.parametrize("change, message", [
    ({"bonus": 1}, "unknown keys"),
    ({"parts": {"a b": {"points": 1, "regions": ["x"]}}}, "names may use"),
    ({"parts": {"a": {"points": -1, "regions": ["x"]}}}, "points must be a number >= 0"),
    ({"parts": {"a": {"points": 1, "regions": []}}}, "regions must not be empty"),
    ({"parts": {"a": {"points": 1, "regions": ["x"], "kind": "essay"}}}, "kind must be"),
    ({"parts": {"a": {"points": 1, "regions": ["x"], "kind": "notebook", "groups": {"g": 1}}}},
     "take no groups"),
    ({"parts": {"a": {"points": 1, "regions": ["x"], "groups": {"g": 1}, "tests": ["t"]}}},
     r"'tests' patterns are no longer read; mark the tests with @pytest.mark.graded\('a', GROUP\)"),
    ({"parts": {"a": {"points": 1, "regions": ["x"]}}}, "'groups' must be a non-empty object"),
    ({"parts": {"a": {"points": 3, "regions": ["x"], "groups": {"f": 1, "b": 1}}}},
     "its groups add up to 2 points, the part has 3"),
    ({"parts": {"a": {"points": 1, "regions": ["x"], "groups": {"f": 0, "b": 1}}}},
     "group 'f': points must be a number > 0"),
    ({"parts": {"a": {"points": 1, "regions": ["x"],
                      "groups": {"f": {"points": 1, "scoring": "most"}}}}},
     "group 'f': scoring must be 'all' or 'proportional'"),
    ({"parts": {"a": {"points": 1, "regions": ["x"], "groups": {"two words": 1}}}},
     "group 'two words': names may use"),
    ({"visibility": {"hidden": "later"}}, "'hidden' must be one of"),
    ({"time_limit": 0}, "time_limit must be a positive number"),
])
def test_rubric_errors_name_the_problem(tmp_path, change, message):
    data = {"parts": {"a": {"points": 1, "regions": ["x"], "groups": {"g": 1}}}}
    data.update(change)
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RubricError, match=message):
        load_rubric(path)


def test_rubric_groups_are_read_with_their_scoring(tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps({"parts": {"a": {"points": 5, "regions": ["x"], "groups": {
        "f": 2, "b": {"points": 3, "scoring": "proportional"}}}}}), encoding="utf-8")
    part = load_rubric(path).parts["a"]
    assert [(g.name, g.points, g.scoring) for g in part.groups.values()] == [
        ("f", 2.0, "all"), ("b", 3.0, "proportional")]
    assert (part.groups["f"].score(2, 3), part.groups["f"].score(3, 3)) == (0.0, 2.0)
    assert part.groups["b"].score(2, 3) == 2.0
    assert load_rubric(path).visibility == {"public": "visible", "hidden": "after_published"}


def test_path_filter_negation_reincludes_a_file():
    flt = PathFilter(["*.npz", "!tests/data/*.npz", "build/"])
    assert flt.excluded("runs/x.npz", False)
    assert not flt.excluded("tests/data/batchnorm.npz", False)
    assert flt.excluded_or_inside("build/tests/data/a.npz", False)   # inside an excluded dir


def test_path_filter_follows_gitignore_rules():
    flt = PathFilter(["runs/", "*.log", "datasets/cifar-10-batches-py/", "/build"])
    assert flt.excluded("runs", True) and flt.excluded("a/runs", True)
    assert not flt.excluded("runs", False)          # dir-only rule, a file named runs
    assert flt.excluded("x/y.log", False)
    assert flt.excluded("datasets/cifar-10-batches-py", True)
    assert not flt.excluded("other/datasets/cifar-10-batches-py", True)  # anchored
    assert flt.excluded("build", True) and not flt.excluded("src/build", True)
    assert flt.excluded_or_inside("runs/a/b.txt", False)


def test_instructor_tools_import_no_numerics(tmp_path):
    code = ("import sys, cs231n.release, cs231n.grade, cs231n.grading.demo\n"
            "import cs231n.grading.autograder, cs231n.grading.interop\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'matplotlib', 'jupytext', 'nbformat', 'nbclient', 'pytest') "
            "or m in ('cs231n.layers', 'cs231n._norm')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_solution_quoted_in_a_reference_doc_stops_the_release(kit, tmp_path):
    readme = kit / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nHint: `squared_value = x * x`\n"
                      "\n    squared_value = x * x\n", encoding="utf-8")
    with pytest.raises(ReleaseError) as info:
        build_release(tmp_path / "out", source=kit)
    assert str(info.value).splitlines()[1:] == [
        "README.md:5: solution text of cs231n/ops.py::square quoted: 'squared_value = x * x'",
        "README.md:7: solution text of cs231n/ops.py::square leaked: 'squared_value = x * x'",
    ]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------
# Instructor-only blocks of Markdown files
# ---------------------------------------------------------------------------
def test_instructor_only_blocks_are_left_out_of_markdown(kit, tmp_path):
    (kit / "README.md").write_text(
        "# Demo kit\n\nRun `python -m pytest`.\n"
        "<!-- instructor-only -->\n## For instructors\n\nGrade with the grader.\n"
        "<!-- /instructor-only -->\n\nThe end.\n", encoding="utf-8")
    build_release(tmp_path / "student", source=kit)
    assert (tmp_path / "student" / "README.md").read_text(encoding="utf-8") == (
        "# Demo kit\n\nRun `python -m pytest`.\n\nThe end.\n")


@pytest.mark.parametrize("text, message", [
    ("a\n<!-- instructor-only -->\nb\n", r"README.md:2: <!-- instructor-only --> is never closed"),
    ("a\n<!-- /instructor-only -->\n", r"README.md:2: <!-- /instructor-only --> without"),
    ("<!-- instructor-only -->\n<!-- instructor-only -->\n<!-- /instructor-only -->\n",
     r"README.md:2: <!-- instructor-only --> inside the block opened at line 1"),
])
def test_unbalanced_instructor_blocks_stop_the_release(kit, tmp_path, text, message):
    assert strip_instructor_blocks("x\n<!-- instructor-only -->\ny\n<!-- /instructor-only -->\n",
                                   "a.md") == "x\n"
    (kit / "README.md").write_text(text, encoding="utf-8")
    with pytest.raises(ReleaseError, match=message):
        build_release(tmp_path / "student", source=kit)
    assert not (tmp_path / "student").exists()


def test_student_readme_leaves_out_the_instructor_material():
    full = (REPO / "README.md").read_text(encoding="utf-8")
    student = strip_instructor_blocks(full, "README.md")
    for text in ("python -m cs231n.release", "python -m cs231n.grade", "mutmut run",
                 "CONTRIBUTING.md", "## For instructors"):
        assert text in full and text not in student, text
    for text in ('pip install -e ".[notebooks,test]"', "python -m pytest", "## Getting CIFAR-10",
                 "## Testing", "## Measured figures"):
        assert text in student, text


# ---------------------------------------------------------------------------
# The Gradescope autograder zip, run end to end in a simulated Gradescope layout
# ---------------------------------------------------------------------------
SCHEMA = json.loads((REPO / "tests" / "gradescope_schema.json").read_text(encoding="utf-8"))


def _validate(results):
    import jsonschema

    jsonschema.validate(results, SCHEMA)
    return results


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The demo kit's autograder zip, unpacked like Gradescope does (source/)."""
    from cs231n.grading.autograder import build_autograder

    base = tmp_path_factory.mktemp("autograder")
    kit = write_demo_kit(base / "kit")
    build_release(base / "student", source=kit)
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        info = build_autograder(base / "autograder.zip", kit)
    finally:
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    return {"base": base, "kit": kit, "student": base / "student", "zip": base / "autograder.zip",
            "info": info}


def _run_gradescope(zip_path, tmp_path, fill, budget=None, grade_args=""):
    """Unpack the zip into <root>/source, fill <root>/submission, run run_autograder."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for info in zipfile.ZipFile(zip_path).infolist():   # zipfile drops the modes
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(root / "source" / info.filename, mode)
    fill(root / "submission")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", AUTOGRADER_GRADE_ARGS=grade_args)
    env.pop("PYTHONPATH", None)
    if budget:
        env["AUTOGRADER_TIME_BUDGET"] = str(budget)
    proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert not list((root / "results").glob(".results.*")), "temporary file left behind"
    return _validate(results)


def test_autograder_zip_holds_the_scripts_the_kit_and_pinned_dependencies(autograder):
    from cs231n.grade import collect_manifest
    from importlib import metadata

    with zipfile.ZipFile(autograder["zip"]) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        requirements = zf.read("requirements.txt").decode().split()
        manifest = json.loads(zf.read("kit/manifest.json"))
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "autograde.py",
            "autograder.json"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert {"kit/cs231n/ops.py", "kit/tests/test_ops.py", "kit/tests/hidden/test_ops_hidden.py",
            "kit/cs231n/grading/rubric.json", "grader/cs231n/grade.py",
            "grader/cs231n/grading/runner.py"} <= names
    assert not any("__pycache__" in n or n.startswith("kit/runs/") for n in names)
    assert requirements == [f"{n}=={metadata.version(n)}" for n in
                            ("numpy", "matplotlib", "tqdm", "pytest", "hypothesis")]
    assert "pip install" in setup and "-r requirements.txt" in setup
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        expected = collect_manifest(autograder["kit"])
    finally:
        del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    assert manifest == {n: list(pg) for n, pg in expected.items()}


def _copy_tree(src, names=("cs231n", "notebooks")):
    def fill(dest):
        for name in names:
            if (src / name).exists():
                shutil.copytree(src / name, dest / name,
                                ignore=shutil.ignore_patterns("__pycache__", "grading"))
    return fill


def test_autograder_gives_full_marks_to_a_solved_kit(autograder, tmp_path):
    res = _run_gradescope(autograder["zip"], tmp_path, _copy_tree(autograder["kit"]))
    assert res["score"] == 10.0
    groups = {t["name"]: t for t in res["tests"]}
    assert [(t["number"], t["score"], t["max_score"], t["status"]) for t in res["tests"]] == [
        ("1.1", 2.0, 2.0, "passed"), ("1.2", 1.0, 1.0, "passed"), ("2.1", 2.0, 2.0, "passed"),
        ("3.1", 3.0, 3.0, "passed"), ("3.1.1", 0.0, 0.0, "passed"), ("4.1", 2.0, 2.0, "passed"),
        ("5", 0.0, 0.0, "passed")]
    assert groups["scaler: apply"]["visibility"] == "after_published"   # holds a hidden test
    assert groups["double: int"]["visibility"] == "visible"
    assert groups["square: values"]["tags"] == ["square", "values"]
    public = groups["scaler: apply (public checks; points above)"]
    assert public["visibility"] == "visible" and public["output"] == "all 2 check(s) passed"


def test_autograder_gives_zero_to_the_blank_release(autograder, tmp_path):
    res = _run_gradescope(autograder["zip"], tmp_path, _copy_tree(autograder["student"]))
    assert res["score"] == 0.0
    assert all(t["status"] == "failed" for t in res["tests"])
    public = next(t for t in res["tests"] if t["number"] == "3.1.1")
    assert "test_scaler_by_four" in public["output"] and "eight" not in public["output"]
    square = next(t for t in res["tests"] if t["name"] == "square: values")
    assert "NotImplementedError: cs231n/ops.py:square: Return x times x." in square["output"]


def _zip_upload(src):
    def fill(dest):   # a single zip uploaded (as `python -m cs231n submit` writes it)
        with zipfile.ZipFile(dest / "handin.zip", "w") as zf:
            for f in (src / "cs231n").rglob("*.py"):
                zf.write(f, f.relative_to(src).as_posix())
    return fill


@pytest.mark.parametrize("upload", ["zip", "no package", "syntax error", "endless loop at import",
                                    "endless loop in a test", "reads the tests"])
def test_autograder_writes_a_valid_results_file_for_broken_uploads(autograder, tmp_path, upload):
    kit = autograder["kit"]
    budget, args = None, "--time-limit 2 --grace 0.5 --watchdog-margin 1"

    def fill(dest):
        if upload == "zip":
            return _zip_upload(kit)(dest)
        if upload == "no package":
            (dest / "ops.py").write_text((kit / "cs231n" / "ops.py").read_text(encoding="utf-8"),
                                         encoding="utf-8")
            return
        _copy_tree(kit)(dest)
        ops = dest / "cs231n" / "ops.py"
        text = ops.read_text(encoding="utf-8")
        if upload == "syntax error":
            text = text.replace("def square(x):", "def square(x:")
        elif upload == "endless loop at import":
            text += "\nwhile True:\n    pass\n"
        elif upload == "endless loop in a test":
            text = text.replace("    squared_value = x * x\n",
                                "    while True:\n        pass\n")
        elif upload == "reads the tests":
            # prints every test file it can find and raises with a hidden test's text
            text = text.replace("    squared_value = x * x\n", (
                "    import os, pathlib\n"
                "    root = os.environ.get('AUTOGRADER_ROOT', '/autograder')\n"
                "    text = [p.read_text() for p in pathlib.Path(root).rglob('test_ops_hidden.py')]\n"
                "    print(*text)\n"
                "    raise AssertionError('\\n'.join(text))\n"))
        ops.write_text(text, encoding="utf-8")

    if upload == "endless loop in a test":
        budget, args = 8, "--time-limit 60 --grace 5"
    res = _run_gradescope(autograder["zip"], tmp_path, fill, budget=budget, grade_args=args)
    visible = "\n".join([res["output"]] + [t["output"] for t in res["tests"]
                                           if t["visibility"] == "visible"])
    if upload == "zip":
        assert res["score"] == 10.0
    elif upload == "no package":
        assert res["score"] == 0.0 and res["tests"] == []
        assert "no cs231n package (cs231n/__init__.py) was found in the upload" in res["output"]
    elif upload == "syntax error":
        assert res["score"] == 0.0
        assert "SyntaxError" in visible and "ops.py" in visible
    elif upload == "endless loop at import":
        assert res["score"] == 0.0
        assert "GradeTimeout: time limit of 2 s exceeded" in visible
    elif upload == "endless loop in a test":
        assert res["score"] == 0.0 and res["tests"] == []
        assert "grading took longer than the autograder's budget of 8 s" in res["output"]
    else:
        assert res["score"] == 8.0                     # only square's 2 points lost
        assert "Scaler(8).apply(2) == 16" not in visible  # the hidden test's text
        assert "[a line quoting a hidden test was removed]" in visible


# ---------------------------------------------------------------------------
# Otter and nbgrader exports
# ---------------------------------------------------------------------------
def _otter_structure(path):
    """(top-level assignments, [(function name, decorator keywords, nodes run)])."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
           for t in n.targets if isinstance(t, ast.Name)}
    cases = []
    for n in tree.body:
        if isinstance(n, ast.FunctionDef) and n.decorator_list:
            dec = n.decorator_list[0]
            assert isinstance(dec, ast.Call) and dec.func.id == "test_case"
            kw = {k.arg: ast.literal_eval(k.value) for k in dec.keywords}
            call = n.body[0].value
            cases.append((n.name, kw, ast.literal_eval(call.args[0])))
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [(i.module, [a.name for a in i.names]) for i in imports] == [
        ("otter.test_files", ["test_case"])]
    return top, cases


def test_otter_export_has_one_exception_test_file_per_part(kit, tmp_path, monkeypatch):
    from cs231n.grading.interop import export_otter

    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    paths = export_otter(tmp_path / "otter", kit)
    assert sorted(p.name for p in paths) == ["double.py", "power.py", "scaler.py", "square.py"]
    top, cases = _otter_structure(tmp_path / "otter" / "square.py")
    assert top == {"OK_FORMAT": False, "name": "square", "points": 2.0}
    # proportional group: one case per check, the points shared out
    assert cases == [
        ("test_values_1", {"points": 1.0, "hidden": False,
                           "success_message": "square: values: check 1 of 2 passes",
                           "failure_message": "square: values: check 1 of 2 fails (python -m "
                                              "pytest -x tests/test_ops.py::test_square[3-9])"},
         ["tests/test_ops.py::test_square[3-9]"]),
        ("test_values_2", {"points": 1.0, "hidden": False,
                           "success_message": "square: values: check 2 of 2 passes",
                           "failure_message": "square: values: check 2 of 2 fails (python -m "
                                              "pytest -x tests/test_ops.py::test_square[-2-4])"},
         ["tests/test_ops.py::test_square[-2-4]"])]
    top, cases = _otter_structure(tmp_path / "otter" / "double.py")
    assert top["points"] == 3.0 and [(c[0], c[1]["points"], c[2]) for c in cases] == [
        ("test_int", 2.0, ["tests/test_ops.py::test_double_int"]),
        ("test_float", 1.0, ["tests/test_ops.py::test_double_float"])]
    # all-or-nothing group: one case; the hidden check is not exported
    top, cases = _otter_structure(tmp_path / "otter" / "scaler.py")
    assert [(c[0], c[1]["points"], c[2]) for c in cases] == [
        ("test_apply", 3.0, ["tests/test_ops.py::test_scaler_by_four",
                             "tests/test_ops.py::test_scaler_by_one"])]
    assert "test_ops_hidden" not in (tmp_path / "otter" / "scaler.py").read_text(encoding="utf-8")


def test_otter_test_cases_run_the_checks_on_the_students_kit(kit, student, tmp_path, monkeypatch):
    """Run an exported file as Otter would (a stand-in for otter.test_files.test_case)."""
    import types

    from cs231n.grading.interop import export_otter

    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    export_otter(tmp_path / "otter", kit)
    fake = types.ModuleType("otter.test_files")
    fake.test_case = lambda **kw: (lambda f: f)
    monkeypatch.setitem(sys.modules, "otter", types.ModuleType("otter"))
    monkeypatch.setitem(sys.modules, "otter.test_files", fake)
    code = (tmp_path / "otter" / "double.py").read_text(encoding="utf-8")
    env = {}
    exec(compile(code, "double.py", "exec"), env)
    monkeypatch.setenv("CS231N_KIT", str(kit))
    monkeypatch.setenv("PYTHONPATH", str(kit))
    env["test_int"]()                                  # the reference passes
    monkeypatch.setenv("CS231N_KIT", str(student))
    monkeypatch.setenv("PYTHONPATH", str(student))
    with pytest.raises(AssertionError, match="NotImplementedError"):
        env["test_int"]()                              # the blank release fails


def test_nbgrader_export_marks_solution_cells(kit, tmp_path):
    from cs231n.grading.interop import export_nbgrader

    paths = export_nbgrader(tmp_path / "nbgrader", kit)
    assert [p.name for p in paths] == ["demo.ipynb"]
    nb = json.loads(paths[0].read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    cells = [(c["cell_type"], c["metadata"].get("nbgrader"), "".join(c["source"]))
             for c in nb["cells"]]
    # the question stays a plain cell, its answer is a manually graded cell of its own
    assert cells[0] == ("markdown", None,
                        "# Demo notebook\n\n**Question 1.** Why is doubling a linear map?")
    assert cells[1] == ("markdown", {"grade": True, "solution": True, "locked": False,
                                     "task": False, "grade_id": "demo-answer1",
                                     "schema_version": 3, "points": 4.0},
                        "Because twice a sum is the sum of the doubles: 2(x + y) = 2x + 2y.")
    kind, meta, src = cells[2]
    assert kind == "code" and meta == {"grade": False, "solution": True, "locked": False,
                                       "task": False, "grade_id": "demo-answer2",
                                       "schema_version": 3}
    assert "### BEGIN SOLUTION\nanswer = double(21)\n### END SOLUTION" in src  # nbgrader's markers
    assert nb["cells"][2]["outputs"] == [] and nb["cells"][2]["execution_count"] is None
    assert len(cells) == 3


@pytest.mark.slow
def test_autograder_zip_of_the_real_kit_gives_full_marks_to_the_reference(tmp_path):
    """One realistic Gradescope run: the kit's own zip on its reference solution
    (about 40 s on one core)."""
    from cs231n.grading.autograder import build_autograder

    info = build_autograder(tmp_path / "autograder.zip", REPO)
    rubric = json.loads((REPO / "cs231n" / "grading" / "rubric.json").read_text(encoding="utf-8"))
    code_points = sum(p["points"] for p in rubric["parts"].values()
                      if p.get("kind", "code") == "code")
    res = _run_gradescope(tmp_path / "autograder.zip", tmp_path, _copy_tree(REPO))
    assert res["score"] == code_points, [t for t in res["tests"] if t["status"] != "passed"]
    graded = [t for t in res["tests"] if t["max_score"] > 0]
    assert len(graded) == sum(len(p.get("groups", {})) for p in rubric["parts"].values())
    assert all(t["status"] == "passed" for t in res["tests"])
    assert all(t["status"] == "passed" for t in graded)
    assert info["graded_tests"] > 100


# ---------------------------------------------------------------------------
# pip install -e ".[test]" (no notebook tools, no PyTorch) runs the suite
# ---------------------------------------------------------------------------
BLOCKER = """import sys
BLOCK = {"jupytext", "nbformat", "nbclient", "nbconvert", "jupyter", "ipykernel", "torch"}
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCK:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""


def test_suite_collects_without_the_optional_extras(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    probe = subprocess.run([sys.executable, "-c", "import nbformat"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0                     # the extras are really hidden
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-rs",
                           "-p", "no:cacheprovider", "tests"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    import re

    errors = re.findall(r"ERROR collecting (\S+)", proc.stdout)
    assert proc.returncode == 0 and not errors, errors or proc.stdout[-2000:]
    assert re.search(r'tests/test_notebooks.py:\d+: needs the notebook tools: pip install -e '
                     r'"\.\[notebooks\]"', proc.stdout), proc.stdout[-2000:]
