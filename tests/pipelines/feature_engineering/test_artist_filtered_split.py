"""The artist-filtered split: the published lists, matched by genre and id, nothing shared."""

import logging

import pandas as pd
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.pipelines.feature_engineering.nodes import split_tracks
from gtzan_kedro.pipelines.feature_engineering.splits import artist_filtered_lists
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import labels_of

PARAMS = {"split": {"strategy": "artist_filtered", "validation_size": 0.2, "test_size": 0.2}}


def gtzan_table(extension: str = "wav") -> pd.DataFrame:
    """A track table of all 1000 GTZAN tracks, all usable."""
    rows = [
        {
            "track_id": f"{genre}.{index:05d}",
            "genre": genre,
            "label": GENRES.index(genre),
            "path": f"gtzan/{genre}/{genre}.{index:05d}.{extension}",
            "duration_s": 30.0,
            "status": "ok",
        }
        for genre in GENRES
        for index in range(100)
    ]
    return pd.DataFrame(rows)


def test_shipped_lists_are_the_published_sizes_and_disjoint():
    listed = artist_filtered_lists()

    counts = pd.Series(listed).value_counts()
    assert counts.to_dict() == {"train": 443, "test": 290, "validation": 197}
    assert len(listed) == 930  # a key in two lists would have collapsed this count


@pytest.mark.parametrize("extension", ["wav", "au"])
def test_tracks_follow_the_lists_whatever_their_extension(extension):
    splits = split_tracks(gtzan_table(extension), labels_of(gtzan_table(extension)), PARAMS, seed=1)

    assert splits["track_id"].is_unique
    assert splits.groupby("split").size().to_dict() == {
        "test": 290,
        "train": 443,
        "validation": 197,
    }
    listed = artist_filtered_lists()
    assert all(listed[(row.genre, row.track_id)] == row.split for row in splits.itertuples())


def test_no_track_appears_in_two_partitions():
    splits = split_tracks(gtzan_table(), labels_of(gtzan_table()), PARAMS, seed=1)

    members = {name: set(group["track_id"]) for name, group in splits.groupby("split")}
    assert not members["train"] & members["validation"]
    assert not members["train"] & members["test"]
    assert not members["validation"] & members["test"]


def test_tracks_missing_from_the_lists_are_left_out_and_reported(caplog):
    with caplog.at_level(logging.WARNING):
        splits = split_tracks(gtzan_table(), labels_of(gtzan_table()), PARAMS, seed=1)

    # GTZAN has 1000 tracks, the lists 930: Sturm's replicas and distorted clips stay out.
    assert len(splits) == 930
    assert "left out 70 tracks that its lists do not name" in caplog.text


def test_unreadable_listed_track_is_simply_absent():
    table = gtzan_table()
    table.loc[table["track_id"] == "jazz.00054", "status"] = "unreadable"

    splits = split_tracks(table, labels_of(table), PARAMS, seed=1)

    assert "jazz.00054" not in set(splits["track_id"])
    assert len(splits) == 929


def test_listed_tracks_absent_from_the_data_are_counted(caplog):
    table = gtzan_table()
    table = table[table["track_id"] != "blues.00000"]

    with caplog.at_level(logging.INFO):
        split_tracks(table, labels_of(table), PARAMS, seed=1)

    assert "1 listed tracks are not among the usable tracks (blues.00000)" in caplog.text


def test_data_the_lists_do_not_name_is_a_clear_error():
    table = gtzan_table()
    table["track_id"] = "song-" + table["track_id"]

    with pytest.raises(InputError, match=r"strategy=stratified"):
        split_tracks(table, labels_of(table), PARAMS, seed=1)
