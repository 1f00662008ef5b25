"""Settings said once: a rule, a default and a help text per name.

A table ``{name: Setting(rule, default, help)}`` is the one home of a group of settings
(an optimizer's hyper-parameters, a training run's recipe). Everything else reads it: the
constructor's check, the error message, ``get_config``, the command line's options, the sweep
grids and the playground's form. A new setting is one line of a table. The idea is
scikit-learn's ``_parameter_constraints``.

A rule checks a value and returns it in its stored form, or raises with the house message
``"X must be RULE; got VALUE."``, where RULE is ``rule.describe()``: ``TypeError`` for a value
of the wrong kind where the rule is one kind (``check_number``'s words), ``ValueError``
otherwise. The rules:

- ``Interval(float, 0, 1, closed="left")``: a number in [0.0, 1.0); ``Interval(int, 1)``:
  an integer >= 1 (``closed``: which ends belong to it, "both" by default);
- ``Options(names)``: one of a fixed list of names, or of a registry's names (looked up when
  checked, so a newly registered entry is accepted); matched without regard to case;
- ``Boolean()``: ``True`` or ``False`` (not 0, 1 or None);
- ``OneOf(None, rule, ...)``: any of the alternatives (``None`` stands for itself);
- ``Sizes()``: layer sizes, ``[784, 40, 10]`` or ``"784-40-10"``;
- ``Pair(rule, "(beta1, beta2)")``: two values, each under the rule.

``rule.parse(text)`` reads a command line's text as a value of the rule's kind ("0.1" ->
0.1, "none" -> None); text it cannot read stays text, which ``check`` then refuses with the
rule's message, so that every face gives the same sentence.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ._checks import check_bool, check_int, check_number, plain


class Rule:
    """What a value must be; subclasses define ``describe`` and ``check``."""

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, name: str, value: Any) -> Any:
        """``value`` in its stored form, or an error naming ``name``, the rule and ``value``."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """The value a command line's ``text`` stands for (``text`` itself if none)."""
        return text

    def to_json(self, value: Any) -> Any:
        """The stored ``value`` as JSON (lists for tuples)."""
        return value

    def fail(self, name: str, value: Any, exc: type[Exception] = ValueError):
        raise exc(f"{name} must be {self.describe()}; got {plain(value)!r}.")


class Interval(Rule):
    """A number (``float``) or an integer (``int``) between ``low`` and ``high`` (``None``:
    unbounded); ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``."""

    def __init__(self, kind: type, low: float | None = None, high: float | None = None, *,
                 closed: str = "both") -> None:
        assert kind in (int, float) and closed in ("both", "left", "right", "neither")
        self.kind, self.low, self.high = kind, low, high
        self.low_open = closed in ("right", "neither")
        self.high_open = closed in ("left", "neither")

    def _int_bounds(self) -> tuple[int | None, int | None]:
        low = None if self.low is None else int(self.low) + self.low_open
        high = None if self.high is None else int(self.high) - self.high_open
        return low, high

    def describe(self) -> str:
        if self.kind is int:
            low, high = self._int_bounds()
            if high is None:
                return "an integer" if low is None else f"an integer >= {low}"
            return f"an integer in [{'-inf' if low is None else low}, {high}]"
        # check_number's words: an unbounded side is open, the bounds are shown as floats.
        left = "[" if self.low is not None and not self.low_open else "("
        right = "]" if self.high is not None and not self.high_open else ")"
        low = "-inf" if self.low is None else float(self.low)
        high = "inf" if self.high is None else float(self.high)
        return f"a number in {left}{low}, {high}{right}"

    def check(self, name: str, value: Any) -> Any:
        if self.kind is float:
            return check_number(name, value,
                                low=None if self.low is None else float(self.low),
                                high=None if self.high is None else float(self.high),
                                low_open=self.low_open, high_open=self.high_open)
        low, high = self._int_bounds()
        if high is None:
            return check_int(name, value, minimum=low)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            self.fail(name, value, TypeError)
        if (low is not None and value < low) or value > high:
            self.fail(name, value)
        return int(value)

    def parse(self, text: str) -> Any:
        try:
            return self.kind(text)
        except ValueError:
            return text


class Options(Rule):
    """One of some names: a list, or a registry (anything with ``names()``) read at each
    check. Matched without regard to case; the stored value is the name as listed."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.choices = choices if hasattr(choices, "names") else tuple(choices)

    def names(self) -> list[str]:
        return list(self.choices.names() if hasattr(self.choices, "names") else self.choices)

    def describe(self) -> str:
        return f"one of {', '.join(self.names())}"

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            for option in self.names():
                if option.lower() == value.lower():
                    return option
        self.fail(name, value)


class Boolean(Rule):
    """``True`` or ``False``; 0, 1, None and NumPy bools are refused (``check_bool``)."""

    WORDS = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}

    def describe(self) -> str:
        return "a bool (True or False)"

    def check(self, name: str, value: Any) -> bool:
        return check_bool(name, value)

    def parse(self, text: str) -> Any:
        return self.WORDS.get(text.strip().lower(), text)


class OneOf(Rule):
    """Any of ``alternatives``, rules or ``None`` (which stands for itself), tried in order."""

    def __init__(self, *alternatives: Rule | None) -> None:
        self.allows_none = None in alternatives
        self.rules = [rule for rule in alternatives if rule is not None]

    def describe(self) -> str:
        return " or ".join([rule.describe() for rule in self.rules]
                           + (["None"] if self.allows_none else []))

    def check(self, name: str, value: Any) -> Any:
        if value is None and self.allows_none:
            return None
        for rule in self.rules:
            try:
                return rule.check(name, value)
            except (TypeError, ValueError):
                continue
        self.fail(name, value)

    def parse(self, text: str) -> Any:
        if self.allows_none and text.strip().lower() == "none":
            return None
        for rule in self.rules:
            value = rule.parse(text)
            if value is not text:        # read as this rule's kind ("0.01" as a number)
                return value
        return text

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.rules[0].to_json(value)


class Sizes(Rule):
    """Layer sizes: at least two integers >= 1, as a list or joined by '-' ("784-40-10");
    stored as a tuple, written as a list."""

    def describe(self) -> str:
        return "sizes joined by '-', like '784-40-10', or a list of at least two integers >= 1"

    def check(self, name: str, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            parts = value.split("-")
            sizes = [int(p) if p.strip().isdigit() else None for p in parts]
        elif isinstance(value, (list, tuple)):
            sizes = [s if isinstance(s, numbers.Integral) and not isinstance(s, bool) else None
                     for s in value]
        else:
            sizes = [None]
        if len(sizes) < 2 or any(s is None or s < 1 for s in sizes):
            self.fail(name, value)
        return tuple(int(s) for s in sizes)

    def to_json(self, value: Any) -> list[int]:
        return list(value)


class Pair(Rule):
    """Two values, each under ``rule`` and named ``name[0]``, ``name[1]``; a tuple."""

    def __init__(self, rule: Rule, what: str) -> None:
        self.rule, self.what = rule, what

    def describe(self) -> str:
        return f"a pair {self.what}"

    def check(self, name: str, value: Any) -> tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
            self.fail(name, value)
        return (self.rule.check(f"{name}[0]", value[0]), self.rule.check(f"{name}[1]", value[1]))

    def to_json(self, value: Any) -> list:
        return list(value)


REQUIRED = object()      # a setting without a default


@dataclass(frozen=True)
class Setting:
    """One setting: its ``rule``, ``default`` and ``help``; ``metavar`` names its value in a
    command line's help (``SIZES``)."""

    rule: Rule
    default: Any = REQUIRED
    help: str = ""
    metavar: str | None = None

    def check(self, name: str, value: Any) -> Any:
        return self.rule.check(name, value)


def check_names(what: str, given: Mapping, table: Mapping[str, Setting]) -> None:
    """Refuse a key of ``given`` that is not a setting of ``table``, listing the valid ones."""
    if not isinstance(given, Mapping):
        raise TypeError(f"{what} must be a dict of settings; got {plain(given)!r}.")
    for key in given:
        if key not in table:
            raise ValueError(f"{what} has an unknown setting {key!r}; valid names are: "
                             f"{', '.join(table)}.")


class Checked:
    """An attribute whose every assignment goes through its setting's rule, as at
    construction: ``opt.lr = "0.1"`` fails at the assignment, not an epoch later.

    Only ``__set__`` is defined, so the checked value, kept in the instance's ``__dict__``
    under the same name, is read as a plain attribute (Python reads the instance's dict
    before a descriptor without ``__get__``). Before storing, ``obj.check_together(name,
    value)`` may refuse a value that breaks a rule between settings.
    """

    def __init__(self, name: str, rule: Rule) -> None:
        self.name, self.rule = name, rule

    def __set__(self, obj, value) -> None:
        value = self.rule.check(self.name, value)
        obj.check_together(self.name, value)
        obj.__dict__[self.name] = value
