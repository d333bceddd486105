"""Classifying clips with the model artefact: windows, bad input, the table, requests, models."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from kedro.io import DatasetError
from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository
from mlflow.tracking import MlflowClient

from gtzan_kedro.datasets.audio_files import AudioFilesDataset
from gtzan_kedro.datasets.table import TableDataset
from gtzan_kedro.datasets.timelines import TimelinesDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.features.log_mel import log_mel
from gtzan_kedro.features.preprocessing import example_spans, normalise
from gtzan_kedro.features.registry import row_seconds
from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.models import pyfunc
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.prediction import (
    ClipLimits,
    check_clip,
    classify_clips,
    classify_clips_with_timelines,
)
from gtzan_kedro.models.pyfunc import (
    MAX_REQUEST_MB_VARIABLE,
    GenreClassifierModel,
    RequestTooLarge,
    check_request_size,
    max_request_chars,
    request_clips,
)
from gtzan_kedro.models.store import CHAMPION_ALIAS, load_classifier, resolve_model_uri
from gtzan_kedro.pipelines.inference.nodes import classify_files, draw_timelines
from gtzan_kedro.predict import format_predictions
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import SAMPLE_RATE, tone

LOG_MEL = {"n_fft": 512, "hop_length": 256, "n_mels": 16}
WINDOW = {"frames": 20, "hop": 8}
LIMITS = ClipLimits(min_seconds=0.1, silence_db=-60.0)
INFERENCE = {"top_k": 3, "silence_db": -60.0, "min_seconds": 0.1}


class FixedModel:
    """A scikit-learn-like model: classical for windows whose first value is below 0, else pop."""

    classes_ = np.arange(len(GENRES))

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        self.seen.append(windows)
        first = windows.reshape(len(windows), -1)[:, 0]
        probabilities = np.full((len(windows), len(GENRES)), 0.02)
        probabilities[:, 1] = np.where(first < 0, 0.8, 0.02)
        probabilities[:, 7] = np.where(first < 0, 0.04, 0.82)
        return probabilities


def classifier(
    mean: float | list[float] = 0.0, std: float = 1.0, model=None, window=WINDOW
) -> GenreClassifier:
    """A log-mel classifier of 20-frame windows with a fixed scikit-learn-like model."""
    return GenreClassifier(
        architecture="fixed",
        builder="svm",
        framework="sklearn",
        feature_set="log_mel",
        extractor="log_mel",
        feature_params=LOG_MEL,
        window=window,
        normalisation={"mean": np.broadcast_to(mean, 16).tolist(), "std": [std] * 16},
        sample_rate=SAMPLE_RATE,
        class_names=list(GENRES),
        model=model or FixedModel(),
    )


def quiet_then_loud(seconds: float = 2.0) -> np.ndarray:
    """Noise, quiet for the first half of the clip and loud for the second."""
    noise = np.random.default_rng(0).uniform(-1, 1, int(seconds * SAMPLE_RATE))
    gain = np.where(np.arange(len(noise)) < len(noise) // 2, 0.001, 0.3)
    return (gain * noise).astype(np.float32)


# --------------------------------------------------------------------------- the artefact
def test_a_clip_is_featurised_windowed_and_normalised_as_the_model_was_trained():
    samples = tone(440.0, seconds=2.0)
    model = FixedModel()

    probabilities = classifier(mean=5.0, std=2.0, model=model).predict_proba(samples, SAMPLE_RATE)

    frames = log_mel(samples, SAMPLE_RATE, **LOG_MEL)
    expected = (sliding_windows(frames, 20, 8) - 5.0) / 2.0
    (seen,) = model.seen
    np.testing.assert_allclose(seen, expected, rtol=1e-5)
    assert probabilities.shape == (len(GENRES),)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-3)


def test_audio_at_another_rate_is_resampled_to_the_models():
    samples = tone(440.0, seconds=2.0)
    at_44k = tone(440.0, seconds=2.0, sample_rate=44100)

    native = classifier().features(samples, SAMPLE_RATE)
    resampled = classifier().features(at_44k, 44100)

    assert resampled.shape == native.shape
    assert np.abs(resampled - native).mean() < 1.0  # dB: the same sound


def test_normalise_uses_the_training_statistics():
    examples = np.full((2, 3), 7.0, dtype=np.float32)

    normalised = normalise(examples, {"mean": [1.0, 3.0, 7.0], "std": [2.0, 4.0, 1.0]})

    np.testing.assert_allclose(normalised, [[3.0, 1.0, 0.0]] * 2)


# ------------------------------------------------------------------------------ timelines
def test_a_timeline_puts_each_windows_probabilities_where_the_window_is_in_the_clip():
    samples = quiet_then_loud(seconds=2.0)
    frames = log_mel(samples, SAMPLE_RATE, **LOG_MEL)
    # Between the quiet and the loud half: quiet windows come out classical, loud ones pop.
    threshold = (frames[:40].mean(axis=0) + frames[-40:].mean(axis=0)) / 2
    model = FixedModel()
    fixed = classifier(mean=threshold.tolist(), model=model)

    timeline = fixed.timeline(samples, SAMPLE_RATE)

    (seen,) = model.seen
    assert list(timeline.columns) == ["start_s", "end_s", *GENRES]
    assert len(timeline) == len(seen) == len(sliding_windows(frames, 20, 8))
    window_s, hop_s = 20 * 256 / SAMPLE_RATE, 8 * 256 / SAMPLE_RATE
    np.testing.assert_allclose(
        timeline["start_s"][:-1], np.arange(len(seen) - 1) * hop_s, atol=1e-3
    )
    lengths = timeline["end_s"] - timeline["start_s"]
    np.testing.assert_allclose(lengths[:-1], window_s, atol=2e-3)
    # The last window is flush with the last frame and ends the clip (librosa's centred
    # frames run half a hop past it).
    last_start = (len(frames) - 20) * 256 / SAMPLE_RATE
    assert timeline[["start_s", "end_s"]].iloc[-1].tolist() == pytest.approx(
        [last_start, 2.0], abs=1e-3
    )
    top = timeline[list(GENRES)].idxmax(axis=1)
    assert set(top[timeline["end_s"] < 0.95]) == {"classical"}
    assert set(top[timeline["start_s"] > 1.05]) == {"pop"}
    # The track's probabilities are its windows' mean.
    np.testing.assert_allclose(
        timeline[list(GENRES)].mean(), fixed.predict_proba(samples, SAMPLE_RATE), atol=1e-6
    )


def test_rows_summarising_windows_are_timed_like_windows_cut_from_frames():
    # mfcc_stats cuts its own windows (one row each): the same seconds as log_mel's windows.
    params = LOG_MEL | {"n_mfcc": 5, "window_frames": 20, "window_hop": 8}
    summarised = dataclasses.replace(
        classifier(),
        feature_set="mfcc_stats",
        extractor="mfcc_stats",
        feature_params=params,
        window=None,
        normalisation={"mean": [0.0] * (3 * 5 + 2 * 16 + 2), "std": [1.0] * (3 * 5 + 2 * 16 + 2)},
    )
    samples = tone(440.0, seconds=2.0)

    rows = summarised.timeline(samples, SAMPLE_RATE)
    windows = classifier().timeline(samples, SAMPLE_RATE)

    # To within one frame: the rows' own frames are out of sight, only their count is known.
    np.testing.assert_allclose(
        rows[["start_s", "end_s"]], windows[["start_s", "end_s"]], atol=256 / SAMPLE_RATE
    )
    patch = 187 * 256 / 16000  # musicnn's 3-s patches, side by side
    assert row_seconds("musicnn", SAMPLE_RATE, {"layers": ["max_pool"]}) == (patch, patch)


def test_a_clip_shorter_than_one_window_spans_itself_once():
    timeline = classifier().timeline(tone(440.0, seconds=0.1), SAMPLE_RATE)

    assert timeline[["start_s", "end_s"]].to_numpy().tolist() == [[0.0, 0.1]]


def test_rows_of_an_extractor_that_declares_no_timing_share_the_clip_evenly():
    spans = example_spans(4, 2.0, None, None)

    np.testing.assert_allclose(spans, [[0.0, 0.5], [0.5, 1.0], [1.0, 1.5], [1.5, 2.0]])


def test_each_classified_clip_gets_its_timeline_beside_its_row():
    clips = {"a.wav": lambda: tone(220.0, 1.0), "silent.wav": lambda: np.zeros(SAMPLE_RATE)}

    table, timelines = classify_clips_with_timelines(classifier(), clips, 2, LIMITS)

    assert list(timelines) == ["a.wav"]  # nothing for a clip that could not be classified
    ok = table.iloc[0]
    assert len(timelines["a.wav"]) == ok["windows"]
    np.testing.assert_allclose(
        timelines["a.wav"][list(GENRES)].mean(), ok[list(GENRES)].astype(float), atol=1e-6
    )


def test_timelines_are_written_as_a_table_and_a_picture_per_file(tmp_path: Path):
    clips = {
        "/music/a/song.wav": lambda: quiet_then_loud(2.0),
        "/music/b/song.wav": lambda: tone(220.0, 1.0),
    }
    table, timelines = classify_files(classifier(mean=1000.0), clips, INFERENCE)
    folder = tmp_path / "timelines"
    (folder / "mine.csv").parent.mkdir()
    (folder / "mine.csv").write_text("my own file\n")

    drawn = draw_timelines(timelines, table)
    dataset = TimelinesDataset(path=str(folder))
    dataset.save(drawn)

    assert sorted(path.name for path in folder.iterdir()) == [
        "mine.csv",
        "song.wav-2.timeline.csv",
        "song.wav-2.timeline.png",
        "song.wav.timeline.csv",
        "song.wav.timeline.png",
    ]
    assert (folder / "mine.csv").read_text() == "my own file\n"
    loaded = dataset.load()
    pd.testing.assert_frame_equal(loaded["song.wav"], timelines["/music/a/song.wav"])
    assert (folder / "song.wav.timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _, figure = drawn["song.wav"]()
    assert figure.axes[0].get_title() == "song.wav: classical 80% (fixed)"
    tick_labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert tick_labels == list(GENRES)


def test_the_served_model_answers_a_timeline_only_to_records_that_ask():
    served = GenreClassifierModel()
    served.classifier = classifier()
    requests = pd.DataFrame(
        {
            "audio": [wav_base64(tone(220.0, 1.0)), wav_base64(tone(330.0, 1.0))],
            "timeline": [True, None],
        }
    )

    answer = served.predict(None, requests)
    plain = served.predict(None, requests.drop(columns="timeline"))

    first, second = answer["timeline"]
    assert len(first) == answer.loc[0, "windows"]
    assert list(first[0]) == ["start_s", "end_s", *GENRES]
    assert first[0]["start_s"] == 0.0 and first[-1]["end_s"] == pytest.approx(1.0)
    assert second is None
    pd.testing.assert_frame_equal(plain, answer.drop(columns="timeline"))


# ------------------------------------------------------------------------------- bad clips
def test_nan_or_infinite_samples_and_a_constant_signal_are_refused_for_what_they_are():
    damaged = tone(440.0, 2.0)
    damaged[100:103] = [np.nan, np.inf, -np.inf]
    constant = np.full(2 * SAMPLE_RATE, 0.5, dtype=np.float32)

    with pytest.raises(InputError) as not_finite:
        check_clip(damaged, SAMPLE_RATE, LIMITS)
    with pytest.raises(InputError) as dc:
        check_clip(constant, SAMPLE_RATE, LIMITS)

    assert str(not_finite.value) == (
        f"Not finite: 3 of its {2 * SAMPLE_RATE} samples are NaN or infinite "
        "(a damaged float file); re-export the file."
    )
    assert "nan dBFS" not in str(not_finite.value)
    assert str(dc.value).startswith("Silent: it is a constant level (+0.500, a DC offset)")
    assert "below inference.silence_db (-60.0 dBFS)" in str(dc.value)
    # A tone on top of a DC offset is sound.
    assert check_clip(tone(440.0, 2.0) + 0.5, SAMPLE_RATE, LIMITS) == pytest.approx(2.0)


def test_silence_and_too_short_clips_are_refused_with_the_reason():
    with pytest.raises(InputError, match=r"Silent: .* below inference.silence_db \(-60.0 dBFS\)"):
        check_clip(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, LIMITS)
    with pytest.raises(InputError, match=r"Too short: 0.05 s long, and at least 0.1 s"):
        check_clip(tone(440.0, seconds=0.05), SAMPLE_RATE, LIMITS)
    assert check_clip(tone(440.0, seconds=2.0), SAMPLE_RATE, LIMITS) == pytest.approx(2.0)


# ---------------------------------------------------------------------------- the table
def test_each_clip_gets_its_top_genres_or_its_error_and_the_others_still_classified():
    def unreadable() -> np.ndarray:
        raise DatasetError("Audio file 'broken.wav' is empty (0 bytes).")

    clips = {
        "a.wav": lambda: tone(220.0, 1.0),
        "broken.wav": unreadable,
        "short.wav": lambda: tone(330.0, 0.2),
        "silent.wav": lambda: np.zeros(SAMPLE_RATE, np.float32),
    }

    table = classify_clips(classifier(mean=1000.0), clips, 2, LIMITS)

    assert list(table["file"]) == list(clips)
    assert list(table["status"]) == ["ok", "error", "ok", "error"]
    ok, broken, short, silent = table.to_dict("records")
    # Every window is far below the huge mean: classical.
    assert (ok["genre_1"], ok["probability_1"]) == ("classical", pytest.approx(0.8))
    assert ok["genre_2"] == "pop"
    assert ok["windows"] == len(sliding_windows(np.zeros((1 + SAMPLE_RATE // 256, 1)), 20, 8))
    assert ok["padded"] is False and ok["model"] == "fixed"
    assert sum(ok[genre] for genre in GENRES) == pytest.approx(1.0, abs=1e-3)
    assert broken["error"] == "Audio file 'broken.wav' is empty (0 bytes)."
    assert broken["genre_1"] is None and broken["blues"] is None  # null in JSON, not NaN
    assert (short["windows"], short["padded"]) == (1, True)  # repeated to fill one window
    assert silent["error"].startswith("Silent")


def test_no_file_to_classify_stops_the_run_saying_how_to_name_them():
    with pytest.raises(InputError, match="No audio file to classify: .*inference.files="):
        classify_files(classifier(), {}, INFERENCE)


def test_the_inference_node_passes_its_limits_and_top_k():
    table, timelines = classify_files(
        classifier(),
        {"a.wav": lambda: tone(220.0, 0.3)},
        INFERENCE
        | {
            "top_k": 1,
            "min_seconds": 0.5,
        },
    )

    assert "genre_2" not in table
    assert table.loc[0, "error"].startswith("Too short: 0.30 s long, and at least 0.5 s")
    assert timelines == {}


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
def test_models_are_named_by_champion_uri_or_folder(tmp_path: Path):
    (tmp_path / "MLmodel").write_text("flavors: {}")

    assert resolve_model_uri(CHAMPION_ALIAS, "x") == "models:/genre_classifier@champion"
    assert resolve_model_uri("models:/genre_classifier/3", "x") == "models:/genre_classifier/3"
    assert resolve_model_uri("runs:/abc/mlp", "x") == "runs:/abc/mlp"
    assert resolve_model_uri(str(tmp_path), "x") == str(tmp_path.resolve())


def test_an_unknown_model_name_says_what_can_be_named(tmp_path: Path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    try:
        with pytest.raises(InputError, match="No trained model 'transformer' .*champion"):
            resolve_model_uri("transformer", "gtzan-kedro")
    finally:
        mlflow.set_tracking_uri(previous)


class EchoModel(mlflow.pyfunc.PythonModel):
    """The smallest pyfunc model: enough to log one and lose its files."""

    def predict(self, context, model_input, params=None):
        return model_input


def test_a_model_whose_folder_was_deleted_is_named_with_the_missing_path(tmp_path: Path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    try:
        mlflow.set_experiment("gtzan-kedro")
        with mlflow.start_run():
            logged = mlflow.pyfunc.log_model(name="svm", python_model=EchoModel())
        mlflow.register_model(logged.model_uri, "genre_classifier")
        MlflowClient().set_registered_model_alias("genre_classifier", CHAMPION_ALIAS, "1")
        folder = Path(ModelsArtifactRepository.get_underlying_uri(logged.model_uri))
        shutil.rmtree(folder)

        for name in (CHAMPION_ALIAS, "svm", logged.model_uri):
            with pytest.raises(InputError) as error:
                load_classifier(name, "gtzan-kedro")
            assert f"its files are gone from '{folder}'" in str(error.value), name
            assert "No such artifact" not in str(error.value)
    finally:
        mlflow.set_tracking_uri(previous)


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

    clips = request_clips(requests, SAMPLE_RATE)

    assert list(clips) == ["song", "clip 1", "song (2)"]
    assert clips["song"]().shape == (SAMPLE_RATE,)  # mono, resampled to the training rate
    with pytest.raises(InputError, match="'audio' is not base64"):
        clips["song (2)"]()


def test_request_audio_that_is_missing_or_not_audio_is_a_clear_error():
    requests = pd.DataFrame(
        {"audio": [None, base64.b64encode(b"just text").decode(), base64.b64encode(b"").decode()]}
    )

    clips = request_clips(requests, SAMPLE_RATE)

    with pytest.raises(InputError, match="'audio' is missing or not text"):
        clips["clip 0"]()
    with pytest.raises(DatasetError, match="Cannot decode audio file 'clip 1'"):
        clips["clip 1"]()
    with pytest.raises(DatasetError, match="'clip 2' is empty"):
        clips["clip 2"]()


def test_base64_with_line_breaks_as_plain_base64_prints_it_is_accepted():
    encoded = wav_base64(tone(440.0, 1.0))
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
    requests = pd.DataFrame({"audio": [wrapped, f" {encoded[:40]}\r\n{encoded[40:]} ", "QUJD!"]})

    clips = request_clips(requests, SAMPLE_RATE)

    expected = request_clips(pd.DataFrame({"audio": [encoded]}), SAMPLE_RATE)["clip 0"]()
    np.testing.assert_array_equal(clips["clip 0"](), expected)
    np.testing.assert_array_equal(clips["clip 1"](), expected)
    with pytest.raises(InputError, match="'audio' is not base64"):
        clips["clip 2"]()


def test_a_request_over_the_size_limit_is_refused_413_before_any_decoding(monkeypatch):
    requests = pd.DataFrame({"audio": ["A" * 600_000, "not even base64" * 40_000]})
    monkeypatch.setenv(MAX_REQUEST_MB_VARIABLE, "1")
    model = pyfunc.GenreClassifierModel()
    model.classifier, model.max_request_chars = classifier(), max_request_chars()
    decoded = []
    monkeypatch.setattr(pyfunc, "decode_audio", lambda *args, **kwargs: decoded.append(args))

    with pytest.raises(
        RequestTooLarge, match=r"1\.2 MB of base64 audio, more than this"
    ) as refused:
        model.predict(None, requests)
    check_request_size(requests[:1], model.max_request_chars)  # 0.6 MB: under the limit

    assert refused.value.get_http_status_code() == 413
    assert f"server's 1 MB ({MAX_REQUEST_MB_VARIABLE})" in str(refused.value)
    assert decoded == []
    monkeypatch.setenv(MAX_REQUEST_MB_VARIABLE, "0")
    with pytest.raises(InputError, match=f"{MAX_REQUEST_MB_VARIABLE}='0' is not a positive"):
        max_request_chars()


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
