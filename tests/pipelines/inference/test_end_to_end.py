"""Classifying audio for real: the suite's trained project, `gtzan-kedro predict`, the server.

The project is the session's `tiny_run` (tests/conftest.py: two fast architectures, 6 clips of
4 s per genre, feature parameters other than conf/base's), so the accuracy bar below is for a
small model: more than half of 20 clips it never heard right, and the true genre among the top
three for 17 of them. Prediction and serving load the registry's champion, the model artefact
training logged, with the feature parameters it was trained with.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import librosa
import mlflow
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from mlflow.tracking import MlflowClient

from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.models.calibration import apply_temperature
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.sources.generator import synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.commands.conftest import BIN, background, free_port, run_command, wait_for_http
from tests.conftest import PROJECT_ROOT, SAMPLE_RATE, TinyRun, copy_project

HOP_LENGTH = 512  # conf/base log_mel.hop_length, and mfcc_stats'
UNSEEN_SECONDS = 8.0
# (extension, sample rate, channels, subtype): every format, rate and channel count in turn.
FORMATS = [
    ("wav", 44100, 2, "PCM_16"),
    ("flac", 16000, 1, "PCM_16"),
    ("ogg", 22050, 2, "VORBIS"),
    ("mp3", 44100, 2, "MPEG_LAYER_III"),
    ("au", 22050, 1, "PCM_16"),
]


def write_audio(
    path: Path, samples: np.ndarray, sample_rate: int, channels: int, subtype: str
) -> Path:
    """Write ``samples`` (at the training rate) resampled to ``sample_rate`` on ``channels``."""
    if sample_rate != SAMPLE_RATE:
        samples = librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=sample_rate)
    if channels == 2:
        samples = np.stack([samples, 0.8 * samples], axis=1)
    sf.write(path, samples, sample_rate, subtype=subtype)
    return path


def genre_of(file: str) -> str:
    """The genre a generated clip's file name starts with."""
    return Path(file).name.split(".")[0]


@pytest.fixture(scope="module")
def project(tiny_run: TinyRun) -> Path:
    """A project copy after `kedro run` (ingestion to reporting) on two architectures."""
    return tiny_run.project


@pytest.fixture(scope="module")
def mlflow_client(project: Path) -> MlflowClient:
    """A client of the project copy's own MLflow store."""
    return MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")


@pytest.fixture(scope="module")
def best(project: Path) -> str:
    """The architecture the comparison ranks first: the champion."""
    comparison = project / "data" / "08_reporting" / "architecture_comparison.csv"
    return pd.read_csv(comparison)["architecture"].iloc[0]


def windows_of(project: Path, architecture: str, n_samples: int) -> int:
    """How many windows (or rows) the architecture's artefact cuts from ``n_samples``."""
    card = GenreClassifier.load(project / "data" / "06_models" / architecture).card()
    n_frames = 1 + n_samples // HOP_LENGTH  # librosa centres its frames
    window = card["window"] or {
        "frames": card["feature_params"]["window_frames"],
        "hop": card["feature_params"]["window_hop"],
    }
    return len(sliding_windows(np.zeros((n_frames, 1)), window["frames"], window["hop"]))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two clips per genre the model never heard, 8 s each, in every format, rate and layout."""
    folder = tmp_path_factory.mktemp("unseen")
    for genre_index, genre in enumerate(GENRES):
        for offset in range(2):
            extension, rate, channels, subtype = FORMATS[(2 * genre_index + offset) % len(FORMATS)]
            samples = synthesise_clip(
                genre, 50 + offset, seconds=UNSEEN_SECONDS, sample_rate=SAMPLE_RATE, seed=42
            )
            write_audio(
                folder / f"{genre}.{50 + offset}.{extension}", samples, rate, channels, subtype
            )
    return folder


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file of each kind that cannot be classified."""
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.wav").write_text("not audio at all")
    (folder / "empty.flac").write_bytes(b"")
    silent = write_audio(
        folder / "silent.wav", np.zeros(3 * SAMPLE_RATE, np.float32), SAMPLE_RATE, 1, "PCM_16"
    )
    return {
        "missing": folder / "missing.mp3",
        "not audio": folder / "notes.wav",
        "empty": folder / "empty.flac",
        "silent": silent,
    }


@pytest.fixture(scope="module")
def predicted(project: Path, clips: Path, bad_files: dict[str, Path]) -> tuple[Any, pd.DataFrame]:
    """`gtzan-kedro predict <clips folder> <bad files> --output predictions.json`, and the table."""
    result = run_command(
        "gtzan-kedro",
        "predict",
        str(clips),
        *map(str, bad_files.values()),
        "--output",
        "predictions.json",
        cwd=project,
    )
    return result, pd.read_json(project / "predictions.json", orient="records")


@pytest.mark.slow
def test_the_champion_is_one_mlflow_model_of_preprocessing_and_classifier(
    project: Path, best: str, mlflow_client: MlflowClient, tmp_path: Path
):
    champion = mlflow_client.get_model_version_by_alias("genre_classifier", "champion")
    # Through the project's own client: this process's default registry is another store.
    location = mlflow_client.get_model_version_download_uri(champion.name, champion.version)
    logged = mlflow.artifacts.download_artifacts(location, dst_path=str(tmp_path))
    model = mlflow.models.Model.load(logged)

    assert champion.tags["architecture"] == best
    assert model.signature.inputs.input_names() == ["audio", "name", "timeline"]
    assert "librosa==" in (Path(logged) / "requirements.txt").read_text()
    assert set(model.flavors["python_function"]["artifacts"]) == {"genre_classifier"}
    card = json.loads(next(Path(logged).rglob("genre_classifier.json")).read_text())
    assert card["architecture"] == best
    assert card["class_names"] == list(GENRES)


@pytest.mark.slow
def test_predict_names_the_genre_of_most_clips_it_never_heard(
    predicted, clips: Path, best: str, project: Path
):
    result, table = predicted
    unseen = table[table["file"].str.startswith(str(clips))]

    assert len(unseen) == 20 and (unseen["status"] == "ok").all(), unseen["error"]
    truth = unseen["file"].map(genre_of)
    top_three = unseen[["genre_1", "genre_2", "genre_3"]].eq(truth, axis=0).any(axis=1)
    assert (unseen["genre_1"] == truth).sum() > 10, unseen[["file", "genre_1", "probability_1"]]
    assert top_three.sum() >= 17
    assert (unseen["model"] == best).all()
    np.testing.assert_allclose(unseen[list(GENRES)].sum(axis=1), 1.0, atol=2e-3)
    # Windows over the whole clip, the last one flush with its end.
    assert (unseen["windows"] == windows_of(project, best, int(UNSEEN_SECONDS * SAMPLE_RATE))).all()
    assert f"Model: {best}" in result.stdout
    assert "rock.50.mp3" in result.stdout


@pytest.mark.slow
def test_predict_reports_each_bad_file_and_still_classifies_the_others(
    predicted, bad_files: dict[str, Path], mlflow_client: MlflowClient
):
    result, table = predicted
    errors = table.set_index("file")["error"]

    assert result.returncode == 1
    assert "4 of 24 files could not be classified." in result.stderr
    # The table and that line are the answer: the run's own log stays out of the terminal.
    terminal = result.stdout + result.stderr
    for log_line in ("Running node", "Loading data from", "logging configuration", "UserWarning"):
        assert log_line not in terminal
    assert (
        errors[str(bad_files["missing"])] == f"Audio file '{bad_files['missing']}' does not exist."
    )
    assert errors[str(bad_files["not audio"])].startswith(
        f"Cannot decode audio file '{bad_files['not audio']}'"
    )
    assert errors[str(bad_files["empty"])].startswith(
        f"Audio file '{bad_files['empty']}' is empty (0 bytes)"
    )
    assert errors[str(bad_files["silent"])].startswith("Silent: its loudest sample is at -200 dBFS")
    assert result.stdout.count("error: ") == 4
    assert (table["status"] == "ok").sum() == 20
    # Predicting is no training run: the experiment still holds the three training runs only.
    experiment = mlflow_client.get_experiment_by_name("gtzan-kedro")
    assert len(mlflow_client.search_runs([experiment.experiment_id])) == 3


@pytest.mark.slow
def test_kedro_run_inference_covers_short_exact_and_long_clips_with_a_named_model(
    project: Path, tmp_path: Path
):
    samples = synthesise_clip("disco", 60, seconds=20.0, sample_rate=SAMPLE_RATE, seed=42)
    # librosa centres frames: n samples give 1 + n // hop_length frames.
    lengths = {"short": 24 * HOP_LENGTH, "exact": 31 * HOP_LENGTH, "long": len(samples)}
    for name, length in lengths.items():
        sf.write(tmp_path / f"{name}.wav", samples[:length], SAMPLE_RATE)
    output = tmp_path / "predictions.csv"
    timelines = tmp_path / "timelines"
    params = (
        f"inference.files={tmp_path / '*.wav'},inference.model=mlp,inference.output={output},"
        f"inference.timeline={timelines}"
    )

    result = run_command("kedro", "run", "--pipeline", "inference", "--params", params, cwd=project)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = pd.read_csv(output).set_index("file")

    rows = {name: table.loc[str(tmp_path / f"{name}.wav")] for name in lengths}
    assert (table["model"] == "mlp").all() and (table["status"] == "ok").all()
    assert (rows["short"]["windows"], rows["short"]["padded"]) == (1, True)
    assert (rows["exact"]["windows"], rows["exact"]["padded"]) == (1, False)
    assert rows["long"]["windows"] == windows_of(project, "mlp", len(samples))
    assert not rows["long"]["padded"]
    # The pipeline draws every file's timeline: one row per window.
    for name in lengths:
        drawn = pd.read_csv(timelines / f"{name}.wav.timeline.csv")
        assert len(drawn) == rows[name]["windows"]
        assert (timelines / f"{name}.wav.timeline.png").stat().st_size > 0


@pytest.mark.slow
def test_predict_timeline_writes_each_files_windows_over_time(project: Path, tmp_path: Path):
    samples = synthesise_clip("blues", 61, seconds=20.0, sample_rate=SAMPLE_RATE, seed=42)
    sf.write(tmp_path / "short.wav", samples[: 24 * HOP_LENGTH], SAMPLE_RATE)
    sf.write(tmp_path / "long.wav", samples, SAMPLE_RATE)
    timelines = tmp_path / "timelines"

    result = run_command(
        "gtzan-kedro",
        "predict",
        str(tmp_path / "short.wav"),
        str(tmp_path / "long.wav"),
        "--model",
        "mlp",
        "--output",
        str(tmp_path / "table.json"),
        "--timeline",
        str(timelines),
        cwd=project,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Timelines written to {timelines}." in result.stdout
    table = pd.read_json(tmp_path / "table.json", orient="records").set_index("file")
    temperature = GenreClassifier.load(project / "data" / "06_models" / "mlp").temperature
    for name, seconds in [("short", 24 * HOP_LENGTH / SAMPLE_RATE), ("long", 20.0)]:
        row = table.loc[str(tmp_path / f"{name}.wav")]
        drawn = pd.read_csv(timelines / f"{name}.wav.timeline.csv")
        assert list(drawn.columns) == ["start_s", "end_s", *GENRES]
        assert len(drawn) == row["windows"]
        assert drawn["start_s"].iloc[0] == 0.0
        assert drawn["end_s"].iloc[-1] == pytest.approx(seconds, abs=1e-3)
        assert (drawn["start_s"].diff().dropna() > 0).all()
        # The verdict is the windows' mean, scaled by the model's temperature.
        np.testing.assert_allclose(
            apply_temperature(drawn[list(GENRES)].mean(), temperature),
            row[list(GENRES)].astype(float),
            atol=1e-3,
        )
        picture = (timelines / f"{name}.wav.timeline.png").read_bytes()
        assert picture.startswith(b"\x89PNG")
    assert table.loc[str(tmp_path / "short.wav"), "padded"]
    assert len(pd.read_csv(timelines / "long.wav.timeline.csv")) > 1
    # Drawn where --timeline says only: nothing of these clips in the pipeline's default folder
    # (other workers' inference runs on the shared project write theirs there meanwhile).
    default_folder = project / "data" / "08_reporting" / "timelines"
    assert not [
        path for path in default_folder.rglob("*") if path.name.startswith(("short.", "long."))
    ]


def post(url: str, body: bytes) -> tuple[int, Any]:
    """POST a JSON body; return the status and the parsed answer, errors included."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def request_body(*files: Path) -> bytes:
    """The README's request: one record per file, its bytes base64-encoded."""
    records = [
        {"name": file.name, "audio": base64.b64encode(file.read_bytes()).decode()} for file in files
    ]
    return json.dumps({"dataframe_records": records}).encode()


@pytest.fixture(scope="module")
def server(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow models serve -m models:/genre_classifier@champion --env-manager local`; its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project}/mlflow.db")
        # The server starts uvicorn by name, from the virtual environment.
        patch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        command = ["mlflow", "models", "serve", "-m", "models:/genre_classifier@champion"]
        options = ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]
        with background(*command, *options, cwd=project, log=log) as process:
            wait_for_http(f"http://127.0.0.1:{port}/ping", process, log)
            yield f"http://127.0.0.1:{port}/invocations"


@pytest.mark.slow
def test_the_server_answers_like_predict(server: str, clips: Path, predicted, best: str):
    _, table = predicted

    status, answer = post(server, request_body(clips / "rock.50.mp3"))

    assert status == 200
    (prediction,) = answer["predictions"]
    assert (prediction["file"], prediction["status"], prediction["model"]) == (
        "rock.50.mp3",
        "ok",
        best,
    )
    assert "timeline" not in prediction  # answered only when a record asks
    # The same preprocessing and model as `gtzan-kedro predict`: the same probabilities.
    same_file = table[table["file"] == str(clips / "rock.50.mp3")].iloc[0]
    assert [prediction[genre] for genre in GENRES] == pytest.approx(
        list(same_file[list(GENRES)]), abs=1e-5
    )


@pytest.mark.slow
def test_the_server_answers_the_windows_over_time_to_a_record_that_asks(
    server: str, clips: Path, project: Path, best: str
):
    records = [
        {"name": name, "audio": base64.b64encode((clips / name).read_bytes()).decode()}
        for name in ["blues.50.wav", "country.51.wav"]
    ]
    records[0]["timeline"] = True

    status, answer = post(server, json.dumps({"dataframe_records": records}).encode())

    assert status == 200, answer
    asked, plain = answer["predictions"]
    assert len(asked["timeline"]) == asked["windows"] > 1
    assert list(asked["timeline"][0]) == ["start_s", "end_s", *GENRES]
    assert asked["timeline"][-1]["end_s"] == pytest.approx(UNSEEN_SECONDS, abs=1e-3)
    means = pd.DataFrame(asked["timeline"])[list(GENRES)].mean()
    # The verdict is the windows' mean, scaled by the champion's temperature.
    temperature = GenreClassifier.load(project / "data" / "06_models" / best).temperature
    assert list(apply_temperature(means, temperature)) == pytest.approx(
        [asked[genre] for genre in GENRES], abs=1e-4
    )
    assert plain["timeline"] is None and plain["status"] == "ok"


@pytest.mark.slow
def test_the_server_answers_a_batch_in_order(server: str, clips: Path, project: Path, best: str):
    status, answer = post(server, request_body(clips / "jazz.50.wav", clips / "classical.51.mp3"))

    assert status == 200
    assert [row["file"] for row in answer["predictions"]] == ["jazz.50.wav", "classical.51.mp3"]
    windows = windows_of(project, best, int(UNSEEN_SECONDS * SAMPLE_RATE))
    assert all(row["status"] == "ok" and row["windows"] == windows for row in answer["predictions"])


@pytest.mark.slow
def test_a_broken_payload_gets_a_4xx_and_the_server_keeps_answering(server: str, clips: Path):
    no_audio = json.dumps(
        {"dataframe_records": [{"name": "song.mp3", "file": "song.mp3"}]}
    ).encode()

    missing_status, missing = post(server, no_audio)
    garbage_status, garbage = post(server, b"this is not json")
    status, answer = post(server, request_body(clips / "metal.51.mp3"))

    assert missing_status == 400
    assert "Model is missing inputs ['audio']" in missing["message"]
    assert garbage_status == 400
    assert "valid JSON" in garbage["message"]
    assert status == 200 and answer["predictions"][0]["status"] == "ok"


@pytest.mark.slow
def test_predict_works_from_any_folder_of_the_project(project: Path, clips: Path):
    folder = project / "notebooks" / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    clip = next(clips.glob("*.wav"))
    (folder / clip.name).write_bytes(clip.read_bytes())

    result = run_command("gtzan-kedro", "predict", clip.name, "--top", "1", cwd=folder)

    assert result.returncode == 0, result.stderr[-2000:]
    assert clip.name in result.stdout
    assert not (folder / "data").exists()  # nothing written relative to the folder


@pytest.mark.slow
def test_predict_never_overwrites_an_input_nor_a_file_that_is_not_a_table(
    project: Path, clips: Path, tmp_path: Path
):
    clip = tmp_path / "song.wav"
    clip.write_bytes(next(clips.glob("*.wav")).read_bytes())
    original = clip.read_bytes()
    notes = tmp_path / "notes.txt"
    notes.write_text("my own notes\n")

    over_input = run_command("gtzan-kedro", "predict", str(clip), "-o", str(clip), cwd=project)
    over_notes = run_command("gtzan-kedro", "predict", str(clip), "-o", str(notes), cwd=project)
    forced = run_command(
        "gtzan-kedro", "predict", str(clip), "-o", str(notes), "--force", cwd=project
    )

    assert over_input.returncode != 0
    assert "is one of the files to classify" in over_input.stderr
    assert clip.read_bytes() == original
    assert over_notes.returncode != 0
    assert "not a predictions table" in over_notes.stderr and "--force" in over_notes.stderr
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert notes.read_text().startswith("file,status,model")


@pytest.mark.slow
def test_predict_before_any_training_says_so_and_creates_no_store(tmp_path: Path, clips: Path):
    fresh = copy_project(PROJECT_ROOT, tmp_path)

    result = run_command("gtzan-kedro", "predict", str(next(clips.glob("*.wav"))), cwd=fresh)

    assert result.returncode != 0
    assert "Error: There is no trained model yet" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (fresh / "mlflow.db").exists()
