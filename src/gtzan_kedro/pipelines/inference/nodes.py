"""Nodes of the inference pipeline: the genres of any audio, with a trained model artefact."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.prediction import ClipLimits, classify_clips_with_timelines


def classify_files(
    classifier: GenreClassifier,
    audio_files: dict[str, Callable[[], np.ndarray]],
    inference: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One row per file (top genres and every genre's probability, or why it failed), and
    each classified file's windows' probabilities over time."""
    if not audio_files:
        raise InputError(
            "No audio file to classify: name them with `gtzan-kedro predict FILE ...` or "
            '`kedro run --pipeline inference --params "inference.files=<file, folder or pattern>"`.'
        )
    limits = ClipLimits(min_seconds=inference["min_seconds"], silence_db=inference["silence_db"])
    return classify_clips_with_timelines(classifier, audio_files, inference["top_k"], limits)


def draw_timelines(
    window_probabilities: dict[str, pd.DataFrame], genre_predictions: pd.DataFrame
) -> dict[str, Callable[[], tuple[pd.DataFrame, Any]]]:
    """Per classified file, named after it: its timeline table and picture (a matplotlib
    ``Figure``), drawn when saved."""
    verdicts = genre_predictions.set_index("file")
    names: set[str] = set()
    timelines = {}
    for file, timeline in window_probabilities.items():
        name = _unique(PurePath(file).name, names)
        row = verdicts.loc[file]
        title = f"{name}: {row['genre_1']} {row['probability_1']:.0%} ({row['model']})"
        timelines[name] = functools.partial(_table_and_figure, timeline, title)
    return timelines


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3`` ... if an earlier file took it; recorded as taken."""
    unique, count = name, 1
    while unique in taken:
        count += 1
        unique = f"{name}-{count}"
    taken.add(unique)
    return unique


def _table_and_figure(timeline: pd.DataFrame, title: str) -> tuple[pd.DataFrame, Any]:
    """The timeline, and its heat strip: time on x, one row per label, probability as colour."""
    from matplotlib.figure import Figure  # noqa: PLC0415 - `predict` without pictures skips it

    labels = list(timeline.columns[2:])
    starts, ends = timeline["start_s"].to_numpy(), timeline["end_s"].to_numpy()
    # Windows overlap: each column runs between the midpoints of neighbouring windows' centres.
    centres = (starts + ends) / 2
    edges = np.concatenate([[starts[0]], (centres[1:] + centres[:-1]) / 2, [ends[-1]]])
    figure = Figure(figsize=(10, 1.2 + 0.3 * len(labels)), layout="constrained")
    axes = figure.subplots()
    mesh = axes.pcolormesh(
        edges,
        np.arange(len(labels) + 1),
        timeline[labels].to_numpy().T,
        cmap="Purples",
        vmin=0.0,
        vmax=1.0,
    )
    axes.set_yticks(np.arange(len(labels)) + 0.5, labels)
    axes.invert_yaxis()
    axes.set_xlabel("time (s)")
    axes.set_title(title)
    figure.colorbar(mesh, ax=axes, label="probability")
    return timeline, figure
