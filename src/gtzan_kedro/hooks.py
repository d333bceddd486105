"""Project hooks."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import mlflow
import psutil
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from mlflow.entities import Run, RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_TAG_VAL_LENGTH

from gtzan_kedro.parameters import validate_parameters
from gtzan_kedro.project_config import (
    check_pipelines_fit_session,
    end_session,
    use_session_parameters,
)
from gtzan_kedro.project_path import check_environment
from gtzan_kedro.run_selection import check_requested as check_requested_run_selection

logger = logging.getLogger(__name__)

# MLflow's system tags (https://mlflow.org/docs/latest/ml/tracking/tracking-api/#system-tags).
RUN_NAME_TAG = "mlflow.runName"
# MLflow 3's UI opens an experiment of this kind on its table of runs, not the GenAI overview.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
# The process that owns a run: a run left RUNNING by a process that is gone was killed.
PID_TAG = "gtzan_kedro.pid"
HOST_TAG = "gtzan_kedro.host"
# Why a run failed: the node and its error in one line (kedro-mlflow marks the run FAILED).
ERROR_TAG = "gtzan_kedro.error"
# A process's start time is known to about a second: slack when comparing it with a run's.
CLOCK_SLACK_MS = 2000


class MlflowRunHook:
    """Finish what kedro-mlflow set up: name the run, mark its process, tag the experiment.

    Runs after kedro-mlflow's own ``before_pipeline_run`` (``trylast``), once the run has
    started, and changes it only through MLflow's public API:

    - the run is named after what ran (``modelling[lstm,gru] kfold``) unless ``mlflow.yml``
      names it (``tracking.run.name``);
    - the run is tagged with this process's id and host, and runs of the experiment that a
      process of this host left ``RUNNING`` when it was killed are marked ``KILLED``;
    - the experiment gets ``mlflow.experimentKind`` so that ``mlflow ui`` opens on its runs.
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None
        self._run_started_by_caller = False

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Keep the context (parameters, kedro-mlflow's settings); note a caller's active run."""
        self._context = context
        # A run already active here was started by the caller (the experiment queue), which
        # named it: kedro-mlflow adopts it, and so does this hook, without renaming it.
        self._run_started_by_caller = mlflow.active_run() is not None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Name and tag the run kedro-mlflow has just started; close runs of killed processes."""
        run = mlflow.active_run()
        if run is None:  # tracking is disabled for this pipeline (mlflow.yml)
            return
        client = MlflowClient()
        tag_experiment_kind(client, run.info.experiment_id)
        tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
        if not self._run_started_by_caller and _configured_run_name(self._context) is None:
            tags[RUN_NAME_TAG] = run_name(
                run_params.get("pipeline_names"),
                run_params.get("namespaces"),
                split_strategy(getattr(self._context, "params", {})),
            )
            # Not Rich markup: the brackets of "modelling[lstm,gru]" would vanish from the console.
            logger.info("MLflow run name: '%s'.", tags[RUN_NAME_TAG], extra={"markup": False})
        mlflow.set_tags(tags)
        close_runs_of_killed_processes(client, run.info.experiment_id)

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        """Tag the run with the failed node and its error, before kedro-mlflow fails the run."""
        if mlflow.active_run() is not None:
            mlflow.set_tag(ERROR_TAG, failure_reason(node.name, error))


def failure_reason(node_name: str, error: BaseException) -> str:
    """``node: ErrorType: first line of the message``, within MLflow's tag length."""
    lines = str(error).strip().splitlines()
    reason = f"{node_name}: {type(error).__name__}" + (f": {lines[0]}" if lines else "")
    return reason[:MAX_TAG_VAL_LENGTH]


def run_name(
    pipeline_names: list[str] | None,
    namespaces: list[str] | None,
    strategy: str | None = None,
) -> str:
    """``pipeline[+pipeline][namespace,...] [split strategy]``, e.g. ``modelling[lstm,gru] kfold``.

    Pipelines are named in alphabetical order: Kedro passes ``--pipelines`` on as a set, whose
    order changes from one process to the next.
    """
    name = "+".join(sorted(pipeline_names or ["__default__"]))
    if namespaces:
        name = f"{name}[{','.join(namespaces)}]"
    return f"{name} {strategy}" if strategy else name


def split_strategy(parameters: dict[str, Any]) -> str | None:
    """The run's ``feature_engineering.split.strategy``, or ``None`` when it has none."""
    split = parameters.get("feature_engineering", {}).get("split", {})
    return split.get("strategy") if isinstance(split, dict) else None


def tag_experiment_kind(client: MlflowClient, experiment_id: str) -> None:
    """Tag the experiment as classic model development, unless it already has a kind."""
    experiment = client.get_experiment(experiment_id)
    if EXPERIMENT_KIND_TAG not in experiment.tags:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        logger.info(
            "Tagged MLflow experiment '%s' %s=%s: `mlflow ui` opens it on its runs.",
            experiment.name,
            EXPERIMENT_KIND_TAG,
            EXPERIMENT_KIND,
        )


def close_runs_of_killed_processes(client: MlflowClient, experiment_id: str) -> None:
    """Mark ``KILLED`` each run this host's processes left ``RUNNING`` when they died."""
    host = socket.gethostname()
    running = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'",
    )
    for run in running:
        if owner_is_alive(run):
            continue
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
        logger.warning(
            "MLflow run '%s' (%s) was still RUNNING, but its process %s is gone: marked KILLED.",
            run.info.run_name,
            run.info.run_id,
            run.data.tags[PID_TAG],
        )


def owner_is_alive(run: Run) -> bool:
    """Whether the process that started ``run`` (its pid tag) still runs on this host.

    A process with that id which started after the run is another one that reuses the id.
    """
    try:
        process = psutil.Process(int(run.data.tags[PID_TAG]))
        started_ms = process.create_time() * 1000
        return (
            process.status() != psutil.STATUS_ZOMBIE
            and started_ms <= run.info.start_time + CLOCK_SLACK_MS
        )
    except psutil.AccessDenied:  # another user's process: it exists, so it may be the owner
        return True
    except (psutil.NoSuchProcess, KeyError, ValueError):
        return False


def _configured_run_name(context: KedroContext | None) -> str | None:
    """The run name set in ``mlflow.yml``, read from kedro-mlflow's settings on the context."""
    mlflow_config = getattr(context, "mlflow", None)
    return mlflow_config.tracking.run.name if mlflow_config is not None else None


class ParameterValidationHook:
    """Check every parameter when the run starts, before any node runs."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Build the pipelines from the session's parameters, validate them, and check the
        pipelines and namespaces ``kedro run`` selects.

        First of all hooks: the first pipeline loaded (by Kedro when it validates typed
        ``params:`` inputs, or by the run) must find this session's layout, and an unknown
        name must be refused before kedro-mlflow's hook opens the MLflow store.
        """
        check_environment(context.config_loader)  # a missing --env folder, named
        parameters = context.config_loader["parameters"]
        use_session_parameters(parameters)
        # Not context.params: it would load the run's pipelines, an unknown name included.
        validate_parameters(parameters)
        check_requested_run_selection()

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self) -> None:
        """Refuse pipelines built earlier in this process for another shape."""
        check_pipelines_fit_session()

    @hook_impl
    def after_pipeline_run(self) -> None:
        """The session's layout ends with its run."""
        end_session()

    @hook_impl
    def on_pipeline_error(self) -> None:
        """The session's layout ends with its run, failed or not."""
        end_session()
