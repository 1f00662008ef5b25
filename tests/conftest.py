import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST files shipped beside the project (or $ZERODL_DATA_DIR)."""
    path = Path(os.environ.get("ZERODL_DATA_DIR", SHARED_MNIST))
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {path}")
    return path
