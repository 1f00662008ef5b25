"""What every ``zerodl`` subcommand shares: the one-line usage error and the option parsers.

Part of the command-line layer: ``cli.py`` and every ``cli_*.py`` import from here, so the
subcommand modules never need to import ``cli.py`` (which imports them).
"""
from __future__ import annotations

import argparse
import io
import os

from ..core._fileio import check_output_path


class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one-line ``UsageError`` s, not usage + exit."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def parse_layers(text: str) -> list[int]:
    """``"784-100-10"`` -> ``[784, 100, 10]``: at least two positive sizes."""
    try:
        sizes = [int(part) for part in text.split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--layers must be sizes joined by '-', like 784-100-10; got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"--layers needs at least two positive sizes, like 784-100-10; got {text!r}")
    return sizes


def parse_init(text: str) -> float | str:
    """An initialiser: a number is a normal's standard deviation, anything else a name."""
    try:
        return float(text)
    except ValueError:
        return text


def positive(kind):
    """An argparse ``type`` that reads ``kind`` (int or float) and accepts only values > 0."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {kind.__name__}; got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0; got {text!r}")
        return value
    return parse


def say_unless(quiet: bool):
    """``print`` with flush, or a function that prints nothing when ``quiet``."""
    if quiet:
        return lambda *args: None
    return lambda *args: print(*args, flush=True)


def check_outputs(args, *options: str, make_parents: bool = False) -> None:
    """Check the output files named by ``options`` (``"--plot"``, ...) before any work: each
    given one must be a regular file or a new one in an existing folder that can be written
    to (``zerodl._fileio.check_output_path``); ``make_parents`` lets the folders be missing,
    for commands whose writer creates them. Raises naming the option."""
    for option in options:
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value is not None:
            check_output_path(option, value, make_parents=make_parents)


class QuietStdout:
    """``sys.stdout`` while a command runs: a reader that went away must not end the run.

    ``zerodl train ... | head -1``: once ``head`` exits, every write to the pipe fails with
    ``BrokenPipeError``. A training run must still finish and write its model, curves and
    checkpoint, so the first such error sends the rest of the output to the null device (at
    the file-descriptor level, so that Python's own flush at exit does not fail again) and
    ``went_away`` records it. Everything else is passed to the wrapped stream.
    """

    def __init__(self, stream) -> None:
        self.stream = stream
        self.went_away = False

    def write(self, text: str) -> int:
        if not self.went_away:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._to_devnull()
        return len(text)

    def flush(self) -> None:
        if not self.went_away:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._to_devnull()

    def _to_devnull(self) -> None:
        self.went_away = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass                # not a real file (a test's capture): dropping output is enough

    def __getattr__(self, name):
        return getattr(self.stream, name)
