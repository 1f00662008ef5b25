"""The course kit: run notebooks written for the course's folder layout on zerodl.

The course's notebooks start with ``sys.path.append(DIR)`` and then
``from common import functions`` and ``from data.mnist import load_mnist``.
``write_course_kit(DIR)`` (``zerodl course-kit DIR`` on the command line) writes a small
package into ``DIR`` with exactly those names, each a thin shim over zerodl:

    DIR/common/__init__.py
    DIR/common/functions.py   the functions of ``zerodl.functions`` (and softmax_with_loss)
    DIR/data/__init__.py
    DIR/data/mnist.py         load_mnist(normalize, flatten, one_hot_label) -> zerodl's loader

Every file starts with ``MARKER``. A file that exists without it was not written by the kit
(for example the course's own ``common/functions.py``) and is never overwritten unless
``force=True``; files carrying the marker are brought up to date.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ._checks import check_bool, check_path
from ._fileio import atomic_write
from .functions import __all__ as FUNCTION_NAMES

MARKER = "# Written by `zerodl course-kit`: a shim over zerodl. Safe to delete or regenerate."


def _functions_module() -> str:
    names = "".join(f"    {name},\n" for name in FUNCTION_NAMES)
    return f'''{MARKER}
"""The course's ``common.functions``, implemented by ``zerodl.functions``.

Same names and argument order (labels first: ``loss(d, y)``). Where zerodl differs from the
course's versions (a cross-entropy that is never negative, exact batch-mean gradients,
overflow-free softmax and sigmoid), ``help(functions.NAME)`` says how and why.
"""
from zerodl.functions import (
{names})


def softmax_with_loss(d, x):
    """Cross-entropy of ``softmax(x)`` against labels ``d`` (the course's fused function)."""
    return cross_entropy_error(d, softmax(x))


__all__ = {FUNCTION_NAMES + ["softmax_with_loss"]!r}
'''


_MNIST_MODULE = f'''{MARKER}
"""The course's ``data.mnist.load_mnist``, implemented by ``zerodl.datasets.load_mnist``.

The files are read from ``$ZERODL_DATA_DIR`` when it is set, else from zerodl's cache, else
downloaded once (see ``help(zerodl.datasets.load_mnist)``).
"""
from zerodl.datasets import load_mnist as _load_mnist


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """``((x_train, d_train), (x_test, d_test))``: 60,000 and 10,000 handwritten digits.

    ``normalize``: float32 pixels in [0, 1] (else uint8 0..255); ``flatten``: images of 784
    values (else (N, 1, 28, 28)); ``one_hot_label``: labels as float32 one-hot rows of 10
    (else integer class indices).
    """
    return _load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
'''


def kit_files() -> dict[str, str]:
    """Relative path -> content of every file the kit writes."""
    return {
        "common/__init__.py": f'{MARKER}\n"""The course\'s ``common`` package, backed by zerodl."""\n',
        "common/functions.py": _functions_module(),
        "data/__init__.py": f'{MARKER}\n"""The course\'s ``data`` package, backed by zerodl."""\n',
        "data/mnist.py": _MNIST_MODULE,
    }


def write_course_kit(directory: str | os.PathLike, force: bool = False) -> list[Path]:
    """Write the kit into ``directory`` (created if missing); return the paths written.

    Raises ``FileExistsError`` naming every file in the way (one that exists and was not
    written by the kit), before writing anything, unless ``force=True``.
    """
    directory = check_path("directory", directory)
    force = check_bool("force", force)
    files = {directory / rel: text for rel, text in kit_files().items()}
    if not force:
        foreign = [str(p) for p in files if p.exists() and not _written_by_kit(p)]
        if foreign:
            raise FileExistsError(
                f"course-kit will not overwrite files it did not write: {', '.join(foreign)}. "
                f"Choose another folder, or pass force=True (--force) to replace them.")
    for path, text in files.items():
        with atomic_write(path, "w") as f:
            f.write(text)
    return list(files)


def _written_by_kit(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().rstrip("\n") == MARKER
    except (OSError, UnicodeDecodeError):
        return False


# -- the ``zerodl course-kit`` command --------------------------------------------------------

def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl course-kit``."""
    p = subparsers.add_parser(
        "course-kit", help="write common/functions.py and data/mnist.py shims into a folder",
        description="Write a small package into DIR so that notebooks saying "
                    "'from common import functions' and 'from data.mnist import load_mnist' "
                    "run on zerodl after sys.path.append(DIR).")
    p.add_argument("dir", metavar="DIR", help="folder to write into (created if missing)")
    p.add_argument("--force", action="store_true",
                   help="replace files that the kit did not write")
    return p


def run(args) -> int:
    """Run ``zerodl course-kit`` with parsed ``args``."""
    for path in write_course_kit(args.dir, force=args.force):
        print(f"wrote {path}")
    print(f"In a notebook: import sys; sys.path.append({str(Path(args.dir).resolve())!r})")
    return 0
