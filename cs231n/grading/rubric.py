"""The rubric (parts, points, check groups, regions) and the files that make up a kit.

Rubric file (JSON), ``cs231n/grading/rubric.json`` by default::

    {
      "time_limit": 60,            # seconds per test (setup + call + teardown)
      "grace": 5,                  # extra seconds before a stuck test is killed
      "total_time_limit": 1800,    # seconds for a whole grading run
      "visibility": {"public": "visible", "hidden": "after_published"},
      "instructor_only": ["cs231n/release.py", "cs231n/grading/", "tests/hidden/", ...],
      "parts": {
        "affine": {"points": 6,
                   "regions": ["cs231n/layers.py::affine_forward",
                               "cs231n/layers.py::affine_backward"],
                   "groups": {"forward": 3, "backward": 3}},
        "dropout": {"points": 6, "regions": [...],
                    "groups": {"train": 3, "test": 1,
                               "backward": {"points": 2, "scoring": "proportional"}}},
        "notebook_bn": {"kind": "notebook", "points": 4,
                        "regions": ["notebooks/BatchNormalization.*"]}
      }
    }

* ``regions``: glob patterns (``fnmatch``, case-sensitive) over region names
  ``<file>::<qualname>``; a pattern without ``::`` selects every region of the
  matching files. Restoring a part restores all of them.
* ``groups`` (code parts): the part's check groups and their points, which must sum
  to the part's points. A number scores all-or-nothing (every graded test of the
  group passes); ``{"points": n, "scoring": "proportional"}`` scores
  ``n * passed / total``. Tests name their group with
  ``@pytest.mark.graded("<part>", "<group>")``.
* ``kind``: ``"code"`` (default; scored automatically) or ``"notebook"`` (inline
  answers; reported answered/unanswered, points given by hand).
* ``instructor_only``: gitignore-style patterns of files left out of the release.
  Graded tests in such files are *hidden* tests (Gradescope visibility ``hidden``),
  the others *public* (``public``); both default as shown.

Kit files: every file under the kit root except the ``.gitignore`` patterns of the
root, :data:`ALWAYS_EXCLUDED` and the rubric's ``instructor_only`` patterns. Only a
subset of gitignore is understood: ``name``, ``*.ext``, ``dir/``, ``a/b`` and
``a/*.ext`` (anchored when the pattern holds a ``/`` before its end), and ``!``
negations (a later ``!pattern`` re-includes a file an earlier rule excluded; a file
inside an excluded directory stays excluded, as in git).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

__all__ = [
    "ALWAYS_EXCLUDED",
    "RubricError",
    "Group",
    "Part",
    "Rubric",
    "VISIBILITIES",
    "load_rubric",
    "region_matches",
    "regions_of_part",
    "coverage_problems",
    "PathFilter",
    "kit_files",
]

#: Never released: version control, caches, build output, data, experiment runs.
ALWAYS_EXCLUDED = (
    ".git/", "__pycache__/", "*.py[cod]", ".pytest_cache/", ".hypothesis/",
    ".ipynb_checkpoints/", "*.egg-info/", ".mypy_cache/", ".ruff_cache/", ".benchmarks/",
    ".venv*/", "runs/", "datasets/cifar-10-batches-py/", "cs231n/datasets/cifar-10-batches-py/",
)

_PART_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_TOP_KEYS = {"time_limit", "grace", "total_time_limit", "instructor_only", "parts", "comment",
             "visibility"}
_PART_KEYS = {"points", "regions", "groups", "kind", "description"}
#: Gradescope's visibility settings of a test or a results file.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class RubricError(ValueError):
    """The rubric file is missing, malformed, or does not fit the kit."""


@dataclass(frozen=True)
class Group:
    """One check group of a part: its points and how they are scored.

    ``scoring`` is ``"all"`` (every graded test of the group must pass) or
    ``"proportional"`` (``points * passed / total``).
    """

    name: str
    points: float
    scoring: str = "all"

    def score(self, passed, total):
        """Points earned with ``passed`` of ``total`` graded tests passing."""
        if total <= 0:
            return 0.0
        if self.scoring == "proportional":
            return self.points * passed / total
        return self.points if passed == total else 0.0


@dataclass(frozen=True)
class Part:
    """One graded part: its points, the regions it owns and its check groups."""

    name: str
    points: float
    regions: tuple
    groups: dict = field(default_factory=dict)
    kind: str = "code"
    description: str = ""


@dataclass(frozen=True)
class Rubric:
    """A validated rubric; ``parts`` keeps the file's order."""

    parts: dict
    instructor_only: tuple = ()
    time_limit: float = 60.0
    grace: float = 5.0
    total_time_limit: float = 1800.0
    path: str = ""
    visibility: dict = field(default_factory=lambda: {"public": "visible",
                                                      "hidden": "after_published"})

    @property
    def code_parts(self):
        return [p for p in self.parts.values() if p.kind == "code"]

    @property
    def notebook_parts(self):
        return [p for p in self.parts.values() if p.kind == "notebook"]


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise RubricError(f"{what} must be a positive number of seconds, got {value!r}")
    return float(value)


def _str_list(value, what, allow_empty=True):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RubricError(f"{what} must be a list of non-empty strings, got {value!r}")
    if not allow_empty and not value:
        raise RubricError(f"{what} must not be empty")
    return tuple(value)


def load_rubric(path):
    """Read and validate a rubric file.

    Raises
    ------
    RubricError
        Unreadable file, unknown keys, wrong types, bad part names or points.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"rubric not found: {path}") from None
    except ValueError as exc:
        raise RubricError(f"rubric {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RubricError(f"rubric {path}: expected a JSON object at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RubricError(f"rubric {path}: unknown keys {sorted(unknown)}; expected some of "
                          f"{sorted(_TOP_KEYS)}")
    parts_raw = data.get("parts")
    if not isinstance(parts_raw, dict) or not parts_raw:
        raise RubricError(f"rubric {path}: 'parts' must be a non-empty object")
    parts = {}
    for name, spec in parts_raw.items():
        where = f"rubric {path}: part {name!r}"
        if not _PART_NAME.match(name):
            raise RubricError(f"{where}: names may use letters, digits, '_', '.', '-' only")
        if not isinstance(spec, dict):
            raise RubricError(f"{where}: expected an object")
        kind = spec.get("kind", "code")
        if kind not in ("code", "notebook"):
            raise RubricError(f"{where}: kind must be 'code' or 'notebook', got {kind!r}")
        points = spec.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"{where}: points must be a number >= 0, got {points!r}")
        if "tests" in spec:
            raise RubricError(f"{where}: 'tests' patterns are no longer read; mark the tests "
                              f"with @pytest.mark.graded({name!r}, GROUP) instead")
        unknown = set(spec) - _PART_KEYS
        if unknown:
            raise RubricError(f"{where}: unknown keys {sorted(unknown)}; expected some of "
                              f"{sorted(_PART_KEYS)}")
        regions = _str_list(spec.get("regions"), f"{where}: regions", allow_empty=False)
        groups = _groups(spec.get("groups"), kind, float(points), where)
        desc = spec.get("description", "")
        if not isinstance(desc, str):
            raise RubricError(f"{where}: description must be a string")
        parts[name] = Part(name, float(points), regions, groups, kind, desc)
    return Rubric(
        parts=parts,
        visibility=_visibility(data.get("visibility", {}), f"rubric {path}: visibility"),
        instructor_only=_str_list(data.get("instructor_only", []), f"rubric {path}: instructor_only"),
        time_limit=_positive(data.get("time_limit", 60), f"rubric {path}: time_limit"),
        grace=_positive(data.get("grace", 5), f"rubric {path}: grace"),
        total_time_limit=_positive(data.get("total_time_limit", 1800),
                                   f"rubric {path}: total_time_limit"),
        path=str(path),
    )


def _groups(raw, kind, points, where):
    """Validated check groups of a part: {name: Group}, in the file's order."""
    if kind == "notebook":
        if raw not in (None, {}):
            raise RubricError(f"{where}: notebook parts are reviewed by hand and take no groups")
        return {}
    if not isinstance(raw, dict) or not raw:
        raise RubricError(f"{where}: 'groups' must be a non-empty object "
                          "{GROUP: points, ...} (check groups of the part)")
    out = {}
    for g, spec in raw.items():
        if not isinstance(g, str) or not _PART_NAME.match(g):
            raise RubricError(f"{where}: group {g!r}: names may use letters, digits, '_', '.', "
                              "'-' only")
        scoring = "all"
        if isinstance(spec, dict):
            extra = set(spec) - {"points", "scoring"}
            if extra:
                raise RubricError(f"{where}: group {g!r}: unknown keys {sorted(extra)}; "
                                  "expected 'points' and 'scoring'")
            scoring = spec.get("scoring", "all")
            if scoring not in ("all", "proportional"):
                raise RubricError(f"{where}: group {g!r}: scoring must be 'all' or "
                                  f"'proportional', got {scoring!r}")
            spec = spec.get("points")
        if isinstance(spec, bool) or not isinstance(spec, (int, float)) or not spec > 0:
            raise RubricError(f"{where}: group {g!r}: points must be a number > 0, got {spec!r}")
        out[g] = Group(g, float(spec), scoring)
    total = sum(gr.points for gr in out.values())
    if abs(total - points) > 1e-9 * max(1.0, points):
        raise RubricError(f"{where}: its groups add up to {total:g} points, the part has "
                          f"{points:g}")
    return out


def _visibility(raw, what):
    if not isinstance(raw, dict) or set(raw) - {"public", "hidden"}:
        raise RubricError(f"{what} must be an object with keys 'public' and/or 'hidden', "
                          f"got {raw!r}")
    out = {"public": "visible", "hidden": "after_published"}
    for k, v in raw.items():
        if v not in VISIBILITIES:
            raise RubricError(f"{what}: {k!r} must be one of {', '.join(VISIBILITIES)}, "
                              f"got {v!r}")
        out[k] = v
    return out


def region_matches(pattern, region_id):
    """Does a rubric region pattern select ``region_id`` (``<file>::<qualname>``)?"""
    if "::" in pattern:
        return fnmatchcase(region_id, pattern)
    return fnmatchcase(region_id.split("::", 1)[0], pattern)


def regions_of_part(part, region_ids):
    """The region ids (from ``region_ids``) a part owns."""
    return {r for r in region_ids if any(region_matches(p, r) for p in part.regions)}


def coverage_problems(rubric, regions):
    """Mismatches between the rubric and the kit's regions, as readable strings.

    Parameters
    ----------
    rubric : Rubric
    regions : iterable of markers.Region
        Every region of the kit.
    """
    regions = list(regions)
    ids = {r.id for r in regions}
    contexts = {r.id: r.context for r in regions}
    problems = []
    owned = set()
    for part in rubric.parts.values():
        for pat in part.regions:
            hit = {r for r in ids if region_matches(pat, r)}
            if not hit:
                problems.append(f"part {part.name!r}: region pattern {pat!r} matches no region "
                                "of the kit")
            for r in hit:
                is_nb = contexts[r] != "function"
                if is_nb != (part.kind == "notebook"):
                    problems.append(f"part {part.name!r} ({part.kind}) lists {r}, a "
                                    f"{'notebook answer' if is_nb else 'code region'}")
            owned |= hit
    for r in sorted(ids - owned):
        problems.append(f"region {r} belongs to no part of the rubric (its stub would be "
                        "worth no points)")
    return problems


class PathFilter:
    """Decide whether a kit-relative path is excluded (a small gitignore subset).

    Rules apply in order and the last one that matches decides, so ``!pattern``
    re-includes what an earlier rule excluded (``*.npz`` then ``!tests/data/*.npz``).
    """

    def __init__(self, patterns):
        self.rules = []
        for raw in patterns:
            p = raw.strip()
            if not p or p.startswith("#"):
                continue
            negate = p.startswith("!")
            p = p[1:] if negate else p
            dir_only = p.endswith("/")
            p = p.rstrip("/")
            anchored = "/" in p  # a leading or middle slash anchors to the kit root
            p = p.lstrip("/")
            if not p:
                continue
            self.rules.append((p, dir_only, anchored, negate))

    def excluded(self, rel, is_dir):
        """True if ``rel`` (POSIX, relative to the kit root) is excluded by the rules."""
        name = rel.rsplit("/", 1)[-1]
        out = False
        for p, dir_only, anchored, negate in self.rules:
            if dir_only and not is_dir:
                continue
            if fnmatchcase(rel if anchored else name, p):
                out = not negate
        return out

    def excluded_or_inside(self, rel, is_dir):
        """True if ``rel`` or one of its parent directories is excluded."""
        parts = rel.split("/")
        for k in range(1, len(parts)):
            if self.excluded("/".join(parts[:k]), True):
                return True
        return self.excluded(rel, is_dir)


def read_gitignore(root):
    """Lines of the kit root's ``.gitignore`` (empty if there is none)."""
    f = Path(root) / ".gitignore"
    return f.read_text(encoding="utf-8").splitlines() if f.is_file() else []


def kit_filter(root, extra=()):
    """The filter for a kit: the root .gitignore, ALWAYS_EXCLUDED and ``extra``
    (in this order, so a ``!`` line of .gitignore cannot release what is always
    excluded or instructor-only)."""
    return PathFilter(read_gitignore(root) + list(ALWAYS_EXCLUDED) + list(extra))


def kit_files(root, extra=()):
    """Sorted kit-relative POSIX paths of the files that belong to the kit.

    Symbolic links are skipped (a release holds regular files only).
    """
    root = Path(root)
    flt = kit_filter(root, extra)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            full = Path(dirpath, d)
            if not full.is_symlink() and not flt.excluded(rel_dir + d, True):
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            full = Path(dirpath, f)
            if full.is_symlink() or not full.is_file():
                continue
            if not flt.excluded(rel_dir + f, False):
                out.append(rel_dir + f)
    return sorted(out)
