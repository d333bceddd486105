"""``gtzan-kedro predict`` (also ``kedro predict``): the genres of audio files, as a table.

The command runs the ``inference`` pipeline in a Kedro session, so files are classified
exactly as ``kedro run --pipeline inference --params inference.files=...`` would, then prints
the table that run wrote.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click
import pandas as pd
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from kedro.utils import find_kedro_project

from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import GENRES


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--model",
    "-m",
    default=None,
    help="Architecture to classify with (lstm, cnn, svm ...). Default: the best of the latest "
    "comparison (data/08_reporting/architecture_comparison.csv).",
)
@click.option(
    "--top",
    "top_k",
    type=click.IntRange(1, len(GENRES)),
    default=None,
    help="How many genres to list per file (default: inference.top_k).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the table to this file: JSON records if it ends in .json, else CSV.",
)
@click.option("--env", "-e", default=None, help="Kedro configuration environment, e.g. gtzan.")
@click.option("--verbose", "-v", is_flag=True, help="Show the Kedro run's log.")
def predict(  # noqa: PLR0917 - one argument per command-line option
    files: tuple[str, ...],
    model: str | None,
    top_k: int | None,
    output: str | None,
    env: str | None,
    verbose: bool,
) -> None:
    """Print the most likely genres of each audio FILE (WAV, AU, FLAC, OGG, MP3 ...).

    A FILE may also be a folder (its audio files) or a quoted glob pattern. Any length,
    sample rate and channel count: each file is cut into windows of the training sequence
    length over its whole duration, and their probabilities are averaged. A file that cannot
    be classified (missing, empty, not audio, silent) gets an error line, the others are
    still classified, and the exit status is 1.
    """
    invoked_from = Path.cwd()
    project_path = find_kedro_project(invoked_from)
    if project_path is None:
        raise click.ClickException(
            f"No Kedro project at or above {invoked_from}: run the command inside the "
            "gtzan-kedro project, whose data/ holds the trained models."
        )
    inference: dict[str, Any] = {"files": [os.path.abspath(invoked_from / file) for file in files]}
    if model:
        inference["model"] = model
    if top_k:
        inference["top_k"] = top_k
    if output:
        inference["output"] = os.path.abspath(invoked_from / output)
    if not verbose:
        # The run's log and library warnings would bury the table; a failure is reported below.
        logging.disable(logging.ERROR)
    # The catalog's paths (data/...) are relative to the project root.
    os.chdir(project_path)
    bootstrap_project(project_path)
    with KedroSession.create(
        project_path=project_path, env=env, runtime_params={"inference": inference}
    ) as session:
        try:
            session.run(pipeline_names=["inference"])
        except (InputError, DatasetError) as error:
            raise click.ClickException(str(error)) from None
        table = session.load_context().catalog.load("genre_predictions")
    click.echo(format_predictions(table, invoked_from))
    if output:
        click.echo(f"\nWritten to {output}.")
    failed = int((table["status"] == "error").sum())
    if failed:
        click.echo(f"\n{failed} of {len(table)} files could not be classified.", err=True)
        raise SystemExit(1)


def format_predictions(table: pd.DataFrame, relative_to: Path) -> str:
    """The prediction table as aligned text: one line per file, its genres or its error."""
    top_k = sum(column.startswith("genre_") for column in table.columns)
    lines = [("file", "genres", "windows", "note")]
    for row in table.to_dict("records"):
        name = _relative(row["file"], relative_to)
        if row["status"] != "ok":
            lines.append((name, "-", "-", f"error: {row['error']}"))
            continue
        genres = "  ".join(
            f"{row[f'genre_{rank}']} {row[f'probability_{rank}']:.0%}"
            for rank in range(1, top_k + 1)
        )
        note = (
            f"padded: shorter than one window ({row['seconds']:.2f} s)"
            if row["padded"] is True
            else ""
        )
        lines.append((name, genres, str(int(row["windows"])), note))
    widths = [max(len(line[column]) for line in lines) for column in range(3)]
    models = sorted({str(model) for model in table["model"].dropna()})
    header = f"Model: {', '.join(models)}\n\n" if models else ""
    return (
        header
        + "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True))
            + (f"  {line[3]}" if line[3] else "")
            for line in lines
        ).rstrip()
    )


def _relative(path: str, start: Path) -> str:
    """``path`` relative to ``start`` when it lies inside it, else unchanged."""
    try:
        return Path(path).relative_to(start).as_posix()
    except ValueError:
        return path
