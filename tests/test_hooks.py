"""The MLflow run hook against a real SQLite store: run name, process tags, experiment kind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from gtzan_kedro.hooks import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    HOST_TAG,
    PID_TAG,
    MlflowRunHook,
    owner_is_alive,
    run_name,
)

KFOLD = {"feature_engineering": {"split": {"strategy": "kfold", "folds": 5}}}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    """A real SQLite tracking store, the process's tracking URI while the module's tests run."""
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(uri)
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def experiment_id(store: MlflowClient, request: pytest.FixtureRequest) -> str:
    """A fresh experiment without tags, one per test."""
    return store.create_experiment(request.node.name)


def context(configured_name: str | None = None, parameters: dict[str, Any] | None = None):
    """A stand-in for the KedroContext: its parameters and kedro-mlflow's settings on it."""
    run_settings = SimpleNamespace(name=configured_name)
    return SimpleNamespace(
        params=parameters or {},
        mlflow=SimpleNamespace(tracking=SimpleNamespace(run=run_settings)),
    )


def start_session(hook: MlflowRunHook, kedro_context: Any, experiment_id: str, **run_params):
    """What a `kedro run` does around the hook: context, kedro-mlflow's run, pipeline start."""
    hook.after_context_created(kedro_context)
    run = mlflow.start_run(experiment_id=experiment_id, run_name="kedro-mlflow's name")
    hook.before_pipeline_run({"pipeline_names": None, "namespaces": None} | run_params)
    mlflow.end_run()
    return MlflowClient().get_run(run.info.run_id)


def test_run_name_says_which_pipelines_namespaces_and_split_ran():
    assert run_name(None, None) == "__default__"
    assert run_name(["modelling"], None) == "modelling"
    assert run_name(["modelling"], ["lstm", "gru"]) == "modelling[lstm,gru]"
    assert run_name(["modelling", "reporting"], ["svm"]) == "modelling+reporting[svm]"
    # The same name however Kedro ordered them.
    assert (
        run_name(["reporting", "ingestion", "modelling"], None) == "ingestion+modelling+reporting"
    )
    assert run_name(["modelling"], ["lstm", "gru"], "kfold") == "modelling[lstm,gru] kfold"


def test_hook_names_the_run_after_what_ran(experiment_id: str):
    run = start_session(
        MlflowRunHook(),
        context(parameters=KFOLD),
        experiment_id,
        pipeline_names=["modelling"],
        namespaces=["lstm", "gru"],
    )

    assert run.info.run_name == "modelling[lstm,gru] kfold"


def test_a_run_name_set_in_mlflow_yml_wins(experiment_id: str):
    run = start_session(MlflowRunHook(), context("my-experiment", KFOLD), experiment_id)

    assert run.info.run_name == "kedro-mlflow's name"


def test_a_run_started_by_the_caller_keeps_its_name(experiment_id: str):
    hook = MlflowRunHook()
    with mlflow.start_run(experiment_id=experiment_id, run_name="queue experiment") as run:
        hook.after_context_created(context(parameters=KFOLD))
        hook.before_pipeline_run({"pipeline_names": ["modelling"], "namespaces": None})
    tagged = MlflowClient().get_run(run.info.run_id)

    assert tagged.info.run_name == "queue experiment"
    assert tagged.data.tags[PID_TAG] == str(os.getpid())  # its owner is still this process


def test_run_records_its_process(experiment_id: str):
    run = start_session(MlflowRunHook(), context(), experiment_id)

    assert run.data.tags[PID_TAG] == str(os.getpid())
    assert run.data.tags[HOST_TAG]


def test_an_existing_experiment_is_tagged_to_open_on_its_runs(store, experiment_id: str):
    assert EXPERIMENT_KIND_TAG not in store.get_experiment(experiment_id).tags

    start_session(MlflowRunHook(), context(), experiment_id)

    assert store.get_experiment(experiment_id).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND


def test_an_experiment_kind_chosen_by_the_user_is_kept(store, experiment_id: str):
    store.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, "genai_development")

    start_session(MlflowRunHook(), context(), experiment_id)

    assert store.get_experiment(experiment_id).tags[EXPERIMENT_KIND_TAG] == "genai_development"


def exited_process_id() -> int:
    """The id of a process that has come and gone."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def tagged_run(client: MlflowClient, experiment_id: str, pid: int, start_time: int | None = None):
    """A run left RUNNING, owned by process ``pid`` of this host."""
    run = client.create_run(experiment_id, start_time=start_time)
    client.set_tag(run.info.run_id, PID_TAG, str(pid))
    return client.get_run(run.info.run_id)


def test_the_owner_of_a_run_is_alive_while_its_process_runs(store, experiment_id: str):
    assert owner_is_alive(tagged_run(store, experiment_id, os.getpid()))


def test_the_owner_of_a_run_is_gone_once_its_process_exited(store, experiment_id: str):
    assert not owner_is_alive(tagged_run(store, experiment_id, exited_process_id()))


def test_a_process_that_reuses_the_id_is_not_the_owner(store, experiment_id: str):
    # This process started after the run: the run's own process, with the same id, is gone.
    long_ago = int((time.time() - 3600) * 1000)

    assert not owner_is_alive(tagged_run(store, experiment_id, os.getpid(), long_ago))


def test_hook_marks_runs_of_killed_processes_of_this_host_killed(store, experiment_id, caplog):
    orphan = tagged_run(store, experiment_id, exited_process_id())
    store.set_tag(orphan.info.run_id, HOST_TAG, socket.gethostname())
    elsewhere = tagged_run(store, experiment_id, exited_process_id())
    store.set_tag(elsewhere.info.run_id, HOST_TAG, "another-host")
    alive = tagged_run(store, experiment_id, os.getpid())
    store.set_tag(alive.info.run_id, HOST_TAG, socket.gethostname())

    with caplog.at_level("WARNING", logger="gtzan_kedro.hooks"):
        start_session(MlflowRunHook(), context(), experiment_id)

    assert store.get_run(orphan.info.run_id).info.status == "KILLED"
    assert store.get_run(elsewhere.info.run_id).info.status == "RUNNING"
    assert store.get_run(alive.info.run_id).info.status == "RUNNING"
    assert f"({orphan.info.run_id})" in caplog.text and "marked KILLED" in caplog.text


def test_without_a_run_the_hook_starts_none(store, experiment_id: str):
    # Tracking disabled for the pipeline (inference): kedro-mlflow starts no run, nor may we.
    mlflow.set_experiment(experiment_id=experiment_id)
    hook = MlflowRunHook()
    hook.after_context_created(context())
    hook.before_pipeline_run({"pipeline_names": ["inference"], "namespaces": None})

    assert mlflow.active_run() is None
    assert store.search_runs([experiment_id]) == []
