"""Trained models for inference: the latest version of each, and the one packaged for serving."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import Version, get_filepath_str

from gtzan_kedro.datasets.model import JOBLIB_FILE, KERAS_FILE, ModelDataset

logger = logging.getLogger(__name__)


class LatestModelsDataset(AbstractDataset[None, dict[str, Callable[[], Any]]]):
    """Read-only ``{name: load}`` of the latest version of every versioned model in a folder.

    The folder holds one versioned ``ModelDataset`` per model, as the modelling pipeline
    writes them: ``<path>/<name>/<version>/<name>/model.keras`` (or ``model.joblib``). Only
    the model that is called is loaded, so choosing one of many reads one file.

    Example catalog entry::

        trained_models:
          type: gtzan_kedro.datasets.trained_models.LatestModelsDataset
          path: data/06_models
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> dict[str, Callable[[], Any]]:
        """Return ``{name: load}`` for every model with at least one saved version."""
        names = sorted(
            model_file.parents[2].name
            for model_file in self._path.glob("*/*/*/model.*")
            if model_file.name in (KERAS_FILE, JOBLIB_FILE)
            and model_file.parent.name == model_file.parents[2].name
        )
        return {name: self._loader(name) for name in dict.fromkeys(names)}

    def _loader(self, name: str) -> Callable[[], Any]:
        """Load the latest version of model ``name``, logging which version it is."""

        def load() -> Any:
            dataset = ModelDataset(filepath=str(self._path / name), version=Version(None, None))
            logger.info("Loading model '%s', version %s.", name, dataset.resolve_load_version())
            return dataset.load()

        return load

    def save(self, data: None) -> None:
        raise DatasetError(f"'{self._path}' is read-only here: models are saved by modelling.")

    def _exists(self) -> bool:
        return bool(self.load())

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


class ServingModelDataset(ModelDataset):
    """An unversioned ``ModelDataset`` holding exactly one model: the one saved last.

    Saving removes the file of a previous model first, which may be of the other format
    (a ``model.joblib`` beside a new ``model.keras`` would otherwise be packaged with it).
    kedro-mlflow packages this folder into the MLflow model, so it must hold nothing else.
    """

    def save(self, data: Any) -> None:
        """Remove the previous model, then save ``data``."""
        folder = get_filepath_str(self._get_save_path(), self._protocol)
        for name in (KERAS_FILE, JOBLIB_FILE):
            if self._fs.exists(f"{folder}/{name}"):
                self._fs.rm(f"{folder}/{name}")
        super().save(data)
