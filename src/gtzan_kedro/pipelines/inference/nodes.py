"""Nodes of the inference pipelines: the genres of any audio, with a trained model.

Clips go through the training preprocessing unchanged (``log_mel_spectrogram``,
``cut_sequences``, ``normalise`` with the training split's statistics), cut into windows of
the training sequence length over the whole clip; the model's window probabilities are
averaged into one answer per clip.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DatasetError

from gtzan_kedro.datasets.audio import decode_audio
from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.feature_engineering.nodes import (
    cut_sequences,
    log_mel_spectrogram,
    normalise,
)
from gtzan_kedro.pipelines.modelling.nodes import predict_probabilities

logger = logging.getLogger(__name__)

Clip = dict[str, Any]


def choose_model(
    architecture_comparison: pd.DataFrame | None,
    trained_models: dict[str, Callable[[], Any]],
    model: str | None,
) -> tuple[Any, dict[str, Any]]:
    """Load the named architecture's model, or the best-ranked one; return it with its card."""
    if not trained_models:
        raise InputError(
            "There is no trained model yet: train them with `kedro run` (or `kedro run "
            "--pipeline training`)."
        )
    comparison = architecture_comparison if architecture_comparison is not None else pd.DataFrame()
    if model is None:
        ranked = [name for name in comparison.get("architecture", []) if name in trained_models]
        if not ranked:
            raise InputError(
                "No architecture comparison names a trained model, so there is no best one "
                "to choose: run `kedro run --pipeline reporting`, or name a model with "
                f"--model (inference.model), one of: {', '.join(trained_models)}."
            )
        model = ranked[0]
    elif model not in trained_models:
        raise InputError(
            f"There is no trained model '{model}' (inference.model). Trained models: "
            f"{', '.join(trained_models)}."
        )
    card = {"architecture": model}
    scores = comparison[comparison["architecture"] == model] if len(comparison) else comparison
    if len(scores):
        card |= {
            name: value.item() if isinstance(value, np.generic) else value
            for name, value in scores.iloc[0].items()
        }
    logger.info("Classifying with the '%s' model.", model)
    return trained_models[model](), card


def decode_requests(
    audio_requests: pd.DataFrame, log_mel: dict[str, Any]
) -> dict[str, Callable[[], np.ndarray]]:
    """Turn each request row (base64 ``audio``, optional ``name``) into a lazy clip loader."""
    names = (
        audio_requests["name"]
        if "name" in audio_requests
        else pd.Series([None] * len(audio_requests))
    )
    clips: dict[str, Callable[[], np.ndarray]] = {}
    for index, (name, audio) in enumerate(zip(names, audio_requests["audio"], strict=True)):
        key = name if isinstance(name, str) and name else f"clip {index}"
        # Rows are answered in order; a repeated name must not replace an earlier row.
        key = f"{key} ({index})" if key in clips else key
        clips[key] = functools.partial(
            _decode_base64, audio, key, sample_rate=log_mel["sample_rate"]
        )
    return clips


def _decode_base64(audio: Any, name: str, sample_rate: int) -> np.ndarray:
    """Decode one request's base64 text into samples, like a file of the same bytes."""
    if audio is None or (isinstance(audio, float) and np.isnan(audio)):
        raise InputError("No 'audio': send the file's bytes base64-encoded.")
    if not isinstance(audio, str):
        raise InputError("'audio' is not text: send the file's bytes base64-encoded.")
    try:
        encoded = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("'audio' is not base64: send the file's bytes base64-encoded.") from None
    return decode_audio(encoded, name, sample_rate)


def featurise_clips(  # noqa: PLR0917 - Kedro passes one positional input per dataset
    clips: dict[str, Callable[[], np.ndarray]],
    normalisation_stats: dict[str, list[float]],
    log_mel: dict[str, Any],
    sequences: dict[str, int],
    inference: dict[str, Any],
) -> dict[str, Clip]:
    """Decode each clip and cut it into normalised windows; keep the error of any that fails."""
    if not clips:
        raise InputError(
            "No audio file to classify: name them with `gtzan-kedro predict FILE ...` or "
            '`kedro run --pipeline inference --params "inference.files=<file, folder or pattern>"`.'
        )
    if len(normalisation_stats["mean"]) != log_mel["n_mels"]:
        raise InputError(
            f"The normalisation statistics are for {len(normalisation_stats['mean'])} mel bands "
            f"but feature_engineering.log_mel.n_mels is {log_mel['n_mels']}: restore the "
            "parameter the models were trained with, or train them again."
        )
    featurised = {}
    for name, load in clips.items():
        try:
            featurised[name] = clip_windows(
                load(), normalisation_stats, log_mel, sequences, inference
            )
        except (DatasetError, InputError) as error:
            logger.warning("Cannot classify '%s': %s", name, error)
            featurised[name] = {"error": str(error)}
            continue
        if featurised[name]["padded"]:
            logger.warning(
                "'%s' (%.2f s) is shorter than one window: it is repeated to fill one.",
                name,
                featurised[name]["seconds"],
            )
    return featurised


def clip_windows(
    samples: np.ndarray,
    normalisation_stats: dict[str, list[float]],
    log_mel: dict[str, Any],
    sequences: dict[str, int],
    inference: dict[str, Any],
) -> Clip:
    """Return a clip's normalised windows, its duration and whether it had to be padded."""
    seconds = len(samples) / log_mel["sample_rate"]
    if seconds < inference["min_seconds"]:
        raise InputError(
            f"Too short: {seconds:.2f} s, and at least {inference['min_seconds']} s "
            "(inference.min_seconds) are needed."
        )
    peak_db = 20 * np.log10(max(float(np.max(np.abs(samples))), 1e-10))
    if peak_db < inference["silence_db"]:
        raise InputError(
            f"Silent: its loudest sample is at {peak_db:.0f} dBFS, below "
            f"inference.silence_db ({inference['silence_db']} dBFS)."
        )
    windows, padded = sliding_windows(
        log_mel_spectrogram(samples, log_mel), sequences["frames"], sequences["hop"]
    )
    return {
        "windows": normalise(windows, normalisation_stats),
        "seconds": seconds,
        "padded": padded,
    }


def sliding_windows(log_mel: np.ndarray, frames: int, hop: int) -> tuple[np.ndarray, bool]:
    """Cut a ``(frames, n_mels)`` array into windows covering all of it; say if it was padded."""
    n_frames = len(log_mel)
    if n_frames < frames:
        # Repeating the clip keeps its sound; silence would be a sound the models never heard.
        return np.pad(log_mel, ((0, frames - n_frames), (0, 0)), mode="wrap")[None], True
    windows = cut_sequences(log_mel, frames, hop)
    if (n_frames - frames) % hop:
        # One more window flush with the end, so that the clip's last seconds count too.
        windows = np.concatenate([windows, log_mel[None, n_frames - frames :]])
    return windows, False


def classify_clips(
    featurised: dict[str, Clip], model: Any, model_card: dict[str, Any], inference: dict[str, Any]
) -> pd.DataFrame:
    """One row per clip: its top genres, every genre's probability, or why it failed."""
    usable = {name: clip for name, clip in featurised.items() if "error" not in clip}
    probabilities: dict[str, np.ndarray] = {}
    if usable:
        _check_window_shape(model, next(iter(usable.values()))["windows"].shape[1:])
        # One call for all windows: a model is much faster on one large batch than many small.
        windows = np.concatenate([clip["windows"] for clip in usable.values()])
        counts = np.cumsum([len(clip["windows"]) for clip in usable.values()])[:-1]
        per_clip = np.split(predict_probabilities(model, windows), counts)
        probabilities = {name: p.mean(axis=0) for name, p in zip(usable, per_clip, strict=True)}
    top_k = inference["top_k"]
    rows = [
        _row(name, clip, probabilities.get(name), model_card["architecture"], top_k)
        for name, clip in featurised.items()
    ]
    table = pd.DataFrame(rows, columns=prediction_columns(top_k))
    table["windows"] = table["windows"].astype("Int64")
    failed = int((table["status"] == "error").sum())
    logger.info(
        "Classified %d of %d clips with '%s'%s.",
        len(table) - failed,
        len(table),
        model_card["architecture"],
        f"; {failed} could not be classified" if failed else "",
    )
    # None rather than NaN: JSON answers say null, which every client parses.
    return table.astype(object).where(table.notna(), None)


def _check_window_shape(model: Any, shape: tuple[int, ...]) -> None:
    """Fail clearly when the windows are not shaped like the model's training sequences."""
    # Keras models know their input shape; the scikit-learn ones take what they were fitted on.
    expected = tuple(getattr(model, "input_shape", (None, *shape))[1:])
    if expected != tuple(shape):
        raise InputError(
            f"The model was trained on (frames, mel bands) = {expected} windows, but "
            f"feature_engineering.sequences and log_mel now give {tuple(shape)}: restore the "
            "parameters the model was trained with, or train it again."
        )


def prediction_columns(top_k: int) -> list[str]:
    """The columns of the prediction table, for ``top_k`` listed genres."""
    ranked = [f"{kind}_{rank}" for rank in range(1, top_k + 1) for kind in ("genre", "probability")]
    return ["file", "status", "model", *ranked, "seconds", "windows", "padded", "error", *GENRES]


def _row(
    name: str, clip: Clip, probabilities: np.ndarray | None, model: str, top_k: int
) -> dict[str, Any]:
    """The prediction table's row of one clip."""
    if probabilities is None:
        return {"file": name, "status": "error", "model": model, "error": clip["error"]}
    row: dict[str, Any] = {
        "file": name,
        "status": "ok",
        "model": model,
        "seconds": round(clip["seconds"], 3),
        "windows": len(clip["windows"]),
        "padded": clip["padded"],
    }
    for rank, label in enumerate(np.argsort(-probabilities, kind="stable")[:top_k], start=1):
        row[f"genre_{rank}"] = GENRES[label]
        row[f"probability_{rank}"] = round(float(probabilities[label]), 4)
    logger.info(
        "'%s': %s.",
        name,
        ", ".join(
            f"{row[f'genre_{rank}']} {row[f'probability_{rank}']:.0%}"
            for rank in range(1, top_k + 1)
        ),
    )
    return row | {genre: round(float(p), 4) for genre, p in zip(GENRES, probabilities, strict=True)}
