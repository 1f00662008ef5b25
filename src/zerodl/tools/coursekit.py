"""The course kit and the book kit: run code written for the course's or the book's folder
layout on zerodl.

The course's notebooks start with ``sys.path.append(DIR)`` and then
``from common import functions`` and ``from data.mnist import load_mnist``.
``write_course_kit(DIR)`` (``zerodl course-kit DIR`` on the command line) writes a small
package into ``DIR`` with exactly those names, each a thin shim over zerodl:

    DIR/common/__init__.py
    DIR/common/functions.py   the functions of ``zerodl.functions`` (and softmax_with_loss)
    DIR/data/__init__.py
    DIR/data/mnist.py         load_mnist(normalize, flatten, one_hot_label) -> zerodl's loader

``write_course_kit(DIR, book=True)`` (``zerodl course-kit DIR --book``) writes the layout of
the book ゼロから作るDeep Learning instead, so that its chapter scripts, copied into
``DIR/ch03`` ... ``DIR/ch08``, run unchanged (they do ``sys.path.append(os.pardir)``):

    DIR/dataset/mnist.py            load_mnist(normalize, flatten, one_hot_label)
    DIR/common/functions.py         the book's names, argument order loss(y, t)
    DIR/common/gradient.py          numerical_gradient(f, x)
    DIR/common/layers.py            Relu, Sigmoid, Affine, SoftmaxWithLoss, Dropout,
                                    BatchNormalization, Convolution, Pooling
    DIR/common/optimizer.py         SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam
    DIR/common/util.py              smooth_curve, shuffle_dataset, im2col, col2im
    DIR/common/multi_layer_net.py   MultiLayerNet
    DIR/common/multi_layer_net_extend.py   MultiLayerNetExtend (dropout, batch norm)
    DIR/common/trainer.py           Trainer
    DIR/ch07/simple_convnet.py      SimpleConvNet (the chapter-7 scripts import it from
    DIR/ch08/deep_convnet.py        DeepConvNet    their own folder, as the book's do)

Their ``save_params`` and ``load_params`` use NumPy's .npz format, never pickle (see
``help(zerodl.book.params)``).

Each is a few lines re-exporting ``zerodl.book``; like the book's modules they have no
``__all__``, so ``from common.X import *`` also brings ``np`` (and what the book's module
imports), which the book's scripts rely on.

Every file starts with ``MARKER``, followed on that line by a digest of the rest of the file.
A file that exists without it was not written by the kit (for example the course's own
``common/functions.py``), and one whose contents no longer match the digest was edited
since: neither is overwritten unless ``force=True``; untouched kit files are brought up to
date.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..core._checks import check_bool, check_path
from ..core._fileio import atomic_write
from ..core.functions import __all__ as FUNCTION_NAMES

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


def _book_module(what: str, imports: str) -> str:
    return f'''{MARKER}
"""The book's {what}, implemented by zerodl (see ``help(zerodl.book)``)."""
{imports}
'''


#: Book kit: relative path -> (what it is, the lines it runs). Star imports on purpose: the
#: book's scripts use every name its modules hold, ``np`` included.
_BOOK_FILES = {
    "dataset/__init__.py": ("``dataset`` package", ""),
    "dataset/mnist.py": ("``dataset.mnist``", "from zerodl.book.mnist import load_mnist"),
    "common/__init__.py": ("``common`` package", ""),
    "common/functions.py": ("``common.functions``",
                            "import numpy as np\nfrom zerodl.book.functions import *"),
    "common/gradient.py": ("``common.gradient``",
                           "import numpy as np\nfrom zerodl.book.gradient import *"),
    "common/layers.py": ("``common.layers``",
                         "import numpy as np\nfrom zerodl.book.layers import *"),
    "common/optimizer.py": ("``common.optimizer``",
                            "import numpy as np\nfrom zerodl.book.optimizer import *"),
    "common/util.py": ("``common.util``", "import numpy as np\nfrom zerodl.book.util import *"),
    "common/multi_layer_net.py": (
        "``common.multi_layer_net``",
        "import os\nimport sys\nfrom collections import OrderedDict\n\nimport numpy as np\n"
        "from zerodl.book.layers import *\nfrom zerodl.book.gradient import numerical_gradient\n"
        "from zerodl.book.multi_layer_net import *"),
    "common/trainer.py": ("``common.trainer``",
                          "import os\nimport sys\n\nimport numpy as np\n"
                          "from zerodl.book.optimizer import *\nfrom zerodl.book.trainer import *"),
    "common/multi_layer_net_extend.py": (
        "``common.multi_layer_net_extend``",
        "import os\nimport sys\nfrom collections import OrderedDict\n\nimport numpy as np\n"
        "from zerodl.book.layers import *\nfrom zerodl.book.gradient import numerical_gradient\n"
        "from zerodl.book.multi_layer_net_extend import *"),
    "ch07/simple_convnet.py": ("``ch07/simple_convnet.py``",
                               "import numpy as np\nfrom zerodl.book.simple_convnet import *"),
    "ch08/deep_convnet.py": ("``ch08/deep_convnet.py``",
                             "import numpy as np\nfrom zerodl.book.deep_convnet import *"),
}

#: The book's chapter folders the kit creates for its scripts (ch07 and ch08 hold the
#: networks their scripts import from their own folder).
BOOK_CHAPTERS = ("ch03", "ch04", "ch05", "ch06", "ch07", "ch08")


def book_kit_files() -> dict[str, str]:
    """Relative path -> content of every file the book kit writes."""
    return {path: _book_module(what, imports) for path, (what, imports) in _BOOK_FILES.items()}


def kit_files() -> dict[str, str]:
    """Relative path -> content of every file the course kit writes."""
    return {
        "common/__init__.py": f'{MARKER}\n"""The course\'s ``common`` package, backed by zerodl."""\n',
        "common/functions.py": _functions_module(),
        "data/__init__.py": f'{MARKER}\n"""The course\'s ``data`` package, backed by zerodl."""\n',
        "data/mnist.py": _MNIST_MODULE,
    }


def write_course_kit(directory: str | os.PathLike, force: bool = False,
                     book: bool = False) -> list[Path]:
    """Write the course kit (or with ``book=True`` the book kit) into ``directory`` (created
    if missing); return the paths written.

    Raises ``FileExistsError`` naming every file in the way (one that exists and was not
    written by a kit), before writing anything, unless ``force=True``. The book kit also
    creates the chapter folders ``ch03`` ... ``ch08``.
    """
    directory = check_path("directory", directory)
    force = check_bool("force", force)
    book = check_bool("book", book)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"directory must be a folder (new or existing); got "
                                 f"{str(directory)!r}, which is a file.")
    chosen = book_kit_files() if book else kit_files()
    files = {directory / rel: text for rel, text in chosen.items()}
    if not force:
        foreign = [str(p) for p, text in files.items()
                   if p.exists() and not _written_by_kit(p, text)]
        if foreign:
            raise FileExistsError(
                f"course-kit will not overwrite files it did not write or that were edited "
                f"since: {', '.join(foreign)}. Choose another folder, or pass force=True "
                f"(--force) to replace them.")
    for path, text in files.items():
        with atomic_write(path, "w") as f:
            f.write(_sealed(text))
    if book:
        for chapter in BOOK_CHAPTERS:
            (directory / chapter).mkdir(parents=True, exist_ok=True)
    return list(files)


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def _sealed(text: str) -> str:
    """``text`` with the digest of everything after its marker line added to that line:
    the file then says both who wrote it and what it held when written."""
    first, _, body = text.partition("\n")
    return f"{first}  # sha256:{_digest(body)}\n{body}"


def _written_by_kit(path: Path, text: str) -> bool:
    """Whether ``path`` is a kit file nobody edited: its first line is the marker and the
    digest there matches the rest (or it holds exactly what the kit writes now). A file
    with the marker but other contents was edited: it is not overwritten without force."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if content in (text, _sealed(text)):
        return True
    first, _, body = content.partition("\n")
    return first == f"{MARKER}  # sha256:{_digest(body)}"
