"""Feature-engineering nodes: split by track, then per feature set extract, normalise, cut."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from gtzan_kedro.arrays import ChunkedArray
from gtzan_kedro.errors import InputError
from gtzan_kedro.features import featurise_clip
from gtzan_kedro.features.executor import TrackFailure, map_tracks
from gtzan_kedro.features.preprocessing import example_count, normalise, track_examples
from gtzan_kedro.pipelines.feature_engineering.splits import (
    artist_filtered_lists,
    assign_listed_splits,
    check_artist_filtered_labels,
)
from gtzan_kedro.progress import progress_bar

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
# Splits cut into examples for training; test tracks are classified whole by the model artefact.
EXAMPLE_SPLITS = ("train", "validation")
# Tracks saved at a time while features stream in: the fingerprints index is rewritten per chunk.
FEATURE_CHUNK_TRACKS = 64
# Part of every feature fingerprint: bump it when an extractor computes differently, so
# that features cached by the old code are recomputed.
FEATURES_VERSION = 2
# A fold's fewest test tracks of one label: below this its per-label scores mean little.
MIN_TRACKS_PER_LABEL = 2


# Published splits (FMA's set.split) in this project's split names.
DATASET_SPLITS = {"training": "train", "validation": "validation", "test": "test"}


def split_tracks(
    track_table: pd.DataFrame,
    label_set: dict[str, Any],
    feature_engineering: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """Assign every usable track to a split (holdout) or a fold (cross-validation)."""
    tracks = track_table[track_table["status"] == "ok"].copy()
    if tracks.empty:
        raise InputError("No usable clip in the track table: check ingestion's log and data.")
    split = feature_engineering["split"]
    strategy = split["strategy"]
    if strategy in {"artist_filtered", "artist_kfold"}:
        check_artist_filtered_labels(label_set["labels"], strategy)
    if strategy == "dataset":
        return _split_table(
            _published_splits(tracks, label_set["labels"]), "the dataset's own split"
        )
    if strategy == "kfold":
        _check_label_counts(tracks, label_set["labels"], split["folds"], "one per fold")
    if strategy == "artist_filtered":
        return _split_table(assign_listed_splits(tracks, artist_filtered_lists()), "artist")
    if strategy == "artist_kfold":
        listed = assign_listed_splits(tracks, artist_filtered_lists())
        # Each published partition is one fold: no artist is in two folds.
        listed["fold"] = listed["split"].map({"train": 1, "validation": 2, "test": 3})
        check_fold_sizes(listed, split.get("min_tracks_per_label", MIN_TRACKS_PER_LABEL))
        return _fold_table(listed, "artist")
    if strategy == "kfold":
        stratified = StratifiedKFold(n_splits=split["folds"], shuffle=True, random_state=seed)
        tracks["fold"] = 0
        for fold, (_, test) in enumerate(stratified.split(tracks, tracks["label"]), start=1):
            tracks.iloc[test, tracks.columns.get_loc("fold")] = fold
        check_fold_sizes(tracks, split.get("min_tracks_per_label", MIN_TRACKS_PER_LABEL))
        return _fold_table(tracks, "track and genre")
    fractions = {"validation": split["validation_size"], "test": split["test_size"]}
    _check_label_counts(tracks, label_set["labels"], 1, "")
    tracks["split"] = _stratified_splits(tracks, fractions, seed)
    return _split_table(tracks, "track and genre")


def check_fold_sizes(tracks: pd.DataFrame, min_tracks_per_label: int) -> None:
    """Refuse folds whose test tracks include fewer than ``min_tracks_per_label`` of a label."""
    counts = tracks.groupby(["fold", "genre"]).size().unstack(fill_value=0)
    fold, genre = counts.stack().idxmin()
    if counts.loc[fold, genre] < min_tracks_per_label:
        raise InputError(
            f"Fold {fold} would test only {counts.loc[fold, genre]} track(s) of label '{genre}' "
            f"(feature_engineering.split.min_tracks_per_label={min_tracks_per_label}): lower "
            "feature_engineering.split.folds or add clips of that label."
        )


def _check_label_counts(tracks: pd.DataFrame, labels: list[str], needed: int, why: str) -> None:
    """Fail with one line naming the first label with fewer than ``needed`` usable tracks."""
    counts = tracks["genre"].value_counts()
    for label in labels:
        count = int(counts.get(label, 0))
        if count < needed:
            raise InputError(
                f"Label '{label}' has {count} usable clip{'' if count == 1 else 's'}: the split "
                f"needs at least {needed}{f' ({why})' if why else ''}. Add clips to its folder, "
                "leave it out with ingestion.labels, or lower feature_engineering.split.folds."
            )


def _published_splits(tracks: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The tracks with the split their dataset publishes (FMA's set.split); others left out."""
    published = tracks.assign(split=tracks["dataset_split"].map(DATASET_SPLITS))
    unlisted = published["split"].isna()
    if unlisted.all():
        raise InputError(
            "feature_engineering.split.strategy=dataset uses the split a dataset publishes "
            "(FMA's set.split), and no usable track has one: use stratified or kfold."
        )
    if unlisted.any():
        logger.warning(
            "Dataset split: left out %d tracks without a published split.", unlisted.sum()
        )
    published = published[~unlisted]
    _check_label_counts(published[published["split"] == "train"], labels, 1, "a training track")
    return published


def split_fold(
    track_splits: pd.DataFrame, feature_engineering: dict[str, Any], seed: int, fold: int
) -> pd.DataFrame:
    """One fold's splits: its tracks are the test split, validation drawn from the others."""
    tracks = track_splits.copy()
    tracks["split"] = "test"
    rest = tracks["fold"] != fold
    fractions = {"validation": feature_engineering["split"]["validation_size"], "test": 0.0}
    tracks.loc[rest, "split"] = _stratified_splits(tracks[rest], fractions, seed)
    return _split_table(tracks, f"fold {fold}")


def split_all_tracks(
    track_splits: pd.DataFrame, feature_engineering: dict[str, Any], seed: int
) -> pd.DataFrame:
    """Every track for a final training: validation tracks drawn per genre, none for test."""
    tracks = track_splits.copy()
    fractions = {"validation": feature_engineering["split"]["validation_size"], "test": 0.0}
    tracks["split"] = _stratified_splits(tracks, fractions, seed)
    return _split_table(tracks, "track and genre, for the refit")


def _stratified_splits(tracks: pd.DataFrame, fractions: dict[str, float], seed: int) -> np.ndarray:
    """Each track's split, drawn per genre with the seed in the given fractions."""
    rng = np.random.default_rng(seed)
    assignments = []
    for genre, group in tracks.groupby("genre", sort=True):
        order = group["track_id"].to_numpy()[rng.permutation(len(group))]
        n_test, n_validation = _split_sizes(len(group), fractions, genre)
        labels = ["test"] * n_test + ["validation"] * n_validation
        labels += ["train"] * (len(group) - len(labels))
        assignments.append(pd.Series(labels, index=order))
    return pd.concat(assignments).reindex(tracks["track_id"]).to_numpy()


def _fold_table(tracks: pd.DataFrame, by: str) -> pd.DataFrame:
    """Log the fold sizes and return the fold table's columns in a stable order."""
    sizes = tracks["fold"].value_counts().sort_index()
    logger.info(
        "Split %d tracks into %d folds by %s: %s tracks.",
        len(tracks),
        len(sizes),
        by,
        ", ".join(str(size) for size in sizes),
    )
    columns = ["track_id", "genre", "label", "path", "duration_s", "fold"]
    return tracks[columns].sort_values(["fold", "track_id"]).reset_index(drop=True)


def _split_table(tracks: pd.DataFrame, by: str) -> pd.DataFrame:
    """Log the split sizes and return the split table's columns in a stable order."""
    logger.info(
        "Split %d tracks by %s: %s.",
        len(tracks),
        by,
        ", ".join(f"{name} {int((tracks['split'] == name).sum())}" for name in SPLITS),
    )
    columns = ["track_id", "genre", "label", "path", "duration_s", "split"]
    columns += ["fold"] if "fold" in tracks else []
    return tracks[columns].sort_values(["split", "track_id"]).reset_index(drop=True)


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
            f"Label '{genre}' has {n_tracks} usable clip{'' if n_tracks == 1 else 's'}: too few "
            f"to give validation and test tracks and keep one for training (it needs "
            f"{wanted + 1}). Add clips (ingestion.generator.clips_per_genre, or to its folder) "
            "or lower feature_engineering.split sizes."
        )
    return n_test, n_validation


def feature_fingerprint(
    path: str, stat: dict[str, Any], feature_set: dict[str, Any], inputs: dict[str, str]
) -> str:
    """Return what a track's features depend on, hashed: its raw file and the extractor."""
    source = {
        "path": path,
        **stat,
        "extractor": feature_set["extractor"],
        "params": feature_set.get("params", {}),
        "inputs": inputs,
        "version": FEATURES_VERSION,
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def extract_features(  # noqa: PLR0913, PLR0917 - Kedro passes one positional input per dataset
    raw_clips: dict[str, Callable[[], np.ndarray]],
    raw_clip_stats: dict[str, Callable[[], dict[str, Any]]],
    cached_fingerprints: dict[str, str],
    track_splits: pd.DataFrame,
    feature_set: dict[str, Any],
    sample_rate: int,
    recompute_features: bool,
    executor: dict[str, Any],
    **extractor_inputs: Any,
) -> Iterator[dict[str, dict[str, Any]]]:
    """Compute the features of each split track whose cached ones are stale, chunk by chunk.

    A generator: Kedro saves each chunk as it is yielded, so results are never all in memory.
    Tracks run on ``executor`` (local worker processes or a Dask cluster); ``extractor_inputs``
    are the feature set's catalog inputs (e.g. pretrained weights).
    """
    paths = dict(zip(track_splits["track_id"], track_splits["path"], strict=True))
    inputs = {name: str(value) for name, value in extractor_inputs.items()}
    fingerprints = {
        track_id: feature_fingerprint(path, raw_clip_stats[path](), feature_set, inputs)
        for track_id, path in paths.items()
    }
    stale = {
        track_id: raw_clips[paths[track_id]]
        for track_id, fingerprint in fingerprints.items()
        if recompute_features or cached_fingerprints.get(track_id) != fingerprint
    }
    logger.info(
        "'%s' features: %d to compute, %d reused (raw file and parameters unchanged; "
        "feature_engineering.recompute_features=true recomputes them).",
        feature_set["extractor"],
        len(stale),
        len(fingerprints) - len(stale),
    )
    featurise = functools.partial(
        featurise_clip, sample_rate=sample_rate, feature_set=feature_set, inputs=inputs
    )
    failures = []
    with progress_bar(
        iterable=map_tracks(featurise, stale, executor),
        total=len(stale),
        desc=f"{feature_set['extractor']} features",
        unit="track",
        delay=2,
    ) as bar:
        progress = iter(bar)
        while chunk := list(itertools.islice(progress, FEATURE_CHUNK_TRACKS)):
            for track_id, result in chunk:
                if isinstance(result, TrackFailure):
                    logger.warning("Features of track '%s' failed: %s", track_id, result.error)
                    failures.append((track_id, result.error))
            yield {
                track_id: {"fingerprint": fingerprints[track_id], "features": result}
                for track_id, result in chunk
                if not isinstance(result, TrackFailure)
            }
    if failures:
        names = ", ".join(track_id for track_id, _ in failures[:5])
        raise InputError(
            f"{len(failures)} track(s) could not be featurised ({names}"
            f"{' ...' if len(failures) > 5 else ''}; first: {failures[0][1]}; see the warnings "
            "above): fix or remove their files, or the feature set's params, and run again; the "
            "other tracks' features are saved and will be reused."
        )


def fit_normalisation(
    track_features: dict[str, Callable[[], np.ndarray]],
    track_splits: pd.DataFrame,
    feature_set: dict[str, Any],
    sample_rate: int,
    label_set: dict[str, Any],
) -> dict[str, Any]:
    """Each feature dimension's mean and spread over the training tracks, with their recipe.

    The feature set's block, the clips' sample rate and the labels of the examples cut beside
    them are kept with the statistics, so a model packaged later carries the features it was
    really trained on, and a model of other labels never meets these examples.
    """
    train_ids = track_splits.loc[track_splits["split"] == "train", "track_id"]
    total = total_squares = None
    n_rows = 0
    for track_id in train_ids:
        rows = np.asarray(track_features[track_id](), dtype=np.float64)
        total = rows.sum(axis=0) if total is None else total + rows.sum(axis=0)
        squares = np.square(rows).sum(axis=0)
        total_squares = squares if total_squares is None else total_squares + squares
        n_rows += len(rows)
    if not n_rows:
        raise InputError("The training split has no tracks: add clips or lower the split sizes.")
    mean = total / n_rows
    std = np.sqrt(np.maximum(total_squares / n_rows - mean**2, 0.0))
    # A constant dimension has zero spread; 1 keeps it finite instead of dividing by zero.
    std = np.where(std > 1e-6, std, 1.0)
    return {
        "mean": mean.tolist(),
        "std": std.tolist(),
        "rows": n_rows,
        "feature_set": feature_set,
        "sample_rate": sample_rate,
        "labels": label_set["labels"],
    }


def make_examples(
    track_features: dict[str, Callable[[], np.ndarray]],
    track_splits: pd.DataFrame,
    normalisation: dict[str, Any],
    feature_set: dict[str, Any],
    split: str,
) -> tuple[ChunkedArray, np.ndarray, np.ndarray]:
    """Cut one split's tracks into normalised examples with aligned labels and track ids.

    The examples are handed over track by track (a :class:`ChunkedArray`), so the split never
    has to fit in memory; counting them reads only the shape of each memory-mapped track.
    """
    tracks = track_splits[track_splits["split"] == split]
    window = feature_set.get("window")
    counts = [
        example_count(len(track_features[track_id]()), window) for track_id in tracks["track_id"]
    ]
    dims = len(normalisation["mean"])
    shape = (sum(counts), window["frames"], dims) if window else (sum(counts), dims)
    examples = (
        normalise(track_examples(track_features[track_id](), window), normalisation)
        for track_id in tracks["track_id"]
    )
    labels = np.repeat(tracks["label"].to_numpy(dtype=np.int64), counts)
    track_ids = np.repeat(tracks["track_id"].to_numpy(dtype=str), counts)
    logger.info("%s split: %d examples from %d tracks.", split, shape[0], len(tracks))
    return ChunkedArray(shape, np.dtype(np.float32), examples), labels, track_ids
