"""A name -> implementation table; unknown names raise a ValueError listing the valid ones."""
from __future__ import annotations

from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps lower-case names to implementations of one family (activations, losses, ...)."""

    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T | None = None):
        """``reg.register("relu", ReLU)`` or as a decorator ``@reg.register("relu")``."""
        def add(obj: T) -> T:
            key = name.lower()
            if key in self._entries:
                raise KeyError(f"{self.family} {key!r} is registered twice")
            self._entries[key] = obj
            return obj
        return add if entry is None else add(entry)

    def get(self, name: str) -> T:
        if not isinstance(name, str):
            raise TypeError(f"{self.family} must be given by name (one of {self.names()}); "
                            f"got {name!r}.")
        try:
            return self._entries[name.lower()]
        except KeyError:
            raise ValueError(f"unknown {self.family} {name!r}; valid names are: "
                             f"{', '.join(self.names())}.") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self):
        return self._entries.items()

    def __len__(self) -> int:
        return len(self._entries)
