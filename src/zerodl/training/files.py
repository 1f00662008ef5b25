"""``zerodl.load``: a model file back into a ``Sequential``, checked before it is built."""
from __future__ import annotations

import os
import zipfile

from ..core._checks import check_path
from ..core.io import check_params, invalid_file, read_model
from ..core.layers import layer_from_config
from .checkpoint import STATE_KEY
from .model import Sequential


def load(path: str | os.PathLike) -> Sequential:
    """Read a model written by ``model.save``; raise ``ValueError`` for anything else.

    A missing file is ``FileNotFoundError``; any other problem (not an archive, damaged,
    object arrays, unknown format version, arrays whose names, shapes or dtypes do not fit
    the architecture, NaN or infinite weights) is a ``ValueError`` naming the file. The
    format and its checks are in ``zerodl.io``.
    """
    path = check_path("path", path)
    if _is_checkpoint(path):
        raise ValueError(f"{path} is a training checkpoint written by fit(checkpoint=...) or "
                         f"zerodl train --checkpoint, not a model file: continue its run with "
                         f"fit(resume=...) or zerodl train --resume {path}, and write a model "
                         f"file with model.save or zerodl train --save.")
    config, arrays = read_model(path)
    try:
        layers = [layer_from_config(c, config["dtype"]) for c in config["layers"]]
        model = Sequential(layers, output=config["output"],
                           input_shape=config.get("input_shape"))
    except (KeyError, TypeError, ValueError, MemoryError) as exc:
        raise invalid_file(path, f"its architecture is invalid ({type(exc).__name__}: "
                                 f"{exc})") from None
    check_params(path, arrays, {**model.params, **model.buffers})
    for table in (model.params, model.buffers):
        for key, target in table.items():
            target[...] = arrays[key]
    for layer, c in zip(layers, config["layers"]):
        if "init" in c:
            layer.init = c["init"]
    return model


def _is_checkpoint(path) -> bool:
    """Whether ``path`` is an archive holding a checkpoint's header (its zip directory only
    is read, nothing is decompressed)."""
    if not path.is_file():          # a FIFO would block the reading; read_model reports it
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return f"{STATE_KEY}.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
