"""What MLflow knows about a queue: its parent run, and each experiment's latest run.

Every experiment run is tagged with its queue and experiment names, its overrides, a key of
everything that decides its result apart from the code (the project's parameters, the
overrides, pipelines, namespaces and environment) and the code version. A rerun of the queue
skips an experiment with a finished run of the same key and code version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow.entities import Run, RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

import gtzan_kedro
from gtzan_kedro.experiments.queue_file import Experiment, Queue

ROLE = "queue.role"  # "parent" (one per queue) or "experiment"
QUEUE = "queue.name"
EXPERIMENT = "queue.experiment"
KEY = "queue.key"
CODE_VERSION = "queue.code_version"
OVERRIDE = "queue.override."  # one tag per override: queue.override.lstm.model.units = 128
ERROR = "queue.error"
PARENT = MLFLOW_PARENT_RUN_ID  # what the MLflow UI nests runs by

# MLflow run status -> experiment state; no run at all is "pending".
STATES = {
    RunStatus.FINISHED: "done",
    RunStatus.FAILED: "failed",
    RunStatus.KILLED: "interrupted",
    # Also what a process killed outright leaves behind: `kedro queue run` runs it again.
    RunStatus.RUNNING: "running",
    RunStatus.SCHEDULED: "running",
}


@dataclass(frozen=True)
class ExperimentRecord:
    """An experiment of the queue and its latest run of the current key and code version."""

    experiment: Experiment
    key: str
    run: Run | None

    @property
    def state(self) -> str:
        """done, failed, interrupted, running or pending."""
        if self.run is None:
            return "pending"
        return STATES[RunStatus.from_string(self.run.info.status)]


@dataclass(frozen=True)
class QueueProject:
    """A project's parameters and MLflow experiment, as its `kedro run` would use them."""

    project_path: Path
    env: str | None
    parameters: dict[str, Any]
    client: MlflowClient
    experiment_id: str

    @classmethod
    def open(cls, project_path: Path, env: str | None = None) -> QueueProject:
        """Load the project's configuration once, through kedro-mlflow's own setup."""
        bootstrap_project(project_path)
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()
            # kedro-mlflow's hook has read mlflow.yml, set the tracking URI and created the
            # MLflow experiment; it keeps its configuration on the context.
            config = context.mlflow
            parameters = context.params
        client = MlflowClient(tracking_uri=config.server.mlflow_tracking_uri)
        experiment = client.get_experiment_by_name(config.tracking.experiment.name)
        return cls(project_path, env, parameters, client, experiment.experiment_id)

    def key(self, experiment: Experiment) -> str:
        """What decides the experiment's result besides the code: a rerun with the same key
        and code version would only repeat it. The parameters are in (not just the
        overrides) so that an edited conf/ or another environment counts as a change."""
        payload = {
            "parameters": self.parameters,
            "overrides": experiment.overrides,
            "pipelines": experiment.pipelines,
            "namespaces": experiment.namespaces,
            "env": self.env,
        }
        canonical = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def records(self, queue: Queue, code_version: str) -> list[ExperimentRecord]:
        """Each experiment of the queue, in order, with its latest matching run if any.

        A finished run wins over later ones: a rerun never starts an experiment that has
        one, so a later run can only come from a concurrent queue.
        """
        keys = {experiment.name: self.key(experiment) for experiment in queue.experiments}
        latest: dict[str, Run] = {}
        # Newest first: the first run seen per experiment is its latest.
        for run in self._experiment_runs(queue.name):
            tags = run.data.tags
            name = tags.get(EXPERIMENT)
            if keys.get(name) != tags.get(KEY) or tags.get(CODE_VERSION) != code_version:
                continue
            if name not in latest or (
                run.info.status == "FINISHED" and latest[name].info.status != "FINISHED"
            ):
                latest[name] = run
        return [
            ExperimentRecord(experiment, keys[experiment.name], latest.get(experiment.name))
            for experiment in queue.experiments
        ]

    def parent_run_id(self, queue: Queue) -> str:
        """The queue's parent run, created on its first run and reused by every rerun, so that
        the MLflow UI shows all of the queue's experiment runs nested under one run."""
        for run in self._search(f"tags.`{ROLE}` = 'parent'"):
            if run.data.tags.get(QUEUE) == queue.name:
                return run.info.run_id
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"queue {queue.name}",
            tags={ROLE: "parent", QUEUE: queue.name},
        )
        return run.info.run_id

    def _experiment_runs(self, queue_name: str) -> list[Run]:
        # The queue name is compared here rather than in the filter: MLflow's filter syntax
        # has no escape for quotes a name may contain.
        return [
            run
            for run in self._search(f"tags.`{ROLE}` = 'experiment'")
            if run.data.tags.get(QUEUE) == queue_name
        ]

    def _search(self, filter_string: str) -> list[Run]:
        """Active (not deleted) runs of the project's experiment, newest first."""
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=filter_string,
                order_by=["attributes.start_time DESC"],
                page_token=token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs


def experiment_tags(
    queue: Queue, record: ExperimentRecord, code_version: str, parent_run_id: str
) -> dict[str, str]:
    """The tags of an experiment's run: how a rerun, `kedro queue status` and people find it."""
    overrides = {
        f"{OVERRIDE}{key}": json.dumps(value) if not isinstance(value, str) else value
        for key, value in record.experiment.overrides.items()
    }
    return {
        ROLE: "experiment",
        QUEUE: queue.name,
        EXPERIMENT: record.experiment.name,
        KEY: record.key,
        CODE_VERSION: code_version,
        PARENT: parent_run_id,
        "queue.pipelines": ",".join(record.experiment.pipelines),
        "queue.namespaces": ",".join(record.experiment.namespaces or ["(all)"]),
        **overrides,
    }


def current_code_version() -> str:
    """The package version and a hash of the installed package's files.

    Not the git commit: that misses the uncommitted edits of a tuning session, and an
    installed copy of the project may have no git history at all.
    """
    package = Path(gtzan_kedro.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return f"{gtzan_kedro.__version__}+{digest.hexdigest()[:12]}"
