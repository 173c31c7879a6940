"""Grade a student submission: ``python -m cs231n.grade SUBMISSION [--json PATH]``.

SUBMISSION is a directory (or a ``.zip``) holding the student's ``cs231n`` package,
usually the whole student kit as handed back. The kit's own tests (``tests/`` of the
reference kit, public and hidden, never the student's copy) run against the
student's package. Each test marked ``@pytest.mark.graded(PART, GROUP)`` is one
check of a rubric check group; a group scores its points when all its checks pass
(or ``points * passed / total`` for a proportional group), and a part the sum of
its groups. A test passes when its setup, call and teardown all pass; failures,
errors, timeouts, crashes, skips and tests that could not be collected all count
as not passed. While a test of part P runs, the functions other parts own are the
reference kit's, so a mistake costs points only in its own part. Notebook parts
are not scored automatically: the report says how many of their inline answers
differ from the hand-out placeholder, for manual review.

Output: a table (one row per part and per check group), the grader's JSON
(``--json``), or Gradescope's ``results.json`` (``--format gradescope --out``,
written atomically, also when grading fails).

How a run is contained
----------------------
* pytest runs in a child process (``cs231n/grading/runner.py``) with a copy of
  the submission's ``cs231n`` package (and nothing else of the submission) first
  on ``sys.path``; ``cs231n`` is imported from there before pytest starts,
  setuptools' editable finders are removed, and every loaded ``cs231n`` module is
  checked to come from the copy (else the grade is refused). The working
  directory is a fresh temporary directory; ``-p no:cacheprovider`` and
  ``PYTHONDONTWRITEBYTECODE`` keep the kit unwritten.
* Per-test time limit (SIGALRM in the child): a ``GradeTimeout`` is raised in the
  test; if it is still running ``grace`` seconds later the child exits and the
  grader restarts it on the remaining tests. A watchdog in the grader kills the
  child's process group if a test outlives ``time_limit + grace + margin`` (e.g.
  the test blocked SIGALRM), and a total time limit bounds the whole run.
* Results arrive as JSON lines written as they happen, so a crash (``os._exit``,
  segfault) keeps every result before it; the crashing test is scored
  ``crashed`` and the remaining tests run in a new child.
* Output: pytest runs with ``-s`` and the child's stdout/stderr go to a pipe the
  grader drains, keeping only the first and last 8 KiB; failure messages are
  capped at 4000 characters.

Instructor-only: this module reads files and runs subprocesses; it never imports
the kit's numerical code.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from cs231n._files import atomic_write
from cs231n.grading import markers
from cs231n.grading.rubric import (PathFilter, RubricError, kit_files, load_rubric,
                                   regions_of_part)

__all__ = ["GradeError", "default_kit", "collect_manifest", "substitution_table", "grade",
           "format_table", "gradescope_results", "gradescope_failure", "write_json_atomic",
           "main"]

RUNNER = Path(__file__).resolve().parent / "grading" / "runner.py"
OUTPUT_KEEP = 8192
MAX_UNZIPPED = 2 * 1024 ** 3
POLL = 0.05


class GradeError(RuntimeError):
    """The grade cannot be given (bad submission layout, kit or rubric problem,
    package imported from outside the submission)."""


def default_kit():
    """Root of the reference kit this module belongs to."""
    return Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- child process
class _Drain(threading.Thread):
    """Read a pipe to EOF keeping only its head and tail."""

    def __init__(self, stream, keep=OUTPUT_KEEP):
        super().__init__(daemon=True)
        self.stream, self.keep = stream, keep
        self.head, self.tail, self.total = bytearray(), bytearray(), 0

    def run(self):
        fd = self.stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            if len(self.head) < self.keep:
                self.head += chunk[: self.keep - len(self.head)]
            self.tail += chunk
            if len(self.tail) > 2 * self.keep:
                del self.tail[: len(self.tail) - self.keep]

    def text(self):
        head = bytes(self.head)
        if self.total <= len(head):
            return head.decode("utf-8", "replace")
        rest = self.total - len(head)
        tail = bytes(self.tail[-min(rest, self.keep):])
        gap = rest - len(tail)
        mid = f"\n... [{gap} bytes of output dropped] ...\n" if gap else ""
        return head.decode("utf-8", "replace") + mid + tail.decode("utf-8", "replace")


class _Lines:
    """Incrementally read complete JSON lines from a file that is being appended to."""

    def __init__(self, path):
        self.path, self.pos, self.partial = Path(path), 0, b""

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        data = self.partial + data
        *lines, self.partial = data.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash
        return out


def _kill_group(proc):
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _child_env(first):
    env = dict(os.environ)
    for k in ("PYTEST_ADDOPTS", "PYTHONSTARTUP", "PYTHONINSPECT"):
        env.pop(k, None)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(first)] + ([old] if old else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run_child(cfg, workdir, tag, hard_limit, deadline):
    """Run the runner once; return (events, returncode, killed, output, output_bytes).

    ``killed`` is None, ``("watchdog", activity)`` or ``("total", activity)``.
    """
    results = Path(workdir) / f"{tag}.jsonl"
    cfg = dict(cfg, results=str(results))
    cfg_path = Path(workdir) / f"{tag}.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), str(cfg_path)], cwd=str(workdir),
        env=_child_env(cfg["submission"]), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=(os.name == "posix"))
    drain = _Drain(proc.stdout)
    drain.start()
    reader = _Lines(results)
    events, active, since, killed = [], None, None, None
    try:
        while True:
            rc = proc.poll()
            for ev in reader.read():
                events.append(ev)
                kind = ev.get("event")
                if kind in ("start", "collectstart", "importstart"):
                    active, since = (kind, ev.get("id")), time.monotonic()
                elif kind in ("finish", "collectreport", "importend", "hardtimeout", "fatal"):
                    active = None
            if rc is not None:
                break
            now = time.monotonic()
            if killed is None and active is not None and now - since > hard_limit:
                killed = ("watchdog", active)
                _kill_group(proc)
            elif killed is None and now > deadline:
                killed = ("total", active)
                _kill_group(proc)
            time.sleep(POLL)
    finally:
        _kill_group(proc)  # strays the tests may have left behind
        proc.wait()
        drain.join(timeout=5)
        proc.stdout.close()
    events.extend(reader.read())
    return events, proc.returncode, killed, drain.text(), drain.total


def _pytest_args(kit, workdir, tag, files):
    return [*(str(Path(kit, f)) for f in files),
            "--rootdir", str(kit), "-p", "no:cacheprovider", "-o", "addopts=",
            "--continue-on-collection-errors", "-s", "-q", "--tb=short",
            "--basetemp", str(Path(workdir) / f"basetemp-{tag}")]


# --------------------------------------------------------------------------- manifest
def _load(kit, rubric):
    return rubric if hasattr(rubric, "parts") else load_rubric(
        rubric or Path(kit) / "cs231n" / "grading" / "rubric.json")


def collect_manifest(kit=None, rubric=None, *, time_limit=None):
    """Graded tests of the reference kit: ``{node_id: (part, group)}`` in run order.

    Collects ``tests/`` of the kit (public and hidden) against the kit's own
    package and reads each test's ``graded(PART, GROUP)`` marker (the closest one:
    a test's own marker overrides its module's ``pytestmark``).

    Raises
    ------
    GradeError
        The kit's tests fail to collect, a marker is malformed or names an unknown
        part or group, or a check group of the rubric has no graded test.
    """
    kit = Path(kit or default_kit()).resolve()
    if not (kit / "tests").is_dir():
        raise GradeError(f"no tests/ directory in the kit {kit}; run the grader from the kit's "
                         "checkout or pass --kit")
    rub = _load(kit, rubric)
    limit = float(time_limit or rub.time_limit)
    with tempfile.TemporaryDirectory(prefix="cs231n-manifest-") as work:
        cfg = {"mode": "pytest", "submission": str(kit), "forbid": [],
               "args": _pytest_args(kit, work, "manifest", ["tests"]) + ["--collect-only"],
               "only": None, "time_limit": limit, "grace": rub.grace}
        events, rc, killed, output, _ = _run_child(
            cfg, work, "manifest", limit + rub.grace + 10, time.monotonic() + rub.total_time_limit)
    problems = [f"{e['id']}: {e.get('message', '')}" for e in events
                if e.get("event") == "collectreport" and e.get("outcome") == "failed"]
    problems += [f"{e.get('reason')}: {e.get('message', e.get('modules'))}" for e in events
                 if e.get("event") in ("fatal", "hardtimeout")]
    if killed or not any(e.get("event") == "sessionfinish" for e in events):
        problems.append(f"collection did not finish (exit status {rc}, killed={killed}):\n{output}")
    if problems:
        raise GradeError("the reference kit's tests do not collect cleanly:\n" + "\n".join(problems))
    manifest, errors = {}, []
    for e in events:
        if e.get("event") != "collected" or not e.get("graded"):
            continue
        node = e["id"]
        args, kwargs = e["graded"][0]
        if kwargs or len(args) != 2 or not all(isinstance(a, str) for a in args):
            errors.append(f"{node}: graded marker needs exactly (PART, GROUP) as two strings, "
                          f"got {tuple(args)!r}" + (f" and keywords {kwargs}" if kwargs else ""))
            continue
        part, group = args
        if part not in rub.parts:
            errors.append(f"{node} is graded for {part!r}, not a part of the rubric")
        elif rub.parts[part].kind != "code":
            errors.append(f"{node} is graded for {part!r}, a notebook part")
        elif group not in rub.parts[part].groups:
            errors.append(f"{node} is graded for {part!r} group {group!r}, which the rubric "
                          f"does not list (groups: {', '.join(rub.parts[part].groups)})")
        else:
            manifest[node] = (part, group)
    used = set(manifest.values())
    for part in rub.code_parts:
        for g in part.groups:
            if (part.name, g) not in used:
                errors.append(f"part {part.name!r} group {g!r} has no graded test (mark tests "
                              f"with @pytest.mark.graded({part.name!r}, {g!r}))")
    if errors:
        raise GradeError("rubric and tests disagree:\n" + "\n".join(errors))
    return manifest


def _module_name(path):
    """Dotted module of a kit-relative ``.py`` path under ``cs231n/`` (else None)."""
    if not path.startswith("cs231n/") or not path.endswith(".py"):
        return None
    mod = path[:-3].replace("/", ".")
    return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod


def substitution_table(rubric, regions):
    """``{part: [[module, qualname], ...]}``: the functions other parts own.

    While a test of a part runs, the grader's test process replaces each listed
    function by the reference kit's (see ``cs231n/grading/runner.py``). Regions
    the part owns itself (a shared helper) are never replaced.
    """
    ids = {r.id: r for r in regions if r.context == "function"}
    owned = {p.name: regions_of_part(p, ids) for p in rubric.code_parts}
    table = {}
    for name, mine in owned.items():
        others = set().union(*(o for n, o in owned.items() if n != name)) - mine
        pairs = set()
        for rid in others:
            r = ids[rid]
            mod = _module_name(r.path)
            if mod is not None:
                pairs.add((mod, r.qualname))
        table[name] = [list(p) for p in sorted(pairs)]
    return table


# --------------------------------------------------------------------------- submission
def _unzip(path, dest):
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if sum(m.file_size for m in members) > MAX_UNZIPPED:
            raise GradeError(f"{path}: more than {MAX_UNZIPPED} bytes uncompressed")
        for m in members:
            name = m.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise GradeError(f"{path}: unsafe member name {m.filename!r}")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                continue  # symbolic link: skipped
            zf.extract(m, dest)


def locate_package_root(path, scratch):
    """Directory that holds the submission's ``cs231n/__init__.py``.

    ``path`` may be that directory, a directory with it one or two levels down
    (an unpacked zip with a top folder), or a ``.zip`` file (unpacked into
    ``scratch``).
    """
    p = Path(path)
    if p.is_file() and zipfile.is_zipfile(p):
        dest = Path(scratch) / "submission"
        dest.mkdir()
        _unzip(p, dest)
        p = dest
    elif not p.is_dir():
        raise GradeError(f"submission {path} is neither a directory nor a zip file")
    p = p.resolve()
    found = [p] if (p / "cs231n" / "__init__.py").is_file() else []
    if not found:
        for init in sorted(p.glob("*/cs231n/__init__.py")) + sorted(p.glob("*/*/cs231n/__init__.py")):
            found.append(init.parent.parent)
    if not found:
        raise GradeError(f"no cs231n package (cs231n/__init__.py) in submission {path}")
    if len(found) > 1:
        raise GradeError(f"several cs231n packages in submission {path}: "
                         + ", ".join(str(f) for f in found))
    return found[0]


# --------------------------------------------------------------------------- outcomes
def _outcome(reports):
    for when in ("setup", "call", "teardown"):
        r = reports.get(when)
        if r and r.get("outcome") == "failed":
            if r.get("timeout"):
                return "timeout", r.get("message", "")
            return ("failed" if when == "call" else "error"), r.get("message", "")
    call = reports.get("call")
    if call and call.get("outcome") == "passed" and "teardown" in reports:
        return "passed", ""
    for r in reports.values():
        if r.get("outcome") == "skipped":
            return "skipped", r.get("message", "")
    return "error", "incomplete test report"


def _module(node):
    return node.split("::", 1)[0]


def _run_tests(sub, kit, manifest, *, time_limit, grace, total_time_limit, margin,
               max_restarts, workdir, memory_limit=None, substitute=None):
    """Run the graded tests against ``sub``; return ({node: (outcome, message)}, info)."""
    results, pending = {}, list(manifest)
    bad_modules, notes = {}, []
    deadline = time.monotonic() + total_time_limit
    hard = time_limit + grace + margin
    sessions = restarts = 0
    out_bytes, out_text = 0, ""
    while pending:
        for n in [n for n in pending if _module(n) in bad_modules]:
            results[n] = ("error", bad_modules[_module(n)])
        pending = [n for n in pending if _module(n) not in bad_modules]
        if not pending:
            break
        files = sorted({_module(n) for n in pending})
        sessions += 1
        tag = f"run{sessions}"
        cfg = {"mode": "pytest", "submission": str(sub), "forbid": [str(kit)],
               "args": _pytest_args(kit, workdir, tag, files), "only": pending,
               "time_limit": time_limit, "grace": grace, "memory_limit": memory_limit,
               "reference": str(kit), "substitute": substitute or {}}
        events, rc, killed, output, nbytes = _run_child(cfg, workdir, tag, hard, deadline)
        out_bytes += nbytes
        out_text = output
        reports, started, finished = {}, [], set()
        collect_err, open_collect, hard_timeouts, finished_session = {}, None, set(), False
        for e in events:
            ev = e.get("event")
            if ev == "report":
                reports.setdefault(e["id"], {})[e["when"]] = e
            elif ev == "start":
                started.append(e["id"])
            elif ev == "finish":
                finished.add(e["id"])
            elif ev == "collectstart":
                open_collect = e["id"]
            elif ev == "collectreport":
                open_collect = None
                if e.get("outcome") == "failed":
                    collect_err[e["id"]] = e.get("message", "")
            elif ev == "hardtimeout":
                hard_timeouts.add((e.get("kind"), e.get("id")))
            elif ev == "note" and e.get("message") and e["message"] not in notes:
                notes.append(e["message"])
            elif ev == "sessionfinish":
                # 0 passed, 1 some failed, 5 none collected; 2 (interrupted: a test
                # raised KeyboardInterrupt or called pytest.exit) and 3 (internal
                # error) leave tests unrun, so they count as an abnormal end
                finished_session = e.get("exitstatus") in (0, 1, 5)
            elif ev == "fatal":
                if e.get("reason") == "foreign":
                    mods = ", ".join(f"{m} from {w}" for m, w in e.get("modules", []))
                    raise GradeError(f"refusing to grade: cs231n modules were imported from "
                                     f"outside the submission {sub}: {mods}")
                msg = "the submission's cs231n package failed to import:\n" + e.get("message", "")
                for n in pending:
                    results[n] = ("error", msg)
                return results, {"sessions": sessions, "restarts": restarts,
                                 "output_bytes": out_bytes, "output": out_text, "notes": notes}
        for n in finished:
            results[n] = _outcome(reports.get(n, {}))
        unfinished = [n for n in started if n not in finished]
        for n in unfinished:
            if ("test", n) in hard_timeouts or (killed and killed[0] == "watchdog"):
                how = ("still running " + (f"{grace:g} s after the {time_limit:g} s time limit"
                       if ("test", n) in hard_timeouts else
                       f"{hard:g} s after it started (SIGALRM ignored or blocked)"))
                results[n] = ("timeout", f"killed: {how}")
            elif killed and killed[0] == "total":
                results[n] = ("timeout", f"killed: total time limit of {total_time_limit:g} s reached")
            else:
                results[n] = ("crashed", f"the test process ended (exit status {rc}) while this "
                                         f"test ran; last output:\n{output[-2000:]}")
        pending = [n for n in pending if n not in results]
        if finished_session or not pending:
            for n in pending:
                err = collect_err.get(_module(n))
                results[n] = ("error", "not collected: " + (err or "this test was not found when "
                                                                   "collecting the submission run"))
            break
        if killed and killed[0] == "total":
            for n in pending:
                results[n] = ("error", f"not run: total time limit of {total_time_limit:g} s reached")
            notes.append("total time limit reached")
            break
        if open_collect is not None:
            why = ("timed out" if ("collect", open_collect) in hard_timeouts
                   or (killed and killed[0] == "watchdog") else f"crashed (exit status {rc})")
            bad_modules[open_collect] = f"error: importing the test module {why}"
        elif not unfinished and not finished:
            for n in pending:
                results[n] = ("error", f"not run: the test process died before running any test "
                                       f"(exit status {rc}); last output:\n{output[-2000:]}")
            break
        restarts += 1
        notes.append(f"test process ended abnormally (exit status {rc}); restarted on "
                     f"{len(pending)} remaining tests")
        if restarts > max_restarts:
            for n in pending:
                results[n] = ("error", f"not run: more than {max_restarts} restarts")
            break
    return results, {"sessions": sessions, "restarts": restarts, "output_bytes": out_bytes,
                     "output": out_text, "notes": notes}


# --------------------------------------------------------------------------- notebooks
def _count_unanswered(text, path):
    if path.endswith(".ipynb"):
        try:
            nb = json.loads(text)
            text = "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list)
                             else str(c.get("source", "")) for c in nb.get("cells", []))
        except (ValueError, AttributeError, TypeError):
            pass
    return sum(text.count(s) for s in markers.UNANSWERED_SIGNS)


def notebook_status(kit, sub, rubric, regions):
    """Per notebook part: how many inline answers differ from the hand-out placeholder.

    A region counts as unanswered while its placeholder (``YOUR CODE HERE`` /
    ``YOUR ANSWER HERE``) is still in the submitted notebook; the ``.py`` and the
    ``.ipynb`` versions are both looked at and the better one is reported.
    """
    ids = {r.id: r for r in regions}
    out = {}
    for part in rubric.notebook_parts:
        owned = sorted(regions_of_part(part, ids))
        by_stem = {}
        for rid in owned:
            path = ids[rid].path
            by_stem.setdefault(path.rsplit(".", 1)[0], {}).setdefault(path, []).append(rid)
        books = []
        for stem, files in sorted(by_stem.items()):
            ref_path, ref_ids = sorted(files.items(), key=lambda kv: not kv[0].endswith(".py"))[0]
            n = len(ref_ids)
            ref_text = markers.read_source(Path(kit) / ref_path)
            released, _ = markers.release_source(ref_text, ref_path)
            other = _count_unanswered(released, ref_path) - n  # signs not from placeholders
            best = None
            for ext in (".py", ".ipynb"):
                f = Path(sub) / (stem + ext)
                if f.is_file():
                    left = _count_unanswered(f.read_text(encoding="utf-8", errors="replace"),
                                             stem + ext)
                    answered = n - min(n, max(0, left - other))
                    best = answered if best is None else max(best, answered)
            status = ("missing" if best is None else "answered" if best == n
                      else "unanswered" if best == 0 else "partly answered")
            books.append({"notebook": stem, "regions": n, "answered": best or 0, "status": status})
        out[part.name] = books
    return out


# --------------------------------------------------------------------------- grade
def _scan_regions(kit, rubric):
    regions = []
    for rel in kit_files(kit, rubric.instructor_only):
        if rel.endswith((".py", ".ipynb")):
            text = markers.read_source(Path(kit) / rel)
            regions.extend(markers.scan_source(text, rel))
    return regions


def grade(submission, kit=None, rubric=None, *, manifest=None, time_limit=None, grace=None,
          total_time_limit=None, margin=10.0, max_restarts=20, memory_limit=None,
          substitute=True):
    """Grade one submission; return the result dictionary (see ``format_table``).

    Parameters
    ----------
    submission : path
        Directory or ``.zip`` holding the student's ``cs231n`` package.
    kit : path, optional
        Reference kit root (its ``tests/`` are run); default: this kit.
    rubric : path or Rubric, optional
        Default ``<kit>/cs231n/grading/rubric.json``.
    manifest : dict, optional
        Output of :func:`collect_manifest` (saves one collection when grading
        many submissions).
    time_limit, grace, total_time_limit : float, optional
        Seconds; default from the rubric.
    margin : float
        Extra seconds the watchdog waits beyond ``time_limit + grace``.
    max_restarts : int
        Restarts of the test process after crashes before giving up.
    memory_limit : int, optional
        Address-space limit of the test process in bytes (``RLIMIT_AS``); an
        allocation beyond it raises ``MemoryError`` in the test. Default: none.
    substitute : bool
        While a test of part P runs, use the reference kit's version of every
        function another part owns (default True), so a mistake costs points
        only in its own part.
    """
    t0 = time.monotonic()
    kit = Path(kit or default_kit()).resolve()
    rub = _load(kit, rubric)
    time_limit = float(time_limit or rub.time_limit)
    grace = float(grace or rub.grace)
    total_time_limit = float(total_time_limit or rub.total_time_limit)
    if manifest is None:
        manifest = collect_manifest(kit, rub, time_limit=time_limit)
    regions = _scan_regions(kit, rub)
    table = substitution_table(rub, regions) if substitute else {}
    with tempfile.TemporaryDirectory(prefix="cs231n-grade-") as work:
        sub = locate_package_root(submission, work)
        # Only the package is put on sys.path (a copy): other top-level files of the
        # submission (a numpy.py, pytest.py, sitecustomize.py...) cannot shadow
        # anything, and the submission itself is never written to.
        pkg = Path(work) / "pkg"
        shutil.copytree(sub / "cs231n", pkg / "cs231n", ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "cifar-10-batches-py", "*.tar.gz"))
        run_dir = Path(work) / "run"
        run_dir.mkdir()
        outcomes, info = _run_tests(pkg, kit, manifest, time_limit=time_limit, grace=grace,
                                    total_time_limit=total_time_limit, margin=margin,
                                    max_restarts=max_restarts, workdir=run_dir,
                                    memory_limit=memory_limit, substitute=table)
        outcomes = {n: (o, m.replace(str(pkg), str(sub))) for n, (o, m) in outcomes.items()}
        info["output"] = info["output"].replace(str(pkg), str(sub))
        books = notebook_status(kit, sub, rub, regions)
        sub_shown = str(sub) if Path(submission).is_dir() else f"{submission} (zip)"
    hidden = PathFilter(rub.instructor_only)
    parts, total, max_total, manual_max = [], 0.0, 0.0, 0.0
    for number, part in enumerate(rub.parts.values(), start=1):
        if part.kind == "notebook":
            nb = books.get(part.name, [])
            manual_max += part.points
            parts.append({"part": part.name, "kind": "notebook", "number": str(number),
                          "points": None, "max_points": part.points,
                          "regions": sum(b["regions"] for b in nb),
                          "answered": sum(b["answered"] for b in nb), "notebooks": nb,
                          "review": "manual"})
            continue
        res, groups = [], []
        for gnum, (gname, group) in enumerate(part.groups.items(), start=1):
            nodes = [n for n, pg in manifest.items() if tuple(pg) == (part.name, gname)]
            rows = [{"test": n, "group": gname,
                     "hidden": hidden.excluded_or_inside(_module(n), False),
                     "outcome": outcomes[n][0], "message": outcomes[n][1]} for n in nodes]
            passed = sum(r["outcome"] == "passed" for r in rows)
            pts = group.score(passed, len(nodes))
            groups.append({"group": gname, "number": f"{number}.{gnum}",
                           "scoring": group.scoring, "passed": passed, "tests": len(nodes),
                           "hidden_tests": sum(r["hidden"] for r in rows),
                           "points": round(pts, 6), "max_points": group.points})
            res.extend(rows)
        pts = sum(g["points"] for g in groups)
        total += pts
        max_total += part.points
        parts.append({"part": part.name, "kind": "code", "number": str(number),
                      "passed": sum(g["passed"] for g in groups),
                      "tests": sum(g["tests"] for g in groups),
                      "points": round(pts, 6), "max_points": part.points,
                      "groups": groups, "results": res})
    counts = {}
    for o, _ in outcomes.values():
        counts[o] = counts.get(o, 0) + 1
    return {
        "submission": sub_shown,
        "kit": str(kit),
        "rubric": rub.path,
        "total": round(total, 6),
        "max_total": max_total,
        "manual_max": manual_max,
        "parts": parts,
        "outcomes": counts,
        "visibility": dict(rub.visibility),
        "run": {"time_limit": time_limit, "grace": grace, "total_time_limit": total_time_limit,
                "sessions": info["sessions"], "restarts": info["restarts"],
                "duration": round(time.monotonic() - t0, 2),
                "output_bytes": info["output_bytes"], "output_excerpt": info["output"],
                "substitution": bool(table and any(table.values())),
                "notes": info["notes"]},
    }


def format_table(result, verbose=False):
    """The score table printed by the CLI: one row per part, one per check group."""
    rows = [("part / check group", "tests", "points", "max")]
    for p in result["parts"]:
        if p["kind"] == "code":
            rows.append((p["part"], f"{p['passed']}/{p['tests']}", f"{p['points']:.2f}",
                         f"{p['max_points']:.2f}"))
            for g in p.get("groups", []):
                how = " (share)" if g["scoring"] == "proportional" else ""
                rows.append((f"  {g['group']}{how}", f"{g['passed']}/{g['tests']}",
                             f"{g['points']:.2f}", f"{g['max_points']:.2f}"))
        else:
            rows.append((p["part"], f"answered {p['answered']}/{p['regions']}", "manual",
                         f"{p['max_points']:.2f}"))
    w0 = max(len(r[0]) for r in rows) + 2
    w1 = max(len(r[1]) for r in rows) + 2
    lines = [f"{r[0]:<{w0}}{r[1]:>{w1}}{r[2]:>10}{r[3]:>10}" for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    lines.append(f"{'total (automatic)':<{w0 + w1}}{result['total']:>10.2f}{result['max_total']:>10.2f}")
    if result["manual_max"]:
        lines.append(f"{'manual review: notebook answers':<{w0 + w1}}{'':>10}{result['manual_max']:>10.2f}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items()))
    run = result["run"]
    lines.append(f"tests: {counts}; {run['sessions']} test process(es), {run['duration']:.1f} s")
    for note in run["notes"]:
        lines.append(f"note: {note}")
    if verbose:
        seen = set()
        for p in result["parts"]:
            for r in p.get("results", []):
                if r["outcome"] != "passed" and r["test"] not in seen:
                    seen.add(r["test"])
                    lines.append(f"  {r['outcome']:<8} {r['test']}: {failure_line(r['message'])}")
    return "\n".join(lines)


def failure_line(message, width=400):
    """One line saying why a test failed, from pytest's report of it.

    The first informative ``E`` line (the exception, the assertion or numpy's
    tolerance) and numpy's largest difference, preceded by the failing
    statement when the report marks it (the last ``>`` line of pytest's long
    tracebacks), rather than the report's last line, which for an array
    comparison is a row of numbers.
    """
    lines = message.strip().splitlines()
    stmt = next((ln[1:].strip() for ln in reversed(lines) if ln.startswith(">")), "")
    details = []
    for ln in lines:
        text = ln[1:].strip() if ln.startswith("E ") else ""
        if not text or text in ("AssertionError:", "AssertionError") or text.startswith(("+", "-", "?")):
            continue
        if text.startswith(("ACTUAL", "DESIRED", "x:", "y:")):
            break                                             # numpy's array dumps follow
        if not details or text.startswith("Max absolute difference"):
            details.append(text)
    if details and details[0].startswith('File "'):
        # a SyntaxError as Python shows it: File "...", line N / the code / the error
        exc = [ln[1:].strip() for ln in lines if ln.startswith("E ")
               and re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", ln[1:].strip())]
        if exc:
            where = re.sub(r'^File "([^"]*)", ', lambda m: Path(m.group(1)).name + ", ", details[0])
            details = [f"{exc[-1]} ({where})"]
    out = "; ".join(details) or (lines[-1].strip() if lines else "")
    if stmt and not out.startswith(stmt):
        out = f"{stmt}  ->  {out}"
    return out if len(out) <= width else out[: width - 3] + "..."


# --------------------------------------------------------------------------- Gradescope
def _group_output(rows, limit=20):
    bad = [r for r in rows if r["outcome"] != "passed"]
    if not bad:
        return f"all {len(rows)} check(s) passed"
    lines = [f"{len(rows) - len(bad)} of {len(rows)} check(s) passed; not passed:"]
    for r in bad[:limit]:
        name = r["test"].split("::", 1)[-1]
        lines.append(f"- {name} [{r['outcome']}]: {failure_line(r['message'])}")
    if len(bad) > limit:
        lines.append(f"... and {len(bad) - limit} more")
    return "\n".join(lines)


def hidden_test_lines(kit, rubric):
    """Lines (16+ characters, stripped) of the kit's hidden test files: text that must
    not reach a visible output, whatever a submission prints or raises."""
    rub = _load(kit, rubric)
    flt = PathFilter(rub.instructor_only)
    lines = set()
    for f in sorted(Path(kit, "tests").rglob("*.py")):
        rel = f.relative_to(kit).as_posix()
        if flt.excluded_or_inside(rel, False):
            for ln in f.read_text(encoding="utf-8", errors="replace").splitlines():
                ln = ln.strip()
                if len(ln) >= 16:
                    lines.add(ln)
    return frozenset(lines)


def _redact(text, secrets):
    if not secrets:
        return text
    out = []
    for ln in text.splitlines():
        if any(sec in ln for sec in secrets):
            ln = "[a line quoting a hidden test was removed]"
        out.append(ln)
    return "\n".join(out)


def gradescope_results(result, redact=()):
    """Gradescope's autograder results (``results.json``) for a grading result.

    One entry in ``tests`` per check group, numbered ``PART.GROUP`` in rubric
    order (``"4.2"``), tagged with its part and group; a group made only of public
    tests has the rubric's public visibility (default ``visible``), a group with a
    hidden test the hidden one (default ``after_published``), and then a second
    entry, ``PART.GROUP.1`` with no points and the public visibility, reports the
    group's public checks, so a student sees those before publication. Notebook parts are
    listed with no points (they are scored by hand). The top-level ``score`` is the
    automatic total. In entries visible before publication, lines containing any
    string of ``redact`` (see :func:`hidden_test_lines`) are replaced.
    """
    vis = result.get("visibility") or {"public": "visible", "hidden": "after_published"}
    tests = []
    for p in result["parts"]:
        if p["kind"] != "code":
            tests.append({
                "name": f"{p['part']}: notebook answers (scored by hand, {p['max_points']:g} points)",
                "number": p["number"], "score": 0.0, "max_score": 0.0,
                "status": "passed" if p["answered"] == p["regions"] else "failed",
                "output": f"{p['answered']} of {p['regions']} answers filled in; reviewed by hand.",
                "output_format": "text", "tags": [p["part"], "manual"],
                "visibility": vis["public"]})
            continue
        for g in p["groups"]:
            rows = [r for r in p["results"] if r["group"] == g["group"]]
            share = ("Points in proportion to the checks passed.\n"
                     if g["scoring"] == "proportional" else "")
            tests.append({
                "name": f"{p['part']}: {g['group']}",
                "number": g["number"],
                "score": g["points"], "max_score": g["max_points"],
                "status": "passed" if g["passed"] == g["tests"] else "failed",
                "output": (share + _group_output(rows)) if g["hidden_tests"] else
                          _redact(share + _group_output(rows), redact),
                "output_format": "text", "tags": [p["part"], g["group"]],
                "visibility": vis["hidden"] if g["hidden_tests"] else vis["public"]})
            public = [r for r in rows if not r["hidden"]]
            if g["hidden_tests"] and public and vis["hidden"] != vis["public"]:
                # the group's points wait for publication; its public checks need not
                tests.append({
                    "name": f"{p['part']}: {g['group']} (public checks; points above)",
                    "number": f"{g['number']}.1", "score": 0.0, "max_score": 0.0,
                    "status": "passed" if all(r["outcome"] == "passed" for r in public)
                              else "failed",
                    "output": _redact(_group_output(public), redact),
                    "output_format": "text", "tags": [p["part"], g["group"], "public"],
                    "visibility": vis["public"]})
    run = result["run"]
    summary = (f"Automatic score {result['total']:g} / {result['max_total']:g}"
               + (f"; notebook answers ({result['manual_max']:g} points) are scored by hand"
                  if result["manual_max"] else "") + ".")
    notes = [f"note: {n}" for n in run.get("notes", [])]
    return {"score": result["total"], "execution_time": int(round(run["duration"])),
            "output": _redact("\n".join([summary] + notes), redact), "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def gradescope_failure(message, execution_time=0.0):
    """A results file for a grading that could not finish: score 0 and why."""
    return {"score": 0.0, "execution_time": int(round(execution_time)),
            "output": "The autograder could not grade this submission (score 0):\n" + message,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "visible",
            "tests": []}


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


# --------------------------------------------------------------------------- CLI
def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m cs231n.grade",
        description="Run the kit's graded tests against a student's cs231n package and "
                    "print a per-part score table.")
    ap.add_argument("submission", help="directory or .zip holding the student's cs231n package")
    ap.add_argument("--format", choices=("table", "json", "gradescope"), default="table",
                    help="what --out receives (default: the table, printed): the grader's "
                         "JSON or Gradescope's results.json")
    ap.add_argument("--out", metavar="PATH",
                    help="write the --format output here, atomically ('-' or none: stdout); "
                         "with --format gradescope the file is written even when grading "
                         "fails (score 0 and the reason)")
    ap.add_argument("--json", metavar="PATH", help="also write the grader's JSON here ('-': "
                                                   "print it instead of the table)")
    ap.add_argument("--kit", help="reference kit root (default: this kit)")
    ap.add_argument("--rubric", help="rubric file (default: <kit>/cs231n/grading/rubric.json)")
    ap.add_argument("--manifest", metavar="PATH",
                    help="graded tests collected beforehand (JSON {node id: [part, group]}, "
                         "as the autograder zip holds); default: collect the kit's tests now")
    ap.add_argument("--time-limit", type=float, help="seconds per test (default: rubric)")
    ap.add_argument("--grace", type=float, help="seconds before a timed-out test is killed")
    ap.add_argument("--total-time-limit", type=float, help="seconds for the whole run")
    ap.add_argument("--watchdog-margin", type=float, default=10.0,
                    help="extra seconds before the grader kills a stuck test process")
    ap.add_argument("--max-restarts", type=int, default=20,
                    help="restarts of the test process after crashes")
    ap.add_argument("--memory-limit", type=float, metavar="GB",
                    help="address-space limit of the test process (default: none)")
    ap.add_argument("--no-substitution", action="store_true",
                    help="test every part with the submission's own versions of the other "
                         "parts' functions (default: the reference's)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list tests that did not pass")
    args = ap.parse_args(argv)
    for name in ("time_limit", "grace", "total_time_limit", "memory_limit"):
        v = getattr(args, name)
        if v is not None and not v > 0:
            ap.error(f"--{name.replace('_', '-')} must be positive")
    gradescope_out = args.out if args.format == "gradescope" and args.out not in (None, "-") else None
    t0 = time.monotonic()

    def on_term(signum, frame):
        raise GradeError(f"grading was stopped by signal {signum} (time limit of the "
                         "autograder reached?)")

    if gradescope_out and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    try:
        manifest = None
        if args.manifest:
            try:
                raw = json.loads(Path(args.manifest).read_text(encoding="utf-8"))
                manifest = {str(n): (str(pg[0]), str(pg[1])) for n, pg in raw.items()}
            except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
                raise GradeError(f"--manifest {args.manifest}: unreadable ({exc})") from None
        result = grade(args.submission, args.kit, args.rubric, manifest=manifest,
                       time_limit=args.time_limit,
                       grace=args.grace, total_time_limit=args.total_time_limit,
                       margin=args.watchdog_margin, max_restarts=args.max_restarts,
                       memory_limit=int(args.memory_limit * 1024 ** 3) if args.memory_limit else None,
                       substitute=not args.no_substitution)
    except (GradeError, RubricError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        if gradescope_out:
            write_json_atomic(gradescope_out, gradescope_failure(str(exc), time.monotonic() - t0))
        return 2
    except BaseException as exc:  # noqa: BLE001 - a grader bug still leaves a results file
        if gradescope_out:
            write_json_atomic(gradescope_out, gradescope_failure(
                f"internal error of the grader: {type(exc).__name__}: {exc}",
                time.monotonic() - t0))
        raise
    text = json.dumps(result, indent=2)
    if args.json == "-":
        print(text)
        return 0
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    if args.format == "table" or args.out is None or args.out == "-":
        if args.format == "table":
            print(format_table(result, args.verbose))
        else:
            data = (gradescope_results(result, hidden_test_lines(result["kit"], args.rubric))
                    if args.format == "gradescope" else result)
            print(json.dumps(data, indent=2))
        return 0
    data = (gradescope_results(result, hidden_test_lines(result["kit"], args.rubric))
            if args.format == "gradescope" else result)
    write_json_atomic(args.out, data)
    print(format_table(result, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
