"""`kedro run` names and tags its MLflow run, tags the experiment, closes runs of killed processes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from gtzan_kedro.hooks import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG, PID_TAG
from tests.commands.conftest import background, run_command
from tests.conftest import PROJECT_ROOT, copy_project

EXPERIMENT = "gtzan-kedro"
TINY = "ingestion.generator.clips_per_genre=2,ingestion.generator.clip_seconds=1"
# Enough clips that the run is still generating them when it is killed.
LONG = "ingestion.generator.clips_per_genre=100,ingestion.generator.clip_seconds=10"


@dataclass(frozen=True)
class KilledThenRun:
    """A `kedro run` killed while running, then a second one, in the same project copy."""

    client: MlflowClient
    killed: Run  # as the store had it just after the kill
    killed_run_id: str
    second_log: str
    experiment_tags_after_kill: dict[str, str]


def wait_for_running_run(client: MlflowClient, experiment_id: str, process, log: Path) -> Run:
    """The run the background `kedro run` started, once it is tagged with its process."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kedro run ended before it was killed:\n{log.read_text()[-3000:]}")
        runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'")
        if runs and PID_TAG in runs[0].data.tags:
            return runs[0]
        time.sleep(0.2)
    pytest.fail(f"No MLflow run started within 300 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def killed_then_run(tmp_path_factory: pytest.TempPathFactory) -> KilledThenRun:
    """An experiment made before any run (untagged), a run killed by SIGKILL, another run."""
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("killed"))
    client = MlflowClient(f"sqlite:///{project}/mlflow.db")
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=str(project / "mlruns"))
    log = project / "killed-run.log"
    command = ("kedro", "run", "--pipeline", "ingestion", "--params", LONG)
    with background(*command, cwd=project, log=log) as process:
        started = wait_for_running_run(client, experiment_id, process, log)
        process.kill()  # kill -9 of `kedro run` itself, as a user would
        process.wait()
    killed = client.get_run(started.info.run_id)
    tags_after_kill = dict(client.get_experiment(experiment_id).tags)
    second = run_command("kedro", "run", "--pipeline", "ingestion", "--params", TINY, cwd=project)
    assert second.returncode == 0, second.stderr[-5000:]
    return KilledThenRun(
        client, killed, started.info.run_id, second.stdout + second.stderr, tags_after_kill
    )


def runs_named(client: MlflowClient, name: str) -> list[Run]:
    """The runs of the project's experiment called ``name``."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return [
        run for run in client.search_runs([experiment.experiment_id]) if run.info.run_name == name
    ]


@pytest.mark.slow
def test_a_run_left_running_by_a_killed_process_is_marked_killed_at_the_next_start(
    killed_then_run: KilledThenRun,
):
    assert killed_then_run.killed.info.status == "RUNNING"  # nothing closed it when it died

    after = killed_then_run.client.get_run(killed_then_run.killed_run_id)

    assert after.info.status == "KILLED"
    assert after.info.end_time is not None
    log = " ".join(killed_then_run.second_log.split())  # the console wraps long records
    assert f"({killed_then_run.killed_run_id}) was still RUNNING" in log
    assert "marked KILLED" in log


@pytest.mark.slow
def test_the_existing_experiment_is_tagged_to_open_on_its_runs(killed_then_run: KilledThenRun):
    # Made before any run, without tags: the first run's start tagged it.
    assert killed_then_run.experiment_tags_after_kill[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND


@pytest.mark.slow
def test_each_run_is_named_after_the_pipeline_and_the_split_strategy(
    killed_then_run: KilledThenRun,
):
    named = runs_named(killed_then_run.client, "ingestion stratified")

    assert {run.info.run_id for run in named} - {killed_then_run.killed_run_id}
    assert killed_then_run.killed.info.run_name == "ingestion stratified"
