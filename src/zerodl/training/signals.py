"""Ctrl-C and SIGTERM during ``fit``: stop after the current batch, keeping what was learned."""
from __future__ import annotations

import signal
import threading


class StopOnSignal:
    """While active, Ctrl-C (SIGINT) or SIGTERM asks ``fit`` to stop after the current batch.

    Python's default handler raises ``KeyboardInterrupt`` wherever the program is, possibly
    half-way through an update, and SIGTERM's default ends the process with nothing saved;
    this handler only sets ``requested`` (and ``name``, the signal's), which the loop reads
    between batches. It then puts the previous handlers back, so a second signal acts at
    once. Installed only in the main thread and only over the defaults (Python's
    ``default_int_handler``, which a notebook kernel uses while it runs a cell, and
    ``SIG_DFL`` for SIGTERM): a program's own handlers are left alone.
    """

    DEFAULTS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}

    def __enter__(self) -> "StopOnSignal":
        self.requested = False
        self.name: str | None = None
        self._previous: dict = {}
        if threading.current_thread() is threading.main_thread():
            for signum, default in self.DEFAULTS.items():
                if signal.getsignal(signum) == default:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True
        self.name = signal.Signals(signum).name
        self._restore()

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._restore()
        if exc_type is KeyboardInterrupt and not self.requested:
            # Raised inside a step (outside the main thread, or by other code): stop there.
            self.requested, self.name = True, "SIGINT"
            return True
        return False            # a second signal, or any other error, goes on up
