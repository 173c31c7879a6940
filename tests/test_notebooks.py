"""Every notebook executes top to bottom in fast mode on the real CIFAR-10 subset.

The jupytext sources (``notebooks/*.py``) are converted in memory and run by
nbclient in a ``python3`` kernel with the notebooks folder as working directory,
``CS231N_FAST=1`` and ``CS231N_CIFAR10_DIR`` pointing at the subset. A notebook
passes when no cell raised, it displayed at least one figure (PNG), every check
it printed is within its expected magnitude (the notebooks print "TOO LARGE"
otherwise) and every progress bar it kept is complete.
"""
import os
import re
from pathlib import Path

import pytest

import cs231n

_EXTRA = ("needs the notebook tools: pip install -e \".[notebooks]\" "
          "(jupytext, nbclient, nbformat, jupyter)")
jupytext = pytest.importorskip("jupytext", reason=_EXTRA)
nbclient = pytest.importorskip("nbclient", reason=_EXTRA)
pytest.importorskip("nbformat", reason=_EXTRA)
NotebookClient = nbclient.NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = ["BatchNormalization", "Dropout", "ConvolutionalNetworks", "FullyConnectedNets"]
# Per-cell limit; the whole of a fast-mode notebook takes well under a minute.
CELL_TIMEOUT = 600


def test_every_notebook_source_is_executed_here():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.py")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_source_is_clean(name):
    text = (NOTEBOOK_DIR / f"{name}.py").read_text()
    assert "sys.path" not in text                    # imports the installed kit
    assert "google.colab" not in text and "drive.mount" not in text
    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # Every inline question is followed by its answer cell: the answer between the
    # solution markers (reference kit), the release's placeholder (student kit), or
    # the student's own answer written in its place.
    begin, end = (f"### {word} SOLUTION" for word in ("BEGIN", "END"))
    cells = nb.cells
    questions = [i for i, c in enumerate(cells)
                 if c.cell_type == "markdown" and re.match(r"#+ Inline Question", c.source)]
    assert questions, f"{name} asks no inline question"
    for i in questions:
        answer = cells[i + 1]
        assert answer.cell_type == "markdown"
        text = answer.source.strip()
        if begin in text or end in text:
            assert (text.startswith(begin) and text.endswith(end)
                    and len(text) > len(begin) + len(end) + 100), cells[i].source
        assert text and not re.match(r"#+ Inline Question", text), cells[i].source


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, cifar10_dir, monkeypatch):
    monkeypatch.setenv("CS231N_FAST", "1")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(cifar10_dir))
    # Small matrix products on a shared 2-core machine: multithreaded OpenBLAS was
    # measured 6x slower than one thread for these networks (9.7 s vs 1.7 s).
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    # The kernel imports the same kit as this test process (the installed one, or
    # this checkout when the tests run from it); the notebooks never edit sys.path.
    kit_root = str(Path(cs231n.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [kit_root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    monkeypatch.delenv("MPLBACKEND", raising=False)

    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()       # raises CellExecutionError, naming the cell, on any error

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result")
              and "image/png" in o.get("data", {})]
    assert images, f"{name} displayed no figure"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    checks = re.findall(r"\(should be below [^)]*\)\s+(\S+)", text)
    assert checks, f"{name} printed no checks"
    assert "TOO LARGE" not in text, [line for line in text.splitlines() if "TOO LARGE" in line]
    assert set(checks) == {"ok"}
    # Progress bars are displays updated in place: the executed notebook keeps each
    # bar's last state (a widget would keep an empty "0%| 0/160" bar).
    bars = [o["data"]["text/plain"] for o in outputs if o.output_type == "display_data"
            and re.search(r"\d+%\|", o.get("data", {}).get("text/plain", ""))]
    assert bars, f"{name} showed no progress bar"
    assert all("100%|" in bar for bar in bars), bars
