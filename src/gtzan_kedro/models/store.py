"""Where trained models are found: the MLflow store and registry that training wrote."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository
from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository

from gtzan_kedro.errors import InputError

if TYPE_CHECKING:  # `kedro` and `predict` start without scikit-learn: the model brings it
    from gtzan_kedro.models.genre_classifier import GenreClassifier

REGISTERED_MODEL = "genre_classifier"
CHAMPION_ALIAS = "champion"


def latest_logged_model_uri(architecture: str, experiment_id: str) -> str | None:
    """The URI of the model most recently logged as ``architecture`` in the experiment."""
    models = mlflow.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"name = '{architecture}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": False}],
        max_results=1,
        output_format="list",
    )
    return models[0].model_uri if models else None


def resolve_model_uri(model: str, experiment: str) -> str:
    """A model URI for ``model``: ``champion``, an architecture, a URI or a model folder."""
    if model == CHAMPION_ALIAS:
        return f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}"
    if urlparse(model).scheme in {"models", "runs"}:
        return model
    if is_model_folder(model):
        return str(Path(model).resolve())
    found = mlflow.get_experiment_by_name(experiment)
    uri = latest_logged_model_uri(model, found.experiment_id) if found else None
    if uri is None:
        raise InputError(
            f"No trained model '{model}' (inference.model): name 'champion', an architecture "
            "trained in this project, a models:/ or runs:/ URI, or an MLflow model folder."
        )
    return uri


def load_classifier(model: str, experiment: str) -> GenreClassifier:
    """Load the :class:`GenreClassifier` inside the MLflow model that ``model`` names."""
    if not is_model_folder(model) and not tracking_store_exists(mlflow.get_tracking_uri()):
        raise InputError("There is no trained model yet: train one with `make run` (`kedro run`).")
    uri = resolve_model_uri(model, experiment)
    try:
        return mlflow.pyfunc.load_model(uri).unwrap_python_model().classifier
    except MlflowException as error:
        location = stored_location(uri)
        if location and not Path(location).exists():
            raise InputError(
                f"Cannot load model '{model}' ({uri}): its files are gone from '{location}' "
                "(the folder was deleted). Train it again with `kedro run`, or name another model."
            ) from None
        raise InputError(f"Cannot load model '{model}' ({uri}): {error.message}") from None


def stored_location(uri: str) -> str | None:
    """The local folder the store keeps the files of model ``uri`` in, if it is local."""
    try:
        if urlparse(uri).scheme == "models":
            uri = ModelsArtifactRepository.get_underlying_uri(uri)
        elif urlparse(uri).scheme == "runs":
            uri = RunsArtifactRepository.get_underlying_uri(uri)
    except MlflowException:  # an unknown name, version or run: the error says so already
        return None
    parsed = urlparse(uri)
    return parsed.path if parsed.scheme in {"", "file"} else None


def is_model_folder(model: str | None) -> bool:
    """Whether ``model`` names a local MLflow model folder."""
    return bool(model) and (Path(model) / "MLmodel").is_file()


def tracking_store_exists(tracking_uri: str, root: Path | None = None) -> bool:
    """Whether a SQLite tracking store exists (asked without creating an empty one).

    A relative SQLite path is taken from ``root`` (default: the working directory).
    """
    if urlparse(tracking_uri).scheme != "sqlite":
        return True
    return ((root or Path.cwd()) / tracking_uri.removeprefix("sqlite:///")).exists()
