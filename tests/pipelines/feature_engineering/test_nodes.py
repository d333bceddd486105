"""Feature-engineering nodes: honest splits, feature sets, normalisation and aligned examples."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.datasets import NumpyArrayDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.features import FEATURE_SETS, feature_set, get_extractor
from gtzan_kedro.features.log_mel import log_mel
from gtzan_kedro.features.mfcc_stats import mfcc_stats
from gtzan_kedro.features.preprocessing import check_normalisation
from gtzan_kedro.features.windows import sliding_windows, window_count, window_starts
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.pipelines.feature_engineering.nodes import (
    fit_normalisation,
    make_examples,
    split_tracks,
)
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import labels_of, tone

THREE_LABELS = make_label_set(["techno", "house", "ambient"], "local")
PARAMS = {
    "split": {"strategy": "stratified", "validation_size": 0.2, "test_size": 0.2},
    "executor": {"n_jobs": 1},
}
LOG_MEL = {"n_fft": 512, "hop_length": 256, "n_mels": 16}
WINDOWED = {"extractor": "log_mel", "params": LOG_MEL, "window": {"frames": 8, "hop": 4}}


def track_table(
    tracks_per_genre: int = 10, genres=GENRES[:3], duration_s: float = 2.0
) -> pd.DataFrame:
    """A track table of usable clips."""
    rows = [
        {
            "track_id": f"{genre}.{index:05d}",
            "genre": genre,
            "label": GENRES.index(genre),
            "path": f"generated/{genre}/{genre}.{index:05d}.wav",
            "duration_s": duration_s,
            "sample_rate": 22050,
            "channels": 1,
            "status": "ok",
            "problem": "",
        }
        for genre in genres
        for index in range(tracks_per_genre)
    ]
    return pd.DataFrame(rows)


def test_split_keeps_each_track_in_one_split_stratified_by_genre():
    splits = split_tracks(track_table(), labels_of(track_table()), PARAMS, seed=1)

    assert splits["track_id"].is_unique
    assert set(splits["split"]) == {"train", "validation", "test"}
    per_genre = splits.groupby(["genre", "split"]).size().unstack()
    assert (per_genre["test"] == 2).all() and (per_genre["validation"] == 2).all()
    assert (per_genre["train"] == 6).all()
    assert {"track_id", "genre", "path", "split"} <= set(splits.columns)


def test_split_is_reproducible_with_the_seed_and_changes_without_it():
    first = split_tracks(track_table(), labels_of(track_table()), PARAMS, seed=1)
    again = split_tracks(track_table(), labels_of(track_table()), PARAMS, seed=1)
    other = split_tracks(track_table(), labels_of(track_table()), PARAMS, seed=2)

    pd.testing.assert_frame_equal(first, again)
    assert not first["split"].equals(
        other.set_index("track_id").loc[first["track_id"], "split"].reset_index(drop=True)
    )


def test_rejected_tracks_are_left_out_of_the_split():
    table = track_table()
    table.loc[0, "status"] = "unreadable"
    table.loc[1, "duration_s"] = 0.05  # short clips are kept: they give one repeated window

    splits = split_tracks(table, labels_of(table), PARAMS, seed=1)

    assert table.loc[0, "track_id"] not in set(splits["track_id"])
    assert table.loc[1, "track_id"] in set(splits["track_id"])


def test_no_usable_track_is_an_error_that_says_where_to_look():
    table = track_table()
    table["status"] = "unreadable"

    with pytest.raises(InputError, match="No usable clip in the track table"):
        split_tracks(table, labels_of(table), PARAMS, seed=1)


def test_genre_with_too_few_tracks_is_named():
    with pytest.raises(InputError, match="Label 'blues' has 1 usable clip: too few"):
        split_tracks(
            track_table(tracks_per_genre=1),
            labels_of(track_table(tracks_per_genre=1)),
            {
                **PARAMS,
                "split": {"strategy": "stratified", "validation_size": 0.5, "test_size": 0.4},
            },
            seed=1,
        )


def test_log_mel_is_time_major_float32_and_peaks_at_the_tone():
    high = log_mel(tone(3000.0, seconds=1.0), 22050, **LOG_MEL)

    assert high.dtype == np.float32
    assert high.shape == (1 + 22050 // 256, 16)
    low_tone_band = log_mel(tone(200.0, seconds=1.0), 22050, **LOG_MEL).mean(axis=0).argmax()
    assert high.mean(axis=0).argmax() > low_tone_band


def test_mfcc_stats_give_one_row_of_statistics_per_window():
    params = LOG_MEL | {"n_mfcc": 5, "window_frames": 20, "window_hop": 10}

    rows = mfcc_stats(tone(440.0, seconds=1.0), 22050, **params)

    n_frames = 1 + 22050 // 256
    assert rows.dtype == np.float32
    # MFCC mean, spread and delta spread; each mel band's mean and spread; flux mean and spread.
    assert rows.shape == (len(sliding_windows(np.zeros((n_frames, 1)), 20, 10)), 3 * 5 + 2 * 16 + 2)
    assert np.isfinite(rows).all()


def test_feature_sets_are_registered_by_name_and_unknown_ones_listed():
    assert {"log_mel", "mfcc_stats"} <= set(FEATURE_SETS)
    assert get_extractor("log_mel") is log_mel
    with pytest.raises(
        ValueError, match="Unknown feature extractor 'chroma'. Known feature extractors: .*log_mel"
    ):
        get_extractor("chroma")
    with pytest.raises(ValueError, match="registered twice"):
        feature_set("log_mel")(log_mel)


@pytest.mark.parametrize(
    ("n_frames", "expected"), [(7, 1), (8, 1), (11, 2), (12, 2), (20, 4), (21, 5)]
)
def test_windows_cover_every_frame(n_frames, expected):
    frames = np.arange(n_frames * 3, dtype=np.float32).reshape(n_frames, 3)

    windows = sliding_windows(frames, 8, 4)

    assert windows.shape == (expected, 8, 3)
    assert window_count(n_frames, 8, 4) == expected  # what make_examples counts before cutting
    # Where each window starts: what a timeline puts on its time axis.
    for window, start in zip(windows, window_starts(n_frames, 8, 4), strict=True):
        np.testing.assert_array_equal(window[: n_frames - start], frames[start : start + 8])
    if n_frames >= 8:
        np.testing.assert_array_equal(windows[0], frames[:8])
        # The last window ends on the last frame: the final seconds count.
        np.testing.assert_array_equal(windows[-1], frames[-8:])
    else:  # shorter than one window: repeated to fill it, never padded with silence
        np.testing.assert_array_equal(windows[0, :, 0], frames[np.arange(8) % n_frames, 0])


LOG_MEL_BLOCK = {"extractor": "log_mel", "params": {"n_mels": 2}, "window": None}


def test_normalisation_is_fitted_on_training_tracks_only():
    splits = pd.DataFrame({"track_id": ["a", "b", "c"], "split": ["train", "train", "test"]})
    features = {
        "a": lambda: np.full((10, 2), 1.0, dtype=np.float32),
        "b": lambda: np.full((10, 2), 3.0, dtype=np.float32),
        "c": lambda: np.full((10, 2), 1000.0, dtype=np.float32),
    }

    stats = fit_normalisation(features, splits, LOG_MEL_BLOCK, 22050, THREE_LABELS)

    np.testing.assert_allclose(stats["mean"], [2.0, 2.0])
    np.testing.assert_allclose(stats["std"], [1.0, 1.0])
    assert stats["rows"] == 20
    # The recipe of the features travels with their statistics, for the model artefact.
    assert (stats["feature_set"], stats["sample_rate"]) == (LOG_MEL_BLOCK, 22050)
    # And the labels of the examples cut with them: a model of other labels refuses them.
    assert stats["labels"] == ["techno", "house", "ambient"]
    check_normalisation(stats, dims=2)


def test_a_constant_feature_gets_unit_spread_rather_than_a_division_by_zero():
    splits = pd.DataFrame({"track_id": ["a"], "split": ["train"]})

    stats = fit_normalisation(
        {"a": lambda: np.ones((4, 2), dtype=np.float32)},
        splits,
        LOG_MEL_BLOCK,
        22050,
        THREE_LABELS,
    )

    assert stats["std"] == [1.0, 1.0]
    with pytest.raises(ValueError, match="'std' finite and above zero"):
        check_normalisation({"mean": [0.0], "std": [0.0]})


def saved(examples, folder) -> np.ndarray:
    """``examples`` as the catalog writes and reads them back."""
    dataset = NumpyArrayDataset(filepath=str(folder / "examples.npy"))
    dataset.save(examples)
    return dataset.load()


def test_examples_carry_their_track_label_and_id(tmp_path):
    table = track_table(tracks_per_genre=5)
    splits = split_tracks(table, labels_of(table), PARAMS, seed=3)
    rng = np.random.default_rng(0)
    lengths = {track_id: 8 + 4 * (i % 3) for i, track_id in enumerate(splits["track_id"])}
    arrays = {
        track_id: rng.normal(size=(n, 16)).astype(np.float32) for track_id, n in lengths.items()
    }
    features = {track_id: (lambda a=a: a) for track_id, a in arrays.items()}
    stats = {"mean": [0.0] * 16, "std": [2.0] * 16}

    chunked, labels, track_ids = make_examples(features, splits, stats, WINDOWED, "train")
    examples = saved(chunked, tmp_path)

    train = splits[splits["split"] == "train"].set_index("track_id")
    assert examples.shape == (sum(1 + (lengths[t] - 8) // 4 for t in train.index), 8, 16)
    assert examples.dtype == np.float32
    assert set(track_ids) == set(train.index)
    np.testing.assert_array_equal(labels, train.loc[track_ids, "label"].to_numpy())
    first = np.flatnonzero(track_ids == track_ids[0])[0]
    np.testing.assert_allclose(examples[first], arrays[track_ids[0]][:8] / 2.0)


def test_unwindowed_feature_sets_give_one_example_per_row(tmp_path):
    splits = pd.DataFrame({"track_id": ["a", "b"], "label": [3, 5], "split": ["test", "test"]})
    features = {"a": lambda: np.zeros((2, 4)), "b": lambda: np.ones((3, 4))}
    stats = {"mean": [0.0] * 4, "std": [1.0] * 4}

    chunked, labels, track_ids = make_examples(
        features, splits, stats, {"extractor": "mfcc_stats", "window": None}, "test"
    )
    examples = saved(chunked, tmp_path)

    assert examples.shape == (5, 4)
    assert list(labels) == [3, 3, 5, 5, 5]
    assert list(track_ids) == ["a", "a", "b", "b", "b"]
