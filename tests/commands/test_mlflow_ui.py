"""`mlflow ui`, started with no arguments in the project root, serves the runs of `kedro run`."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.commands.conftest import ARCHITECTURES, TinyRun, background, free_port, wait_for_http


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
def test_mlflow_ui_serves_runs_metrics_parameters_and_confusion_matrices(
    tiny_run: TinyRun, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "mlflow-ui.log"
    # As typed in the project root, but on a free port and with one worker (starts faster).
    command = ("mlflow", "ui", "--port", str(port), "--workers", "1")
    with background(*command, cwd=tiny_run.project, log=log) as server:
        wait_for_http(f"{base}/health", server, log)

        experiment = json.loads(
            get(base, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="gtzan-kedro")
        )["experiment"]
        runs = post(
            base, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]]}
        )
        by_name = {run["info"]["run_name"]: run for run in runs["runs"]}
        assert len(by_name) == 3  # ingestion+feature_engineering, modelling, reporting

        modelling = by_name["modelling[mlp,svm] stratified"]
        run_id = modelling["info"]["run_id"]
        metrics = {metric["key"] for metric in modelling["data"]["metrics"]}
        params = {param["key"]: param["value"] for param in modelling["data"]["params"]}
        for architecture in ARCHITECTURES:
            assert f"{architecture}.track_accuracy" in metrics
            assert params[f"{architecture}.architecture"] == architecture
            listed = json.loads(
                get(base, "/api/2.0/mlflow/artifacts/list", run_id=run_id, path=architecture)
            )
            assert f"{architecture}/confusion_matrix.png" in {
                item["path"] for item in listed["files"]
            }
            # What the UI's artifact view fetches to show the image.
            image = get(
                base, "/get-artifact", path=f"{architecture}/confusion_matrix.png", run_uuid=run_id
            )
            assert image.startswith(b"\x89PNG")
        assert "mlp.val_loss" in metrics
