"""The model card the page shows: the artefact's own card and what MLflow recorded of it."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from gtzan_kedro.models.genre_classifier import GenreClassifier

logger = logging.getLogger(__name__)

# models:/<name>@<alias> or models:/<name>/<version>: a version of the Model Registry.
_REGISTERED = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


def model_card(classifier: GenreClassifier, model_uri: str) -> dict[str, Any]:
    """Architecture, feature set, labels, calibration temperature, accuracy with its interval,
    registry version, when trained: from the artefact and from MLflow (``None`` where MLflow
    recorded nothing)."""
    card: dict[str, Any] = {
        "architecture": classifier.architecture,
        "builder": classifier.builder,
        "framework": classifier.framework,
        "feature_set": classifier.feature_set,
        "labels": list(classifier.class_names),
        "sample_rate": classifier.sample_rate,
        "window": classifier.window,
        "temperature": classifier.temperature,
        "model_uri": model_uri,
        "registry": None,
        "accuracy": None,
        "accuracy_interval": None,
        "trained_at": None,
        "description": None,
    }
    try:
        return card | _tracked(classifier.architecture, model_uri)
    except MlflowException as error:  # a model folder, or a store that lost the run
        logger.warning("MLflow has no record of '%s' to show: %s", model_uri, error.message)
        return card


def _tracked(architecture: str, model_uri: str) -> dict[str, Any]:
    """What MLflow recorded of the model: its registry version, scores and training run."""
    version = _registry_version(model_uri)
    run_id = version.run_id if version else mlflow.models.get_model_info(model_uri).run_id
    tags = dict(version.tags) if version else {}
    found: dict[str, Any] = {}
    if version:
        found["registry"] = {
            "name": version.name,
            "version": int(version.version),
            "aliases": list(version.aliases),
            "tags": tags,
        }
        found["description"] = version.description or None
    if run_id:
        run = MlflowClient().get_run(run_id)
        metrics = run.data.metrics

        def score(name: str) -> float | None:
            value = tags.get(name, metrics.get(f"{architecture}.{name}"))
            return None if value is None else float(value)

        found["accuracy"] = score("track_accuracy")
        low, high = score("track_accuracy_ci_low"), score("track_accuracy_ci_high")
        found["accuracy_interval"] = None if low is None or high is None else [low, high]
        found["trained_at"] = _iso(run.info.start_time)
    return found


def _registry_version(model_uri: str) -> ModelVersion | None:
    """The Model Registry version a ``models:/`` URI names, if it names one."""
    match = _REGISTERED.match(model_uri)
    if match is None:
        return None
    client = MlflowClient()
    if match["alias"]:
        return client.get_model_version_by_alias(match["name"], match["alias"])
    return client.get_model_version(match["name"], match["version"])


def _iso(milliseconds: int | None) -> str | None:
    """A timestamp in milliseconds as ISO 8601 in UTC."""
    if milliseconds is None:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC).isoformat(timespec="seconds")
