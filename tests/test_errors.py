"""Libraries' errors with a cause the user can fix become one line saying what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, DatasetError

from gtzan_kedro.errors import InputError, input_error_in
from gtzan_kedro.settings import CONFIG_LOADER_ARGS


def one_line(error: BaseException) -> str:
    """The user's message for ``error``; fails unless there is one, on one line."""
    found = input_error_in(error)
    assert found is not None, repr(error)
    assert "\n" not in str(found)
    return str(found)


def test_a_garbage_store_is_named_as_damaged(tmp_path: Path):
    store = tmp_path / "mlflow.db"
    store.write_bytes(b"not sqlite at all " * 200)

    with pytest.raises(sqlite3.DatabaseError) as raised:
        sqlite3.connect(store).execute("select * from experiments")

    assert one_line(raised.value).startswith("The MLflow store ")
    assert "is damaged (file is not a database): restore it" in one_line(raised.value)


def test_a_store_locked_by_another_writer_says_to_wait(tmp_path: Path):
    store = tmp_path / "mlflow.db"
    writer = sqlite3.connect(store, isolation_level=None)
    writer.execute("create table runs (id)")
    writer.execute("begin exclusive")

    with pytest.raises(sqlite3.OperationalError) as raised:
        sqlite3.connect(store, timeout=0).execute("select * from runs")

    assert "is locked by another process writing to it" in one_line(raised.value)
    writer.close()


def load_array(name: str, filepath: Path) -> None:
    """Load ``filepath`` as the project's array dataset ``name`` through a real catalog."""
    entry = {
        "type": "gtzan_kedro.datasets.numpy_array.NumpyArrayDataset",
        "filepath": str(filepath),
    }
    DataCatalog.from_config({name: entry}).load(name)


def test_an_input_no_run_has_written_is_named_with_its_path(tmp_path: Path):
    with pytest.raises(DatasetError) as raised:
        load_array("log_mel.train_examples", tmp_path / "train_examples.npy")

    message = one_line(raised.value)
    assert message.startswith("'log_mel.train_examples' has not been written (")
    assert f"{tmp_path / 'train_examples.npy'} is missing): run the pipeline" in message


def test_a_dataset_that_fails_for_another_reason_is_not_called_unwritten(tmp_path: Path):
    (tmp_path / "train_examples.npy").write_bytes(b"not a numpy file")

    with pytest.raises(DatasetError) as raised:
        load_array("examples", tmp_path / "train_examples.npy")

    assert input_error_in(raised.value) is None


def test_a_malformed_catalog_is_named(tmp_path: Path):
    for env in ("base", "local"):
        (tmp_path / env).mkdir()
    catalog = tmp_path / "base" / "catalog.yml"
    catalog.write_text("raw_clips:\n  type: [unclosed\n")

    with pytest.raises(Exception) as raised:
        OmegaConfigLoader(str(tmp_path), **CONFIG_LOADER_ARGS)["catalog"]

    assert one_line(raised.value).startswith(f"Invalid YAML or JSON file {catalog}")


def test_a_missing_conf_local_is_named(tmp_path: Path):
    (tmp_path / "base").mkdir()

    with pytest.raises(Exception) as raised:
        OmegaConfigLoader(str(tmp_path), **CONFIG_LOADER_ARGS)["parameters"]

    assert one_line(raised.value).startswith(
        f"The configuration folder {tmp_path / 'local'} is missing: create it"
    )


def test_an_unknown_environment_is_named_before_mlflow_is_set_up(project_copy: Path):
    bootstrap_project(project_copy)

    with pytest.raises(InputError, match=r"^Unknown environment 'nosuch' \(--env\): there is no "):
        with KedroSession.create(project_path=project_copy, env="nosuch") as session:
            session.load_context()

    assert not (project_copy / "mlflow.db").exists()
    assert not (project_copy / "mlruns").exists()
