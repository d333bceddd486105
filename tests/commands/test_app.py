"""`gtzan-kedro app`: the page and API to try the classifier, serving the tiny run's champion.

One app is started for the module (on a free port of 127.0.0.1, uploads limited to 2 MB so
that the limits are cheap to reach) and every test talks to it: the page in headless
Chromium, the API with plain HTTP requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import soundfile as sf
from mlflow.tracking import MlflowClient

from gtzan_kedro.models.calibration import apply_temperature
from gtzan_kedro.sources.generator import synthesise_clip
from tests.commands.conftest import (
    ARTIFACTS,
    CHROMIUM_FLAGS,
    TinyRun,
    background,
    free_port,
    require_chromium,
    run_command,
    wait_for_http,
)
from tests.conftest import SAMPLE_RATE

MAX_UPLOAD_MB = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two generated clips, a text file, a file over 2 MB and one over 15 minutes."""
    folder = tmp_path_factory.mktemp("uploads")
    paths = {}
    for name, genre, seconds in [("first", "blues", 5.0), ("second", "rock", 4.0)]:
        paths[name] = folder / f"{genre}.70.wav"
        samples = synthesise_clip(genre, 70, seconds=seconds, sample_rate=SAMPLE_RATE, seed=7)
        sf.write(paths[name], samples, SAMPLE_RATE)
    paths["text"] = folder / "notes.txt"
    paths["text"].write_text("these are notes, not audio\n")
    paths["large"] = folder / "large.wav"  # 60 s of 16-bit audio: 2.6 MB
    sf.write(paths["large"], np.zeros(60 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    paths["long"] = folder / "long.wav"  # 16 minutes at 1000 Hz, 8-bit: under 1 MB
    tone = 0.3 * np.sin(2 * np.pi * 110 * np.arange(16 * 60 * 1000) / 1000)
    sf.write(paths["long"], tone.astype(np.float32), 1000, subtype="PCM_U8")
    return paths


@pytest.fixture(scope="module")
def predicted(tiny_run: TinyRun, files: dict[str, Path], tmp_path_factory) -> dict[str, Any]:
    """`gtzan-kedro predict <first clip> --output x.json`: its one row."""
    output = tmp_path_factory.mktemp("predicted") / "x.json"
    result = run_command(
        "gtzan-kedro", "predict", str(files["first"]), "--output", str(output), cwd=tiny_run.project
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = json.loads(output.read_text())
    return row


@pytest.fixture(scope="module")
def app_url(tiny_run: TinyRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gtzan-kedro app --port <free> --max-upload-mb 2` in the project; its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    command = ["gtzan-kedro", "app", "--port", str(port), "--max-upload-mb", str(MAX_UPLOAD_MB)]
    with background(*command, cwd=tiny_run.project, log=log) as process:
        wait_for_http(f"http://127.0.0.1:{port}/api/model", process, log)
        yield f"http://127.0.0.1:{port}"


def upload(app_url: str, *paths: Path, timeline: bool = False) -> requests.Response:
    """POST the files to /api/predict as the page does: a multipart field ``file`` each."""
    return requests.post(
        f"{app_url}/api/predict",
        params={"timeline": "true"} if timeline else None,
        files=[("file", (path.name, path.read_bytes())) for path in paths],
        timeout=120,
    )


@pytest.mark.slow
def test_the_api_answers_the_rows_predict_writes_and_the_model_card(
    app_url: str, files: dict[str, Path], predicted: dict[str, Any], tiny_run: TinyRun
):
    answer = upload(app_url, files["first"])
    card = requests.get(f"{app_url}/api/model", timeout=30).json()

    assert answer.status_code == 200, answer.text
    (row,) = answer.json()
    assert list(row) == list(predicted)  # the same columns, in the same order
    assert row["file"] == files["first"].name
    assert row["status"] == "ok" and row["model"] == predicted["model"]
    labels = list(predicted)[list(predicted).index("error") + 1 :]
    assert [row[label] for label in labels] == pytest.approx(
        [predicted[label] for label in labels], abs=1e-6
    )
    assert (row["genre_1"], row["windows"]) == (predicted["genre_1"], predicted["windows"])
    champion = MlflowClient(
        tracking_uri=f"sqlite:///{tiny_run.project}/mlflow.db"
    ).get_model_version_by_alias("genre_classifier", "champion")
    assert card["architecture"] == champion.tags["architecture"] == predicted["model"]
    assert card["feature_set"] == champion.tags["feature_set"]
    assert card["labels"] == labels
    assert card["registry"]["version"] == int(champion.version)
    assert "champion" in card["registry"]["aliases"]
    assert card["accuracy"] == pytest.approx(float(champion.tags["track_accuracy"]), abs=1e-4)
    low, high = card["accuracy_interval"]
    assert low <= card["accuracy"] <= high
    assert card["trained_at"].startswith("20")


@pytest.mark.slow
def test_the_api_answers_each_windows_probabilities_when_asked(
    app_url: str, files: dict[str, Path]
):
    answer = upload(app_url, files["second"], files["first"], timeline=True)

    assert answer.status_code == 200, answer.text
    second, first = answer.json()
    assert (second["file"], first["file"]) == (files["second"].name, files["first"].name)
    assert len(first["timeline"]) == first["windows"]
    assert first["timeline"][0]["start_s"] == 0.0
    assert first["timeline"][-1]["end_s"] == pytest.approx(5.0, abs=1e-3)
    labels = list(first["timeline"][0])[2:]
    means = [np.mean([window[label] for window in first["timeline"]]) for label in labels]
    # The verdict is the windows' mean, scaled by the model's temperature (on its card).
    temperature = requests.get(f"{app_url}/api/model", timeout=30).json()["temperature"]
    assert list(apply_temperature(means, temperature)) == pytest.approx(
        [first[label] for label in labels], abs=1e-6
    )


@pytest.mark.slow
def test_files_too_large_too_long_or_not_audio_are_refused_and_the_app_keeps_answering(
    app_url: str, files: dict[str, Path]
):
    large = upload(app_url, files["large"])
    long = upload(app_url, files["long"])
    text = upload(app_url, files["text"])
    nothing = requests.post(f"{app_url}/api/predict", data={"other": "x"}, timeout=30)
    after = upload(app_url, files["second"])

    assert large.status_code == 413
    assert large.json()["detail"].startswith(
        f"'large.wav' is 2.5 MB, more than the {MAX_UPLOAD_MB} MB the app accepts"
    )
    assert long.status_code == 422
    assert long.json()["detail"].startswith(
        "'long.wav' lasts 16.0 minutes, longer than the 15 minutes the app classifies"
    )
    assert text.status_code == 200
    (row,) = text.json()
    assert row["status"] == "error"
    assert row["error"].startswith("Cannot decode audio file 'notes.txt'")
    assert nothing.status_code == 422 and "field named 'file'" in nothing.json()["detail"]
    assert after.status_code == 200 and after.json()[0]["status"] == "ok"


@pytest.mark.slow
def test_concurrent_uploads_each_get_their_own_answer(app_url: str, files: dict[str, Path]):
    alone = {
        path.name: upload(app_url, path).json()[0] for path in (files["first"], files["second"])
    }
    order = [files["first"], files["second"]] * 3

    with ThreadPoolExecutor(max_workers=len(order)) as pool:
        answers = list(pool.map(lambda path: upload(app_url, path), order))

    assert all(answer.status_code == 200 for answer in answers)
    for path, answer in zip(order, answers, strict=True):
        (row,) = answer.json()
        assert row == pytest.approx(alone[path.name])


@pytest.mark.slow
def test_the_page_classifies_dropped_files_shows_errors_and_keeps_working(
    app_url: str, files: dict[str, Path], predicted: dict[str, Any]
):
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    chromium = require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(app_url)
        expect(page.locator("#card-architecture")).to_contain_text(predicted["model"])

        page.set_input_files("#files", str(files["first"]))
        first = page.locator(f'.result[data-file="{files["first"].name}"]')
        expect(first).to_have_attribute("data-status", "ok", timeout=120_000)
        expect(first.locator("svg.timeline rect").first).to_be_attached()
        top = first.locator(".bar").first
        expect(top.locator(".label")).to_have_text(predicted["genre_1"])
        expect(top.locator(".percent")).to_have_text(f"{round(100 * predicted['probability_1'])}%")
        expect(first.locator(".summary")).to_contain_text("5.0 s")

        page.set_input_files("#files", str(files["text"]))
        text = page.locator('.result[data-file="notes.txt"]')
        expect(text).to_have_attribute("data-status", "error", timeout=120_000)
        expect(text.locator(".error")).to_contain_text("Cannot decode audio file 'notes.txt'")

        page.set_input_files("#files", str(files["second"]))
        second = page.locator(f'.result[data-file="{files["second"].name}"]')
        expect(second).to_have_attribute("data-status", "ok", timeout=120_000)
        expect(second.locator("svg.timeline")).to_be_visible()
        labels = list(predicted)[list(predicted).index("error") + 1 :]
        expect(second.locator(".bar")).to_have_count(min(5, len(labels)))
        page.screenshot(path=ARTIFACTS / "app.png", full_page=True)
        browser.close()

    # Everything the page needed came from the app: it works offline.
    assert requested and all(url.startswith(app_url) for url in requested), requested


@pytest.mark.slow
def test_the_app_before_any_training_says_so(plain_project: Path):
    result = run_command("gtzan-kedro", "app", "--port", str(free_port()), cwd=plain_project)

    assert result.returncode != 0
    assert "Error: There is no trained model yet" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (plain_project / "mlflow.db").exists()
