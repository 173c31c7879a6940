"""Solution regions: find them, stub them, and check a release for leaked solutions.

A *solution region* is the text between a ``### BEGIN SOLUTION`` line and the next
``### END SOLUTION`` line (nbgrader's markers). Three kinds of files hold them:

* Python modules (``.py`` without ``# %%`` cells): the markers are comments indented
  like the code they enclose, inside a function, with a ``# TODO: ...`` comment just
  above ``BEGIN``. The release replaces the region by one line,
  ``raise NotImplementedError("<file>:<function>: <short TODO>")``, at the region's
  indentation.
* jupytext percent notebooks (``.py`` with ``# %%`` cell headers): in code cells the
  markers are comments as above and the region becomes ``# YOUR CODE HERE`` plus
  ``pass``; in markdown cells the markers are ``# ### BEGIN SOLUTION`` lines of the
  ``# ``-prefixed markdown text and the region becomes
  ``# *Your answer:* YOUR ANSWER HERE``.
* ``.ipynb`` notebooks: the same, per cell (markdown markers without the ``# ``);
  the release also clears every code cell's outputs and execution count.

A region is named ``<file>::<qualname>``: the qualified name of the enclosing
function for modules (``cs231n/layers.py::affine_forward``,
``cs231n/classifiers/fc_net.py::FullyConnectedNet.loss``; all regions of one
function share the name) and ``answer<k>`` (k-th region of the file, from 1) for
notebooks.

This module only reads text; it never imports the code it looks at.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

__all__ = [
    "BEGIN",
    "END",
    "CODE_PLACEHOLDER",
    "ANSWER_PLACEHOLDER",
    "UNANSWERED_SIGNS",
    "MarkerError",
    "Region",
    "file_kind",
    "read_source",
    "split_lines",
    "scan_source",
    "release_source",
    "searchable_lines",
    "normalize_line",
    "is_trivial_line",
    "has_marker_text",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: Placeholder written in place of a notebook code answer (followed by ``pass``).
CODE_PLACEHOLDER = "# YOUR CODE HERE"
#: Placeholder written in place of a notebook markdown answer.
ANSWER_PLACEHOLDER = "*Your answer:* YOUR ANSWER HERE"
#: Text whose presence in a notebook means "this answer was not written yet".
UNANSWERED_SIGNS = ("YOUR CODE HERE", "YOUR ANSWER HERE")

_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_MARK_RE = re.compile(r"^(?P<prefix>[ \t]*(?:#[ \t]?)?)### (?P<kind>BEGIN|END) SOLUTION[ \t]*$")
_LOOSE_RE = re.compile(r"(?:BEGIN|END)[ \t]+SOLUTION", re.IGNORECASE)
_CELL_RE = re.compile(r"^#[ \t]*%%(?!%)(?P<rest>.*)$")
_TODO_RE = re.compile(r"^#+[ \t]*TODO\b[ \t]*(?P<text>.*)$")
_TRIVIAL_RE = re.compile(r"^[\W_]*$")
_TRIVIAL_WORDS = frozenset(
    {"else:", "try:", "finally:", "except:", "pass", "break", "continue", "return",
     "return None", "yield", "raise", "None", "True", "False"}
)
TODO_MAX = 120


class MarkerError(ValueError):
    """A solution marker is missing, unbalanced, malformed or misplaced."""

    def __init__(self, where, line, message):
        super().__init__(f"{where}:{line}: {message}")
        self.where = where
        self.line = line


@dataclass(frozen=True)
class Region:
    """One solution region.

    Attributes
    ----------
    path : str
        Kit-relative POSIX path of the file.
    qualname : str
        Enclosing function (modules) or ``answer<k>`` (notebooks).
    start, stop : int
        1-based line numbers of the BEGIN and END markers (within the cell for
        ``.ipynb`` files).
    prefix : str
        Text before ``### BEGIN SOLUTION`` on its line (indentation, and ``# ``
        in percent-format markdown cells); the stub is written with it.
    context : str
        ``"function"`` (module code), ``"code"`` or ``"markdown"`` (notebook cells).
    body : tuple of str
        The lines strictly between the markers, without line ends.
    todo : str
        First sentence of the ``# TODO`` comment above BEGIN ('' if none).
    cell : int or None
        Cell index for ``.ipynb`` regions.
    """

    path: str
    qualname: str
    start: int
    stop: int
    prefix: str
    context: str
    body: tuple
    todo: str = ""
    cell: int | None = None

    @property
    def id(self):
        """``<path>::<qualname>``, the name the rubric uses."""
        return f"{self.path}::{self.qualname}"

    def stub(self, eol="\n"):
        """Lines that replace the region (markers included) in the release."""
        p = self.prefix
        if self.context == "function":
            msg = f"{self.path}:{self.qualname}: {self.todo or 'implement this part'}"
            # json.dumps gives a double-quoted literal that Python also accepts
            return [f"{p}raise NotImplementedError({json.dumps(msg, ensure_ascii=False)}){eol}"]
        if self.context == "code":
            return [f"{p}{CODE_PLACEHOLDER}{eol}", f"{p}pass{eol}"]
        return [f"{p}{ANSWER_PLACEHOLDER}{eol}"]


def read_source(path):
    """A text file's content as UTF-8, line ends untouched (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def split_lines(text):
    """Split on ``\\n`` only, keeping line ends (``\\r\\n`` stays in the line)."""
    return _LINE_RE.findall(text)


def _bare(line):
    return line.rstrip("\r\n")


def file_kind(path, text=None):
    """``"module"``, ``"percent"`` (jupytext notebook), ``"ipynb"`` or None."""
    if path.endswith(".ipynb"):
        return "ipynb"
    if path.endswith(".py"):
        if text is not None and any(_CELL_RE.match(_bare(x)) for x in split_lines(text)):
            return "percent"
        return "module"
    return None


def has_marker_text(line):
    """True if ``line`` mentions BEGIN/END SOLUTION (well-formed or not)."""
    return bool(_LOOSE_RE.search(line))


def _prefix_ok(prefix, context):
    if context in ("function", "code"):
        return prefix.strip() == ""
    if context == "markdown":
        return True  # '', indentation, or the '# ' of percent-format markdown
    return False


def _find_pairs(lines, where, context_of, breaks=frozenset()):
    """Balanced (begin_index, end_index, prefix, context) marker pairs, 0-based."""
    pairs, open_ = [], None
    for i, raw in enumerate(lines):
        line = _bare(raw)
        if open_ is not None and i in breaks:
            raise MarkerError(where, i + 1, f"a new cell starts inside the solution region "
                                            f"opened at line {open_[0] + 1}; close it with "
                                            f"'{END}' in the same cell")
        m = _MARK_RE.match(line)
        ctx = context_of(i)
        if m is not None and _prefix_ok(m["prefix"], ctx):
            if m["kind"] == "BEGIN":
                if open_ is not None:
                    raise MarkerError(where, i + 1, f"'{BEGIN}' inside the region opened at "
                                                    f"line {open_[0] + 1} (regions cannot nest)")
                open_ = (i, m["prefix"], ctx)
            else:
                if open_ is None:
                    raise MarkerError(where, i + 1, f"'{END}' without a '{BEGIN}' above it")
                if m["prefix"] != open_[1]:
                    raise MarkerError(where, i + 1, f"'{END}' is indented {m['prefix']!r}, its "
                                                    f"'{BEGIN}' at line {open_[0] + 1} is "
                                                    f"indented {open_[1]!r}; indent both alike")
                if i == open_[0] + 1:
                    raise MarkerError(where, i + 1, "empty solution region")
                pairs.append((open_[0], i, open_[1], open_[2]))
                open_ = None
        elif has_marker_text(line):
            if ctx == "header":
                msg = "solution marker before the first notebook cell"
            else:
                msg = (f"malformed solution marker {line.strip()!r}: expected a line that is "
                       f"exactly '{BEGIN}' or '{END}', indented like the code"
                       + (" (markdown cells may prefix it with '# ')" if ctx == "markdown" else ""))
            raise MarkerError(where, i + 1, msg)
    if open_ is not None:
        raise MarkerError(where, open_[0] + 1, f"'{BEGIN}' without a matching '{END}'")
    return pairs


def _shorten(text):
    text = " ".join(text.split())
    text = re.sub(r"^\(([^)]*)\)\s*:", r"(\1)", text)  # "(optional): x" -> "(optional) x"
    text = text.lstrip(":").strip()
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) > TODO_MAX:
        first = first[: TODO_MAX - 3].rstrip() + "..."
    return first


def _todo_above(lines, begin):
    """First sentence of the ``# TODO`` in the comment block just above ``begin``."""
    block = []
    j = begin - 1
    while j >= 0 and _bare(lines[j]).strip().startswith("#"):
        block.append(_bare(lines[j]).strip())
        j -= 1
    block.reverse()
    for k, s in enumerate(block):
        m = _TODO_RE.match(s)
        if m:
            rest = [b.lstrip("#").strip() for b in block[k + 1:]]
            return _shorten(" ".join([m["text"]] + rest))
    return ""


def _scopes(tree):
    """(first_line, last_line, qualname, is_class) for every def/class."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                out.append((child.lineno, child.end_lineno, q, isinstance(child, ast.ClassDef)))
                visit(child, q + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def _scan_module(text, path):
    lines = split_lines(text)
    pairs = _find_pairs(lines, path, lambda i: "function")
    if not pairs:
        return []
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise MarkerError(path, exc.lineno or 0, f"cannot parse the file: {exc.msg}") from None
    scopes = _scopes(tree)
    regions = []
    for b, e, prefix, _ in pairs:
        body = tuple(_bare(x) for x in lines[b + 1:e])
        # locate the region by its first code line (comment-only regions: BEGIN itself)
        anchor = b + 1
        for k in range(b + 1, e):
            s = _bare(lines[k]).strip()
            if s and not s.startswith("#"):
                anchor = k + 1
                break
        inner = [s for s in scopes if s[0] < anchor <= s[1]]
        if not inner:
            raise MarkerError(path, b + 1, "solution region outside any function: the stub "
                                           "raises NotImplementedError, which would break the "
                                           "import; move the region into a function body")
        first, _, qualname, is_class = max(inner, key=lambda s: s[0])
        if is_class:
            raise MarkerError(path, b + 1, f"solution region in the body of class {qualname}; "
                                           "put it inside a method")
        todo = _todo_above(lines, b)
        if not todo:
            raise MarkerError(path, b + 1, f"no '# TODO: ...' comment directly above '{BEGIN}' "
                                           "(it tells the student what to write and names the stub)")
        regions.append(Region(path, qualname, b + 1, e + 1, prefix, "function", body, todo))
    return regions


def _percent_contexts(lines):
    contexts, breaks, ctx = [], set(), "header"
    for i, raw in enumerate(lines):
        m = _CELL_RE.match(_bare(raw))
        if m:
            rest = m["rest"]
            ctx = "markdown" if ("[markdown]" in rest or "[md]" in rest or "[raw]" in rest) else "code"
            breaks.add(i)
            contexts.append("cellheader")
        else:
            contexts.append(ctx)
    return contexts, frozenset(breaks)


def _scan_percent(text, path):
    lines = split_lines(text)
    contexts, breaks = _percent_contexts(lines)
    pairs = _find_pairs(lines, path, lambda i: contexts[i], breaks)
    regions = []
    for k, (b, e, prefix, ctx) in enumerate(pairs, start=1):
        body = tuple(_bare(x) for x in lines[b + 1:e])
        todo = _todo_above(lines, b) if ctx == "code" else ""
        regions.append(Region(path, f"answer{k}", b + 1, e + 1, prefix, ctx, body, todo))
    return regions


def _load_notebook(text, path):
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise MarkerError(path, 0, f"not a JSON notebook: {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise MarkerError(path, 0, "not a notebook: expected a JSON object with a 'cells' list")
    return nb


def _cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _cell_context(cell):
    return "code" if cell.get("cell_type") == "code" else "markdown"


def _scan_ipynb_cells(nb, path):
    """[(cell_index, lines, [Region...])] for every cell of a notebook."""
    out, k = [], 0
    for ci, cell in enumerate(nb["cells"]):
        lines = split_lines(_cell_source(cell))
        ctx = _cell_context(cell)
        pairs = _find_pairs(lines, f"{path} (cell {ci})", lambda i: ctx)
        regions = []
        for b, e, prefix, c in pairs:
            k += 1
            body = tuple(_bare(x) for x in lines[b + 1:e])
            todo = _todo_above(lines, b) if c == "code" else ""
            regions.append(Region(path, f"answer{k}", b + 1, e + 1, prefix, c, body, todo, ci))
        out.append((ci, lines, regions))
    return out


def scan_source(text, path):
    """All solution regions of one file (empty for files that hold none).

    Parameters
    ----------
    text : str
        File content.
    path : str
        Kit-relative POSIX path (used in region names and messages).

    Returns
    -------
    list of Region
        In file order.

    Raises
    ------
    MarkerError
        Unbalanced, nested, malformed or misplaced markers; a module region with no
        ``# TODO`` comment above it or outside a function.
    """
    kind = file_kind(path, text)
    if kind == "module":
        return _scan_module(text, path)
    if kind == "percent":
        return _scan_percent(text, path)
    if kind == "ipynb":
        return [r for _, _, rs in _scan_ipynb_cells(_load_notebook(text, path), path) for r in rs]
    return []


def _apply(lines, regions, keep):
    """Lines with each region stubbed (or, if its id is in ``keep``, unmarked)."""
    out, i = [], 0
    for r in sorted(regions, key=lambda r: r.start):
        b, e = r.start - 1, r.stop - 1
        out.extend(lines[i:b])
        if r.id in keep:
            out.extend(lines[b + 1:e])
        else:
            stub = r.stub("\r\n" if lines[b].endswith("\r\n") else "\n")
            if not lines[e].endswith("\n"):  # END was the last line, without a line end
                stub[-1] = stub[-1].rstrip("\r\n")
            out.extend(stub)
        i = e + 1
    out.extend(lines[i:])
    return out


def release_source(text, path, keep=frozenset()):
    """Student version of one file.

    Parameters
    ----------
    text : str
        Reference content.
    path : str
        Kit-relative POSIX path.
    keep : set of str
        Region ids to hand out solved (markers dropped, body kept).

    Returns
    -------
    new_text : str
        ``text`` itself (same object) when nothing changes.
    regions : list of Region
        The regions found in the reference.
    """
    kind = file_kind(path, text)
    if kind in ("module", "percent"):
        regions = scan_source(text, path)
        if not regions:
            return text, regions
        return "".join(_apply(split_lines(text), regions, keep)), regions
    if kind != "ipynb":
        return text, []
    nb = _load_notebook(text, path)
    cells = _scan_ipynb_cells(nb, path)
    changed = False
    all_regions = []
    for ci, lines, regions in cells:
        cell = nb["cells"][ci]
        all_regions.extend(regions)
        if regions:
            new = _apply(lines, regions, keep)
            cell["source"] = new if isinstance(cell.get("source"), list) else "".join(new)
            changed = True
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                cell["outputs"] = []
                changed = True
            if cell.get("execution_count") is not None:
                cell["execution_count"] = None
                changed = True
    if not changed:
        return text, all_regions
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", all_regions


def searchable_lines(text, path):
    """Lines a reader of the file sees: cell sources for ``.ipynb``, else all lines.

    ``.ipynb`` outputs are included too (a printed solution is a leak as well).
    Unparsable notebooks fall back to their raw lines.
    """
    if not path.endswith(".ipynb"):
        return [_bare(x) for x in split_lines(text)]
    try:
        nb = _load_notebook(text, path)
    except MarkerError:
        return [_bare(x) for x in split_lines(text)]
    out = []
    for cell in nb["cells"]:
        out.extend(_bare(x) for x in split_lines(_cell_source(cell)))
        for o in cell.get("outputs") or []:
            if not isinstance(o, dict):
                continue
            t = o.get("text")
            if t is None and isinstance(o.get("data"), dict):
                t = o["data"].get("text/plain")
            if t is not None:
                out.extend(_bare(x) for x in split_lines("".join(t) if isinstance(t, list) else str(t)))
    return out


def normalize_line(line):
    """Comparable form of a line: stripped, leading ``#`` marks and spaces removed."""
    return line.strip().lstrip("#").strip()


def is_trivial_line(norm):
    """Lines too common to count as solution text (``else:``, ``)``, short words)."""
    return len(norm) < 5 or norm in _TRIVIAL_WORDS or bool(_TRIVIAL_RE.match(norm))
