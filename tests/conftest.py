import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

# The book-style scripts are run from a course kit by tests/test_book_kit.py, as a reader runs
# them; some have names pytest would collect (batch_norm_test.py), and they import the kit.
collect_ignore = ["book_scripts"]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST files shipped beside the project (or $ZERODL_DATA_DIR)."""
    path = Path(os.environ.get("ZERODL_DATA_DIR", SHARED_MNIST))
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {path}")
    return path


@pytest.fixture(scope="session", autouse=True)
def python_sigint_handler():
    """Python's own Ctrl-C handler, as in a terminal or a notebook.

    A shell that starts pytest in the background (``pytest &``) makes the process ignore
    SIGINT, and Python then installs no handler of its own; the Ctrl-C tests send SIGINT to
    this process and check what ``fit`` and ``sweep`` do with Python's handler in place.
    """
    import signal
    import threading
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
