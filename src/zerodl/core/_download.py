"""One HTTP(S) or ``file://`` download into memory, with a progress bar of bytes.

``datasets.py`` fetches MNIST with it; it lives apart so that the data set's module holds
what MNIST is, not how bytes travel.
"""
from __future__ import annotations

import sys
import urllib.request

from tqdm import tqdm

#: Bytes read per call: small enough for a smooth bar, large enough to cost nothing.
CHUNK = 1 << 16


def download(url: str, timeout: float, max_bytes: int, verbose: int = 0) -> bytes:
    """GET ``url`` and return its body; refuse a body longer than ``max_bytes``.

    ``timeout`` bounds each network read (urllib's timeout is per operation, not total).
    ``verbose=1`` draws a bar of bytes on stderr, named by the file, sized by the server's
    ``Content-Length`` when it sends one; ``verbose=0`` prints nothing.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "zerodl"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        name = url.rstrip("/").rsplit("/", 1)[-1]
        with tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not verbose, file=sys.stderr, mininterval=0.2,
                  dynamic_ncols=True) as bar:
            chunks, n = [], 0
            while n <= max_bytes:
                chunk = response.read(min(CHUNK, max_bytes + 1 - n))
                if not chunk:
                    break
                chunks.append(chunk)
                n += len(chunk)
                bar.update(len(chunk))
    if n > max_bytes:
        raise ValueError(f"{url} must send at most {max_bytes} bytes; got more.")
    return b"".join(chunks)
