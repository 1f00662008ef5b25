"""A sweep's results file: JSON lines, one record per finished run, owned by one sweep.

Read whole before anything is written: ``read_records`` checks every complete line as a
sweep record first, and only then cuts off a torn last line (a writer killed mid-record),
so a file that is not a sweep's (a model, a PNG, notes) is refused and left as it was.
``hold`` locks the file (``fcntl.flock``) for the sweep writing it: a second sweep on the
same file is refused instead of running everything again and cutting the other's records.
"""
from __future__ import annotations

import contextlib
import json
import numbers
import os
from pathlib import Path
from typing import IO, Iterator

try:
    import fcntl
except ImportError:                 # Windows: no advisory locks; one sweep per file is on you
    fcntl = None

#: The keys of a record (``run_one``) and the kind of each value.
RECORD_KEYS = {"config": (dict, "a dict"), "seed": (int, "an integer >= 0"),
               "history": (dict, "a dict"), "curve": (dict, "a dict"),
               "test": (dict, "a dict"), "seconds": (numbers.Real, "a number"),
               "worker": (str, "a string")}


def _not_records(path: Path, why: str) -> ValueError:
    return ValueError(f"out must be a sweep's results file (JSON lines, one record each); got "
                      f"{str(path)!r}, {why}. Nothing in it was changed; give a new file name.")


def check_record(record, where: str) -> dict:
    """Refuse a record that lacks a key of ``RECORD_KEYS`` or holds the wrong kind."""
    if not isinstance(record, dict) or not set(RECORD_KEYS) <= set(record):
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"{where} must be a sweep record with the keys "
                         f"{', '.join(map(repr, RECORD_KEYS))}; got {got!r}.")
    for key, (kind, rule) in RECORD_KEYS.items():
        value = record[key]
        if isinstance(value, bool) or not isinstance(value, kind) or (
                key == "seed" and value < 0):
            raise ValueError(f"{where} must be a sweep record: {key!r} must be {rule}; got "
                             f"{value!r}.")
    if not isinstance(record.get("train", {}), dict):      # optional: older records lack it
        raise ValueError(f"{where} must be a sweep record: 'train' must be a dict; got "
                         f"{record['train']!r}.")
    return record


def read_records(path: str | os.PathLike) -> list[dict]:
    """The records of a sweep's JSON-lines file; a torn last line (a killed writer) is cut
    off, once every complete line has been read as a record.

    Refused, changing nothing: a file that is not UTF-8 text, a line that is not a JSON
    record (the first line: the file is not a sweep's; a later one: corruption) and a last
    line that does not start like a record.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    whole, torn = data[:end], data[end:]
    try:
        text = whole.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_records(path, f"which is not text (byte {exc.start} is not UTF-8)") from None
    records = [_parse(path, number, line)
               for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if torn and not torn.startswith(b"{"):
        raise _not_records(path, f"whose last line is not a record (it starts with "
                                 f"{torn[:12]!r})" if records else
                           f"which holds no JSON lines (it starts with {torn[:12]!r})")
    if torn:                            # every line a record: the torn one can go
        with open(path, "r+b") as f:
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
    return records


def _parse(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        if number == 1:
            raise _not_records(path, f"whose first line is {line[:60]!r}") from None
        raise ValueError(f"{path}: line {number} must be one JSON record; got "
                         f"{line[:60]!r}.") from None
    if number == 1 and not isinstance(record, dict):
        raise _not_records(path, f"whose first line is {line[:60]!r}")
    return check_record(record, f"{path}: line {number}")


@contextlib.contextmanager
def hold(path: Path) -> Iterator[IO]:
    """The results file opened for appending and locked for this sweep; refused when
    another sweep holds it. A file this call created is removed again if the sweep fails
    before writing to it."""
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a", encoding="utf-8")
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ValueError(f"out must not be in use by another sweep; got {str(path)!r}, "
                                 f"which another zerodl sweep is writing. Wait for it, or give "
                                 f"another file.") from None
        yield handle
    except BaseException:
        if not existed and handle.tell() == 0:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    finally:
        handle.close()


def append(f, record: dict) -> None:
    """One record as one line, on disk before the next run is counted as done."""
    f.write(json.dumps(record, allow_nan=False) + "\n")
    f.flush()
    os.fsync(f.fileno())
