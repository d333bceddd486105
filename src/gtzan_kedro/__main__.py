"""Entry point for ``python -m gtzan_kedro`` and the ``gtzan-kedro`` console script."""

import importlib
import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.project import configure_project


class _CommandsOnDemand(click.Group):
    """A group that imports a command's module only when that command runs.

    ``predict`` answers in seconds: it must not wait for what ``run`` imports (Kedro's CLI,
    kedro-viz, the experiment queue).
    """

    # name: (module, attribute)
    COMMANDS = {
        # Kedro's own `kedro run`, every option included: `gtzan-kedro run --pipeline training`.
        "run": ("gtzan_kedro.cli", "run"),
        "predict": ("gtzan_kedro.predict", "predict"),
        "app": ("gtzan_kedro.app.command", "app"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.COMMANDS:
            return None
        module, attribute = self.COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=_CommandsOnDemand, context_settings=CONTEXT_SETTINGS, name="gtzan-kedro")
def commands() -> None:
    """Music-genre classification on GTZAN: run the pipelines, classify audio files, or try
    the classifier in a browser."""


def main(*args, **kwargs) -> Any:
    """Run ``gtzan-kedro <command>``."""
    configure_project(Path(__file__).parent.name)
    # In an interactive session, return the command's result instead of exiting.
    kwargs["standalone_mode"] = not hasattr(sys, "ps1")
    return commands(*args, **kwargs)


if __name__ == "__main__":
    main()
