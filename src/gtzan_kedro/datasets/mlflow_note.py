"""A Markdown text shown as the active MLflow run's description, and kept as a local file."""

from __future__ import annotations

import logging

import mlflow
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

from gtzan_kedro.datasets._fs import FileDataset, write_atomically

logger = logging.getLogger(__name__)


class MlflowNoteDataset(FileDataset[str, str]):
    """Markdown saved to ``filepath`` (atomically) and as the active MLflow run's description.

    The MLflow UI shows a run's ``mlflow.note.content`` tag as its description, rendered as
    Markdown; MLflow keeps its first 8000 characters. Without an active run (tracking off,
    e.g. the inference pipeline) only the file is written. Loads read the file back.

    Example catalog entry::

        architecture_comparison_note:
          type: gtzan_kedro.datasets.mlflow_note.MlflowNoteDataset
          filepath: data/08_reporting/architecture_comparison.md
    """

    def load(self) -> str:
        """Return the text of the file."""
        with self._filesystem.open(self._path, "rb") as stream:
            return stream.read().decode("utf-8")

    def save(self, data: str) -> None:
        """Write the file, then set the text as the active run's description."""
        content = data.encode("utf-8")
        write_atomically(self._filesystem, self._path, lambda stream: stream.write(content))
        run = mlflow.active_run()
        if run is None:
            logger.info("No active MLflow run: the note is only saved to %s.", self._filepath)
            return
        MlflowClient().set_tag(run.info.run_id, MLFLOW_RUN_NOTE, data)
