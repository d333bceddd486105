"""Feature-engineering nodes: honest splits, log-mels, normalisation and aligned sequences."""

import logging

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.feature_engineering.nodes import (
    cut_sequences,
    fit_normalisation,
    log_mel_spectrogram,
    make_sequences,
    sequence_count,
    split_tracks,
)
from tests.conftest import tone

PARAMS = {
    "split": {"validation_size": 0.2, "test_size": 0.2},
    "log_mel": {"sample_rate": 22050, "n_fft": 512, "hop_length": 256, "n_mels": 16},
    "sequences": {"frames": 8, "hop": 4},
    "n_jobs": 1,
}


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
    splits = split_tracks(track_table(), PARAMS, seed=1)

    assert splits["track_id"].is_unique
    assert set(splits["split"]) == {"train", "validation", "test"}
    per_genre = splits.groupby(["genre", "split"]).size().unstack()
    assert (per_genre["test"] == 2).all() and (per_genre["validation"] == 2).all()
    assert (per_genre["train"] == 6).all()
    assert {"track_id", "genre", "path", "split"} <= set(splits.columns)


def test_split_is_reproducible_with_the_seed_and_changes_without_it():
    first = split_tracks(track_table(), PARAMS, seed=1)
    again = split_tracks(track_table(), PARAMS, seed=1)
    other = split_tracks(track_table(), PARAMS, seed=2)

    pd.testing.assert_frame_equal(first, again)
    assert not first["split"].equals(
        other.set_index("track_id").loc[first["track_id"], "split"].reset_index(drop=True)
    )


def test_rejected_and_too_short_tracks_are_left_out_with_a_log_line(caplog):
    table = track_table()
    table.loc[0, "status"] = "unreadable"
    table.loc[1, "duration_s"] = 0.05

    with caplog.at_level(logging.WARNING):
        splits = split_tracks(table, PARAMS, seed=1)

    assert table.loc[0, "track_id"] not in set(splits["track_id"])
    assert table.loc[1, "track_id"] not in set(splits["track_id"])
    assert "blues.00001.wav" in caplog.text and "shorter than one sequence" in caplog.text


def test_all_clips_too_short_is_an_error_naming_the_parameter():
    with pytest.raises(InputError, match="feature_engineering.sequences.frames"):
        split_tracks(track_table(duration_s=0.01), PARAMS, seed=1)


@pytest.mark.parametrize(
    "sizes",
    [{"validation_size": 0.5, "test_size": 0.5}, {"validation_size": -0.1, "test_size": 0.2}],
)
def test_impossible_split_sizes_are_rejected(sizes):
    with pytest.raises(InputError, match="feature_engineering.split"):
        split_tracks(track_table(), {**PARAMS, "split": sizes}, seed=1)


def test_genre_with_too_few_tracks_is_named():
    with pytest.raises(InputError, match="Genre 'blues' has 1 usable tracks"):
        split_tracks(
            track_table(tracks_per_genre=1),
            {**PARAMS, "split": {"validation_size": 0.5, "test_size": 0.4}},
            seed=1,
        )


def test_log_mel_is_time_major_float32_and_peaks_at_the_tone():
    log_mel = log_mel_spectrogram(tone(3000.0, seconds=1.0), PARAMS["log_mel"])

    assert log_mel.dtype == np.float32
    assert log_mel.shape == (1 + 22050 // 256, 16)
    low_tone_band = (
        log_mel_spectrogram(tone(200.0, seconds=1.0), PARAMS["log_mel"]).mean(axis=0).argmax()
    )
    assert log_mel.mean(axis=0).argmax() > low_tone_band


@pytest.mark.parametrize(("n_frames", "expected"), [(7, 0), (8, 1), (11, 1), (12, 2), (20, 4)])
def test_sequence_windows(n_frames, expected):
    log_mel = np.arange(n_frames * 3, dtype=np.float32).reshape(n_frames, 3)

    sequences = cut_sequences(log_mel, frames=8, hop=4)

    assert sequence_count(n_frames, 8, 4) == expected == len(sequences)
    if expected:
        np.testing.assert_array_equal(
            sequences[-1], log_mel[(expected - 1) * 4 : (expected - 1) * 4 + 8]
        )


def test_normalisation_is_fitted_on_training_tracks_only():
    splits = pd.DataFrame({"track_id": ["a", "b", "c"], "split": ["train", "train", "test"]})
    spectrograms = {
        "a": lambda: np.full((10, 2), 1.0, dtype=np.float32),
        "b": lambda: np.full((10, 2), 3.0, dtype=np.float32),
        "c": lambda: np.full((10, 2), 1000.0, dtype=np.float32),
    }

    stats = fit_normalisation(spectrograms, splits)

    np.testing.assert_allclose(stats["mean"], [2.0, 2.0])
    np.testing.assert_allclose(stats["std"], [1.0, 1.0])
    assert stats["frames"] == 20


def test_sequences_carry_their_track_label_and_id():
    splits = split_tracks(track_table(tracks_per_genre=5), PARAMS, seed=3)
    rng = np.random.default_rng(0)
    lengths = {track_id: 8 + 4 * (i % 3) for i, track_id in enumerate(splits["track_id"])}
    arrays = {
        track_id: rng.normal(size=(n, 16)).astype(np.float32) for track_id, n in lengths.items()
    }
    spectrograms = {track_id: (lambda a=a: a) for track_id, a in arrays.items()}
    stats = {"mean": [0.0] * 16, "std": [2.0] * 16}

    sequences, labels, track_ids = make_sequences(
        spectrograms, splits, stats, PARAMS["sequences"], "train"
    )

    train = splits[splits["split"] == "train"].set_index("track_id")
    assert sequences.shape == (sum(1 + (lengths[t] - 8) // 4 for t in train.index), 8, 16)
    assert sequences.dtype == np.float32
    assert set(track_ids) == set(train.index)
    np.testing.assert_array_equal(labels, train.loc[track_ids, "label"].to_numpy())
    first = np.flatnonzero(track_ids == track_ids[0])[0]
    np.testing.assert_allclose(sequences[first], arrays[track_ids[0]][:8] / 2.0)
