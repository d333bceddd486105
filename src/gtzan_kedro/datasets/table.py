"""A table saved as CSV or JSON, whichever its file name asks for."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from gtzan_kedro.datasets._fs import FileDataset, write_atomically
from gtzan_kedro.errors import InputError
from gtzan_kedro.models.prediction import label_columns


class TableDataset(FileDataset[pd.DataFrame, pd.DataFrame]):
    """A ``DataFrame`` as a JSON list of records when ``filepath`` ends in ``.json``, else CSV.

    For outputs whose path, and so format, the user picks at run time, such as
    ``--params inference.output=predictions.json``. Missing values are written as empty CSV
    cells or JSON ``null``. Saves are atomic.

    Example catalog entry::

        genre_predictions:
          type: gtzan_kedro.datasets.table.TableDataset
          filepath: ${runtime_params:inference.output, data/07_model_output/genre_predictions.csv}
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(filepath=filepath, metadata=metadata)
        self._json = PurePosixPath(self._path).suffix.lower() == ".json"

    def load(self) -> pd.DataFrame:
        """Read the table back."""
        with self._filesystem.open(self._path, "rb") as stream:
            content = stream.read()
        if self._json:
            return pd.read_json(io.BytesIO(content), orient="records")
        return pd.read_csv(io.BytesIO(content))

    def save(self, data: pd.DataFrame) -> None:
        """Write the table as JSON records or CSV, atomically."""
        text = (
            data.to_json(orient="records", indent=2) + "\n"
            if self._json
            else data.to_csv(index=False)
        )
        write_atomically(self._filesystem, self._path, lambda stream: stream.write(text.encode()))


class PredictionTableDataset(TableDataset):
    """A :class:`TableDataset` of predictions that never replaces predictions of other labels.

    A table written by a model of other labels (another collection's) is left as it is and
    the save fails with one line: what is already written is not lost to another label set.

    Example catalog entry::

        genre_predictions:
          type: gtzan_kedro.datasets.table.PredictionTableDataset
          filepath: ${runtime_params:inference.output, data/07_model_output/genre_predictions.csv}
    """

    def save(self, data: pd.DataFrame) -> None:
        """Write the table unless the file holds predictions over other labels."""
        if self._filesystem.exists(self._path):
            try:
                existing = label_columns(self.load())
            except ValueError:  # not a table of predictions: --output decides about those
                existing = None
            labels = label_columns(data)
            if existing is not None and existing != labels:
                raise InputError(
                    f"'{self._path}' holds predictions over the labels {', '.join(existing)}; "
                    f"this model predicts {', '.join(labels)}: write to another file "
                    "(--output, inference.output) or move that one away."
                )
        super().save(data)
