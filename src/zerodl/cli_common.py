"""What every ``zerodl`` subcommand shares: the one-line usage error and the option parsers.

Part of the command-line layer: ``cli.py`` and every ``cli_*.py`` import from here, so the
subcommand modules never need to import ``cli.py`` (which imports them).
"""
from __future__ import annotations

import argparse


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
