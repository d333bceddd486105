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
import os
import re
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
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


# The most base64 text one request may carry, in MB (10**6 characters): set in the server's
# environment. 100 MB is a 75 MB file, e.g. 15 minutes of 16-bit mono WAV at 44.1 kHz.
MAX_REQUEST_MB_VARIABLE = "GTZAN_SERVING_MAX_REQUEST_MB"
DEFAULT_MAX_REQUEST_MB = 100.0
# What plain `base64` prints: the alphabet, padding, and line breaks every 76 characters.
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]*")
# Warms the classifier up at load: what its first use builds (a network, a traced function).
WARM_UP_SECONDS = 30.0


class RequestTooLarge(MlflowException):
    """A request whose audio is over the server's limit: MLflow's server answers it HTTP 413."""

    def get_http_status_code(self) -> int:
        """413 Content Too Large."""
        return 413


class GenreClassifierModel(mlflow.pyfunc.PythonModel):
    """Loads the classifier from the model's artifacts; ``predict`` classifies request rows."""

    def load_context(self, context: Any) -> None:
        """Read the classifier and build, once, whatever its first prediction would build."""
        self.classifier = GenreClassifier.load(Path(context.artifacts[ARTIFACT]))
        self.max_request_chars = max_request_chars()
        rate = self.classifier.sample_rate
        time = np.arange(int(WARM_UP_SECONDS * rate), dtype=np.float32) / rate
        self.classifier.predict_proba(0.3 * np.sin(2 * np.pi * 440 * time), rate)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """One row per request row: top genres and every genre's probability, or the error;
        and a ``timeline`` column when a row asks for it (its windows' start_s, end_s and
        probabilities, one record each)."""
        check_request_size(model_input, getattr(self, "max_request_chars", None))
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


def max_request_chars() -> int:
    """The request limit in base64 characters, from the server's environment."""
    configured = os.environ.get(MAX_REQUEST_MB_VARIABLE, "")
    try:
        megabytes = float(configured) if configured else DEFAULT_MAX_REQUEST_MB
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise InputError(
            f"{MAX_REQUEST_MB_VARIABLE}={configured!r} is not a positive number of MB: set it "
            f"to the most base64 audio one request may carry (default {DEFAULT_MAX_REQUEST_MB:g})."
        )
    return int(megabytes * 1_000_000)


def check_request_size(requests: pd.DataFrame, limit: int | None) -> None:
    """Refuse a request whose base64 audio is over ``limit`` characters, before decoding any."""
    if limit is None or "audio" not in requests:
        return
    size = sum(len(audio) for audio in requests["audio"] if isinstance(audio, str))
    if size > limit:
        raise RequestTooLarge(
            f"The request carries {size / 1e6:.1f} MB of base64 audio, more than this "
            f"server's {limit / 1e6:g} MB ({MAX_REQUEST_MB_VARIABLE}): send fewer or shorter "
            "clips per request, or start the server with a higher limit.",
            error_code=INVALID_PARAMETER_VALUE,
        )


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
    encoded = _base64_bytes(audio)
    return decode_audio(encoded, name, sample_rate, limit_name="the server's 15-minute limit")


def _base64_bytes(audio: str) -> bytes:
    """The bytes of base64 text, with or without the line breaks plain `base64` prints."""
    with suppress(binascii.Error, ValueError):
        return base64.b64decode(audio, validate=True)
    if _BASE64_TEXT.fullmatch(audio):
        with suppress(binascii.Error):
            return base64.b64decode(audio)  # skips the whitespace, all that is not base64
    raise InputError("'audio' is not base64: send the file's bytes base64-encoded.")


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
