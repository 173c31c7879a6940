"""Shared fixtures for the cs231n-bn test suite."""
import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CIFAR = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-batches-py"


@pytest.fixture
def rng():
    """A fresh, seeded generator per test (never numpy's global state)."""
    return np.random.default_rng(231)


@pytest.fixture(scope="session")
def cifar10_dir():
    """Directory of the real CIFAR-10 subset.

    ``CS231N_CIFAR10_DIR`` wins (``.ci/run`` sets it); otherwise the shared subset
    beside the repository. Missing data is a failure, not a skip: the tests that
    need it are part of the grade.
    """
    env = os.environ.get("CS231N_CIFAR10_DIR")
    path = Path(env) if env else SHARED_CIFAR
    if not (path / "data_batch_1").is_file():
        pytest.fail(
            f"CIFAR-10 data not found at {path}; set CS231N_CIFAR10_DIR to a "
            "cifar-10-batches-py directory"
        )
    return path
