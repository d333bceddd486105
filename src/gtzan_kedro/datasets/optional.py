"""A dataset that may not have been written yet, loaded as ``None`` until it is."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import parse_dataset_definition


class OptionalDataset(AbstractDataset[Any, Any]):
    """Wraps any dataset so that loading it before its first save gives ``None``.

    For inputs that legitimately may not exist yet, such as the metrics of an architecture
    that no run has trained: the consumer decides what a missing value means instead of
    the run failing. Saving and existence checks go to the wrapped dataset unchanged.

    Example catalog entry::

        "{architecture}_test_metrics":
          type: gtzan_kedro.datasets.OptionalDataset
          dataset:
            type: json.JSONDataset
            filepath: data/08_reporting/{architecture}/metrics.json
    """

    def __init__(
        self, *, dataset: str | dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> None:
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        dataset_class, dataset_args = parse_dataset_definition(config)
        self._dataset = dataset_class(**dataset_args)
        self.metadata = metadata

    def load(self) -> Any:
        """Load the wrapped dataset, or return ``None`` if it does not exist."""
        return self._dataset.load() if self._dataset.exists() else None

    def save(self, data: Any) -> None:
        """Save through the wrapped dataset."""
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        # The wrapped dataset's own description (its filepath), for logs and kedro-viz.
        return self._dataset._describe()
