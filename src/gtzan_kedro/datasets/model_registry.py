"""The MLflow Model Registry entry of the champion model, as a catalog dataset."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from gtzan_kedro.models.store import latest_logged_model_uri

logger = logging.getLogger(__name__)


class ChampionModelDataset(AbstractDataset[dict[str, Any], dict[str, Any] | None]):
    """``models:/<model_name>@<alias>``: its tags on load, a new registered version on save.

    ``load`` returns the current champion's version and tags, or ``None`` when there is none.
    ``save`` takes ``{"architecture", "tags", "promote"}`` and optionally ``"model"`` (the
    logged model's name, default the architecture) and ``"description"`` (Markdown): it
    registers the model last logged under that name in the run's experiment as a new version with ``tags`` and that description, and moves the alias to it
    when ``promote`` is true. Outside a tracked run nothing is registered.

    Example catalog entry::

        champion_model:
          type: gtzan_kedro.datasets.model_registry.ChampionModelDataset
          model_name: genre_classifier
          alias: champion
    """

    def __init__(
        self, *, model_name: str, alias: str = "champion", metadata: dict[str, Any] | None = None
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self.metadata = metadata

    def load(self) -> dict[str, Any] | None:
        """The champion's version number and tags, ``None`` before the first registration."""
        try:
            version = MlflowClient().get_model_version_by_alias(self._model_name, self._alias)
        except MlflowException:
            return None
        return {"version": int(version.version), **version.tags}

    def save(self, data: dict[str, Any]) -> None:
        """Register the run's model ``data["architecture"]``; promote it if ``data["promote"]``."""
        run = mlflow.active_run()
        if run is None:
            logger.warning("No MLflow run is active: '%s' is not registered.", self._model_name)
            return
        logged_name = data.get("model", data["architecture"])
        model_uri = latest_logged_model_uri(logged_name, run.info.experiment_id)
        if model_uri is None:
            raise DatasetError(
                f"No logged model '{logged_name}' to register: run its modelling first."
            )
        version = mlflow.register_model(
            model_uri,
            self._model_name,
            tags={key: str(value) for key, value in data["tags"].items()},
        )
        if data.get("description"):
            MlflowClient().update_model_version(
                self._model_name, version.version, description=data["description"]
            )
        logger.info(
            "Registered '%s' as version %s of '%s'.",
            logged_name,
            version.version,
            self._model_name,
        )
        if data["promote"]:
            MlflowClient().set_registered_model_alias(
                self._model_name, self._alias, version.version
            )
            logger.info("Alias '%s' now points to version %s.", self._alias, version.version)

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}
