"""The MLflow face of :class:`GenreClassifier`: a pyfunc model that classifies requests.

``mlflow models serve -m models:/genre_classifier@champion`` answers a table with one row
per clip (its file's bytes, base64-encoded, in ``audio``; optionally a ``name``): the same
table ``gtzan-kedro predict`` prints, computed by the same code. A record with
``"timeline": true`` also gets its windows' probabilities over time, in a ``timeline`` column.
"""

from __future__ import annotations

import base64
import binascii
import functools
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType
from packaging.requirements import Requirement

from gtzan_kedro.audio_decoding import decode_audio
from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.prediction import ClipLimits, classify_clips_with_timelines

ARTIFACT = "genre_classifier"
# The script MLflow runs to rebuild the model (models from code): nothing pickled.
MODEL_CODE = Path(__file__).with_name("pyfunc_model.py")
# Genres listed first in each answer row; every genre's probability follows anyway.
TOP_K = 3
# Checked by MLflow before the model runs: one row per clip, its file's bytes base64-encoded,
# optionally a name to recognise it by in the answer, and whether to answer its timeline too
# (typed "any": MLflow casts a "boolean" column with a record lacking it to true).
REQUEST_SIGNATURE = ModelSignature(
    inputs=Schema(
        [
            ColSpec("string", "audio"),
            ColSpec("string", "name", required=False),
            ColSpec(AnyType(), "timeline", required=False),
        ]
    )
)


class GenreClassifierModel(mlflow.pyfunc.PythonModel):
    """Loads the classifier from the model's artifacts; ``predict`` classifies request rows."""

    def load_context(self, context: Any) -> None:
        """Read the classifier from the model's artifacts."""
        self.classifier = GenreClassifier.load(Path(context.artifacts[ARTIFACT]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """One row per request row: top genres and every genre's probability, or the error;
        and a ``timeline`` column when a row asks for it (its windows' start_s, end_s and
        probabilities, one record each)."""
        clips = request_clips(model_input, self.classifier.sample_rate)
        table, timelines = classify_clips_with_timelines(
            self.classifier, clips, TOP_K, ClipLimits()
        )
        # Only JSON true asks: a missing value, false or any other text does not.
        asked = model_input.get("timeline", pd.Series(None, index=model_input.index))
        asked = asked.eq(True).to_numpy()
        if not asked.any():
            return table
        table["timeline"] = [
            timelines[file].to_dict("records") if wanted and file in timelines else None
            for file, wanted in zip(table["file"], asked, strict=True)
        ]
        return table


def request_clips(requests: pd.DataFrame, sample_rate: int) -> dict[str, Any]:
    """Turn each request row (base64 ``audio``, optional ``name``) into a lazy clip loader."""
    names = requests["name"] if "name" in requests else pd.Series([None] * len(requests))
    clips: dict[str, Any] = {}
    for index, (name, audio) in enumerate(zip(names, requests["audio"], strict=True)):
        key = name if isinstance(name, str) and name else f"clip {index}"
        # Rows are answered in order; a repeated name must not replace an earlier row.
        key = f"{key} ({index})" if key in clips else key
        clips[key] = functools.partial(_decode_base64, audio, key, sample_rate)
    return clips


def _decode_base64(audio: Any, name: str, sample_rate: int) -> np.ndarray:
    """Decode one request's base64 text into samples, like a file of the same bytes."""
    if not isinstance(audio, str):
        raise InputError("'audio' is missing or not text: send the file's bytes base64-encoded.")
    try:
        encoded = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("'audio' is not base64: send the file's bytes base64-encoded.") from None
    return decode_audio(encoded, name, sample_rate, limit_name="the server's 15-minute limit")


def runtime_requirements() -> list[str]:
    """The project's dependencies at their installed versions: the served model's environment.

    MLflow would otherwise infer them by loading the model in a subprocess, which takes seconds
    of every training run and misses what only predicting imports (librosa, soundfile).
    """
    try:
        requirements = [Requirement(line) for line in metadata.requires("gtzan_kedro") or []]
    except metadata.PackageNotFoundError:  # running from a source tree: let MLflow infer them
        return []
    return [f"{req.name}=={metadata.version(req.name)}" for req in requirements if not req.marker]


def log_genre_classifier(folder: Path, name: str, input_example: pd.DataFrame) -> Any:
    """Log the saved classifier in ``folder`` to the active run as pyfunc model ``name``."""
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=str(MODEL_CODE),
        artifacts={ARTIFACT: str(folder)},
        # The package's code travels with the model, so a server needs its dependencies only.
        code_paths=[str(Path(__file__).resolve().parents[1])],
        signature=REQUEST_SIGNATURE,
        input_example=input_example,
        pip_requirements=runtime_requirements() or None,
    )
