"""Inference nodes and datasets on small arrays and files: windows, bad input, the table."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from kedro.io import DatasetError
from kedro.io.core import Version
from sklearn.dummy import DummyClassifier

from gtzan_kedro.datasets import ModelDataset
from gtzan_kedro.datasets.audio_files import AudioFilesDataset
from gtzan_kedro.datasets.table import TableDataset
from gtzan_kedro.datasets.trained_models import LatestModelsDataset, ServingModelDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.feature_engineering.nodes import sequence_count
from gtzan_kedro.pipelines.inference.nodes import (
    choose_model,
    classify_clips,
    clip_windows,
    decode_requests,
    featurise_clips,
    sliding_windows,
)
from gtzan_kedro.predict import format_predictions
from tests.conftest import SAMPLE_RATE, tone

LOG_MEL = {"sample_rate": SAMPLE_RATE, "n_fft": 512, "hop_length": 256, "n_mels": 16}
SEQUENCES = {"frames": 20, "hop": 8}
INFERENCE = {"model": None, "top_k": 3, "silence_db": -60.0, "min_seconds": 0.1}
STATS = {"mean": [0.0] * 16, "std": [1.0] * 16}


def frames_of(n_frames: int) -> np.ndarray:
    """A ``(n_frames, 2)`` log-mel stand-in whose first column counts the frames."""
    return np.stack([np.arange(n_frames), np.zeros(n_frames)], axis=1).astype(np.float32)


# --------------------------------------------------------------------------- sliding windows
def test_a_clip_shorter_than_one_window_is_repeated_to_fill_one():
    windows, padded = sliding_windows(frames_of(7), frames=20, hop=8)

    assert padded
    assert windows.shape == (1, 20, 2)
    np.testing.assert_array_equal(windows[0, :, 0], np.arange(20) % 7)


def test_a_clip_of_exactly_one_window_gives_that_window():
    windows, padded = sliding_windows(frames_of(20), frames=20, hop=8)

    assert not padded
    np.testing.assert_array_equal(windows, frames_of(20)[None])


@pytest.mark.parametrize("n_frames", [100, 108])
def test_a_long_clip_is_covered_to_its_last_frame(n_frames: int):
    windows, padded = sliding_windows(frames_of(n_frames), frames=20, hop=8)

    steps = sequence_count(n_frames, 20, 8)
    # 100 frames leave a tail the training step misses: one more window ends on the last frame.
    assert len(windows) == (steps + 1 if (n_frames - 20) % 8 else steps)
    assert not padded
    np.testing.assert_array_equal(windows[:steps, 0, 0], np.arange(steps) * 8)
    assert windows[-1, -1, 0] == n_frames - 1


def test_clip_windows_are_normalised_log_mel_windows_over_the_whole_clip():
    samples = tone(440.0, seconds=2.0)

    clip = clip_windows(
        samples, {"mean": [5.0] * 16, "std": [2.0] * 16}, LOG_MEL, SEQUENCES, INFERENCE
    )

    n_frames = 1 + len(samples) // LOG_MEL["hop_length"]
    assert clip["windows"].shape == (1 + -(-(n_frames - 20) // 8), 20, 16)
    assert clip["seconds"] == pytest.approx(2.0)
    assert not clip["padded"]
    raw = clip_windows(samples, STATS, LOG_MEL, SEQUENCES, INFERENCE)["windows"]
    np.testing.assert_allclose(clip["windows"], (raw - 5.0) / 2.0, rtol=1e-5)


# ------------------------------------------------------------------------------- bad clips
def test_silence_and_too_short_clips_are_refused_with_the_reason():
    with pytest.raises(InputError, match=r"Silent: .* below inference.silence_db \(-60.0 dBFS\)"):
        clip_windows(np.zeros(SAMPLE_RATE, np.float32), STATS, LOG_MEL, SEQUENCES, INFERENCE)
    with pytest.raises(InputError, match=r"Too short: 0.05 s, and at least 0.1 s"):
        clip_windows(tone(440.0, seconds=0.05), STATS, LOG_MEL, SEQUENCES, INFERENCE)


def test_a_failing_clip_is_recorded_and_the_others_still_featurised():
    def unreadable() -> np.ndarray:
        raise DatasetError("Audio file 'broken.wav' is empty (0 bytes).")

    clips = {
        "a.wav": lambda: tone(220.0, 1.0),
        "broken.wav": unreadable,
        "b.wav": lambda: tone(330.0, 1.0),
    }

    featurised = featurise_clips(clips, STATS, LOG_MEL, SEQUENCES, INFERENCE)

    assert list(featurised) == ["a.wav", "broken.wav", "b.wav"]
    assert featurised["broken.wav"] == {"error": "Audio file 'broken.wav' is empty (0 bytes)."}
    assert featurised["b.wav"]["windows"].shape[1:] == (20, 16)


def test_no_clips_or_statistics_for_other_mel_bands_stop_the_run():
    clips = {"a.wav": lambda: tone(220.0, 1.0)}

    with pytest.raises(InputError, match="statistics are for 8 mel bands but .*n_mels is 16"):
        featurise_clips(clips, {"mean": [0.0] * 8, "std": [1.0] * 8}, LOG_MEL, SEQUENCES, INFERENCE)
    with pytest.raises(InputError, match="No audio file to classify: .*inference.files="):
        featurise_clips({}, STATS, LOG_MEL, SEQUENCES, INFERENCE)


# ---------------------------------------------------------------------------- the table
class FixedModel:
    """A scikit-learn-like model: class 1 for windows whose first value is 0, else class 7."""

    classes_ = np.arange(len(GENRES))

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        probabilities = np.full((len(windows), len(GENRES)), 0.02)
        probabilities[:, 1] = np.where(windows[:, 0, 0] == 0, 0.8, 0.02)
        probabilities[:, 7] = np.where(windows[:, 0, 0] == 0, 0.04, 0.82)
        return probabilities


def test_each_clip_gets_its_averaged_top_genres_and_every_genre_probability():
    featurised = {
        "classical.wav": {"windows": np.zeros((3, 4, 2)), "seconds": 3.0, "padded": False},
        "missing.wav": {"error": "Audio file 'missing.wav' does not exist."},
        # Half its windows say classical, half pop: the average ranks them equally high.
        "mixed.wav": {
            "windows": np.stack([np.zeros((4, 2)), np.ones((4, 2))]),
            "seconds": 1.0,
            "padded": True,
        },
    }

    table = classify_clips(
        featurised, FixedModel(), {"architecture": "svm"}, INFERENCE | {"top_k": 2}
    )

    assert list(table["file"]) == ["classical.wav", "missing.wav", "mixed.wav"]
    assert list(table["status"]) == ["ok", "error", "ok"]
    classical, missing, mixed = table.to_dict("records")
    assert (classical["genre_1"], classical["probability_1"]) == ("classical", 0.8)
    assert classical["genre_2"] == "pop"
    assert classical["windows"] == 3 and classical["padded"] is False
    assert sum(classical[genre] for genre in GENRES) == pytest.approx(1.0, abs=1e-3)
    assert missing["error"] == "Audio file 'missing.wav' does not exist."
    assert missing["genre_1"] is None and missing["blues"] is None  # null in JSON, not NaN
    assert {mixed["genre_1"], mixed["genre_2"]} == {"classical", "pop"}
    assert mixed["padded"] is True
    assert set(table["model"]) == {"svm"}


def test_the_printed_table_gives_genres_windows_and_errors():
    table = pd.DataFrame(
        [
            {
                "file": "/music/a.wav",
                "status": "ok",
                "model": "svm",
                "genre_1": "rock",
                "probability_1": 0.7,
                "genre_2": "metal",
                "probability_2": 0.2,
                "seconds": 1.0,
                "windows": 1.0,
                "padded": True,
                "error": None,
            },
            {
                "file": "/elsewhere/b.wav",
                "status": "error",
                "model": "svm",
                "genre_1": None,
                "probability_1": None,
                "genre_2": None,
                "probability_2": None,
                "seconds": None,
                "windows": None,
                "padded": None,
                "error": "Silent: ...",
            },
        ]
    )

    text = format_predictions(table, Path("/music"))

    assert text.splitlines()[0] == "Model: svm"
    lines = text.splitlines()
    assert re.fullmatch(r"file +genres +windows +note", lines[2])
    assert re.fullmatch(r"a\.wav +rock 70%  metal 20% +1 +padded: .* \(1\.00 s\)", lines[3])
    assert re.fullmatch(r"/elsewhere/b\.wav +- +- +error: Silent: \.\.\.", lines[4])


# ------------------------------------------------------------------------- choosing a model
def test_the_best_ranked_trained_model_is_chosen_unless_one_is_named():
    comparison = pd.DataFrame(
        {"architecture": ["tcn", "cnn", "mlp"], "track_accuracy": [0.9, 0.8, 0.5]}
    )
    trained = {"cnn": lambda: "cnn model", "mlp": lambda: "mlp model"}

    model, card = choose_model(comparison, trained, None)
    named, named_card = choose_model(comparison, trained, "mlp")

    # tcn ranks first but has no trained model any more: the best trained one is cnn.
    assert (model, card) == ("cnn model", {"architecture": "cnn", "track_accuracy": 0.8})
    assert (named, named_card["architecture"]) == ("mlp model", "mlp")
    assert isinstance(card["track_accuracy"], float)


def test_choosing_a_model_fails_clearly_without_one():
    trained = {"cnn": lambda: "cnn model"}

    with pytest.raises(InputError, match="no trained model 'lstm' .* Trained models: cnn"):
        choose_model(None, trained, "lstm")
    with pytest.raises(InputError, match="kedro run --pipeline reporting.* one of: cnn"):
        choose_model(None, trained, None)
    with pytest.raises(InputError, match="no trained model yet"):
        choose_model(None, {}, None)


# --------------------------------------------------------------------------- serving requests
def wav_base64(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
    """A WAV file's bytes, base64-encoded as a request carries them."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate, format="WAV")
    return base64.b64encode(buffer.getvalue()).decode()


def test_requests_are_decoded_like_files_and_named_uniquely():
    stereo_44k = np.stack([tone(440.0, 1.0, 44100), tone(440.0, 1.0, 44100)], axis=1)
    requests = pd.DataFrame(
        {
            "name": ["song", None, "song"],
            "audio": [wav_base64(stereo_44k, 44100), wav_base64(tone(1, 1)), "%%"],
        }
    )

    clips = decode_requests(requests, LOG_MEL)

    assert list(clips) == ["song", "clip 1", "song (2)"]
    assert clips["song"]().shape == (SAMPLE_RATE,)  # mono, resampled to the training rate
    with pytest.raises(InputError, match="'audio' is not base64"):
        clips["song (2)"]()


def test_request_audio_that_is_missing_or_not_audio_is_a_clear_error():
    requests = pd.DataFrame(
        {"audio": [None, base64.b64encode(b"just text").decode(), base64.b64encode(b"").decode()]}
    )

    clips = decode_requests(requests, LOG_MEL)

    with pytest.raises(InputError, match="No 'audio'"):
        clips["clip 0"]()
    with pytest.raises(DatasetError, match="Cannot decode audio file 'clip 1'"):
        clips["clip 1"]()
    with pytest.raises(DatasetError, match="'clip 2' is empty"):
        clips["clip 2"]()


# ------------------------------------------------------------------------------- datasets
def test_audio_files_expand_folders_and_patterns_and_keep_bad_entries(
    tmp_path: Path, write_clip: Callable[..., Path]
):
    write_clip(tmp_path / "music" / "a.flac", tone(440.0, 0.5), audio_format="FLAC")
    write_clip(tmp_path / "music" / "deeper" / "b.wav", tone(440.0, 0.5))
    (tmp_path / "music" / "notes.txt").write_text("not audio")
    (tmp_path / "empty.wav").write_bytes(b"")

    clips = AudioFilesDataset(
        filepaths=[
            str(tmp_path / "music"),
            str(tmp_path / "music" / "*.flac"),
            str(tmp_path / "*.ogg"),
            str(tmp_path / "missing.wav"),
            str(tmp_path / "empty.wav"),
        ],
        sample_rate=SAMPLE_RATE,
    ).load()

    assert list(clips) == [
        str(tmp_path / "music" / "a.flac"),
        str(tmp_path / "music" / "deeper" / "b.wav"),
        str(tmp_path / "*.ogg"),
        str(tmp_path / "missing.wav"),
        str(tmp_path / "empty.wav"),
    ]
    assert clips[str(tmp_path / "music" / "a.flac")]().shape == (SAMPLE_RATE // 2,)
    for name, message in [
        ("*.ogg", "No audio file in or matching"),
        ("missing.wav", "does not exist"),
        ("empty.wav", "is empty"),
    ]:
        with pytest.raises(DatasetError, match=message):
            clips[str(tmp_path / name)]()


def test_latest_models_lists_each_model_and_loads_only_its_latest_version(tmp_path: Path):
    features, labels = np.zeros((4, 2)), np.array([0, 1, 1, 1])
    for version, constant in (("2026-01-01T00.00.00.000Z", 1), ("2026-01-02T00.00.00.000Z", 0)):
        ModelDataset(filepath=str(tmp_path / "svm"), version=Version(None, version)).save(
            DummyClassifier(strategy="constant", constant=constant).fit(features, labels)
        )
    ServingModelDataset(filepath=str(tmp_path / "serving_model")).save(
        DummyClassifier().fit(features, labels)
    )

    models = LatestModelsDataset(path=str(tmp_path)).load()

    assert list(models) == ["svm"]
    np.testing.assert_array_equal(models["svm"]().predict(features), [0, 0, 0, 0])


def test_the_serving_model_folder_holds_only_the_last_model(tmp_path: Path):
    dataset = ServingModelDataset(filepath=str(tmp_path / "serving_model"))
    (tmp_path / "serving_model").mkdir()
    (tmp_path / "serving_model" / "model.keras").write_bytes(b"an older model")

    dataset.save(DummyClassifier().fit(np.zeros((2, 1)), [0, 1]))

    assert sorted(p.name for p in (tmp_path / "serving_model").iterdir()) == ["model.joblib"]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_table_round_trips_as_csv_or_json(tmp_path: Path, suffix: str):
    table = pd.DataFrame({"file": ["a.wav", "b.wav"], "probability_1": [0.5, None]})
    dataset = TableDataset(filepath=str(tmp_path / f"predictions{suffix}"))

    dataset.save(table)

    pd.testing.assert_frame_equal(dataset.load(), table)
    if suffix == ".json":
        assert '"probability_1":null' in (tmp_path / "predictions.json").read_text().replace(
            " ", ""
        )
