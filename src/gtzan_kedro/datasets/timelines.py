"""A folder of timelines: per clip, its windows' probabilities as CSV and as a picture."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from kedro.io import AbstractDataset

from gtzan_kedro.datasets._fs import filesystem_for, write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TABLE_SUFFIX = ".timeline.csv"
FIGURE_SUFFIX = ".timeline.png"


class TimelinesDataset(AbstractDataset[dict[str, Callable[[], tuple[Any, Any]]], dict]):
    """``<name>.timeline.csv`` and ``<name>.timeline.png`` per clip, in the folder ``path``.

    Saved from ``{name: callable returning (table, figure)}``: each picture is drawn only
    when its turn comes, so a folder of many clips never holds all its figures in memory.
    Each file is written atomically; other files in the folder are left alone. Loads the
    tables back as ``{name: DataFrame}``.

    Example catalog entry::

        genre_timelines:
          type: gtzan_kedro.datasets.timelines.TimelinesDataset
          path: ${runtime_params:inference.timeline, data/08_reporting/timelines}
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._filesystem, _, self._path = filesystem_for(path)
        self._filepath = path
        self.metadata = metadata

    def load(self) -> dict[str, pd.DataFrame]:
        """Every timeline table in the folder, by clip name."""
        tables = {}
        for file in sorted(self._filesystem.glob(f"{self._path}/*{TABLE_SUFFIX}")):
            with self._filesystem.open(file, "rb") as stream:
                tables[file.rsplit("/", 1)[-1].removesuffix(TABLE_SUFFIX)] = pd.read_csv(stream)
        return tables

    def save(self, data: dict[str, Callable[[], tuple[pd.DataFrame, Figure]]]) -> None:
        """Write each clip's table and picture."""
        for name, draw in data.items():
            table, figure = draw()
            write_atomically(
                self._filesystem,
                f"{self._path}/{name}{TABLE_SUFFIX}",
                functools.partial(table.to_csv, index=False),
            )
            write_atomically(
                self._filesystem,
                f"{self._path}/{name}{FIGURE_SUFFIX}",
                functools.partial(figure.savefig, format="png", dpi=100),
            )

    def _exists(self) -> bool:
        return bool(self._filesystem.glob(f"{self._path}/*{TABLE_SUFFIX}"))

    def _describe(self) -> dict[str, Any]:
        return {"path": self._filepath}
