"""`kedro queue run` and `kedro queue status` as typed in a shell, in a project copy."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from gtzan_kedro.experiments.tracking import ERROR, EXPERIMENT
from gtzan_kedro.hooks import PID_TAG
from tests.commands.conftest import background, run_command
from tests.experiments.conftest import CODE_VERSION, TINY_TRAINING, experiment_runs

QUEUE = {
    "name": "cli",
    "defaults": {"pipelines": "modelling", "namespaces": ["mlp"], "overrides": TINY_TRAINING},
    "experiments": [
        {"name": "good"},
        {"name": "typo", "overrides": {"modelling.architectures.mlp.modle.units": [8]}},
    ],
}


@pytest.mark.slow
def test_queue_run_prints_the_summary_and_status_shows_each_state(queue_project: Path):
    queue_file = queue_project / "conf" / "base" / "experiments" / "cli.yml"
    queue_file.write_text(yaml.safe_dump(QUEUE))
    pinned = ("--code-version", CODE_VERSION)

    # Each experiment starts a process of its own: slower than one `kedro run`.
    ran = run_command(
        "kedro", "queue", "run", str(queue_file), *pinned, cwd=queue_project, timeout=900
    )
    status = run_command("kedro", "queue", "status", str(queue_file), *pinned, cwd=queue_project)

    # One experiment failed: exit code 1, after the whole queue ran.
    assert ran.returncode == 1, ran.stdout + ran.stderr[-3000:]
    assert "Failed: typo; rerun the queue to retry them." in ran.stderr
    assert "# Queue 'cli': track_accuracy, best first" in ran.stdout
    assert re.search(r"^\| good +\| done +\|", ran.stdout, re.MULTILINE)
    assert "Unknown parameter modelling.architectures.mlp.modle" in ran.stdout
    assert status.returncode == 0, status.stderr[-3000:]
    assert re.search(r"^\| good +\| done +\|", status.stdout, re.MULTILINE)
    assert re.search(r"^\| typo +\| failed +\|", status.stdout, re.MULTILINE)


@pytest.mark.slow
def test_a_broken_queue_file_is_an_error_message(project_copy: Path):
    queue_file = project_copy / "broken.yml"
    queue_file.write_text("experiments: []\n")

    result = run_command("kedro", "queue", "status", str(queue_file), cwd=project_copy)

    assert result.returncode == 1
    assert "Error: " in result.stderr
    assert "'experiments' must be a non-empty list" in result.stderr
    assert "Traceback" not in result.stderr


# Trains until it is killed: a process that dies mid-experiment, as under the OOM killer.
ENDLESS = {
    "modelling.training.epochs": 100_000,
    "modelling.training.early_stopping_patience": 100_000,
}


def running_experiment_pid(project: Path, name: str, queue_log: Path, timeout: float) -> int:
    """The process id the run of experiment ``name`` is tagged with, once it runs."""
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        experiment = client.get_experiment_by_name("gtzan-kedro")
        if experiment is not None:
            for run in client.search_runs(
                [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
            ):
                if run.data.tags.get(EXPERIMENT) == name and PID_TAG in run.data.tags:
                    return int(run.data.tags[PID_TAG])
        time.sleep(0.5)
    raise AssertionError(f"Experiment '{name}' never ran:\n{queue_log.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_dying_experiment_is_a_failure_and_a_second_queue_run_is_refused(
    queue_project: Path, tmp_path: Path
):
    queue_file = queue_project / "crash.yml"
    experiments = [{"name": "doomed", "overrides": ENDLESS}, {"name": "good"}]
    queue_file.write_text(yaml.safe_dump({**QUEUE, "name": "crash", "experiments": experiments}))
    command = ("kedro", "queue", "run", str(queue_file), "--code-version", CODE_VERSION)
    log = tmp_path / "queue.log"

    with background(*command, cwd=queue_project, log=log) as queue:
        doomed_pid = running_experiment_pid(queue_project, "doomed", log, timeout=240)
        second = run_command(*command, cwd=queue_project)
        # Each experiment runs in a process of its own: killing it leaves the queue alive.
        assert doomed_pid != queue.pid
        os.kill(doomed_pid, signal.SIGKILL)
        queue.wait(timeout=240)
    output = log.read_text()

    assert second.returncode == 1
    assert re.fullmatch(
        rf"Error: Queue 'crash' is already running \(process {queue.pid}, lock file .*\): "
        r"wait for it to end, or stop that process\.",
        second.stderr.strip().splitlines()[-1],
    ), second.stderr[-3000:]
    assert queue.returncode == 1, output[-3000:]
    assert "Failed: doomed; rerun the queue to retry them." in output
    runs = experiment_runs(queue_project)
    assert runs["doomed"][0].info.status == "FAILED"
    assert runs["doomed"][0].data.tags[ERROR] == (
        "The experiment's process died with exit status -9 (SIGKILL)"
    )
    assert runs["good"][0].info.status == "FINISHED"
    # The lock went with the queue: the next run starts (and finds "good" done).
    assert not list((queue_project / "data" / ".queue-locks").iterdir())
