"""The trained model artefact in the catalog: a local folder, and an MLflow model of the run."""

from __future__ import annotations

import base64
import io
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import soundfile as sf
from kedro.io import AbstractDataset, DatasetError

from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.pyfunc import log_genre_classifier
from gtzan_kedro.models.store import load_classifier

logger = logging.getLogger(__name__)


class GenreClassifierDataset(AbstractDataset[GenreClassifier, GenreClassifier]):
    """A :class:`GenreClassifier` saved in ``path``, and logged to the active MLflow run.

    The folder is replaced as a whole (written beside it, then renamed), so it always holds
    one complete model. When an MLflow run is active (a tracked ``kedro run``) and
    ``log_to_mlflow`` is true, the model is also logged to it as a pyfunc model named after
    its architecture, which is what the registry, ``gtzan-kedro predict`` and ``mlflow models
    serve`` load.

    ``logged_name_suffix`` is appended to that name (``svm_refit``), for models that must not
    be taken for the architecture's latest trained one.

    Example catalog entry::

        "{namespace}.genre_classifier":
          type: gtzan_kedro.datasets.genre_classifier.GenreClassifierDataset
          path: data/06_models/{namespace}
    """

    def __init__(
        self,
        *,
        path: str,
        log_to_mlflow: bool = True,
        logged_name_suffix: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        self._log_to_mlflow = log_to_mlflow
        self._logged_name_suffix = logged_name_suffix
        self.metadata = metadata

    def load(self) -> GenreClassifier:
        """Read the classifier saved last."""
        if not self._path.is_dir():
            raise DatasetError(f"No trained model in '{self._path}': run the modelling pipeline.")
        return GenreClassifier.load(self._path)

    def save(self, data: GenreClassifier) -> None:
        """Replace the folder with ``data``, then log it to the active MLflow run, if any."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self._path.name}.", dir=self._path.parent))
        try:
            data.save(staging / "model")
            previous = self._path.with_name(f".{self._path.name}.previous")
            if self._path.exists():
                self._path.rename(previous)
            (staging / "model").rename(self._path)
            shutil.rmtree(previous, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if self._log_to_mlflow and mlflow.active_run() is not None:
            name = f"{data.architecture}{self._logged_name_suffix}"
            log_genre_classifier(self._path, name, _input_example(data))
            logger.info("Logged MLflow model '%s' to the run.", name)

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "logged_name_suffix": self._logged_name_suffix}


def _input_example(classifier: GenreClassifier) -> pd.DataFrame:
    """A one-clip request: a quiet tone as base64 WAV bytes, long enough to fill one window.

    MLflow classifies it when the model is logged; a shorter clip would be padded, and warned
    about, every time.
    """
    sample_rate, seconds = classifier.sample_rate, 1

    def tone(seconds: int) -> np.ndarray:
        return 0.3 * np.sin(2 * np.pi * 440 * np.arange(seconds * sample_rate) / sample_rate)

    while classifier.window and (
        len(classifier.features(tone(seconds), sample_rate)) < classifier.window["frames"]
    ):
        seconds *= 2
    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds), sample_rate, format="WAV")
    return pd.DataFrame({"audio": [base64.b64encode(buffer.getvalue()).decode()], "name": ["tone"]})


class MlflowGenreClassifierDataset(AbstractDataset[None, GenreClassifier]):
    """Read-only: the :class:`GenreClassifier` of an MLflow model, chosen by name.

    ``model`` is ``champion`` (the registry's ``genre_classifier@champion``), an architecture
    (its model from the latest training run of ``experiment``), a ``models:/`` or ``runs:/``
    URI, or a local MLflow model folder. Models are pickles: load only from a trusted store.

    Example catalog entry::

        inference_classifier:
          type: gtzan_kedro.datasets.genre_classifier.MlflowGenreClassifierDataset
          model: ${runtime_params:inference.model, champion}
          experiment: gtzan-kedro
    """

    def __init__(
        self, *, model: str, experiment: str, metadata: dict[str, Any] | None = None
    ) -> None:
        self._model = model
        self._experiment = experiment
        self.metadata = metadata

    def load(self) -> GenreClassifier:
        """Load the named model from the MLflow store the project tracks into."""
        return load_classifier(self._model, self._experiment)

    def save(self, data: None) -> None:
        raise DatasetError("Trained models are saved by the modelling pipeline only.")

    def _describe(self) -> dict[str, Any]:
        return {"model": self._model, "experiment": self._experiment}
