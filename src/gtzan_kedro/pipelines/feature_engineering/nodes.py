"""Feature-engineering nodes, and the preprocessing that inference reuses unchanged."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import librosa
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.errors import InputError
from gtzan_kedro.features.executor import TrackFailure, map_tracks
from gtzan_kedro.pipelines.feature_engineering.splits import (
    artist_filtered_lists,
    assign_listed_splits,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
SPLIT_STRATEGIES = ("stratified", "artist_filtered")
# Part of every log-mel fingerprint: bump it when log_mel_spectrogram computes differently,
# so that arrays cached by the old code are recomputed.
LOG_MEL_VERSION = 1
# Tracks saved together: the fingerprints index is rewritten once per chunk.
LOG_MEL_CHUNK_TRACKS = 64


def log_mel_spectrogram(samples: np.ndarray, log_mel: dict[str, Any]) -> np.ndarray:
    """Return the time-major ``(frames, n_mels)`` float32 log-mel spectrogram in dB."""
    mel = librosa.feature.melspectrogram(
        y=samples,
        sr=log_mel["sample_rate"],
        n_fft=log_mel["n_fft"],
        hop_length=log_mel["hop_length"],
        n_mels=log_mel["n_mels"],
    )
    # An absolute reference (not the clip's maximum) keeps loudness differences as features.
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T.astype(np.float32)


def sequence_count(n_frames: int, frames: int, hop: int) -> int:
    """Return how many ``frames``-long windows with step ``hop`` fit in ``n_frames``."""
    return 0 if n_frames < frames else 1 + (n_frames - frames) // hop


def cut_sequences(log_mel: np.ndarray, frames: int, hop: int) -> np.ndarray:
    """Cut a ``(frames, n_mels)`` array into ``(n, frames, n_mels)`` windows with step ``hop``."""
    if len(log_mel) < frames:
        return np.empty((0, frames, log_mel.shape[1]), dtype=log_mel.dtype)
    windows = np.lib.stride_tricks.sliding_window_view(log_mel, frames, axis=0)[::hop]
    return windows.transpose(0, 2, 1)


def normalise(sequences: np.ndarray, normalisation_stats: dict[str, list[float]]) -> np.ndarray:
    """Standardise each mel band with the training split's mean and standard deviation."""
    mean = np.asarray(normalisation_stats["mean"], dtype=np.float32)
    std = np.asarray(normalisation_stats["std"], dtype=np.float32)
    return (sequences - mean) / std


def min_clip_seconds(feature_engineering: dict[str, Any]) -> float:
    """Return the shortest clip that still yields one whole sequence."""
    log_mel = feature_engineering["log_mel"]
    frames = feature_engineering["sequences"]["frames"]
    return (frames - 1) * log_mel["hop_length"] / log_mel["sample_rate"]


def split_tracks(
    track_table: pd.DataFrame, feature_engineering: dict[str, Any], seed: int
) -> pd.DataFrame:
    """Assign every usable track to train, validation or test, by the configured strategy."""
    tracks = _long_enough_tracks(track_table, feature_engineering)
    split = feature_engineering["split"]
    strategy = split.get("strategy", "stratified")
    if strategy == "artist_filtered":
        return _split_table(assign_listed_splits(tracks, artist_filtered_lists()), "artist")
    if strategy != "stratified":
        raise InputError(
            f"Unknown parameter value feature_engineering.split.strategy={strategy!r}: use one "
            f"of {', '.join(SPLIT_STRATEGIES)}."
        )
    fractions = {"validation": split["validation_size"], "test": split["test_size"]}
    for name, fraction in fractions.items():
        if not 0 <= fraction < 1:
            raise InputError(
                f"Parameter feature_engineering.split.{name}_size={fraction} must be in [0, 1)."
            )
    if sum(fractions.values()) >= 1:
        raise InputError(
            "Parameters feature_engineering.split.validation_size + test_size must leave "
            "tracks for training (their sum must be below 1)."
        )
    rng = np.random.default_rng(seed)
    assignments = []
    for genre, group in tracks.groupby("genre", sort=True):
        order = group["track_id"].to_numpy()[rng.permutation(len(group))]
        n_test, n_validation = _split_sizes(len(group), fractions, genre)
        labels = ["test"] * n_test + ["validation"] * n_validation
        labels += ["train"] * (len(group) - len(labels))
        assignments.append(pd.Series(labels, index=order))
    tracks["split"] = pd.concat(assignments).reindex(tracks["track_id"]).to_numpy()
    return _split_table(tracks, "track and genre")


def _split_table(tracks: pd.DataFrame, by: str) -> pd.DataFrame:
    """Log the split sizes and return the split table's columns in a stable order."""
    logger.info(
        "Split %d tracks by %s: %s.",
        len(tracks),
        by,
        ", ".join(f"{name} {int((tracks['split'] == name).sum())}" for name in SPLITS),
    )
    columns = ["track_id", "genre", "label", "path", "duration_s", "split"]
    return tracks[columns].sort_values(["split", "track_id"]).reset_index(drop=True)


def _long_enough_tracks(
    track_table: pd.DataFrame, feature_engineering: dict[str, Any]
) -> pd.DataFrame:
    """Return the usable tracks, logging those shorter than one sequence."""
    usable = track_table[track_table["status"] == "ok"]
    shortest = min_clip_seconds(feature_engineering)
    too_short = usable["duration_s"] < shortest
    for row in usable[too_short].itertuples():
        logger.warning(
            "Left out '%s': %.2f s is shorter than one sequence (%.2f s); lower "
            "feature_engineering.sequences.frames or replace the clip.",
            row.path,
            row.duration_s,
            shortest,
        )
    tracks = usable[~too_short].copy()
    if tracks.empty:
        raise InputError(
            f"No clip is long enough for one sequence of {shortest:.2f} s: lower "
            "feature_engineering.sequences.frames or use longer clips."
        )
    return tracks


def _split_sizes(n_tracks: int, fractions: dict[str, float], genre: str) -> tuple[int, int]:
    """Return (test, validation) track counts for one genre, keeping one track for training."""
    # Every genre appears in every requested split, however small the dataset.
    n_test, n_validation = (
        max(1, round(n_tracks * fractions[name])) if fractions[name] > 0 else 0
        for name in ("test", "validation")
    )
    wanted = n_test + n_validation
    if n_tracks - wanted < 1:
        raise InputError(
            f"Genre '{genre}' has {n_tracks} usable tracks: too few to give validation and test "
            "tracks and keep one for training. Add clips (ingestion.generator.clips_per_genre) "
            "or lower feature_engineering.split sizes."
        )
    return n_test, n_validation


def log_mel_fingerprint(path: str, stat: dict[str, Any], log_mel: dict[str, Any]) -> str:
    """Return what a track's log-mel depends on, hashed: its raw file and the parameters."""
    source = {"path": path, **stat, "log_mel": log_mel, "version": LOG_MEL_VERSION}
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def extract_log_mels(
    raw_clips: dict[str, Callable[[], np.ndarray]],
    raw_clip_stats: dict[str, Callable[[], dict[str, Any]]],
    log_mel_fingerprints: dict[str, str],
    track_splits: pd.DataFrame,
    feature_engineering: dict[str, Any],
) -> Iterator[dict[str, dict[str, Any]]]:
    """Compute the log-mel of each split track whose cached one is stale, chunk by chunk.

    A generator: Kedro saves each chunk as it is yielded, so results are never all in memory.
    """
    log_mel = feature_engineering["log_mel"]
    paths = dict(zip(track_splits["track_id"], track_splits["path"], strict=True))
    fingerprints = {
        track_id: log_mel_fingerprint(path, raw_clip_stats[path](), log_mel)
        for track_id, path in paths.items()
    }
    stale = {
        track_id: raw_clips[paths[track_id]]
        for track_id, fingerprint in fingerprints.items()
        if feature_engineering["recompute_log_mels"]
        or log_mel_fingerprints.get(track_id) != fingerprint
    }
    logger.info(
        "Log-mel spectrograms: %d to compute, %d reused (raw file and log_mel parameters "
        "unchanged; feature_engineering.recompute_log_mels=true recomputes them).",
        len(stale),
        len(fingerprints) - len(stale),
    )
    executor = feature_engineering.get("executor", {"n_jobs": feature_engineering["n_jobs"]})
    results = map_tracks(functools.partial(_load_log_mel, log_mel=log_mel), stale, executor)
    # disable=None: no bar when the output is not a terminal (logs, CI).
    progress = iter(
        tqdm(
            results,
            total=len(stale),
            desc="Log-mel spectrograms",
            unit="track",
            delay=2,
            disable=None,
        )
    )
    failures = []
    while chunk := list(itertools.islice(progress, LOG_MEL_CHUNK_TRACKS)):
        for track_id, result in chunk:
            if isinstance(result, TrackFailure):
                logger.warning("Log-mel of track '%s' failed: %s", track_id, result.error)
                failures.append(track_id)
        yield {
            track_id: {"fingerprint": fingerprints[track_id], "features": result}
            for track_id, result in chunk
            if not isinstance(result, TrackFailure)
        }
    if failures:
        raise InputError(
            f"{len(failures)} track(s) could not be featurised ({', '.join(failures[:5])}"
            f"{' ...' if len(failures) > 5 else ''}; see the warnings above): fix or remove their "
            "files and run again; the other tracks' log-mels are saved and will be reused."
        )


def _load_log_mel(load: Callable[[], np.ndarray], log_mel: dict[str, Any]) -> np.ndarray:
    """Decode one clip and return its log-mel spectrogram."""
    return log_mel_spectrogram(load(), log_mel)


def fit_normalisation(
    log_mel_spectrograms: dict[str, Callable[[], np.ndarray]], track_splits: pd.DataFrame
) -> dict[str, list[float]]:
    """Return per-mel-band mean and standard deviation over all training frames."""
    train_ids = track_splits.loc[track_splits["split"] == "train", "track_id"]
    total = total_squares = None
    n_frames = 0
    for track_id in train_ids:
        frames = np.asarray(log_mel_spectrograms[track_id](), dtype=np.float64)
        total = frames.sum(axis=0) if total is None else total + frames.sum(axis=0)
        squares = np.square(frames).sum(axis=0)
        total_squares = squares if total_squares is None else total_squares + squares
        n_frames += len(frames)
    mean = total / n_frames
    std = np.sqrt(np.maximum(total_squares / n_frames - mean**2, 0.0))
    # A silent band has zero spread; 1 keeps it finite instead of dividing by zero.
    std = np.where(std > 1e-6, std, 1.0)
    return {"mean": mean.tolist(), "std": std.tolist(), "frames": n_frames}


def make_sequences(
    log_mel_spectrograms: dict[str, Callable[[], np.ndarray]],
    track_splits: pd.DataFrame,
    normalisation_stats: dict[str, list[float]],
    sequences: dict[str, int],
    split: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut one split's tracks into normalised sequences with aligned labels and track ids."""
    frames, hop = sequences["frames"], sequences["hop"]
    if frames < 1 or hop < 1:
        raise InputError(
            f"Parameters feature_engineering.sequences.frames={frames} and hop={hop} must be >= 1."
        )
    tracks = track_splits[track_splits["split"] == split]
    spectrograms = [log_mel_spectrograms[track_id]() for track_id in tracks["track_id"]]
    counts = [sequence_count(len(spectrogram), frames, hop) for spectrogram in spectrograms]
    n_mels = spectrograms[0].shape[1] if spectrograms else len(normalisation_stats["mean"])
    # One preallocated output: the split's sequences exist once in memory, never as a list.
    output = np.empty((sum(counts), frames, n_mels), dtype=np.float32)
    start = 0
    for spectrogram, count in zip(spectrograms, counts, strict=True):
        output[start : start + count] = normalise(
            cut_sequences(spectrogram, frames, hop)[:count], normalisation_stats
        )
        start += count
    labels = np.repeat(tracks["label"].to_numpy(dtype=np.int64), counts)
    track_ids = np.repeat(tracks["track_id"].to_numpy(dtype=str), counts)
    logger.info("%s split: %d sequences from %d tracks.", split, len(output), len(tracks))
    return output, labels, track_ids
