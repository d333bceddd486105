"""kedro-mlflow's artifact dataset, with Kedro versioning that works in Kedro 1.x catalogs."""

from __future__ import annotations

from typing import Any

from kedro.io.core import Version
from kedro_mlflow.io.artifacts import MlflowArtifactDataset


class VersionedMlflowArtifactDataset(MlflowArtifactDataset):
    """``MlflowArtifactDataset`` versioned like any Kedro dataset, with ``versioned: true``.

    kedro-mlflow builds the wrapped dataset itself, so a ``versioned: true`` inside
    ``dataset`` gets a save version of its own, which Kedro 1.x's catalog rejects ("All
    datasets in the catalog must have the same save version"), and ``versioned: true`` on
    ``MlflowArtifactDataset`` itself is not accepted. Here ``versioned: true`` goes on the
    wrapper, and the catalog's version (the session's save version, or a version pinned with
    ``--load-versions``) is handed to the wrapped dataset.

    Example catalog entry::

        "{namespace}.model":
          type: gtzan_kedro.datasets.mlflow_artifact.VersionedMlflowArtifactDataset
          versioned: true
          dataset:
            type: gtzan_kedro.datasets.ModelDataset
            filepath: data/06_models/{namespace}
    """

    def __new__(
        cls, dataset: str | dict[str, Any], version: Version | None = None, **kwargs: Any
    ) -> Any:
        if version is None:
            return super().__new__(cls, dataset=dataset, **kwargs)
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        wrapped = super().__new__(cls, dataset={**config, "versioned": True}, **kwargs)
        wrapped._version = version
        return wrapped
