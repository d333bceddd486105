"""`modelling` on a subset of architectures, then `reporting`, through real Kedro sessions.

Tracking goes to the project copy's own SQLite store (see ``tests.conftest.copy_project``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.runner import SequentialRunner, ThreadRunner
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from gtzan_kedro.hooks import ERROR_TAG
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import PROJECT_ROOT, copy_project
from tests.pipelines.modelling.conftest import (
    SYNTHETIC_PARAMS,
    TINY_TRAINING,
    run_session,
    write_feature_input,
)

ARCHITECTURES = ["gru", "svm"]
PARAMS = SYNTHETIC_PARAMS | {"modelling": {"training": TINY_TRAINING | {"epochs": 2}}}


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
def trained_project(tmp_path_factory) -> Path:
    """A project copy after `modelling` on two architectures, then `reporting`."""
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("modelling"))
    write_feature_input(project / "data")
    run_session(project, ["modelling"], PARAMS, namespaces=ARCHITECTURES)
    run_session(project, ["reporting"], PARAMS)
    return project


@pytest.mark.slow
def test_modelling_run_logs_parameters_metrics_artifacts_and_models(trained_project: Path):
    client, modelling = mlflow_run(trained_project, "modelling[gru,svm] stratified")

    params = modelling.data.params
    assert params["seed"] == "42"
    assert params["modelling.architectures.gru.builder"] == "recurrent"
    assert params["modelling.architectures.gru.model.cell"] == "gru"
    assert params["modelling.architectures.gru.features"] == "log_mel"
    assert params["modelling.architectures.gru.model.units"] == "64"
    assert params["modelling.training.epochs"] == "2"
    assert params["modelling.architectures.svm.model.C"] == "10.0"

    metrics = modelling.data.metrics
    for architecture in ARCHITECTURES:
        for metric in ("track_accuracy", "track_macro_f1"):
            assert 0.0 <= metrics[f"{architecture}.{metric}"] <= 1.0
    assert not any(name.startswith("lstm.") for name in metrics)
    assert [
        point.step for point in client.get_metric_history(modelling.info.run_id, "gru.val_loss")
    ] == [1, 2]

    assert {
        "gru/confusion_matrix.png",
        "gru/classification_report.csv",
        "gru/training_curves.png",
    } <= artifacts(client, modelling.info.run_id, "gru")
    # One MLflow model per architecture, named after it.
    logged = client.search_logged_models([modelling.info.experiment_id])
    assert {model.name for model in logged} == set(ARCHITECTURES)


@pytest.mark.slow
def test_models_and_reports_are_kept_in_their_data_layers(trained_project: Path):
    data = trained_project / "data"

    assert (data / "06_models" / "gru" / "model" / "model.keras").is_file()
    assert (data / "06_models" / "svm" / "model" / "model.joblib").is_file()
    predictions = pd.read_parquet(data / "07_model_output" / "gru" / "track_predictions.parquet")
    assert len(predictions) == 10 and list(predictions.columns[-len(GENRES) :]) == list(GENRES)
    assert (data / "08_reporting" / "svm" / "confusion_matrix.png").stat().st_size > 0
    assert not (data / "08_reporting" / "lstm").exists()


@pytest.mark.slow
def test_reporting_compares_the_evaluated_architectures_and_registers_the_best(
    trained_project: Path,
):
    client, reporting = mlflow_run(trained_project, "reporting stratified")
    comparison = pd.read_csv(
        trained_project / "data" / "08_reporting" / "architecture_comparison.csv"
    )

    assert sorted(comparison["architecture"]) == sorted(ARCHITECTURES)
    assert comparison["track_accuracy"].is_monotonic_decreasing
    assert {
        "architecture_comparison.csv",
        "architecture_comparison.png",
    } <= artifacts(client, reporting.info.run_id)
    # The run's description in `mlflow ui` is the comparison table.
    description = reporting.data.tags["mlflow.note.content"]
    assert all(f"| {name} " in description for name in ARCHITECTURES)
    champion = client.get_model_version_by_alias("genre_classifier", "champion")
    assert champion.tags["architecture"] == comparison["architecture"].iloc[0]
    assert champion.tags["feature_set"] in {"log_mel", "mfcc_stats"}


def folder_state(folder: Path) -> tuple[int, dict[str, bytes]]:
    """The folder's inode (a rename replaces it) and every file's content."""
    files = (path for path in sorted(folder.rglob("*")) if path.is_file())
    return folder.stat().st_ino, {
        str(path.relative_to(folder)): path.read_bytes() for path in files
    }


# Last in the module: it breaks the trained project's features.
@pytest.mark.slow
def test_a_failed_evaluation_keeps_the_last_good_model_and_fails_the_run_with_why(
    trained_project: Path,
):
    data = trained_project / "data"
    model = data / "06_models" / "svm"
    good = folder_state(model)
    # A test track's features are gone: its prediction, hence the evaluation, fails.
    splits = pd.read_parquet(data / "03_primary" / "track_splits.parquet")
    test_track = splits.loc[splits["split"] == "test", "track_id"].iloc[0]
    (data / "04_feature" / "mfcc_stats" / f"{test_track}.npy").unlink()

    with pytest.raises(Exception, match=test_track):
        run_session(trained_project, ["modelling"], PARAMS, namespaces=["svm"])

    assert folder_state(model) == good
    client, failed = mlflow_run(trained_project, "modelling[svm] stratified")
    assert failed.info.status == "FAILED"
    assert failed.data.tags[ERROR_TAG].startswith("svm.predict_test_tracks: ")
    assert test_track in failed.data.tags[ERROR_TAG]


@pytest.mark.slow
def test_models_trained_side_by_side_in_threads_are_those_trained_in_turn(tmp_path: Path):
    # `make run` trains with ThreadRunner: two Keras models at once share the global seed.
    keras_architectures = ["gru", "mlp"]
    weights = {}
    for runner in (SequentialRunner(), ThreadRunner()):
        folder = tmp_path / type(runner).__name__
        folder.mkdir()
        project = copy_project(PROJECT_ROOT, folder)
        write_feature_input(project / "data")
        run_session(project, ["modelling"], PARAMS, namespaces=keras_architectures, runner=runner)
        weights[type(runner).__name__] = {
            name: GenreClassifier.load(project / "data" / "06_models" / name).model.get_weights()
            for name in keras_architectures
        }

    for name in keras_architectures:
        in_turn, side_by_side = weights["SequentialRunner"][name], weights["ThreadRunner"][name]
        assert len(in_turn) == len(side_by_side)
        for expected, actual in zip(in_turn, side_by_side, strict=True):
            np.testing.assert_array_equal(actual, expected)
