"""The artist-filtered GTZAN split of Kereliuk, Sturm & Larsen (2015), shipped as package data.

The three published lists (see README.md here) are read once from the installed package, like
a constant table; which track goes where never depends on the run.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import PurePosixPath

import pandas as pd

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES

logger = logging.getLogger(__name__)

# Our split name -> the published list ("valid" there is "validation" here).
LIST_FILES = {
    "train": "train_filtered.txt",
    "validation": "valid_filtered.txt",
    "test": "test_filtered.txt",
}
_EXAMPLES = 5  # track ids named in a log line; the rest are counted


@functools.cache
def artist_filtered_lists() -> dict[tuple[str, str], str]:
    """Return ``{(genre, track_id): split}`` of every listed track, whatever its extension."""
    listed: dict[tuple[str, str], str] = {}
    package = resources.files(__package__)
    for split, file_name in LIST_FILES.items():
        for line in package.joinpath(file_name).read_text().split():
            genre, file = PurePosixPath(line).parts[-2:]
            listed[(genre, PurePosixPath(file).stem)] = split
    return listed


def check_artist_filtered_labels(labels: list[str], strategy: str) -> None:
    """Fail unless the labels are GTZAN genres: the published lists name GTZAN's files only."""
    others = [label for label in labels if label not in GTZAN_GENRES]
    if others:
        raise InputError(
            f"feature_engineering.split.strategy={strategy} is the published split of GTZAN, "
            f"whose genres do not include {', '.join(others)}: use stratified or kfold for this "
            "collection (or dataset for one that publishes its split, such as FMA)."
        )


def assign_listed_splits(tracks: pd.DataFrame, listed: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Return the tracks that the lists name, with their ``split``; log the others."""
    keys = list(zip(tracks["genre"], tracks["track_id"], strict=True))
    assigned = tracks.assign(split=[listed.get(key) for key in keys])
    unlisted = assigned.loc[assigned["split"].isna(), "track_id"].tolist()
    if unlisted:
        # Sturm's replicas and distorted clips are absent from the lists on purpose.
        logger.warning(
            "Artist-filtered split: left out %d tracks that its lists do not name (%s).",
            len(unlisted),
            _some(unlisted),
        )
    missing = sorted(track_id for _, track_id in set(listed) - set(keys))
    if missing:
        logger.info(
            "Artist-filtered split: %d listed tracks are not among the usable tracks (%s); the "
            "track table says why for files that exist.",
            len(missing),
            _some(missing),
        )
    listed_tracks = assigned.dropna(subset=["split"])
    if listed_tracks.empty:
        raise InputError(
            "No usable track is named in the artist-filtered lists, which name GTZAN's own files "
            "(<genre>/<genre>.000NN): use feature_engineering.split.strategy=stratified for "
            "other data."
        )
    return listed_tracks


def _some(track_ids: list[str]) -> str:
    """Return the first few track ids, and how many more there are."""
    shown = ", ".join(track_ids[:_EXAMPLES])
    more = len(track_ids) - _EXAMPLES
    return f"{shown} and {more} more" if more > 0 else shown
