"""Project commands, merged by Kedro into its CLI: ``kedro run`` (Kedro's, with clear errors
for bad input), ``kedro test``, ``kedro queue``, ``kedro predict``, ``kedro app`` and
``kedro viz graph``.

See https://docs.kedro.org/en/stable/extend/common_use_cases/ (add or modify CLI commands).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.project import pipelines
from kedro.pipeline import Pipeline
from kedro_viz.launchers.cli.main import viz as kedro_viz_group

from gtzan_kedro.app.command import app
from gtzan_kedro.errors import InputError, input_error_in
from gtzan_kedro.experiments.cli import queue
from gtzan_kedro.parameters import validate_parameters
from gtzan_kedro.predict import predict
from gtzan_kedro.project_config import read_parameters, use_session_parameters
from gtzan_kedro.viz_graph import graph
from gtzan_kedro.viz_offline import keep_kedro_viz_offline


@click.group(context_settings=CONTEXT_SETTINGS, name="gtzan-kedro")
def cli() -> None:
    """Commands of the gtzan-kedro project."""


@cli.command(
    context_settings={**CONTEXT_SETTINGS, "ignore_unknown_options": True},
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def test(metadata: Any, pytest_args: tuple[str, ...]) -> None:
    """Run the test suite with pytest; arguments go to pytest (kedro test -k ingestion -x)."""
    project_path = Path(getattr(metadata, "project_path", None) or Path.cwd())
    command = [sys.executable, "-m", "pytest", *pytest_args]
    sys.exit(subprocess.run(command, cwd=project_path, check=False).returncode)


def _run_reporting_input_errors(**options: Any) -> Any:
    """Kedro's own ``run``; a user-fixable error ends it with its message, not a traceback."""
    try:
        # Before the session starts: an unknown name must not leave a run or store behind.
        # The pipelines are built for the parameters the session will read (--env, --params).
        metadata = click.get_current_context().obj
        project_path = Path(getattr(metadata, "project_path", None) or Path.cwd())
        env = options["env"] or os.environ.get("KEDRO_ENV")
        parameters = read_parameters(project_path, env, options["params"])
        validate_parameters(parameters)
        use_session_parameters(parameters)
        check_run_selection(
            [options["pipeline"]] if options["pipeline"] else options["pipelines"],
            options["namespaces"],
        )
        return kedro_run.callback(**options)
    except Exception as error:
        user_error = input_error_in(error)
        if user_error is None:
            raise
        raise click.ClickException(str(user_error)) from None


def check_run_selection(pipeline_names: list[str], namespaces: list[str]) -> None:
    """Refuse a pipeline or namespace that is not registered, listing the known ones."""
    selected = _registered_pipeline(pipeline_names)
    known = namespace_prefixes(selected)
    unknown = [namespace for namespace in namespaces if namespace not in known]
    if unknown:
        names = "+".join(pipeline_names or ["__default__"])
        top_level = sorted(prefix for prefix in known if "." not in prefix)
        allowed = f"use one of {', '.join(top_level)}" if top_level else "it has no namespaces"
        raise InputError(
            f"Unknown namespace {', '.join(map(repr, unknown))} in pipeline '{names}': {allowed}."
        )


def _registered_pipeline(pipeline_names: list[str]) -> Pipeline:
    """The named registered pipelines together; an unknown name is an ``InputError``."""
    try:
        return sum((pipelines[name] for name in pipeline_names or ["__default__"]), Pipeline([]))
    except KeyError:
        known = sorted(pipelines.keys())
        unknown = [name for name in pipeline_names if name not in known]
        if not unknown:  # a known pipeline failed to load: a bug, not a name to correct
            raise
        raise InputError(
            f"Unknown pipeline {', '.join(map(repr, unknown))}: use one of {', '.join(known)}."
        ) from None


def namespace_prefixes(pipeline: Pipeline) -> set[str]:
    """Every namespace ``--namespaces`` can select in ``pipeline``: ``a`` and ``a.b`` of ``a.b``."""
    parts = [node.namespace.split(".") for node in pipeline.nodes if node.namespace]
    return {".".join(part[:depth]) for part in parts for depth in range(1, len(part) + 1)}


# `kedro run` with every option of Kedro's own command (a project command of the same name
# replaces Kedro's): the node's error is logged once, and the run ends with its message.
run = click.Command(
    "run",
    params=kedro_run.params,
    callback=_run_reporting_input_errors,
    help=kedro_run.help,
    context_settings=kedro_run.context_settings,
)
cli.add_command(run)
# `kedro queue run` / `kedro queue status`: experiment queues (gtzan_kedro.experiments).
cli.add_command(queue)
# `kedro predict song.mp3`: the same command as `gtzan-kedro predict`.
cli.add_command(predict)
# `kedro app`: the web page to try the classifier, as `gtzan-kedro app`.
cli.add_command(app)


# kedro-viz registers ``viz`` as a global command, which Kedro resolves before any project
# command, so ``graph`` joins kedro-viz's own group through click's public ``add_command`` (as
# kedro-viz adds its own commands) rather than a project group of the same name. kedro-viz's
# group lists only its own commands in ``kedro viz --help``. Kedro imports this module first.
kedro_viz_group.add_command(graph)
keep_kedro_viz_offline()
