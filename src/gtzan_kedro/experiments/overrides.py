"""Parameter overrides: checked against the parameters' schema, nested for Kedro."""

from __future__ import annotations

from typing import Any

from gtzan_kedro.parameters import validate_parameters


def check_overrides(overrides: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Fail, with one line naming the parameter, unless the overridden parameters are valid.

    The same schema checks every ``kedro run`` at its start; checking before an experiment's
    session starts fails only that experiment, before anything runs.
    """
    validate_parameters(merged(parameters, nest(overrides)))


def nest(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b.c": 1}`` -> ``{"a": {"b": {"c": 1}}}``, as Kedro takes runtime parameters."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        *parents, last = key.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[last] = value
    return nested


def merged(parameters: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` with ``overrides`` merged in key by key, as Kedro merges ``--params``."""
    result = dict(parameters)
    for key, value in overrides.items():
        current = result.get(key)
        both_mappings = isinstance(current, dict) and isinstance(value, dict)
        result[key] = merged(current, value) if both_mappings else value
    return result
