"""The expected-values files of the public tests (instructor only).

Each ``fixtures_<area>.py`` computes its arrays with independent reference code
(``generate()``) and writes them with :func:`write` to ``tests/data/<area>.npz``,
which the public tests read with ``load_expected(area)``. Its hidden test calls
:func:`assert_committed_data_is_fresh`, so the committed file cannot drift from
the references.
"""
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def write(area, generate):
    """Write ``generate()`` (a dict of arrays) to ``tests/data/<area>.npz``."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{area}.npz"
    np.savez(path, **generate())
    print(f"wrote {path}")


def assert_committed_data_is_fresh(area, generate, rtol=1e-13, atol=1e-15):
    """The committed ``tests/data/<area>.npz`` holds what ``generate()`` makes now."""
    from conftest import load_expected     # tests/ is on the path when pytest runs this
    stored, fresh = load_expected(area), generate()
    assert sorted(stored) == sorted(fresh), f"run python tests/hidden/fixtures_{area}.py"
    for key in fresh:
        np.testing.assert_allclose(stored[key], fresh[key], rtol=rtol, atol=atol, err_msg=key)
