"""The comparison as the MLflow run's description, against a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from gtzan_kedro.datasets.mlflow_note import MlflowNoteDataset

NOTE = "# Architectures on the test tracks\n\n| rank | architecture |\n| --- | --- |\n| 1 | svm |\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    """A SQLite tracking store in ``tmp_path``, the tracking URI while the test runs."""
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    # An experiment of this store: one set by an earlier session in this process is not here.
    mlflow.set_experiment("notes")
    yield uri
    mlflow.set_tracking_uri(previous)


def test_saved_note_is_the_runs_description_and_a_file(store: str, tmp_path: Path):
    path = tmp_path / "reporting" / "architecture_comparison.md"
    dataset = MlflowNoteDataset(filepath=str(path))

    with mlflow.start_run() as run:
        dataset.save(NOTE)

    tags = MlflowClient(store).get_run(run.info.run_id).data.tags
    assert tags["mlflow.note.content"] == NOTE
    assert path.read_text() == NOTE
    assert MlflowNoteDataset(filepath=str(path)).load() == NOTE


def test_without_an_active_run_only_the_file_is_written(store: str, tmp_path: Path):
    path = tmp_path / "note.md"

    MlflowNoteDataset(filepath=str(path)).save(NOTE)

    assert path.read_text() == NOTE
    assert mlflow.active_run() is None  # no run started for it either
    assert MlflowClient(store).search_runs(experiment_ids=["0"]) == []


def test_saving_again_replaces_the_note_and_leaves_no_temporary_file(store: str, tmp_path: Path):
    path = tmp_path / "notes" / "note.md"
    dataset = MlflowNoteDataset(filepath=str(path))
    updated = NOTE + "| 2 | mlp |\n"

    with mlflow.start_run() as run:
        dataset.save(NOTE)
        dataset.save(updated)

    assert MlflowClient(store).get_run(run.info.run_id).data.tags["mlflow.note.content"] == updated
    assert path.read_text() == updated
    assert list(path.parent.iterdir()) == [path]
