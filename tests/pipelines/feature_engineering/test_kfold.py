"""Cross-validation by track: fold assignment, per-fold splits and out-of-fold predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.pipelines.feature_engineering.nodes import split_fold, split_tracks
from gtzan_kedro.pipelines.feature_engineering.splits import artist_filtered_lists
from gtzan_kedro.pipelines.modelling.nodes import combine_folds, evaluate
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import labels_of
from tests.pipelines.conftest import KfoldProject


def track_table(per_genre: int = 10) -> pd.DataFrame:
    """A usable track table of ``per_genre`` tracks in each genre."""
    rows = [
        {
            "track_id": f"{genre}.{index:05d}",
            "genre": genre,
            "label": label,
            "path": f"generated/{genre}/{genre}.{index:05d}.wav",
            "duration_s": 3.0,
            "status": "ok",
        }
        for label, genre in enumerate(GENRES)
        for index in range(per_genre)
    ]
    return pd.DataFrame(rows)


def kfold(folds: int = 5, validation_size: float = 0.2) -> dict:
    """The feature_engineering parameters of a k-fold split."""
    return {"split": {"strategy": "kfold", "folds": folds, "validation_size": validation_size}}


def test_every_track_is_in_exactly_one_fold_stratified_by_genre():
    splits = split_tracks(track_table(10), labels_of(track_table(10)), kfold(5), seed=3)

    assert sorted(splits["track_id"]) == sorted(track_table(10)["track_id"])
    assert splits["track_id"].is_unique
    assert set(splits["fold"]) == {1, 2, 3, 4, 5}
    # 10 tracks per genre in 5 folds: two of each genre in every fold.
    assert (splits.groupby(["fold", "genre"]).size() == 2).all()


def test_fold_assignment_follows_the_seed():
    first = split_tracks(track_table(), labels_of(track_table()), kfold(), seed=3).set_index(
        "track_id"
    )["fold"]
    again = split_tracks(track_table(), labels_of(track_table()), kfold(), seed=3).set_index(
        "track_id"
    )["fold"]
    other = split_tracks(track_table(), labels_of(track_table()), kfold(), seed=4).set_index(
        "track_id"
    )["fold"]

    assert first.equals(again)
    assert not first.equals(other.reindex(first.index))


def test_a_folds_tracks_are_its_test_split_and_validation_comes_from_the_others():
    splits = split_tracks(
        track_table(10), labels_of(track_table(10)), kfold(5, validation_size=0.25), seed=3
    )

    for fold in range(1, 6):
        fold_splits = split_fold(splits, kfold(5, validation_size=0.25), seed=3, fold=fold)
        by_split = fold_splits.groupby("split")["track_id"].apply(set)
        assert by_split["test"] == set(splits.loc[splits["fold"] == fold, "track_id"])
        assert not by_split["validation"] & by_split["test"]
        assert not by_split["train"] & (by_split["test"] | by_split["validation"])
        # Every genre keeps validation and training tracks.
        for split in ("train", "validation"):
            genres = fold_splits.loc[fold_splits["split"] == split, "genre"]
            assert set(genres) == set(GENRES)


def test_folds_with_too_few_test_tracks_of_a_label_are_refused_naming_it():
    # 4 tracks per genre in 3 folds: some fold tests a single track of some genre.
    with pytest.raises(InputError, match=r"^Fold \d would test only 1 track\(s\) of label '\w+'"):
        split_tracks(track_table(4), labels_of(track_table(4)), kfold(3), seed=3)

    allowed = {"split": {**kfold(3)["split"], "min_tracks_per_label": 1}}
    tracks = track_table(4)
    assert set(split_tracks(tracks, labels_of(tracks), allowed, seed=3)["fold"]) == {1, 2, 3}


def test_artist_folds_are_the_published_artist_disjoint_partitions():
    listed = artist_filtered_lists()
    tracks = pd.DataFrame(
        [
            {
                "track_id": track_id,
                "genre": genre,
                "label": GENRES.index(genre),
                "path": f"gtzan/{genre}/{track_id}.au",
                "duration_s": 30.0,
                "status": "ok",
            }
            for genre, track_id in listed
        ]
    )

    splits = split_tracks(
        tracks, labels_of(tracks), {"split": {"strategy": "artist_kfold"}}, seed=0
    )

    partition = {"train": 1, "validation": 2, "test": 3}
    expected = {track_id: partition[split] for (_, track_id), split in listed.items()}
    assert dict(zip(splits["track_id"], splits["fold"], strict=True)) == expected


def test_out_of_fold_predictions_cover_every_track_once_and_are_scored_per_fold():
    folds = [
        pd.DataFrame({"track_id": ["a", "b"], "label": [0, 1], "predicted": [0, 1]}),
        pd.DataFrame({"track_id": ["c", "d"], "label": [2, 3], "predicted": [2, 0]}),
    ]
    for table in folds:  # each genre's probability: certain of the predicted one
        for label, genre in enumerate(GENRES):
            table[genre] = (table["predicted"] == label).astype(float)

    combined = combine_folds(*folds)
    scores = evaluate(combined, {"resamples": 1000, "confidence": 0.95}, seed=0)

    assert sorted(combined["track_id"]) == ["a", "b", "c", "d"]
    assert list(combined["fold"]) == [1, 1, 2, 2]
    assert scores["track_accuracy"] == pytest.approx(0.75)
    assert scores["fold_1_track_accuracy"] == 1.0
    assert scores["fold_2_track_accuracy"] == 0.5
    assert scores["fold_track_accuracy_mean"] == pytest.approx(0.75)


@pytest.mark.slow
def test_no_statistic_is_fitted_on_its_own_test_fold(kfold_project: KfoldProject):
    data = kfold_project.path / "data"
    for fold in (1, 2, 3):
        statistics = json.loads(
            (data / "05_model_input" / f"log_mel.fold_{fold}" / "normalisation.json").read_text()
        )
        splits = pd.read_parquet(data / "03_primary" / f"fold_{fold}" / "track_splits.parquet")
        train = splits.loc[splits["split"] == "train"]
        assert not (train["fold"] == fold).any()
        assert set(splits.loc[splits["split"] == "test", "fold"]) == {fold}
        frames = np.concatenate(
            [
                np.load(data / "04_feature" / "log_mel" / f"{track_id}.npy")
                for track_id in train["track_id"]
            ]
        )
        assert statistics["rows"] == len(frames)
        np.testing.assert_allclose(statistics["mean"], frames.mean(axis=0), rtol=1e-5)


@pytest.mark.slow
def test_the_refit_splits_every_track_into_training_and_validation(kfold_project: KfoldProject):
    data = kfold_project.path / "data"
    splits = pd.read_parquet(data / "03_primary" / "track_splits.parquet")
    refit = pd.read_parquet(data / "03_primary" / "refit" / "track_splits.parquet")

    assert sorted(refit["track_id"]) == sorted(splits["track_id"])
    assert set(refit["split"]) == {"train", "validation"}
    # One validation track per genre (a quarter of 3, at least one), seeded.
    assert (refit[refit["split"] == "validation"].groupby("genre").size() == 1).all()
    statistics = json.loads(
        (data / "05_model_input" / "log_mel.refit" / "normalisation.json").read_text()
    )
    assert statistics["rows"] == sum(
        len(np.load(data / "04_feature" / "log_mel" / f"{track_id}.npy"))
        for track_id in refit.loc[refit["split"] == "train", "track_id"]
    )
