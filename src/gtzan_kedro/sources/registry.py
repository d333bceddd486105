"""The registry of sources: where a collection's clips and their labels come from, by name.

A source is one function that returns a collection's clips as lazy partitions of the raw
folder, keyed ``"<label>/<file>"`` (the label is the clip's folder), and says which labels the
collection has: a fixed list (GTZAN's ten genres) or ``None``, the folder names found (or
``ingestion.labels``). It reads its settings from ``conf/base/parameters_ingestion.yml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from gtzan_kedro.errors import InputError

# (ingestion parameters, seed, downloads folder) -> {"<label>/<file>": clip}
ClipReader = Callable[..., dict[str, Any]]

SOURCE_INDEX_COLUMNS = ["track_id", "genre", "path", "status", "problem", "dataset_split"]


@dataclass(frozen=True)
class Collection:
    """What a source delivers: the clips, and what it knows about its tracks beyond them.

    ``index`` has one row per track the source lists (``SOURCE_INDEX_COLUMNS``): those it
    could not deliver (no label, no audio) with their status, and each track's split when the
    collection publishes one (``dataset_split``: train, validation or test).
    """

    clips: dict[str, Any]
    index: pd.DataFrame


@dataclass(frozen=True)
class Source:
    """A registered source: its reader, its raw-layer folder and its fixed labels, if any."""

    name: str
    read: ClipReader
    folder: str
    labels: tuple[str, ...] | None
    label_noun: str

    def collection(
        self, ingestion: dict[str, Any], seed: int, downloads: Path | None
    ) -> Collection:
        """The source's clips, and its index when it keeps one."""
        delivered = self.read(ingestion, seed=seed, downloads=downloads)
        if isinstance(delivered, Collection):
            return delivered
        return Collection(delivered, pd.DataFrame(columns=SOURCE_INDEX_COLUMNS))


def refused_index(refused: dict[str, tuple[str, str]], folder: str) -> pd.DataFrame:
    """Index rows of the files a copy did not take (links leaving it, FIFOs): never read.

    ``refused`` maps ``"<label>/<file>"`` to ``(status, problem)``; ``folder`` is the source's
    raw-layer folder.
    """
    rows = []
    for key, (status, problem) in sorted(refused.items()):
        relative = PurePosixPath(key)
        label = relative.parts[0] if len(relative.parts) == 2 else ""
        rows.append([relative.stem, label, f"{folder}/{key}", status, problem, ""])
    return pd.DataFrame(rows, columns=SOURCE_INDEX_COLUMNS)


SOURCES: dict[str, Source] = {}


def source(
    name: str,
    *,
    folder: str | None = None,
    labels: tuple[str, ...] | None = None,
    label_noun: str = "label of this collection",
) -> Callable[[ClipReader], ClipReader]:
    """Register the decorated reader as ``ingestion.source: <name>``.

    ``folder`` is its raw-layer folder (default: ``name``); sources sharing a folder mirror
    it in turn. ``labels`` fixes the label set (and its order); ``None`` takes it from the data.
    """

    def decorator(read: ClipReader) -> ClipReader:
        if name in SOURCES:
            raise ValueError(f"Source '{name}' is registered twice.")
        SOURCES[name] = Source(name, read, folder or name, labels, label_noun)
        return read

    return decorator


def get_source(ingestion: dict[str, Any]) -> Source:
    """Return the source ``ingestion.source`` names, or fail with the known ones."""
    name = ingestion.get("source")
    if name not in SOURCES:
        raise InputError(
            f"Unknown parameter value ingestion.source={name!r}: "
            f"use one of {', '.join(SOURCES)} (conf/base/parameters_ingestion.yml)."
        )
    return SOURCES[name]
