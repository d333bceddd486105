"""Queue files: experiments as parameter overrides, with defaults and a grid shorthand.

A queue file (YAML)::

    name: tuning                # optional: the file's stem otherwise
    metric: track_accuracy      # optional: the headline, best architecture's by default
    greater_is_better: true     # optional
    defaults:                   # optional: what every experiment starts from
      pipelines: [feature_engineering, modelling]
      namespaces: [mlp]
      overrides:
        modelling.training.epochs: 10
    experiments:
      - name: baseline
      - name: wide
        overrides:
          mlp.model.units: [256, 128]
      - name: frames            # one experiment per value: frames[frames=64], ...
        grid:
          feature_engineering.sequences.frames: [64, 256]

Overrides use Kedro's dotted parameter keys (``kedro run --params``); whether they exist and
have the right type is checked against the project's parameters when the experiment runs.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gtzan_kedro.errors import InputError

# Kedro's own default pipeline, as for a plain `kedro run`.
DEFAULT_PIPELINES = ("__default__",)
DEFAULT_METRIC = "track_accuracy"

_QUEUE_FIELDS = {"name", "metric", "greater_is_better", "defaults", "experiments"}
_DEFAULTS_FIELDS = {"pipelines", "namespaces", "overrides"}
_EXPERIMENT_FIELDS = {"name", "grid", *_DEFAULTS_FIELDS}


class QueueFileError(InputError):
    """A queue file that cannot be read: the message names the file and the entry."""


@dataclass(frozen=True)
class Experiment:
    """One Kedro session: its pipelines, architecture namespaces and parameter overrides."""

    name: str
    overrides: dict[str, Any]
    pipelines: tuple[str, ...] = DEFAULT_PIPELINES
    # None runs every node of the pipelines; otherwise only these architecture namespaces
    # (un-namespaced nodes such as feature_engineering's still run).
    namespaces: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Queue:
    """The experiments of one queue file, in order, and how to rank them."""

    name: str
    experiments: tuple[Experiment, ...]
    metric: str = DEFAULT_METRIC
    greater_is_better: bool = True


def load_queue(path: Path) -> Queue:
    """Read and expand the queue file at ``path``; fail naming what is wrong in it."""
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise QueueFileError(f"Queue file {path} is not valid YAML: {error}") from error
    return parse_queue(content, default_name=path.stem, source=str(path))


def parse_queue(content: Any, default_name: str, source: str = "queue") -> Queue:
    """Build a queue from a queue file's content: defaults applied, grids expanded."""
    queue = _mapping(content, source, _QUEUE_FIELDS)
    defaults = _mapping(queue.get("defaults", {}), f"{source}: defaults", _DEFAULTS_FIELDS)
    entries = queue.get("experiments")
    if not isinstance(entries, list) or not entries:
        raise QueueFileError(f"{source}: 'experiments' must be a non-empty list of experiments.")
    experiments = [
        experiment
        for index, entry in enumerate(entries, start=1)
        for experiment in _expand(entry, defaults, f"{source}: experiment {index}")
    ]
    names = [experiment.name for experiment in experiments]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        # The name is how a rerun finds an experiment's earlier runs.
        raise QueueFileError(f"{source}: experiment names must be unique, repeated: {duplicates}.")
    greater_is_better = queue.get("greater_is_better", True)
    if not isinstance(greater_is_better, bool):
        raise QueueFileError(f"{source}: 'greater_is_better' must be true or false.")
    return Queue(
        name=str(queue.get("name") or default_name),
        experiments=tuple(experiments),
        metric=str(queue.get("metric") or DEFAULT_METRIC),
        greater_is_better=greater_is_better,
    )


def _expand(entry: Any, defaults: dict[str, Any], where: str) -> list[Experiment]:
    """One experiment, or one per combination of its grid's values."""
    entry = _mapping(entry, where, _EXPERIMENT_FIELDS)
    if not entry.get("name"):
        raise QueueFileError(f"{where}: every experiment needs a 'name'.")
    name = str(entry["name"])
    where = f"{where} ('{name}')"
    overrides = {
        **_overrides(defaults.get("overrides", {}), where),
        **_overrides(entry.get("overrides", {}), where),
    }
    pipelines = _names(entry.get("pipelines", defaults.get("pipelines")), "pipelines", where)
    namespaces = _names(entry.get("namespaces", defaults.get("namespaces")), "namespaces", where)
    grid = _grid(entry.get("grid", {}), where)
    if set(grid) & set(entry.get("overrides", {})):
        raise QueueFileError(f"{where}: a key is both in 'grid' and in 'overrides'.")
    labels = _short_labels(list(grid))
    experiments = []
    # Without a grid, product() yields one empty combination: the experiment itself.
    for values in itertools.product(*grid.values()):
        chosen = dict(zip(grid, values, strict=True))
        suffix = ",".join(f"{labels[key]}={show(value)}" for key, value in chosen.items())
        experiments.append(
            Experiment(
                name=f"{name}[{suffix}]" if grid else name,
                overrides={**overrides, **chosen},
                pipelines=pipelines or DEFAULT_PIPELINES,
                namespaces=namespaces,
            )
        )
    return experiments


def _mapping(value: Any, where: str, fields: set[str]) -> dict[str, Any]:
    """``value`` as a mapping with only known ``fields``; a typo fails rather than is ignored."""
    if not isinstance(value, dict):
        raise QueueFileError(f"{where}: expected a mapping, got {type(value).__name__}.")
    unknown = sorted(set(value) - fields)
    if unknown:
        raise QueueFileError(f"{where}: unknown field(s) {unknown}; known: {sorted(fields)}.")
    return value


def _overrides(value: Any, where: str) -> dict[str, Any]:
    """Dotted parameter keys and their values."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise QueueFileError(
            f"{where}: 'overrides' must map dotted parameter keys to values, "
            "e.g. `lstm.model.units: 128`."
        )
    return value


def _grid(value: Any, where: str) -> dict[str, list[Any]]:
    """Dotted parameter keys and the values to try for each."""
    grid = _overrides(value, where)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise QueueFileError(
                f"{where}: grid values of '{key}' must be a non-empty list, e.g. `{key}: [1, 2]`."
            )
    return grid


def _names(value: Any, field: str, where: str) -> tuple[str, ...] | None:
    """A list of names, a single name, or None when not given."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise QueueFileError(f"{where}: '{field}' must be a name or a non-empty list of names.")
    return tuple(names)


def _short_labels(keys: list[str]) -> dict[str, str]:
    """Each key's last part (``frames``) for experiment names, the whole key where two clash."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: part if last.count(part) == 1 else key for key, part in zip(keys, last, strict=True)
    }


def show(value: Any) -> str:
    """A value as it reads in YAML: ``0.001``, ``[256, 128]``, ``scale``; one line."""
    return (value if isinstance(value, str) else json.dumps(value)).replace("\n", " ")
