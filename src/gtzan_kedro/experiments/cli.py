"""``kedro queue run`` and ``kedro queue status``: a queue file of experiments, run unattended."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import CONTEXT_SETTINGS, env_option

from gtzan_kedro.errors import input_error_in
from gtzan_kedro.experiments.queue_file import Queue, QueueFileError, load_queue

# The commands import the queue machinery (MLflow, pandas, matplotlib) only when they run:
# Kedro imports this module before every command, and `kedro run` should not pay for it.

# Relative to the project root; not read as configuration by Kedro, whose config patterns
# (parameters*, catalog*, ...) match no file in it.
DEFAULT_QUEUE = Path("conf/base/experiments/default.yml")

_queue_file = click.argument(
    "queue_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
_code_version = click.option(
    "--code-version",
    help="Code version to record and compare with earlier runs, instead of the package's "
    "version and a hash of its files: e.g. a release name, to keep the experiments done "
    "across edits that cannot change their results.",
)


@click.group(context_settings=CONTEXT_SETTINGS, name="queue")
def queue() -> None:
    """Queues of experiments: parameter overrides, each run as its own Kedro session and
    MLflow run (see conf/base/experiments/default.yml)."""


@queue.command(name="run")
@_queue_file
@env_option
@_code_version
@click.pass_obj
def run(metadata: Any, queue_file: Path | None, env: str | None, code_version: str | None) -> None:
    """Run a queue's experiments not yet done, then print its summary.

    QUEUE_FILE defaults to conf/base/experiments/default.yml. Experiments already finished
    with the same parameters and code are skipped, failed ones retried; the exit code is 1
    if one failed.
    """
    from gtzan_kedro.experiments.runner import run_queue  # noqa: PLC0415 - see above

    project_path = _project_path(metadata)
    try:
        summary = run_queue(_load(queue_file, project_path), project_path, env, code_version)
    except Exception as error:  # e.g. the queue is already running, a damaged store
        user_error = input_error_in(error)
        if user_error is None:
            raise
        raise click.ClickException(str(user_error)) from None
    click.echo(summary.markdown)
    click.echo(f"Also in the MLflow run {summary.parent_run_id} (`mlflow ui`).")
    if summary.failed:
        click.echo(f"Failed: {', '.join(summary.failed)}; rerun the queue to retry them.", err=True)
        sys.exit(1)


@queue.command(name="status")
@_queue_file
@env_option
@_code_version
@click.pass_obj
def status(
    metadata: Any, queue_file: Path | None, env: str | None, code_version: str | None
) -> None:
    """Show which experiments of a queue are done, failed or pending.

    QUEUE_FILE defaults to conf/base/experiments/default.yml.
    """
    from gtzan_kedro.experiments.runner import queue_status  # noqa: PLC0415 - see above

    project_path = _project_path(metadata)
    summary = queue_status(_load(queue_file, project_path), project_path, env, code_version)
    click.echo(summary.markdown)


def _project_path(metadata: Any) -> Path:
    """The project's root: Kedro's metadata in a project, else the working directory."""
    return Path(getattr(metadata, "project_path", None) or Path.cwd())


def _load(queue_file: Path | None, project_path: Path) -> Queue:
    """The queue file given, or the default one; a broken file is an error message, not a
    traceback."""
    try:
        return load_queue(queue_file or project_path / DEFAULT_QUEUE)
    except (QueueFileError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
