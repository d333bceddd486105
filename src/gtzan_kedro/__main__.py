"""Entry point for ``python -m gtzan_kedro`` and the ``gtzan-kedro`` console script."""

import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.project import configure_project

from gtzan_kedro.app.command import app
from gtzan_kedro.cli import run
from gtzan_kedro.predict import predict


@click.group(context_settings=CONTEXT_SETTINGS, name="gtzan-kedro")
def commands() -> None:
    """Music-genre classification on GTZAN: run the pipelines, classify audio files, or try
    the classifier in a browser."""


# Kedro's own `kedro run`, every option included: `gtzan-kedro run --pipeline training`.
commands.add_command(run, "run")
commands.add_command(predict, "predict")
commands.add_command(app, "app")


def main(*args, **kwargs) -> Any:
    """Run ``gtzan-kedro <command>``."""
    configure_project(Path(__file__).parent.name)
    # In an interactive session, return the command's result instead of exiting.
    kwargs["standalone_mode"] = not hasattr(sys, "ps1")
    return commands(*args, **kwargs)


if __name__ == "__main__":
    main()
