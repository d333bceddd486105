"""A hook that logs where every dataset a run writes ends up, and a summary at the end."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

logger = logging.getLogger(__name__)


class OutputLogHook:
    """Log ``wrote <dataset> -> <path>`` for each saved dataset and a count when the run ends."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self._written: list[str] = []

    @hook_impl
    def before_pipeline_run(self, catalog: Any) -> None:
        """Keep the run's catalog, to look up where its datasets write."""
        self._catalog = catalog
        self._written = []

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        """Log where a dataset was written, when it is written anywhere but memory."""
        target = describe_target(_dataset(self._catalog, dataset_name))
        if target is not None:
            self._written.append(dataset_name)
            logger.info("Wrote %s -> %s (node %s).", dataset_name, target, node.name)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Say how many datasets the run wrote and how to look at them."""
        pipelines = "+".join(run_params.get("pipeline_names") or ["__default__"])
        logger.info(
            "Pipeline '%s' wrote %d datasets (listed above); `kedro viz` shows the pipelines "
            "and `mlflow ui` the tracked runs.",
            pipelines,
            len(self._written),
        )


def _dataset(catalog: Any, name: str) -> Any:
    """The dataset behind ``name``, or ``None`` when the catalog cannot say."""
    try:
        return catalog[name]
    except Exception:  # noqa: BLE001 - logging must never break a run
        return None


def describe_target(dataset: Any) -> str | None:
    """Where a dataset writes: its file or folder (and version), MLflow, or ``None`` (memory)."""
    try:
        description = dataset._describe()  # Kedro's own summary of a dataset's settings
    except Exception:  # noqa: BLE001 - memory datasets and unknown ones are not described
        return None
    path = description.get("filepath") or description.get("path")
    if path is None:
        return "the MLflow run" if type(dataset).__module__.startswith("kedro_mlflow") else None
    path = _relative(str(path))
    save_version = getattr(description.get("version"), "save", None)
    return f"{path} (version {save_version})" if save_version else path


def _relative(path: str) -> str:
    """``path`` relative to the working directory (the project root) when it lies inside it."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path
