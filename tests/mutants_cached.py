"""Hand-made mutants of the cached helpers of ``cs231n/_norm.py`` (not a test module).

mutmut 3 skips decorated functions, and it forks every mutant from a process
whose ``lru_cache``s are already filled, so the layout helpers of the
normalisation core (keepdims shapes, block slices, the vector of ones, runs of
axes, reduction recipes, the layout and plan of a layer, the ``xhat`` property)
escape it. This script applies each mutant below (one small edit in mutmut's
style) to a copy of the package, runs the norm test files in a fresh process
(empty caches) and reports which mutants the tests kill. See docs/TESTING.md.

Run from the repository root (about 10 s per mutant)::

    python tests/mutants_cached.py            # all mutants
    python tests/mutants_cached.py --list     # just list them
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_layers_norm_core.py", "tests/test_norm_layers.py",
         "tests/test_norm_properties.py"]

# (name, original text, mutated text): each original occurs exactly once in _norm.py.
MUTANTS = [
    ("_keep: 2 on reduced axes", "tuple(1 if ax in axes else n", "tuple(2 if ax in axes else n"),
    ("_keep: not in", "tuple(1 if ax in axes else n", "tuple(1 if ax not in axes else n"),
    ("_block_slices: at least 2 rows", "rows = max(1, block_bytes // max(row, 1))",
     "rows = max(2, block_bytes // max(row, 1))"),
    ("_block_slices: rows + 1", "rows = max(1, block_bytes // max(row, 1))",
     "rows = max(1, block_bytes // max(row, 1)) + 1"),
    ("_block_slices: stop + 1", "slice(s, min(s + rows, shape[0]))",
     "slice(s, min(s + rows + 1, shape[0]))"),
    ("_block_slices: start at 1", "for s in range(0, shape[0], rows))",
     "for s in range(1, shape[0], rows))"),
    ("_ones: zeros", "v = np.ones(n, dtype=dtype)", "v = np.zeros(n, dtype=dtype)"),
    ("_ones: float64", "v = np.ones(n, dtype=dtype)", "v = np.ones(n, dtype=None)"),
    ("_ones: writeable", "v.flags.writeable = False", "v.flags.writeable = True"),
    ("_runs: skip length 2", "        if n == 1:\n            continue",
     "        if n == 2:\n            continue"),
    ("_runs: not in", "        red = ax in axes\n", "        red = ax not in axes\n"),
    ("_runs: merge unlike", "if runs and runs[-1][1] == red:", "if runs and runs[-1][1] != red:"),
    ("_runs: add extents", "runs[-1][0] *= n", "runs[-1][0] += n"),
    ("_recipe: nothing to sum when any", "    if not any(red for _, red in runs):",
     "    if any(red for _, red in runs):"),
    ("_recipe: leading run as rows", 'kind, r, rest = "rows", runs[-1][0], runs[:-1]',
     'kind, r, rest = "rows", runs[0][0], runs[:-1]'),
    ("_recipe: rest keeps the run", 'kind, r, rest = "rows", runs[-1][0], runs[:-1]',
     'kind, r, rest = "rows", runs[-1][0], runs'),
    ("_recipe: cols rest", 'kind, r, rest = "cols", runs[0][0], runs[1:]',
     'kind, r, rest = "cols", runs[0][0], runs[2:]'),
    ("_recipe: trailing test", "    if runs[-1][1]:                                           # trailing",
     "    if runs[0][1]:                                           # trailing"),
    ("_recipe: einsum keeps reduced", "kept = tuple(i for i, (_, red) in enumerate(runs) if not red)",
     "kept = tuple(i for i, (_, red) in enumerate(runs) if red)"),
    ("_recipe: more = unreduced", "more = tuple(i for i, (_, red) in enumerate(rest) if red)",
     "more = tuple(i for i, (_, red) in enumerate(rest) if not red)"),
    ("_recipe: no more", "    return _Recipe(keep, kind, r, tuple(n for n, _ in rest), more, (), ())",
     "    return _Recipe(keep, kind, r, tuple(n for n, _ in rest), (), (), ())"),
    ("_layout: stats axes unsorted", "stats_axes = tuple(sorted(ax % len(stats_view) for ax in stats_axes))",
     "stats_axes = tuple(ax % len(stats_view) for ax in stats_axes)"),
    ("_layout: negative axes kept", "param_axes = tuple(sorted(ax % len(affine_view) for ax in param_axes))",
     "param_axes = tuple(sorted(ax for ax in param_axes))"),
    ("_layout: stats keep over param axes", "_keep(stats_view, stats_axes), _keep(affine_view, param_axes),",
     "_keep(stats_view, param_axes), _keep(affine_view, param_axes),"),
    ("_layout: gamma keep over stats axes", "_keep(stats_view, stats_axes), _keep(affine_view, param_axes),",
     "_keep(stats_view, stats_axes), _keep(affine_view, stats_axes),"),
    ("_new_plan: fine = red not in par", "    fine = tuple(t for t in red if t in par)\n    return _Plan(",
     "    fine = tuple(t for t in red if t not in par)\n    return _Plan("),
    ("_new_plan: red_keep over par", "_keep(view, red), _keep(view, par),",
     "_keep(view, par), _keep(view, par),"),
    ("_new_plan: rest_red empty", "tuple(t for t in red if t not in fine), tuple(t for t in par if t not in fine),",
     "(), tuple(t for t in par if t not in fine),"),
    ("_new_plan: rest_par empty", "tuple(t for t in red if t not in fine), tuple(t for t in par if t not in fine),",
     "tuple(t for t in red if t not in fine), (),"),
    ("_new_plan: m over par", "                 _count(view, red))", "                 _count(view, par))"),
    ("_make_plan: factored flag negated", '"fused", joint, red, par, 0 not in red and 0 in par)',
     '"fused", joint, red, par, not (0 not in red and 0 in par))'),
    ("_make_plan: factored when 0 in red", '"fused", joint, red, par, 0 not in red and 0 in par)',
     '"fused", joint, red, par, 0 in red and 0 in par)'),
    ("_make_plan: rows split", "split = nj - len(red)", "split = nj - len(red) + 1"),
    ("_make_plan: views never nest", "if any(hi % lo for lo, hi in zip(bounds, bounds[1:])):",
     "if not any(hi % lo for lo, hi in zip(bounds, bounds[1:])):"),
    ("_make_plan: cut test", "if view_cuts[ndim - 1 - ax] <= lo and hi <= view_cuts[ndim - ax]:",
     "if view_cuts[ndim - 1 - ax] <= lo or hi <= view_cuts[ndim - ax]:"),
    ("xhat: no inv_std", "return ((self.base - self.mean) * inv).reshape(self.stats_view)",
     "return (self.base - self.mean).reshape(self.stats_view)"),
    ("xhat: plus mean", "return ((self.base - self.mean) * inv).reshape(self.stats_view)",
     "return ((self.base + self.mean) * inv).reshape(self.stats_view)"),
]


def run_mutant(source, original, mutated, tmp):
    """Run the norm tests against ``_norm.py`` with one edit; True when they fail."""
    if source.count(original) != 1:
        raise ValueError(f"expected exactly one occurrence of {original!r} in _norm.py")
    work = Path(tmp, "repo")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "cs231n", work / "cs231n")
    shutil.copytree(ROOT / "tests", work / "tests")
    shutil.copy(ROOT / "pyproject.toml", work)                # pytest settings and markers
    (work / "cs231n" / "_norm.py").write_text(source.replace(original, mutated))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           *TESTS], cwd=work, capture_output=True, text=True)
    return proc.returncode != 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args(argv)
    source = (ROOT / "cs231n" / "_norm.py").read_text()
    if args.list:
        for name, _, _ in MUTANTS:
            print(name)
        return 0
    survived = []
    with tempfile.TemporaryDirectory() as tmp:
        if run_mutant(source, "def norm_forward(", "def norm_forward(", tmp):
            print("the unmutated copy fails its tests: fix that first")
            return 1
        for i, (name, original, mutated) in enumerate(MUTANTS, 1):
            killed = run_mutant(source, original, mutated, tmp)
            print(f"{i:2d}/{len(MUTANTS)} {'killed  ' if killed else 'SURVIVED'} {name}", flush=True)
            if not killed:
                survived.append(name)
    print(f"\n{len(MUTANTS) - len(survived)} of {len(MUTANTS)} killed; survived: {survived or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
