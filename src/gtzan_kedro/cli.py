"""Project commands, merged by Kedro into its CLI: ``kedro run`` (Kedro's, with clear errors
for bad input), ``kedro test``, ``kedro queue``, ``kedro predict``, ``kedro app`` and
``kedro viz graph``.

See https://docs.kedro.org/en/stable/extend/common_use_cases/ (add or modify CLI commands).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro_viz.launchers.cli.main import viz as kedro_viz_group

from gtzan_kedro.app.command import app
from gtzan_kedro.errors import input_error_in
from gtzan_kedro.experiments.cli import queue
from gtzan_kedro.predict import predict
from gtzan_kedro.run_selection import request as request_run_selection
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
        # Checked by the session's first hook, on its one reading of the parameters.
        request_run_selection(
            [options["pipeline"]] if options["pipeline"] else options["pipelines"],
            options["namespaces"],
        )
        return kedro_run.callback(**options)
    except Exception as error:
        user_error = input_error_in(error)
        if user_error is None:
            raise
        raise click.ClickException(str(user_error)) from None


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
