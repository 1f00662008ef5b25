"""The IDX format, MNIST's: ``parse_idx`` reads any IDX file into an array.

A 4-byte magic number ``0x00 0x00 <type code> <number of dimensions>``, one big-endian
uint32 per dimension, then the values in C order, big-endian.
"""
from __future__ import annotations

import math
import struct

import numpy as np

__all__ = ["parse_idx", "IDX_TYPES"]

#: Type code -> dtype as stored (big-endian). The format's spec defines exactly these six.
IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode one IDX file's content into an array of its shape, in native byte order.

    Layout: bytes 0-1 are zero, byte 2 the type code (0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions ``ndim >= 1``,
    then ``ndim`` big-endian uint32 sizes, then ``prod(sizes)`` big-endian values.

    The returned array owns its memory (writable, independent of ``data``). Any content
    that does not follow this layout exactly, trailing bytes included, raises ``ValueError``;
    a ``data`` that is not bytes-like raises ``TypeError``.
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"IDX data must be bytes, bytearray or memoryview; got {type(data).__name__}.")
    size = len(data)
    if size < 4:
        raise ValueError(f"IDX data must start with a 4-byte magic number; got {size} bytes.")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"IDX magic number must start with two zero bytes; got 0x{data[:4].hex()}.")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise ValueError(f"IDX type code must be one of {known}; got 0x{code:02X}.")
    if ndim == 0:
        raise ValueError("IDX number of dimensions must be at least 1; got 0.")
    header_size = 4 + 4 * ndim
    if size < header_size:
        raise ValueError(f"IDX header with {ndim} dimensions must be {header_size} bytes; "
                         f"got {size} bytes (truncated).")
    shape = struct.unpack_from(f">{ndim}I", data, 4)
    dtype = IDX_TYPES[code]
    expected = header_size + math.prod(shape) * dtype.itemsize
    if size != expected:
        why = "truncated" if size < expected else "extra bytes at the end"
        raise ValueError(f"IDX data of shape {shape} and type {dtype.name} must be {expected} "
                         f"bytes; got {size} bytes ({why}).")
    native = dtype.newbyteorder("=")
    if expected == header_size:  # no values: frombuffer cannot start at the very end
        return np.empty(shape, dtype=native)
    values = np.frombuffer(data, dtype=dtype, offset=header_size)
    return values.reshape(shape).astype(native, copy=True)
