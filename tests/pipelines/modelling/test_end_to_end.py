"""`modelling` on a subset of architectures, then `reporting`, through real Kedro sessions.

Tracking goes to the project copy's own SQLite store (see ``tests.conftest.copy_project``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from tests.pipelines.modelling.conftest import TINY_TRAINING, write_model_input

ARCHITECTURES = ["gru", "svm"]


def run(project: Path, pipeline: str, **kwargs) -> None:
    """One ``kedro run --pipeline <pipeline>`` of the project copy, tiny training."""
    bootstrap_project(project)
    runtime_params = {"modelling": {"training": TINY_TRAINING | {"epochs": 2}}}
    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        session.run(pipeline_names=[pipeline], **kwargs)


def mlflow_run(project: Path, name: str) -> tuple[MlflowClient, Run]:
    """The project copy's MLflow client and its one run called ``name``."""
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    experiment = client.get_experiment_by_name("gtzan-kedro")
    runs = client.search_runs([experiment.experiment_id])
    named = [run for run in runs if run.info.run_name == name]
    assert len(named) == 1, [run.info.run_name for run in runs]
    return client, named[0]


def artifacts(client: MlflowClient, run_id: str, folder: str | None = None) -> set[str]:
    """Paths of the run's artifacts in ``folder``."""
    return {artifact.path for artifact in client.list_artifacts(run_id, folder)}


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory, tiny_splits) -> Path:
    """A project copy after `modelling` on two architectures, then `reporting`."""
    from tests.conftest import PROJECT_ROOT, copy_project  # noqa: PLC0415 - lead's helper

    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("modelling"))
    write_model_input(tiny_splits, project / "data")
    run(project, "modelling", namespaces=ARCHITECTURES)
    run(project, "reporting")
    return project


@pytest.mark.slow
def test_modelling_run_logs_parameters_metrics_and_artifacts(trained_project: Path):
    client, modelling = mlflow_run(trained_project, "modelling[gru,svm] stratified")

    params = modelling.data.params
    assert params["seed"] == "42"
    assert params["gru.architecture"] == "gru"
    assert params["gru.model.units"] == "64"
    assert params["gru.training.epochs"] == "2"
    assert params["svm.model.C"] == "10.0"
    assert not any(name.startswith("lstm.") for name in params)

    metrics = modelling.data.metrics
    for architecture in ARCHITECTURES:
        for metric in (
            "track_accuracy",
            "track_macro_f1",
            "sequence_accuracy",
            "sequence_macro_recall",
        ):
            assert 0.0 <= metrics[f"{architecture}.{metric}"] <= 1.0
    assert [
        point.step for point in client.get_metric_history(modelling.info.run_id, "gru.val_loss")
    ] == [1, 2]

    assert artifacts(client, modelling.info.run_id, "gru") == {
        "gru/model.keras",
        "gru/confusion_matrix.png",
        "gru/classification_report.csv",
        "gru/training_curves.png",
    }
    assert "svm/model.joblib" in artifacts(client, modelling.info.run_id, "svm")


@pytest.mark.slow
def test_models_and_reports_are_kept_in_their_data_layers(trained_project: Path):
    data = trained_project / "data"

    assert len(list((data / "06_models" / "gru").glob("*/gru/model.keras"))) == 1
    assert len(list((data / "06_models" / "svm").glob("*/svm/model.joblib"))) == 1
    assert (data / "07_model_output" / "gru" / "test_probabilities.npy").is_file()
    assert (data / "08_reporting" / "svm" / "confusion_matrix.png").stat().st_size > 0
    assert not (data / "08_reporting" / "lstm").exists()


@pytest.mark.slow
def test_reporting_compares_the_architectures_that_were_evaluated(trained_project: Path):
    client, reporting = mlflow_run(trained_project, "reporting stratified")
    comparison = pd.read_csv(
        trained_project / "data" / "08_reporting" / "architecture_comparison.csv"
    )

    assert sorted(comparison["architecture"]) == sorted(ARCHITECTURES)
    assert comparison["track_accuracy"].is_monotonic_decreasing
    assert artifacts(client, reporting.info.run_id) == {
        "architecture_comparison.csv",
        "architecture_comparison.md",
        "architecture_comparison.png",
    }
