"""Registries of functions by name: feature sets' extractors, architectures' builders."""

from __future__ import annotations

from typing import TypeVar

Entry = TypeVar("Entry")


class Registry(dict[str, Entry]):
    """What a decorator registered under each name; one name, one entry."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str, entry: Entry) -> None:
        """Add ``entry`` as ``name``; a name registered twice is a programming error."""
        if name in self:
            raise ValueError(f"{self.kind.capitalize()} '{name}' is registered twice.")
        self[name] = entry

    def named(self, name: str) -> Entry:
        """The entry registered as ``name``, or fail listing the known names."""
        try:
            return self[name]
        except KeyError:
            known = ", ".join(sorted(self))
            raise ValueError(
                f"Unknown {self.kind} '{name}'. Known {self.kind}s: {known}."
            ) from None
