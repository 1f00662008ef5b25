"""How to install an optional part of zerodl, in words that work wherever zerodl came from."""
from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """The commands that install the optional dependencies named ``extra`` in pyproject.toml:
    by name from a package index, or from the folder of a checkout (where the name
    ``zerodl[...]`` would be looked up on the index instead)."""
    return (f"pip install \"zerodl[{extra}]\" (installed from an index), or "
            f"pip install -e \".[{extra}]\" in a checkout of zerodl")
