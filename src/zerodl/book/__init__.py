"""The book's ``common`` and ``dataset`` modules, backed by zerodl.

The book ゼロから作るDeep Learning ships its chapter scripts with a folder of helpers
(``common/functions.py``, ``common/layers.py``, ``common/optimizer.py``, ...,
``dataset/mnist.py``). ``zerodl course-kit DIR --book`` writes that folder layout into ``DIR``
as thin files that re-export the modules of this package, so the book's scripts for chapters
3 to 8 run unchanged from ``DIR/chNN/``.

Conventions are the book's where its scripts depend on them: labels are called ``t``, losses
take ``(y, t)`` (zerodl's course functions take ``(d, y)``), layers have ``forward`` and
``backward(dout)``. The arithmetic is zerodl's (stable softmax and sigmoid, exact gradients,
``functions.output_delta`` for the fused softmax gradient, zerodl's optimizers and
initialisers); where a value can differ from the book's code the docstring says how.
Randomness comes from ``np.random.Generator`` objects (a ``seed=`` keyword where the book's
classes draw numbers), never from NumPy's global state.

The chapter-7 and 8 networks save their parameters in NumPy's .npz format; a pickle (the
book's own trained files) is read only by ``convert_book_pickle``, which the user calls for
a file they trust (see ``help(zerodl.book.params)``).
"""
from .params import convert_book_pickle

__all__ = ["convert_book_pickle"]
