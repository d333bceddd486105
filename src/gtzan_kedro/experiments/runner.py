"""Run a queue: each experiment as its own Kedro session and its own MLflow run.

Each experiment runs in a process of its own, so that even one that dies (a native abort,
the out-of-memory killer) is recorded as that experiment's failure, with its exit status,
and the queue goes on. One queue runs at a time (a lock file with its owner's process id).

How the runs are made: the queue creates each experiment's MLflow run itself, tagged and
linked to the queue's parent run, and makes it the active run before the Kedro session
starts. kedro-mlflow's hook then logs into that run instead of starting one (its support
for orchestrators that start the run themselves) and leaves it open, so the queue closes it
as finished or failed and records the error. Nothing depends on reading back a run id that
kedro-mlflow chose, and an experiment that fails before its pipeline starts (an invalid
override, an unknown namespace) still has a run saying why.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import pkgutil
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Pipeline
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_TAG_VAL_LENGTH

from gtzan_kedro import pipelines as project_pipelines
from gtzan_kedro.errors import InputError
from gtzan_kedro.experiments.lock import queue_lock
from gtzan_kedro.experiments.overrides import check_overrides, nest
from gtzan_kedro.experiments.queue_file import Experiment, Queue
from gtzan_kedro.experiments.summary import experiment_runs, summary_markdown, summary_table
from gtzan_kedro.experiments.tracking import (
    ERROR,
    ExperimentRecord,
    QueueProject,
    current_code_version,
    experiment_tags,
)
from gtzan_kedro.project_config import configured_architectures

logger = logging.getLogger(__name__)

# Each experiment is a process of its own, forked from a server process that imported the
# heavy modules once per queue: about 10 s less per experiment than a fresh interpreter. The
# server only imports (no session starts and no TensorFlow op runs in it), so its forks start
# as clean as spawned processes would. Where there is no fork server (Windows): spawned.
if "forkserver" in multiprocessing.get_all_start_methods():
    _EXPERIMENTS = multiprocessing.get_context("forkserver")
    _EXPERIMENTS.set_forkserver_preload([__name__, "tensorflow", "keras"])
else:
    _EXPERIMENTS = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class QueueSummary:
    """Where a queue stands: one row per experiment, best first, and its Markdown."""

    table: pd.DataFrame
    markdown: str
    parent_run_id: str | None = None

    @property
    def failed(self) -> list[str]:
        """Names of the experiments whose latest run failed."""
        return list(self.table.loc[self.table["state"] == "failed", "experiment"])


def run_queue(
    queue: Queue, project_path: Path, env: str | None = None, code_version: str | None = None
) -> QueueSummary:
    """Run every experiment of ``queue`` not yet finished with the same key and code version.

    A failing experiment is recorded with its error and the queue goes on. The summary is
    logged to the queue's parent run. ``code_version`` defaults to the installed package's.
    """
    active = mlflow.active_run()
    if active is not None:
        raise RuntimeError(
            f"MLflow run {active.info.run_id} is active: end it (mlflow.end_run()) before "
            "running a queue, whose experiments each get a run of their own."
        )
    with queue_lock(project_path, queue.name):
        return _run_locked(queue, QueueProject.open(project_path, env), code_version)


def _run_locked(queue: Queue, project: QueueProject, code_version: str | None) -> QueueSummary:
    """:func:`run_queue` once its lock is held."""
    code_version = code_version or current_code_version()
    parent_run_id = project.parent_run_id(queue)
    project.client.update_run(parent_run_id, status=RunStatus.to_string(RunStatus.RUNNING))
    try:
        for number, record in enumerate(project.records(queue, code_version), start=1):
            where = f"Experiment {number}/{len(queue.experiments)} '{record.experiment.name}'"
            if record.state == "done":
                logger.info("%s: already done in run %s, skipped.", where, record.run.info.run_id)
                continue
            logger.info("%s: starting (overrides: %s).", where, record.experiment.overrides)
            tags = experiment_tags(queue, record, code_version, parent_run_id)
            _run_experiment(project, record.experiment, tags)
    except BaseException as error:
        # Interrupted (Ctrl-C) or broken: the parent run must not stay "running" forever.
        ended = RunStatus.FAILED if isinstance(error, Exception) else RunStatus.KILLED
        project.client.set_terminated(parent_run_id, RunStatus.to_string(ended))
        raise
    summary = _summarise(project, queue, project.records(queue, code_version))
    _log_summary(project, summary, parent_run_id)
    project.client.set_terminated(parent_run_id, RunStatus.to_string(RunStatus.FINISHED))
    return QueueSummary(summary.table, summary.markdown, parent_run_id)


def queue_status(
    queue: Queue, project_path: Path, env: str | None = None, code_version: str | None = None
) -> QueueSummary:
    """Which experiments of ``queue`` are done, failed or pending, without running any."""
    project = QueueProject.open(project_path, env)
    records = project.records(queue, code_version or current_code_version())
    return _summarise(project, queue, records)


def _wait_for_experiment_server() -> None:
    """Start the process experiments are forked from, if need be, and wait for its imports.

    A fork of a running server costs milliseconds; spawned experiments have no server to wait for.
    """
    if _EXPERIMENTS.get_start_method() != "forkserver":
        return
    ready = _EXPERIMENTS.Process(target=int, name="experiment server check")
    ready.start()
    ready.join()


def _run_experiment(project: QueueProject, experiment: Experiment, tags: dict[str, str]) -> None:
    """One experiment in a run made beforehand and a process of its own; failures recorded."""
    # The server ready before the run is made: a process starting seconds after its run would
    # look like another process reusing the id of the run's owner (hooks.owner_is_alive).
    _wait_for_experiment_server()
    run = project.client.create_run(project.experiment_id, run_name=experiment.name, tags=tags)
    run_id = run.info.run_id
    process = _EXPERIMENTS.Process(
        target=_experiment_process,
        args=(
            project.project_path,
            project.env,
            project.parameters,
            project.client.tracking_uri,
            experiment,
            run_id,
        ),
        name=f"experiment {experiment.name}",
    )
    process.start()
    try:
        process.join()
    finally:
        if process.is_alive():  # the queue itself was interrupted
            process.terminate()
            process.join()
    if project.client.get_run(run_id).info.status == "RUNNING":
        _record_death(project.client, run_id, experiment.name, process.exitcode)


def _record_death(client: MlflowClient, run_id: str, name: str, exit_code: int | None) -> None:
    """Fail the run of an experiment whose process died before it could record anything."""
    message = f"The experiment's process died with exit status {describe_exit(exit_code)}"
    logger.error("Experiment '%s' failed, the queue goes on: %s.", name, message)
    client.set_tag(run_id, ERROR, message)
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))


def describe_exit(exit_code: int | None) -> str:
    """``-6 (SIGABRT)`` for a process killed by a signal, else the code itself."""
    if exit_code is not None and exit_code < 0:
        try:
            return f"{exit_code} ({signal.Signals(-exit_code).name})"
        except ValueError:
            pass
    return str(exit_code)


def _experiment_process(  # noqa: PLR0913, PLR0917 - the arguments of an experiment process
    project_path: Path,
    env: str | None,
    parameters: dict,
    tracking_uri: str,
    experiment: Experiment,
    run_id: str,
) -> None:
    """In the experiment's own process: its Kedro session, in its run."""
    bootstrap_project(project_path)
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    project = QueueProject(
        project_path, env, parameters, client, client.get_run(run_id).info.experiment_id
    )
    _run_session(project, experiment, run_id)


def _run_session(project: QueueProject, experiment: Experiment, run_id: str) -> None:
    """One Kedro session in the run ``run_id``; failures are recorded, not raised."""
    status = RunStatus.FAILED
    try:
        mlflow.start_run(run_id=run_id)
        check_overrides(experiment.overrides, project.parameters)
        node_names = _node_names(experiment)
        with (
            _quiet_about_adopted_run(),
            KedroSession.create(
                project_path=project.project_path,
                env=project.env,
                runtime_params=nest(experiment.overrides),
            ) as session,
        ):
            session.run(pipeline_names=list(experiment.pipelines), node_names=node_names)
        status = RunStatus.FINISHED
    except KeyboardInterrupt:
        status = RunStatus.KILLED
        raise
    except Exception as error:
        logger.error(
            "Experiment '%s' failed, the queue goes on: %s: %s",
            experiment.name,
            type(error).__name__,
            error,
        )
        message = f"{type(error).__name__}: {error}"
        project.client.set_tag(run_id, ERROR, message[:MAX_TAG_VAL_LENGTH])
        project.client.log_text(run_id, traceback.format_exc(), "error.txt")
    finally:
        mlflow.end_run(RunStatus.to_string(status))


@contextmanager
def _quiet_about_adopted_run() -> Iterator[None]:
    """Drop kedro-mlflow's warnings that a run was already active and is left open.

    They are meant for a run started by mistake (and say so: "You should close it
    manually"); here the queue starts and ends each experiment's run on purpose.
    """
    hook_logger = logging.getLogger("kedro_mlflow.framework.hooks.mlflow_hook")
    adopted = ("is already active", "was already active", "was already opened", "mlflow_config.")

    def keep(record: logging.LogRecord) -> bool:
        return not any(phrase in record.getMessage() for phrase in adopted)

    hook_logger.addFilter(keep)
    try:
        yield
    finally:
        hook_logger.removeFilter(keep)


def _node_names(experiment: Experiment) -> list[str] | None:
    """The nodes of the experiment's pipelines outside any namespace or in its namespaces.

    Kedro's own ``namespaces`` filter drops every node outside them, so an experiment could
    not recompute features (feature_engineering has no namespace) and train one architecture.
    """
    if experiment.namespaces is None:
        return None
    known = {module.name for module in pkgutil.iter_modules(project_pipelines.__path__)}
    unknown = sorted(set(experiment.pipelines) - known)
    if unknown:
        raise InputError(f"Unknown pipeline(s) {unknown}; registered: {sorted(known)}.")
    # Built here, not taken from Kedro's registry, which a previous session may have
    # restricted to its own pipelines.
    nodes = sum(
        (
            importlib.import_module(f"{project_pipelines.__name__}.{name}").create_pipeline()
            for name in experiment.pipelines
        ),
        start=Pipeline([]),
    ).nodes
    found = {node.namespace.split(".")[0] for node in nodes if node.namespace}
    missing = sorted(set(experiment.namespaces) - found)
    if missing:
        raise InputError(
            f"No namespace(s) {missing} in pipelines {list(experiment.pipelines)}; "
            f"their namespaces: {sorted(found)}."
        )
    # The feature sets the selected architectures read are computed for them too.
    architectures = configured_architectures()
    selected = {*experiment.namespaces}
    selected |= {architectures[name] for name in experiment.namespaces if name in architectures}
    return [
        node.name
        for node in nodes
        if node.namespace is None or node.namespace.split(".")[0] in selected
    ]


def _summarise(
    project: QueueProject, queue: Queue, records: list[ExperimentRecord]
) -> QueueSummary:
    table = summary_table(queue, records, experiment_runs(records, project.experiment_id))
    return QueueSummary(table, summary_markdown(queue, table, project.experiment_id))


def _log_summary(project: QueueProject, summary: QueueSummary, parent_run_id: str) -> None:
    """The table, in Markdown and CSV, as artifacts of the queue's parent run."""
    client = project.client
    client.log_text(parent_run_id, summary.markdown, "queue_summary.md")
    client.log_text(parent_run_id, summary.table.to_csv(index=False), "queue_summary.csv")
    logger.info("Queue summary logged to the parent run %s.", parent_run_id)
