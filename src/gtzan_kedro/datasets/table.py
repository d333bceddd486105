"""A table saved as CSV or JSON, whichever its file name asks for."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from gtzan_kedro.datasets._fs import FileDataset, write_atomically


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
