"""Classify clips with a :class:`GenreClassifier`: one table, for ``predict`` and serving alike."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DatasetError

from gtzan_kedro.audio_checks import not_finite, silent, too_short
from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import GenreClassifier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipLimits:
    """What a clip must be to be classified (``inference.*`` parameters)."""

    min_seconds: float = 0.5
    silence_db: float = -60.0


def check_clip(samples: np.ndarray, sample_rate: int, limits: ClipLimits) -> float:
    """Return the clip's duration in seconds; fail if it is too short or silent, as ingestion."""
    seconds = len(samples) / sample_rate
    problem = too_short(seconds, limits.min_seconds, "inference.min_seconds")
    if problem:
        raise InputError(f"Too short: {problem}.")
    problem = not_finite(samples)
    if problem:
        raise InputError(f"Not finite: {problem}; re-export the file.")
    problem = silent(samples, limits.silence_db, "inference.silence_db")
    if problem:
        raise InputError(f"Silent: {problem}.")
    return seconds


def prediction_columns(class_names: list[str], top_k: int) -> list[str]:
    """The columns of the prediction table, for ``top_k`` listed genres."""
    ranked = [f"{kind}_{rank}" for rank in range(1, top_k + 1) for kind in ("genre", "probability")]
    return [
        "file",
        "status",
        "model",
        *ranked,
        "seconds",
        "windows",
        "padded",
        "error",
        *class_names,
    ]


def label_columns(table: pd.DataFrame) -> list[str]:
    """The label columns of a prediction table (those after ``error``)."""
    columns = list(table.columns)
    if "error" not in columns:
        raise ValueError("not a prediction table: it has no 'error' column")
    return columns[columns.index("error") + 1 :]


def classify_clips(
    classifier: GenreClassifier,
    clips: Mapping[str, Callable[[], np.ndarray]],
    top_k: int,
    limits: ClipLimits,
) -> pd.DataFrame:
    """One row per clip (decoded at the classifier's sample rate): its top labels, or its error.

    ``top_k`` is at most the number of the classifier's labels.
    """
    return classify_clips_with_timelines(classifier, clips, top_k, limits)[0]


def classify_clips_with_timelines(
    classifier: GenreClassifier,
    clips: Mapping[str, Callable[[], np.ndarray]],
    top_k: int,
    limits: ClipLimits,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The table of :func:`classify_clips`, and each classified clip's windows over time."""
    top_k = min(top_k, len(classifier.class_names))
    results = [_classify_one(classifier, name, load, top_k, limits) for name, load in clips.items()]
    table = pd.DataFrame(
        [row for row, _ in results], columns=prediction_columns(classifier.class_names, top_k)
    )
    table["windows"] = table["windows"].astype("Int64")
    failed = int((table["status"] == "error").sum())
    logger.info(
        "Classified %d of %d clips with '%s'%s.",
        len(table) - failed,
        len(table),
        classifier.architecture,
        f"; {failed} could not be classified" if failed else "",
    )
    timelines = {row["file"]: timeline for row, timeline in results if timeline is not None}
    # None rather than NaN: JSON answers say null, which every client parses.
    return table.astype(object).where(table.notna(), None), timelines


def _classify_one(
    classifier: GenreClassifier,
    name: str,
    load: Callable[[], np.ndarray],
    top_k: int,
    limits: ClipLimits,
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The prediction table's row of one clip, and its windows over time if it was classified."""
    row: dict[str, Any] = {"file": name, "model": classifier.architecture}
    try:
        samples = load()
        seconds = check_clip(samples, classifier.sample_rate, limits)
        features = classifier.features(samples, classifier.sample_rate)
        window_probabilities = classifier.window_proba_features(features)
        probabilities = classifier.track_proba(window_probabilities)
    except (DatasetError, InputError) as error:
        logger.warning("Cannot classify '%s': %s", name, error)
        return row | {"status": "error", "error": str(error)}, None
    padded = classifier.window is not None and len(features) < classifier.window["frames"]
    if padded:
        logger.warning("'%s' (%.2f s) is shorter than one window: it is repeated.", name, seconds)
    windows = len(window_probabilities)
    row |= {"status": "ok", "seconds": round(seconds, 3), "windows": windows, "padded": padded}
    for rank, label in enumerate(np.argsort(-probabilities, kind="stable")[:top_k], start=1):
        row[f"genre_{rank}"] = classifier.class_names[label]
        row[f"probability_{rank}"] = float(probabilities[label])
    scores = zip(classifier.class_names, probabilities, strict=True)
    timeline = classifier.timeline_table(window_probabilities, len(features), seconds)
    return row | {genre: float(p) for genre, p in scores}, timeline
