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
def test_queue_run_survives_a_dying_experiment_prints_the_summary_and_refuses_a_second_run(
    queue_project: Path, tmp_path: Path
):
    # One queue as typed serves every assertion: an experiment killed mid-training, one with
    # a typo in its overrides and a good one, then `kedro queue status`.
    queue_file = queue_project / "conf" / "base" / "experiments" / "crash.yml"
    queue_file.parent.mkdir(parents=True, exist_ok=True)
    experiments = [{"name": "doomed", "overrides": ENDLESS}, *QUEUE["experiments"]]
    queue_file.write_text(yaml.safe_dump({**QUEUE, "name": "crash", "experiments": experiments}))
    pinned = ("--code-version", CODE_VERSION)
    command = ("kedro", "queue", "run", str(queue_file), *pinned)
    log = tmp_path / "queue.log"
    # The store created here first: polling it while the queue creates it would race two
    # migrations of one new SQLite file.
    MlflowClient(tracking_uri=f"sqlite:///{queue_project}/mlflow.db").search_experiments()

    with background(*command, cwd=queue_project, log=log) as queue:
        doomed_pid = running_experiment_pid(queue_project, "doomed", log, timeout=240)
        second = run_command(*command, cwd=queue_project)
        # Each experiment runs in a process of its own: killing it leaves the queue alive.
        assert doomed_pid != queue.pid
        os.kill(doomed_pid, signal.SIGKILL)
        queue.wait(timeout=240)
    output = log.read_text()
    status = run_command("kedro", "queue", "status", str(queue_file), *pinned, cwd=queue_project)

    assert second.returncode == 1
    assert re.fullmatch(
        rf"Error: Queue 'crash' is already running \(process {queue.pid}, lock file .*\): "
        r"wait for it to end, or stop that process\.",
        second.stderr.strip().splitlines()[-1],
    ), second.stderr[-3000:]
    # Two experiments failed: exit code 1, after the whole queue ran.
    assert queue.returncode == 1, output[-3000:]
    assert "Failed: doomed, typo; rerun the queue to retry them." in output
    assert "# Queue 'crash': track_accuracy, best first" in output
    assert re.search(r"^\| good +\| done +\|", output, re.MULTILINE)
    assert "Unknown parameter modelling.architectures.mlp.modle" in output
    runs = experiment_runs(queue_project)
    assert runs["doomed"][0].info.status == "FAILED"
    assert runs["doomed"][0].data.tags[ERROR] == (
        "The experiment's process died with exit status -9 (SIGKILL)"
    )
    assert runs["good"][0].info.status == "FINISHED"
    assert status.returncode == 0, status.stderr[-3000:]
    assert re.search(r"^\| good +\| done +\|", status.stdout, re.MULTILINE)
    assert re.search(r"^\| typo +\| failed +\|", status.stdout, re.MULTILINE)
    assert re.search(r"^\| doomed +\| failed +\|", status.stdout, re.MULTILINE)
    # The lock went with the queue: the next run starts (and finds "good" done).
    assert not list((queue_project / "data" / ".queue-locks").iterdir())
