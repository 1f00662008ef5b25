"""The command line: ``zerodl COMMAND``; each command is a module here."""
from .app import main

__all__ = ["main"]
