"""``gtzan-kedro predict`` (also ``kedro predict``): the genres of audio files, as a table.

The command runs the ``inference`` pipeline in a Kedro session, so files are classified
exactly as ``kedro run --pipeline inference --params inference.files=...`` would: with the
MLflow model artefact that training logged (the registry's champion by default), never with
preprocessing rebuilt from today's configuration.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import click
import pandas as pd
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.project import configure_logging, settings
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from kedro.utils import find_kedro_project

from gtzan_kedro.errors import InputError, input_error_in
from gtzan_kedro.models.store import is_model_folder, tracking_store_exists

# Only errors reach the terminal unless --verbose: the table is the answer. The handler's own
# level filters too: Kedro's and the project's loggers keep conf/logging.yml's INFO, and their
# records reach the root's handlers whatever the root's level.
QUIET_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "level": "ERROR",
        }
    },
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}


# What a model reference may be (inference.model), for every command that loads one.
model_option = click.option(
    "--model",
    "-m",
    default=None,
    help="champion (default: models:/genre_classifier@champion), an architecture (its model "
    "from the latest training run), a models:/ or runs:/ URI, or an MLflow model folder.",
)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, required=True)
@model_option
@click.option(
    "--top",
    "top_k",
    type=click.IntRange(min=1),
    default=None,
    help="How many labels to list per file, at most the model's (default: inference.top_k).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the table to this file: JSON records if it ends in .json, else CSV.",
)
@click.option("--force", is_flag=True, help="Replace an --output file that is not a table.")
@click.option(
    "--timeline",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write each file's windows' probabilities over time into this folder: "
    "<file>.timeline.csv (start_s, end_s, one column per label) and <file>.timeline.png.",
)
@click.option("--env", "-e", default=None, help="Kedro configuration environment, e.g. gtzan.")
@click.option("--verbose", "-v", is_flag=True, help="Show the Kedro run's log.")
def predict(  # noqa: PLR0913, PLR0917 - one argument per command-line option
    files: tuple[str, ...],
    model: str | None,
    top_k: int | None,
    output: str | None,
    force: bool,
    timeline: str | None,
    env: str | None,
    verbose: bool,
) -> None:
    """Print the most likely genres of each audio FILE (WAV, AU, FLAC, OGG, MP3 ...).

    A FILE may also be a folder (its audio files) or a quoted glob pattern. Any length,
    sample rate and channel count: each file is featurised as the model was trained and its
    windows' probabilities are averaged. A file that cannot be classified (missing, empty, not
    audio, silent) gets an error line, the others are still classified, and the exit status
    is 1. Models are pickles: use only models from a store you trust.
    """
    # Before the session, where the call stack is short: importing it asks librosa's lazy loader
    # for resampy and samplerate (optional, absent), and for an absent module that loader
    # inspects every frame of the stack, which inside a Kedro node costs half a second.
    import librosa.core.audio  # noqa: F401, PLC0415

    # Imported here: `kedro` loads this module for every command; the datasets take a second.
    from gtzan_kedro.datasets.table import PredictionTableDataset  # noqa: PLC0415

    invoked_from = Path.cwd()
    project_path = find_kedro_project(invoked_from)
    if project_path is None:
        raise click.ClickException(
            f"No Kedro project at or above {invoked_from}: run the command inside the "
            "gtzan-kedro project, whose MLflow store holds the trained models."
        )
    if not is_model_folder(model) and not store_exists(project_path, env):
        raise click.ClickException(
            "There is no trained model yet: train one with `make run` (`kedro run`)."
        )
    inputs = [os.path.abspath(invoked_from / file) for file in files]
    with tempfile.TemporaryDirectory() as scratch:
        table_path = _output_path(output, inputs, force) if output else f"{scratch}/table.csv"
        inference: dict[str, Any] = {"files": inputs, "output": table_path}
        if model:
            inference["model"] = model
        if top_k:
            inference["top_k"] = top_k
        if timeline:
            inference["timeline"] = os.path.abspath(invoked_from / timeline)
        _run_inference(project_path, env, inference, verbose)
        # Read back as written, not through a second session context, whose hooks would set up
        # MLflow and build every dataset again.
        table = PredictionTableDataset(filepath=table_path).load()
    click.echo(format_predictions(table, invoked_from))
    if output:
        click.echo(f"\nWritten to {output}.")
    if timeline:
        click.echo(f"\nTimelines written to {timeline}.")
    failed = int((table["status"] == "error").sum())
    if failed:
        click.echo(f"\n{failed} of {len(table)} files could not be classified.", err=True)
        raise SystemExit(1)


def store_exists(project_path: Path, env: str | None) -> bool:
    """Whether the MLflow store training writes exists (asked before a session would create it)."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        # kedro-mlflow adds this pattern only once a session starts.
        **settings.CONFIG_LOADER_ARGS | {"config_patterns": {"mlflow": ["mlflow*", "mlflow*/**"]}},
    )
    return tracking_store_exists(loader["mlflow"]["server"]["mlflow_tracking_uri"], project_path)


def _output_path(output: str, inputs: list[str], force: bool) -> str:
    """The table's absolute path; never an input, nor a file other than a table unless forced."""
    path = Path(output).resolve()
    if any(path == Path(entry).resolve() or path.is_relative_to(entry) for entry in inputs):
        raise click.ClickException(
            f"--output {output} is one of the files to classify: choose another path."
        )
    if path.is_dir():
        raise click.ClickException(f"--output {output} is a folder: name a .csv or .json file.")
    if path.exists() and not force and not _is_prediction_table(path):
        raise click.ClickException(
            f"--output {output} exists and is not a predictions table: choose another path, "
            "or add --force to replace it."
        )
    return str(path)


def _is_prediction_table(path: Path) -> bool:
    """Whether ``path`` holds a table this command wrote (its first columns say so)."""
    try:
        with path.open(encoding="utf-8") as stream:
            head = stream.read(200)
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith(("file,status,model", '[{"file":'))


def _run_inference(
    project_path: Path, env: str | None, inference: dict[str, Any], verbose: bool
) -> None:
    """Run the inference pipeline, which writes the table to ``inference["output"]``."""
    # TensorFlow's C++ start-up lines would come before the table.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bootstrap_project(project_path)
    if not verbose:  # quiet while the session starts, and again once it has (below)
        configure_logging(QUIET_LOGGING)
        # Python's warnings become records of that log too (MLflow's remark on logging models,
        # made when kedro-mlflow's hook loads, a warning filter cannot catch).
        logging.captureWarnings(True)
    with KedroSession.create(
        project_path=project_path, env=env, runtime_params={"inference": inference}
    ) as session:
        if not verbose:  # after the session, which sets up Kedro's logging
            configure_logging(QUIET_LOGGING)
        # The timelines' pictures are drawn only when asked for.
        nodes = None if "timeline" in inference else ["classify_files"]
        try:
            session.run(pipeline_names=["inference"], node_names=nodes)
        except (InputError, DatasetError) as error:
            raise click.ClickException(str(input_error_in(error) or error)) from None


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
