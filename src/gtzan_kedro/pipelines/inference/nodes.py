"""Nodes of the inference pipeline: the genres of any audio, with a trained model artefact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.prediction import ClipLimits, classify_clips


def classify_files(
    classifier: GenreClassifier,
    audio_files: dict[str, Callable[[], np.ndarray]],
    inference: dict[str, Any],
) -> pd.DataFrame:
    """One row per file: its top genres and every genre's probability, or why it failed."""
    if not audio_files:
        raise InputError(
            "No audio file to classify: name them with `gtzan-kedro predict FILE ...` or "
            '`kedro run --pipeline inference --params "inference.files=<file, folder or pattern>"`.'
        )
    limits = ClipLimits(min_seconds=inference["min_seconds"], silence_db=inference["silence_db"])
    return classify_clips(classifier, audio_files, inference["top_k"], limits)
