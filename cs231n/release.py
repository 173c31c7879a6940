"""Write the student kit: ``python -m cs231n.release student OUTDIR [--zip]``.

Every solution region (``### BEGIN SOLUTION`` ... ``### END SOLUTION``) is replaced:
in modules by ``raise NotImplementedError("<file>:<function>: <short TODO>")``, in
notebooks by a placeholder (``# YOUR CODE HERE`` + ``pass``, or
``*Your answer:* YOUR ANSWER HERE``); ``.ipynb`` outputs are cleared. In Markdown
files the lines from ``<!-- instructor-only -->`` to ``<!-- /instructor-only -->``
(each alone on its line; README's instructor tools, mutation scores, test counts of
the full kit) are left out. Every other file is copied byte for byte. Left out:
version control, caches, downloaded data, experiment runs, the kit's ``.gitignore`` patterns, and the rubric's
``instructor_only`` files (these tools, the rubric, their tests and docs).

Before the release is moved into place it is verified, and nothing is written if
a check fails:

* no marker text left in any ``.py``/``.ipynb`` file;
* no solution line in any file (a line of a region counts as solution text when
  it does not also appear outside the stubbed regions in the released code;
  lines shorter than 5 characters and bare keywords are ignored; in files other
  than ``.py``/``.ipynb`` a solution line of 12+ characters is also caught when
  quoted inside a longer line);
* no file mentions what the release leaves out: the rubric's instructor-only
  files by path (``docs/INSTRUCTORS.md``, ``.ci``, ``tests/hidden``...) or module
  (``cs231n.grade``), or ``../shared``;
* every ``.py`` file still compiles, and every module of the ``cs231n`` package
  imports (in a separate interpreter, with the release first on ``sys.path``).

``python -m cs231n.release check`` lists the regions, the rubric parts that own
them, and any mismatch.

Instructor-only; reads and writes files, never imports the kit's numerical code.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cs231n.grading import markers
from cs231n.grading.rubric import (RubricError, coverage_problems, kit_files, kit_filter,
                                   load_rubric, regions_of_part)

__all__ = ["ReleaseError", "Kit", "scan_kit", "build_release", "verify_release", "make_zip",
           "main"]

RUNNER = Path(__file__).resolve().parent / "grading" / "runner.py"
QUOTE_MIN = 12  # solution lines at least this long are also caught quoted inside prose


class ReleaseError(RuntimeError):
    """The release cannot be written (bad markers, leaks, import failures...)."""


def default_source():
    """Root of the kit this module belongs to."""
    return Path(__file__).resolve().parents[1]


def default_rubric(source):
    return Path(source) / "cs231n" / "grading" / "rubric.json"


@dataclass
class Kit:
    """A scanned reference kit: released files, their texts and regions."""

    root: Path
    rubric: object
    files: list
    texts: dict = field(default_factory=dict)     # rel -> str, for .py / .ipynb
    regions: dict = field(default_factory=dict)   # rel -> [Region]

    @property
    def all_regions(self):
        return [r for rs in self.regions.values() for r in rs]


def scan_kit(source=None, rubric=None):
    """Select the release files of a kit and find their solution regions.

    Raises
    ------
    ReleaseError
        Marker problems (all of them, one per line).
    """
    root = Path(source or default_source()).resolve()
    rub = rubric if hasattr(rubric, "parts") else load_rubric(rubric or default_rubric(root))
    kit = Kit(root, rub, kit_files(root, rub.instructor_only))
    problems = []
    for rel in kit.files:
        if not rel.endswith((".py", ".ipynb")):
            continue
        text = markers.read_source(root / rel)
        kit.texts[rel] = text
        try:
            regions = markers.scan_source(text, rel)
        except markers.MarkerError as exc:
            problems.append(str(exc))
            continue
        if regions:
            kit.regions[rel] = regions
    if problems:
        raise ReleaseError("solution markers need fixing:\n" + "\n".join(problems))
    return kit


def _keep_ids(kit, keep):
    ids = {r.id for r in kit.all_regions}
    out = set()
    for name in keep:
        if name not in kit.rubric.parts:
            raise ReleaseError(f"--keep {name!r}: no such part; parts: "
                               + ", ".join(kit.rubric.parts))
        out |= regions_of_part(kit.rubric.parts[name], ids)
    return out


def _secrets(kit, keep_ids):
    """{normalised solution line: region id} for the regions being stubbed.

    A region line is secret unless it is trivial or also appears, outside the
    stubbed regions, in a released ``.py``/``.ipynb`` file (code the students get
    anyway, such as ``cache = (x, w, b)`` after a region). Documentation does not
    make a line public: a solution quoted in a README is a leak.
    """
    public = set()
    for rel, text in kit.texts.items():  # code only: a solution copied into a doc is a leak
        hidden = set()
        for r in kit.regions.get(rel, []):
            if r.id not in keep_ids and r.cell is None:
                hidden.update(range(r.start - 1, r.stop))
        if rel.endswith(".ipynb"):
            # per-cell line numbers: rebuild the public text from the kept regions only
            lines = markers.searchable_lines(markers.release_source(text, rel, keep_ids)[0], rel)
        else:
            lines = [ln for i, ln in enumerate(markers.split_lines(text)) if i not in hidden]
        public.update(markers.normalize_line(ln) for ln in lines)
    secrets = {}
    for r in kit.all_regions:
        if r.id in keep_ids:
            continue
        for ln in r.body:
            n = markers.normalize_line(ln)
            if not markers.is_trivial_line(n) and n not in public:
                secrets.setdefault(n, r.id)
    return secrets


def _import_check(root, modules, timeout=300):
    with tempfile.TemporaryDirectory(prefix="cs231n-release-import-") as work:
        cfg = Path(work) / "cfg.json"
        cfg.write_text(json.dumps({"mode": "import", "submission": str(root), "forbid": [],
                                   "modules": modules}), encoding="utf-8")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
        env["PYTHONPATH"] = os.pathsep.join([str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        try:
            proc = subprocess.run([sys.executable, str(RUNNER), str(cfg)], cwd=work, env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return [f"importing the release took more than {timeout} s"]
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [f"import check failed (exit status {proc.returncode}): {proc.stderr[-2000:]}"]


#: Always named as things the student kit does not hold (besides the instructor-only files).
UNRELEASED_MENTIONS = ("../shared",)


def mention_pattern(rubric):
    """Regex of names a released file may not mention: every literal
    ``instructor_only`` path (``cs231n/grade.py``, ``.ci``, ``tests/hidden``...),
    the dotted module of those under ``cs231n/`` (``cs231n.grade``), and
    :data:`UNRELEASED_MENTIONS`."""
    import re

    terms = set(UNRELEASED_MENTIONS)
    for pat in rubric.instructor_only:
        if any(c in pat for c in "*?[!"):
            continue
        p = pat.strip().rstrip("/")
        if not p:
            continue
        terms.add(p)
        if p.startswith("cs231n/"):
            terms.add((p[:-3] if p.endswith(".py") else p).replace("/", "."))
    alts = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(r"(?<![\w.])" + re.escape(t) + r"(?!\w)" for t in alts))


def verify_release(kit, outdir, keep_ids=frozenset(), import_check=True):
    """Problems found in a written release (empty list: fine).

    Checks: no marker text, no solution line (see module docstring), no mention
    of a file the release leaves out (:func:`mention_pattern`), every ``.py``
    compiles, every ``cs231n`` module imports.
    """
    outdir = Path(outdir)
    mentions = mention_pattern(kit.rubric)
    secrets = _secrets(kit, keep_ids)
    long_secrets = [(n, rid) for n, rid in secrets.items() if len(n) >= QUOTE_MIN]
    problems, modules = [], []
    for f in sorted(p for p in outdir.rglob("*") if p.is_file()):
        rel = f.relative_to(outdir).as_posix()
        if f.suffix in (".pyc", ".pyo") or "__pycache__" in rel.split("/"):
            problems.append(f"{rel}: compiled file in the release")
            continue
        try:
            text = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        code_file = rel.endswith((".py", ".ipynb"))
        if rel.endswith(".md") and (INSTRUCTOR_BEGIN in text or INSTRUCTOR_END in text):
            problems.append(f"{rel}: instructor-only block left in the release")
        for i, ln in enumerate(markers.searchable_lines(text, rel), start=1):
            if code_file and markers.has_marker_text(ln):
                problems.append(f"{rel}:{i}: solution marker left in the release: {ln.strip()!r}")
            m = mentions.search(ln)
            if m:
                problems.append(f"{rel}:{i}: mentions {m.group(0)!r}, which the student kit "
                                "does not have")
            n = markers.normalize_line(ln)
            if n in secrets:
                problems.append(f"{rel}:{i}: solution text of {secrets[n]} leaked: {ln.strip()!r}")
            elif not code_file:  # prose quoting a solution line inline
                for sec, rid in long_secrets:
                    if sec in n:
                        problems.append(f"{rel}:{i}: solution text of {rid} quoted: {sec!r}")
                        break
        if rel.endswith(".py"):
            ref = kit.texts.get(rel)
            try:
                compile(text, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:
                try:
                    compile(ref or "", rel, "exec", dont_inherit=True)
                    problems.append(f"{rel}:{exc.lineno}: does not compile: {exc.msg}")
                except SyntaxError:
                    pass  # the reference does not compile either (not a module)
            if rel.startswith("cs231n/") and not rel.endswith("__main__.py"):
                mod = rel[:-3].replace("/", ".")
                modules.append(mod[: -len(".__init__")] if mod.endswith(".__init__") else mod)
    if import_check and modules and not problems:
        problems += [f"release does not import: {p}" for p in _import_check(outdir, sorted(modules))]
    return problems


def make_zip(outdir, zip_path=None):
    """Zip ``outdir`` (entries under a top folder named like it); return the path."""
    outdir = Path(outdir)
    zip_path = Path(zip_path or outdir.with_name(outdir.name + ".zip"))
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in outdir.rglob("*") if p.is_file()):
            arc = f"{outdir.name}/{f.relative_to(outdir).as_posix()}"
            info = zipfile.ZipInfo.from_file(f, arc, strict_timestamps=False)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, f.read_bytes())
    os.replace(tmp, zip_path)
    return zip_path


INSTRUCTOR_BEGIN = "<!-- instructor-only -->"
INSTRUCTOR_END = "<!-- /instructor-only -->"


def strip_instructor_blocks(text, where):
    """``text`` (Markdown) without its instructor-only blocks, markers included.

    Raises
    ------
    ReleaseError
        A block is not closed, is closed twice or is nested.
    """
    out, start = [], None
    for i, line in enumerate(text.splitlines(keepends=True), start=1):
        mark = line.strip()
        if mark == INSTRUCTOR_BEGIN:
            if start is not None:
                raise ReleaseError(f"{where}:{i}: {INSTRUCTOR_BEGIN} inside the block opened at line {start}")
            start = i
        elif mark == INSTRUCTOR_END:
            if start is None:
                raise ReleaseError(f"{where}:{i}: {INSTRUCTOR_END} without {INSTRUCTOR_BEGIN}")
            start = None
        elif start is None:
            out.append(line)
    if start is not None:
        raise ReleaseError(f"{where}:{start}: {INSTRUCTOR_BEGIN} is never closed")
    return "".join(out)


def _write_like(src, dst, text):
    """Write ``text`` to ``dst`` (line ends as given) with ``src``'s permission bits."""
    with open(dst, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    shutil.copymode(src, dst)


def _check_outdir(kit, outdir, force):
    out = Path(outdir).resolve()
    root = kit.root
    if out == root or root.is_relative_to(out):
        raise ReleaseError(f"OUTDIR {out} contains the kit itself")
    if out.is_relative_to(root):
        rel = out.relative_to(root).as_posix()
        flt = kit_filter(root, kit.rubric.instructor_only)
        if not flt.excluded_or_inside(rel, True):
            raise ReleaseError(f"OUTDIR {out} is inside the kit and not ignored (it would be "
                               "released next time); pick a directory outside the kit or an "
                               "ignored one such as build/")
    if out.exists():
        if not force:
            if out.is_dir() and not any(out.iterdir()):
                return out
            raise ReleaseError(f"OUTDIR {out} exists; pass --force to replace it")
        if not out.is_dir() or (out / ".git").exists():
            raise ReleaseError(f"refusing to replace {out} (not a directory, or a git checkout)")
    return out


def build_release(outdir, source=None, rubric=None, keep=(), force=False, verify=True,
                  zip_file=False):
    """Write the student release of a kit into ``outdir``.

    Parameters
    ----------
    outdir : path
        Must not exist (or be empty), unless ``force``.
    source : path, optional
        Reference kit root (default: this kit).
    rubric : path or Rubric, optional
        Default ``<source>/cs231n/grading/rubric.json``.
    keep : iterable of str
        Rubric parts handed out solved (their regions lose their markers but keep
        their bodies).
    force : bool
        Replace an existing ``outdir``.
    verify : bool
        Run :func:`verify_release` (on a temporary copy, before moving it into
        place); the import check is part of it.
    zip_file : bool
        Also write ``<outdir>.zip``.

    Returns
    -------
    dict
        ``outdir``, ``zip`` (or None), ``files``, ``stubbed_files``, ``regions``,
        ``kept_regions``.
    """
    kit = scan_kit(source, rubric)
    keep_ids = _keep_ids(kit, keep)
    out = _check_outdir(kit, outdir, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes it private; a release is not
    try:
        stubbed = 0
        for rel in kit.files:
            src, dst = kit.root / rel, stage / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if rel.endswith(".md"):
                text = src.read_text(encoding="utf-8")
                new = strip_instructor_blocks(text, rel)
                if new != text:
                    _write_like(src, dst, new)
                    continue
            if rel in kit.texts:
                new, _ = markers.release_source(kit.texts[rel], rel, keep_ids)
                if new is not kit.texts[rel]:
                    _write_like(src, dst, new)
                    stubbed += 1
                    continue
            shutil.copy2(src, dst)
        if verify:
            problems = verify_release(kit, stage, keep_ids)
            if problems:
                raise ReleaseError("the release failed its checks (nothing written):\n"
                                   + "\n".join(problems))
        if out.exists():
            shutil.rmtree(out)
        os.replace(stage, out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    zpath = make_zip(out) if zip_file else None
    return {"outdir": str(out), "zip": str(zpath) if zpath else None, "files": len(kit.files),
            "stubbed_files": stubbed,
            "regions": sum(r.id not in keep_ids for r in kit.all_regions),
            "kept_regions": sorted(keep_ids)}


def _cmd_student(args):
    info = build_release(args.outdir, args.source, args.rubric, args.keep, args.force,
                         not args.no_verify, args.zip)
    print(f"wrote {info['outdir']}: {info['files']} files, {info['stubbed_files']} with "
          f"solutions removed")
    if info["kept_regions"]:
        print("handed out solved: " + ", ".join(info["kept_regions"]))
    if info["zip"]:
        print(f"wrote {info['zip']}")
    return 0


def _cmd_check(args):
    kit = scan_kit(args.source, args.rubric)
    ids = {r.id for r in kit.all_regions}
    owners = {}
    for part in kit.rubric.parts.values():
        for rid in regions_of_part(part, ids):
            owners.setdefault(rid, []).append(part.name)
    seen = set()
    for r in kit.all_regions:
        where = f"{r.path}:{r.start}" + (f" (cell {r.cell})" if r.cell is not None else "")
        print(f"{r.id:<60} {where:<36} parts: {', '.join(owners.get(r.id, [])) or '-'}")
        seen.add(r.id)
    problems = coverage_problems(kit.rubric, kit.all_regions)
    mentions = mention_pattern(kit.rubric)
    for rel in kit.files:
        try:
            text = (kit.root / rel).read_bytes().decode("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if rel.endswith(".md"):
            text = strip_instructor_blocks(text, rel)
        for i, ln in enumerate(text.splitlines(), start=1):
            m = mentions.search(ln)
            if m:
                problems.append(f"{rel}:{i}: mentions {m.group(0)!r}, which the student kit "
                                "does not have")
    if not args.no_tests:
        from cs231n.grade import GradeError, collect_manifest
        try:
            manifest = collect_manifest(kit.root, kit.rubric)
            groups = {}
            for part, group in manifest.values():
                groups[(part, group)] = groups.get((part, group), 0) + 1
            for part in kit.rubric.code_parts:
                print(f"part {part.name:<22} {part.points:>6g} points: " + ", ".join(
                    f"{g} {gr.points:g}{' (share)' if gr.scoring == 'proportional' else ''} "
                    f"[{groups.get((part.name, g), 0)} tests]" for g, gr in part.groups.items()))
        except GradeError as exc:
            problems.extend(str(exc).splitlines()[1:] or [str(exc)])
    print(f"{len(kit.all_regions)} regions ({len(seen)} names) in {len(kit.regions)} files; "
          f"{len(kit.rubric.parts)} parts; {len(kit.files)} files would be released")
    for p in problems:
        print(f"problem: {p}")
    return 1 if problems else 0


def _cmd_autograder(args):
    from cs231n.grade import GradeError
    from cs231n.grading.autograder import build_autograder

    try:
        info = build_autograder(args.out, args.source or default_source(), args.rubric,
                                memory_limit_gb=args.memory_limit or None,
                                time_budget=args.time_budget)
    except (GradeError, RuntimeError) as exc:
        raise ReleaseError(str(exc)) from None
    print(f"wrote {info['zip']}: {info['files']} kit files, {info['graded_tests']} graded tests; "
          f"time budget {info['time_budget']:g} s; memory limit "
          f"{info['memory_limit_gb'] or 'none'} GB; pinned: {', '.join(info['requirements'])}")
    return 0


def _cmd_export(args):
    from cs231n.grade import GradeError
    from cs231n.grading import interop

    try:
        if args.command == "otter":
            paths = interop.export_otter(args.outdir, args.source or default_source(), args.rubric)
        else:
            paths = interop.export_nbgrader(args.outdir, args.source or default_source(),
                                            args.rubric)
    except (GradeError, RuntimeError) as exc:
        raise ReleaseError(str(exc)) from None
    print(f"wrote {len(paths)} {args.command} file(s) into {args.outdir}: "
          + ", ".join(p.name for p in paths))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cs231n.release",
                                 description="Instructor tools: write the student kit, check "
                                             "the rubric, build the Gradescope autograder.")
    sub = ap.add_subparsers(dest="command", required=True)
    st = sub.add_parser("student", help="write the student kit (solutions removed)")
    st.add_argument("outdir")
    st.add_argument("--zip", action="store_true", help="also write OUTDIR.zip")
    st.add_argument("--force", action="store_true", help="replace an existing OUTDIR")
    st.add_argument("--keep", action="append", default=[], metavar="PART",
                    help="hand this rubric part out solved (repeatable)")
    st.add_argument("--no-verify", action="store_true",
                    help="skip the leak/compile/import checks (not recommended)")
    ck = sub.add_parser("check", help="list solution regions, check groups and rubric "
                                      "coverage; report what disagrees")
    ck.add_argument("--no-tests", action="store_true",
                    help="skip collecting the tests (graded markers against the groups)")
    ag = sub.add_parser("autograder", help="build the Gradescope autograder zip")
    ag.add_argument("out", metavar="OUT.zip")
    ag.add_argument("--memory-limit", type=float, metavar="GB", default=0.75,
                    help="address-space limit of the test process of every grading run, so "
                         "a memory hog fails its test instead of the container (default: "
                         "%(default)s, Gradescope's 768 MB; 0: none)")
    ag.add_argument("--time-budget", type=float, metavar="S",
                    help="seconds before the driver stops grading (default: the rubric's "
                         "total_time_limit + 60)")
    ot = sub.add_parser("otter", help="export the public checks as Otter test files")
    ot.add_argument("outdir")
    nbg = sub.add_parser("nbgrader", help="export the notebooks with nbgrader cell metadata")
    nbg.add_argument("outdir")
    for p in (st, ck, ag, ot, nbg):
        p.add_argument("--source", help="reference kit root (default: this kit)")
        p.add_argument("--rubric", help="rubric file (default: <source>/cs231n/grading/rubric.json)")
    args = ap.parse_args(argv)
    try:
        return {"student": _cmd_student, "check": _cmd_check, "autograder": _cmd_autograder,
                "otter": _cmd_export, "nbgrader": _cmd_export}[args.command](args)
    except (ReleaseError, RubricError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
