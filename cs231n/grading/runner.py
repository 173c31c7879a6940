"""Grader-side pytest runner, executed as a script in a fresh interpreter.

    python runner.py CONFIG.json

It is run by path (never imported from the package under test) so that nothing of
the submission can replace it. CONFIG keys:

``mode``
    ``"pytest"`` (run tests) or ``"import"`` (import the modules in ``modules``).
``submission``
    Directory holding the ``cs231n`` package to test; put first on ``sys.path``.
``forbid``
    Directories that must not serve ``cs231n`` (the reference kit); removed from
    ``sys.path``.
``results``
    File receiving one JSON object per line (appended with ``os.write`` so a crash
    loses nothing already written).
``args``
    pytest arguments. ``only``: node ids to keep (others deselected), or null.
``memory_limit``
    Optional address-space limit in bytes (``RLIMIT_AS``).
``reference``, ``substitute``
    Optional. ``reference`` is the reference kit's root; ``substitute`` maps a
    rubric part to the ``[module, qualname]`` pairs of the functions that *other*
    parts own. While a test graded for part P runs (setup to teardown), each of
    those functions is replaced by the reference kit's version (imported once as
    the package ``_cs231n_reference``) wherever a loaded ``cs231n`` module or the
    test's own module binds it (``Class.method`` names replace the method on the
    class), and put back afterwards. So a test of P exercises only P's code.
``time_limit``, ``grace``
    Seconds. After ``time_limit`` a test (or a module import during collection)
    gets :class:`GradeTimeout` raised at its current line; ``grace`` seconds later,
    if it is still running, a ``hardtimeout`` line is written and the process exits
    with status 70, so the grader can carry on with the remaining tests.

Isolation: ``cs231n`` is imported from the submission *before* pytest starts (later
``sys.path`` changes by pytest or conftest files cannot redirect it), setuptools'
editable-install finders (``__editable__*`` meta-path finders, which would otherwise
serve a module missing from the submission out of the reference kit) are removed,
and after collection and after every test each loaded ``cs231n`` module is checked
to live inside the submission; if not, a ``fatal`` line (reason ``foreign``) is
written and the process exits with status 71.
"""
import json
import os
import signal
import sys
import time
import traceback

EXIT_HARD_TIMEOUT = 70
EXIT_FATAL = 71
TEXT_CAP = 4000


class GradeTimeout(BaseException):
    """Raised in a test that ran past its time limit (not an Exception subclass,
    so ``except Exception`` in student code does not swallow it)."""


def _cap(text, limit=TEXT_CAP):
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n... [{len(text) - limit} characters cut] ...\n" + text[-half:]


class Log:
    """Append JSON lines to the results file, one ``os.write`` per line."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, **record):
        record["time"] = time.time()
        data = (json.dumps(record, default=str) + "\n").encode("utf-8")
        blocked = hasattr(signal, "pthread_sigmask") and hasattr(signal, "SIGALRM")
        if blocked:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Timer:
    """Per-activity time limit with SIGALRM (main thread; POSIX)."""

    def __init__(self, log, limit, grace):
        self.log, self.limit, self.grace = log, float(limit), float(grace)
        self.current = None
        self.fired = False
        self.stage = 0
        signal.signal(signal.SIGALRM, self._fire)

    def arm(self, kind, ident):
        self.current = (kind, ident)
        self.fired = False
        self.stage = 0
        signal.setitimer(signal.ITIMER_REAL, self.limit)

    def disarm(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.current = None

    def _fire(self, signum, frame):
        if self.current is None:
            return
        if self.stage == 0:
            self.stage = 1
            self.fired = True
            signal.setitimer(signal.ITIMER_REAL, self.grace)
            raise GradeTimeout(f"time limit of {self.limit:g} s exceeded")
        kind, ident = self.current
        self.log.write(event="hardtimeout", kind=kind, id=ident, limit=self.limit)
        os._exit(EXIT_HARD_TIMEOUT)


def _real(p):
    return os.path.normcase(os.path.realpath(p))


def _inside(path, root):
    path, root = _real(path), _real(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_editable_hook(obj):
    mod = getattr(obj, "__module__", None) or ""
    return mod.startswith("__editable__")


def isolate(submission, forbid=()):
    """Make ``submission`` the only place ``cs231n`` can come from."""
    here = _real(os.path.dirname(os.path.abspath(__file__)))
    bad = {here} | {_real(f) for f in forbid if _real(f) != _real(submission)}
    keep = []
    for p in sys.path:
        if p == "" or _real(p) in bad or _real(p) == _real(submission):
            continue
        keep.append(p)
    sys.path[:] = [submission] + keep
    sys.meta_path[:] = [f for f in sys.meta_path if not _is_editable_hook(f)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if not _is_editable_hook(h)]
    sys.path_importer_cache.clear()
    for name in list(sys.modules):
        if name == "cs231n" or name.startswith("cs231n."):
            del sys.modules[name]


def foreign_modules(submission):
    """[(module, location)] of loaded ``cs231n`` modules from outside ``submission``."""
    bad = []
    for name, mod in list(sys.modules.items()):
        if not (name == "cs231n" or name.startswith("cs231n.")) or mod is None:
            continue
        f = getattr(mod, "__file__", None)
        places = [f] if f else list(getattr(mod, "__path__", None) or [])
        for p in places:
            if not _inside(p, submission):
                bad.append((name, str(p)))
    return bad


REFERENCE_PACKAGE = "_cs231n_reference"
_MISSING = object()


class Substitutions:
    """Swap other parts' functions for the reference kit's while a test runs."""

    def __init__(self, log, reference, table):
        self.log, self.reference, self.table = log, reference, table or {}
        self.ref_pkg = None
        self.broken = None
        self.undo = []

    def _load_reference(self):
        if self.ref_pkg is not None or self.broken is not None:
            return self.ref_pkg
        import importlib.util
        root = os.path.join(self.reference, "cs231n")
        try:
            spec = importlib.util.spec_from_file_location(
                REFERENCE_PACKAGE, os.path.join(root, "__init__.py"),
                submodule_search_locations=[root])
            pkg = importlib.util.module_from_spec(spec)
            sys.modules[REFERENCE_PACKAGE] = pkg
            spec.loader.exec_module(pkg)
        except BaseException as exc:  # noqa: BLE001
            self.broken = f"{type(exc).__name__}: {exc}"
            self.log.write(event="note", message="reference kit did not import; no "
                           f"substitution: {self.broken}")
            return None
        self.ref_pkg = pkg
        return pkg

    def _ref_object(self, module, qualname):
        import importlib
        mod = importlib.import_module(REFERENCE_PACKAGE + module[len("cs231n"):])
        obj = mod
        for name in qualname.split("."):
            obj = getattr(obj, name)
        return mod, obj

    def apply(self, part, test_module):
        """Substitute for a test of ``part``; ``test_module`` also gets rebound."""
        pairs = self.table.get(part) or []
        if not pairs or self._load_reference() is None:
            return
        import inspect
        namespaces = [m for n, m in list(sys.modules.items())
                      if m is not None and (n == "cs231n" or n.startswith("cs231n."))]
        if test_module is not None:
            namespaces.append(test_module)
        for module, qualname in pairs:
            home = sys.modules.get(module)
            try:
                ref_mod, ref_obj = self._ref_object(module, qualname)
            except BaseException:  # noqa: BLE001 - the reference lacks it: nothing to swap
                continue
            names = qualname.split(".")
            if len(names) == 1:
                orig = _MISSING if home is None else home.__dict__.get(names[0], _MISSING)
                if home is not None and orig is _MISSING:
                    self.undo.append((home.__dict__, names[0], _MISSING))
                    home.__dict__[names[0]] = ref_obj
                if orig is _MISSING:
                    continue
                for ns in namespaces:
                    d = ns.__dict__
                    for key, val in list(d.items()):
                        if val is orig:
                            self.undo.append((d, key, val))
                            d[key] = ref_obj
            elif len(names) == 2 and home is not None:
                cls = home.__dict__.get(names[0])
                ref_cls = getattr(ref_mod, names[0], None)
                if not inspect.isclass(cls) or not inspect.isclass(ref_cls):
                    continue
                new = ref_cls.__dict__.get(names[1], _MISSING)
                if new is _MISSING:
                    continue
                self.undo.append((cls, names[1], cls.__dict__.get(names[1], _MISSING)))
                setattr(cls, names[1], new)

    def restore(self):
        while self.undo:
            target, key, old = self.undo.pop()
            if isinstance(target, dict):
                if old is _MISSING:
                    target.pop(key, None)
                else:
                    target[key] = old
            elif old is _MISSING:
                try:
                    delattr(target, key)
                except AttributeError:
                    pass
            else:
                setattr(target, key, old)


class GradePlugin:
    """pytest plugin: markers, deselection, time limits, JSON lines, location checks,
    substitution of other parts' functions."""

    def __init__(self, log, timer, submission, only, subs=None):
        self.log, self.timer, self.submission = log, timer, submission
        self.only = None if only is None else set(only)
        self.subs = subs
        self.items = {}

    def _check(self, where):
        bad = foreign_modules(self.submission)
        if bad:
            self.log.write(event="fatal", reason="foreign", where=where, modules=bad[:20])
            os._exit(EXIT_FATAL)

    def pytest_configure(self, config):
        config.addinivalue_line(
            "markers", "graded(part, group): the test counts toward this rubric check group")
        self.log.write(event="configure")

    def pytest_collectstart(self, collector):
        import pytest
        if isinstance(collector, pytest.Module):
            self.log.write(event="collectstart", id=collector.nodeid)
            self.timer.arm("collect", collector.nodeid)

    def pytest_collectreport(self, report):
        if self.timer.current == ("collect", report.nodeid):
            self.timer.disarm()
            rec = {"event": "collectreport", "id": report.nodeid, "outcome": report.outcome}
            if report.failed:
                rec["message"] = _cap(report.longreprtext)
            self.log.write(**rec)

    def pytest_collection_modifyitems(self, session, config, items):
        if self.only is not None:
            keep = [i for i in items if i.nodeid in self.only]
            dropped = [i for i in items if i.nodeid not in self.only]
            items[:] = keep
            if dropped:
                config.hook.pytest_deselected(items=dropped)
        for item in items:
            marks = [[list(m.args), sorted(m.kwargs)] for m in item.iter_markers("graded")]
            self.items[item.nodeid] = item
            self.log.write(event="collected", id=item.nodeid, graded=marks)
        self._check("collection")

    def pytest_runtest_logstart(self, nodeid, location):
        self.log.write(event="start", id=nodeid)
        self.timer.arm("test", nodeid)
        item = self.items.get(nodeid)
        if self.subs is not None and item is not None:
            mark = item.get_closest_marker("graded")
            if mark is not None and mark.args:
                try:
                    self.subs.apply(str(mark.args[0]), getattr(item, "module", None))
                except Exception as exc:  # noqa: BLE001 - never break the session
                    self.subs.restore()
                    self.log.write(event="note", message=f"substitution skipped for {nodeid}: "
                                   f"{type(exc).__name__}: {exc}")

    def pytest_runtest_logreport(self, report):
        rec = {"event": "report", "id": report.nodeid, "when": report.when,
               "outcome": report.outcome, "duration": round(report.duration, 4)}
        if self.timer.fired and self.timer.current == ("test", report.nodeid):
            rec["timeout"] = True
        if report.failed:
            rec["message"] = _cap(report.longreprtext)
        elif report.skipped and isinstance(report.longrepr, tuple):
            rec["message"] = _cap(report.longrepr[-1])
        self.log.write(**rec)

    def pytest_runtest_logfinish(self, nodeid, location):
        self.timer.disarm()
        if self.subs is not None:
            self.subs.restore()
        self._check(nodeid)
        self.log.write(event="finish", id=nodeid)

    def pytest_sessionfinish(self, session, exitstatus):
        self.log.write(event="sessionfinish", exitstatus=int(exitstatus))


def _import_submission(log, timer, submission):
    log.write(event="importstart", id="cs231n")
    timer.arm("import", "cs231n")
    try:
        import cs231n  # noqa: F401  (the submission's package)
    except BaseException as exc:  # noqa: BLE001 - anything the package raises
        timer.disarm()
        log.write(event="fatal", reason="import",
                  message=_cap("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
        return False
    timer.disarm()
    log.write(event="importend", id="cs231n")
    bad = foreign_modules(submission)
    if bad:
        log.write(event="fatal", reason="foreign", where="import", modules=bad[:20])
        os._exit(EXIT_FATAL)
    return True


def run_pytest(cfg):
    log = Log(cfg["results"])
    log.write(event="runner", pid=os.getpid(), python=sys.version.split()[0])
    if cfg.get("memory_limit"):
        import resource
        limit = int(cfg["memory_limit"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    submission = os.path.abspath(cfg["submission"])
    isolate(submission, cfg.get("forbid", ()))
    import pytest

    timer = Timer(log, cfg["time_limit"], cfg["grace"])
    if not _import_submission(log, timer, submission):
        return EXIT_FATAL
    subs = None
    if cfg.get("substitute") and cfg.get("reference"):
        subs = Substitutions(log, os.path.abspath(cfg["reference"]), cfg["substitute"])
    plugin = GradePlugin(log, timer, submission, cfg.get("only"), subs)
    code = pytest.main(list(cfg["args"]), plugins=[plugin])
    log.write(event="exit", code=int(code))
    return int(code)


def run_imports(cfg):
    """Import each module of ``cfg['modules']``; print a JSON list of failures."""
    submission = os.path.abspath(cfg["submission"])
    isolate(submission, cfg.get("forbid", ()))
    import importlib

    failures = []
    for name in cfg["modules"]:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    for name, where in foreign_modules(submission):
        failures.append(f"{name} was imported from {where}, outside {submission}")
    sys.stdout.write("\n" + json.dumps(failures) + "\n")
    return 0


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("mode") == "import":
        return run_imports(cfg)
    return run_pytest(cfg)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
