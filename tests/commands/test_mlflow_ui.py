"""`mlflow ui`, started with no arguments in the project root, serves the runs of `kedro run`."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.commands.conftest import (
    ARCHITECTURES,
    ARTIFACTS,
    CHROMIUM_FLAGS,
    TinyRun,
    background,
    free_port,
    require_chromium,
    wait_for_http,
)

# MLflow 3's UI chooses an experiment's first page from the sidebar's "GenAI / Model
# training" switch (remembered per browser, GenAI in a fresh one; 3.17 and 3.18 read no
# experiment tag for it): `?workflowType=machine_learning` is that switch on "Model training".
RUNS_VIEW = "?workflowType=machine_learning"


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Chromium's path, found before the project runs (skipped without it, outside CI)."""
    return require_chromium()


@pytest.fixture(scope="module")
def mlflow_ui(tiny_run: TinyRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow ui` as typed in the trained project's root, on a free port; its base URL.

    One server for the file's tests, which only read it.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("mlflow_ui") / "mlflow-ui.log"
    # One worker: starts faster.
    command = ("mlflow", "ui", "--port", str(port), "--workers", "1")
    with background(*command, cwd=tiny_run.project, log=log) as server:
        wait_for_http(f"{base}/health", server, log)
        yield base


def get(base: str, endpoint: str, **query: Any) -> bytes:
    """GET ``endpoint`` of the server with ``query`` and return the body."""
    url = f"{base}{endpoint}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body to ``path`` of the server and return the JSON answer."""
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_mlflow_ui_serves_runs_metrics_parameters_and_confusion_matrices(mlflow_ui: str):
    experiment = json.loads(
        get(mlflow_ui, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="gtzan-kedro")
    )["experiment"]
    runs = post(
        mlflow_ui, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]]}
    )
    by_name = {run["info"]["run_name"]: run for run in runs["runs"]}
    assert len(by_name) == 3  # feature_engineering+ingestion, modelling, reporting

    modelling = by_name["modelling[mlp,svm] stratified"]
    run_id = modelling["info"]["run_id"]
    metrics = {metric["key"] for metric in modelling["data"]["metrics"]}
    params = {param["key"]: param["value"] for param in modelling["data"]["params"]}
    for architecture in ARCHITECTURES:
        assert f"{architecture}.track_accuracy" in metrics
        # The block's key names the namespace; its builder is logged beside it.
        assert params[f"modelling.architectures.{architecture}.builder"] == architecture
        listed = json.loads(
            get(mlflow_ui, "/api/2.0/mlflow/artifacts/list", run_id=run_id, path=architecture)
        )
        assert f"{architecture}/confusion_matrix.png" in {item["path"] for item in listed["files"]}
        # What the UI's artifact view fetches to show the image.
        image = get(
            mlflow_ui, "/get-artifact", path=f"{architecture}/confusion_matrix.png", run_uuid=run_id
        )
        assert image.startswith(b"\x89PNG")
    assert "mlp.val_loss" in metrics


@pytest.mark.slow
def test_mlflow_ui_opens_the_experiment_on_its_runs_and_shows_the_architectures_metrics(
    chromium: Path, mlflow_ui: str
):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        experiment_id = json.loads(
            get(mlflow_ui, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="gtzan-kedro")
        )["experiment"]["experiment_id"]
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        page.goto(f"{mlflow_ui}/#/experiments/{experiment_id}{RUNS_VIEW}")
        page.wait_for_url(re.compile(rf"#/experiments/{experiment_id}/runs\b"), timeout=90_000)
        modelling = page.get_by_text("modelling[mlp,svm] stratified", exact=True)
        modelling.wait_for(timeout=90_000)  # the runs table, not the GenAI overview
        # Every run is a row of the table (rows render one after another).
        page.get_by_text("feature_engineering+ingestion stratified", exact=True).wait_for(
            timeout=90_000
        )
        page.screenshot(path=ARTIFACTS / "mlflow-ui-runs.png")

        modelling.click()  # the run's page lists its metrics
        for architecture in ARCHITECTURES:
            metric = page.get_by_text(f"{architecture}.track_accuracy", exact=True)
            metric.wait_for(timeout=90_000)
            metric.scroll_into_view_if_needed()
            assert metric.is_visible()
        page.screenshot(path=ARTIFACTS / "mlflow-ui-run.png")
        browser.close()
