"""musicnn through the real pipelines: features, a probe, its artefact served over HTTP.

A tiny project copy trains the classical baseline and ``musicnn_probe`` on the converted
musicnn weights (from the wheel ``make weights`` caches; nothing is fetched), then serves the
probe's logged MLflow model from another folder: the artefact carries the weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from mlflow.tracking import MlflowClient

from gtzan_kedro.sources.generator import synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.commands.conftest import BIN, background, free_port, wait_for_http
from tests.conftest import PROJECT_ROOT, SAMPLE_RATE, copy_project
from tests.pipelines.inference.test_end_to_end import post, request_body
from tests.pipelines.modelling.conftest import train_tiny_project

ARCHITECTURES = ("svm", "musicnn_probe")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy trained on the baseline and the musicnn probe."""
    project = copy_project(
        PROJECT_ROOT, tmp_path_factory.mktemp("musicnn"), architectures=ARCHITECTURES
    )
    train_tiny_project(project, list(ARCHITECTURES))
    return project


@pytest.mark.slow
def test_the_probe_is_compared_and_its_artefact_carries_the_weights_and_licence(project: Path):
    comparison = pd.read_csv(project / "data" / "08_reporting" / "architecture_comparison.csv")
    artefact = project / "data" / "06_models" / "musicnn_probe" / "inputs"

    assert set(comparison["architecture"]) == set(ARCHITECTURES)
    assert comparison.set_index("architecture").loc["musicnn_probe", "features"] == "musicnn"
    assert (artefact / "weights.weights.h5").stat().st_size > 1_000_000
    assert "ISC" in (artefact / "musicnn-LICENSE.md").read_text()


@pytest.mark.slow
def test_a_served_musicnn_model_classifies_a_clip_over_http(project: Path, tmp_path: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    experiment = client.get_experiment_by_name("gtzan-kedro")
    (model,) = client.search_logged_models(
        [experiment.experiment_id], filter_string="name = 'musicnn_probe'"
    )
    clip = tmp_path / "jazz.wav"
    sf.write(clip, synthesise_clip("jazz", 90, seconds=4.0, sample_rate=SAMPLE_RATE, seed=7), 22050)
    port = free_port()
    elsewhere = tmp_path / "elsewhere"  # no checkout, no data folder
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project}/mlflow.db")
        patch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        command = ["mlflow", "models", "serve", "-m", model.model_uri, "--env-manager", "local"]
        options = ["--host", "127.0.0.1", "--port", str(port)]
        log = tmp_path / "serve.log"
        with background(*command, *options, cwd=elsewhere, log=log) as process:
            wait_for_http(f"http://127.0.0.1:{port}/ping", process, log)
            status, answer = post(f"http://127.0.0.1:{port}/invocations", request_body(clip))

    (row,) = answer["predictions"]
    assert status == 200
    assert (row["status"], row["model"]) == ("ok", "musicnn_probe")
    assert row["genre_1"] in GENRES
    assert sum(row[genre] for genre in GENRES) == pytest.approx(1.0, abs=1e-4)
