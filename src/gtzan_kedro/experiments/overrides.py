"""Parameter overrides: checked against the project's parameters, nested for Kedro."""

from __future__ import annotations

import difflib
from typing import Any

from gtzan_kedro.errors import InputError

_MISSING = object()


class InvalidOverrideError(InputError):
    """An override whose key is not a parameter of the project, or whose value has the wrong type."""


def check_overrides(overrides: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Fail on the first override that is not an existing parameter of a compatible type.

    Kedro would accept any runtime parameter: a misspelt key would be added beside the real
    one and silently ignored, and a string where an int is expected would only fail (if at
    all) deep inside a node.
    """
    for key, value in overrides.items():
        current: Any = parameters
        for depth, part in enumerate(key.split(".")):
            if not isinstance(current, dict) or part not in current:
                parent = ".".join(key.split(".")[:depth])
                raise InvalidOverrideError(_unknown_key(key, part, parent, current))
            current = current[part]
        _check_value(key, value, current)


def nest(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"lstm.model.units": 128}`` -> ``{"lstm": {"model": {"units": 128}}}``, as Kedro takes them."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        *parents, last = key.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[last] = value
    return nested


def _check_value(key: str, value: Any, current: Any) -> None:
    """``value`` may replace ``current`` (the parameter's value in the configuration)."""
    if current is None:
        return  # An unset parameter (e.g. ingestion.local_path) takes any value.
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise InvalidOverrideError(_wrong_type(key, "a mapping", current, value))
        # Kedro merges a mapping into the parameter key by key: check each one.
        for part, sub_value in value.items():
            sub_current = current.get(part, _MISSING)
            if sub_current is _MISSING:
                raise InvalidOverrideError(_unknown_key(f"{key}.{part}", part, key, current))
            _check_value(f"{key}.{part}", sub_value, sub_current)
        return
    if not _compatible(value, current):
        raise InvalidOverrideError(_wrong_type(key, _type_name(current), current, value))


def _compatible(value: Any, current: Any) -> bool:
    """Whether ``value`` has a type the code reading ``current`` can take."""
    # bool is a subclass of int in Python, but `true` for a number is a mistake in YAML.
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, float):
        return isinstance(value, int | float)  # 10 for 10.0 is fine
    if isinstance(current, str):
        # Text settings often also take a number, e.g. svm.model.gamma: scale or 0.01.
        return isinstance(value, str | int | float)
    if isinstance(current, list):
        return isinstance(value, list)
    return isinstance(value, type(current))


def _type_name(value: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
    return names.get(type(value), "a list" if isinstance(value, list) else type(value).__name__)


def _wrong_type(key: str, expected: str, current: Any, value: Any) -> str:
    return (
        f"Override '{key}' must be {expected} like its configured value {current!r}, "
        f"got {type(value).__name__} {value!r}."
    )


def _unknown_key(key: str, part: str, parent: str, siblings: Any) -> str:
    """Name the unknown key and, when there is one, the parameter it was probably meant to be."""
    where = f"under '{parent}'" if parent else "at the top level"
    message = (
        f"Unknown parameter '{key}': there is no '{part}' {where} of the project's parameters."
    )
    if isinstance(siblings, dict):
        close = difflib.get_close_matches(part, [str(name) for name in siblings], n=1)
        if close:
            message += f" Did you mean '{'.'.join(filter(None, [parent, close[0]]))}'?"
    return message
