"""``gtzan-kedro app`` (also ``kedro app``): a web page to try the classifier in a browser.

Only click, Kedro's CLI settings and ``predict``'s module (for the ``--model`` option the two
commands share) are imported with the command: the web stack, MLflow and the model load when
the command runs, so that other commands start as fast as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from kedro.framework.cli.utils import CONTEXT_SETTINGS

from gtzan_kedro.predict import model_option, store_exists

if TYPE_CHECKING:
    from gtzan_kedro.app.server import ServedModel


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port."
)
@model_option
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="Largest audio file the page accepts, in megabytes.",
)
@click.option("--env", "-e", default=None, help="Kedro configuration environment, e.g. gtzan.")
def app(host: str, port: int, model: str | None, max_upload_mb: float, env: str | None) -> None:
    """Serve a page where you drop audio files and see their genres, over time too.

    The model (the registry's champion by default) is loaded once; files are classified as
    `gtzan-kedro predict` classifies them, one at a time, and kept only in a temporary file
    until their answer is sent. The page and its API (POST /api/predict, GET /api/model)
    listen on 127.0.0.1 unless --host says otherwise. Models are pickles: serve only models
    from a store you trust.
    """
    import uvicorn  # noqa: PLC0415 - the web stack loads only for this command

    from gtzan_kedro.app.server import MEGABYTE, UploadLimits, create_app  # noqa: PLC0415

    served = load_served_model(model, env)
    limits = UploadLimits(max_bytes=int(max_upload_mb * MEGABYTE))
    click.echo(
        f"Model: {served.card['architecture']} ({served.card['model_uri']}). "
        f"Open http://{host}:{port}/ in a browser; Ctrl+C stops the app."
    )
    uvicorn.run(create_app(served, limits), host=host, port=port, log_level="info")


def load_served_model(model: str | None, env: str | None) -> ServedModel:
    """The model artefact ``--model`` names, its card and the ``inference.*`` settings."""
    # Imported here: loading a model pulls in MLflow and the model's framework.
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415
    from kedro.io import DatasetError  # noqa: PLC0415
    from kedro.utils import find_kedro_project  # noqa: PLC0415

    from gtzan_kedro.app.card import model_card  # noqa: PLC0415
    from gtzan_kedro.app.server import ServedModel  # noqa: PLC0415
    from gtzan_kedro.errors import InputError, input_error_in  # noqa: PLC0415
    from gtzan_kedro.models.prediction import ClipLimits  # noqa: PLC0415
    from gtzan_kedro.models.store import (  # noqa: PLC0415
        CHAMPION_ALIAS,
        is_model_folder,
        resolve_model_uri,
    )

    project_path = find_kedro_project(Path.cwd())
    if project_path is None:
        raise click.ClickException(
            f"No Kedro project at or above {Path.cwd()}: start the app inside the gtzan-kedro "
            "project, whose MLflow store holds the trained models."
        )
    if not is_model_folder(model) and not store_exists(project_path, env):
        raise click.ClickException(
            "There is no trained model yet: train one with `make run` (`kedro run`)."
        )
    bootstrap_project(project_path)
    runtime_params = {"inference": {"model": model}} if model else None
    with KedroSession.create(
        project_path=project_path, env=env, runtime_params=runtime_params
    ) as session:
        context = session.load_context()
        try:
            classifier = context.catalog.load("inference_classifier")
        except (InputError, DatasetError) as error:
            raise click.ClickException(str(input_error_in(error) or error)) from None
        inference = context.params["inference"]
        model_uri = resolve_model_uri(
            model or CHAMPION_ALIAS, context.mlflow.tracking.experiment.name
        )
        card = model_card(classifier, model_uri)
    return ServedModel(
        classifier=classifier,
        card=card,
        top_k=inference["top_k"],
        clip_limits=ClipLimits(
            min_seconds=inference["min_seconds"], silence_db=inference["silence_db"]
        ),
    )
