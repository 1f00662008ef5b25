"""What every ``zerodl`` subcommand shares: the one-line usage error and the option parsers.

Part of the command-line layer: ``cli.py`` and every ``cli_*.py`` import from here, so the
subcommand modules never need to import ``cli.py`` (which imports them).
"""
from __future__ import annotations

import argparse
import io
import os

from ..core._fileio import check_output_path
from ..core.settings import Boolean, Options, Setting, Sizes


#: ``--data-dir``'s help, the same for every command that reads MNIST.
DATA_DIR_HELP = ("folder with the four MNIST files (default: $ZERODL_DATA_DIR, else the cache, "
                 "else a download, once)")


class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit status 2."""


class HelpWithDefaults(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already states it:
    ``(default: 0.1)``, ``(default: off)`` for a flag, ``(default: none)``."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (not action.option_strings or action.default is argparse.SUPPRESS
                or isinstance(action, (argparse._HelpAction, argparse._VersionAction))
                or "default" in text):
            return text
        if action.default is None:
            return f"{text} (default: none)"
        if action.default is False and action.nargs == 0:
            return f"{text} (default: off)"
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one-line ``UsageError`` s, not usage + exit,
    always in the form ``zerodl COMMAND: what is wrong``, and whose help shows defaults."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpWithDefaults)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def setting_type(name: str, setting: Setting):
    """An argparse ``type`` for setting ``name``: the text read by the setting's rule and
    checked by it, so that a bad value gets the message ``RunConfig`` gives."""
    def parse(text: str):
        try:
            return setting.check(name, setting.rule.parse(text))
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


#: Layer sizes ("784-40-10") for the commands whose sizes are not a run's (gradcheck, trace).
parse_layers = setting_type("layers", Setting(Sizes()))


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(map(str, value))
    return "none" if value is None else str(value)


def add_settings(parser, table: dict[str, Setting], names, *, exclusive=(), aliases=None,
                 defaults: dict | None = None) -> None:
    """One option per setting of ``names``: ``--batch-size N`` is ``batch_size``, read and
    checked by its rule, with its help. The default is left out (``argparse.SUPPRESS``):
    ``given_settings(args, names)`` then holds only what the command line gave, and the
    table's default (shown in the help, or ``defaults[name]`` where a command has its own
    preset) applies to the rest. ``exclusive``: a group of names of which one at most may be
    given; ``aliases``: extra option strings per name (``--samples`` for ``n_train``)."""
    group = parser.add_mutually_exclusive_group() if exclusive else None
    for name in names:
        setting = table[name]
        default = (defaults or {}).get(name, setting.default)
        if default is None and "(none: " in setting.help:     # what "none" stands for
            help_text = setting.help.replace("(none: ", "(default: none, that is ")
        else:
            help_text = f"{setting.help} (default: {_shown(default)})"
        names_of = [rule for rule in (setting.rule, *getattr(setting.rule, "rules", ()))
                    if isinstance(rule, Options)]
        if names_of:
            help_text += f"; {names_of[0].describe()}"
        flags = [f"--{name.replace('_', '-')}", *(aliases or {}).get(name, ())]
        where = group if name in exclusive else parser
        if isinstance(setting.rule, Boolean):
            where.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            where.add_argument(*flags, dest=name, type=setting_type(name, setting),
                               default=argparse.SUPPRESS, metavar=setting.metavar,
                               help=help_text)


def given_settings(args, names) -> dict:
    """The settings of ``names`` that the command line gave (see ``add_settings``)."""
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


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


def check_distinct(args, *options: str) -> None:
    """Refuse two outputs (or an output and an input) on one file, before any work: one
    would overwrite the other. ``options`` name the attributes as on the command line."""
    seen: dict[str, str] = {}
    for option in options:
        value = getattr(args, option.lstrip("-").replace("-", "_"), None)
        if value is None:
            continue
        real = os.path.realpath(os.path.expanduser(os.fspath(value)))
        if real in seen:
            raise UsageError(f"{option} must name another file than {seen[real]}; got "
                             f"{value} for both (one would overwrite the other)")
        seen[real] = option


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
