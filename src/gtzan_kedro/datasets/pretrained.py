"""Pretrained weights as a catalog dataset: fetched and converted on first load, then reused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from gtzan_kedro.musicnn.wheel import DEFAULT_WHEEL_CACHE


class MusicnnWeightsDataset(AbstractDataset[None, Path]):
    """The converted Keras weights of one musicnn model, loaded as their file's path.

    The first load fetches the ``musicnn==0.1.0`` wheel with pip into ``wheel_cache`` (or takes
    the hash-checked ``wheel`` handed over by path, for machines without access to PyPI) and
    converts its checkpoint into ``<weights_dir>/<model>.weights.h5``, the licence beside it;
    later loads find them there and need no network.

    Example catalog entry::

        musicnn_weights:
          type: gtzan_kedro.datasets.pretrained.MusicnnWeightsDataset
          model: MSD_musicnn
          weights_dir: data/06_models/pretrained/musicnn
          wheel_cache: data/01_raw/pretrained
    """

    def __init__(  # noqa: PLR0913 - each is one documented catalog key
        self,
        *,
        model: str = "MSD_musicnn",
        weights_dir: str = "data/06_models/pretrained/musicnn",
        wheel_cache: str = str(DEFAULT_WHEEL_CACHE),
        wheel: str | None = None,
        index_url: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model = model
        self._weights_dir = Path(weights_dir)
        self._wheel_cache = Path(wheel_cache)
        self._wheel = wheel
        self._index_url = index_url
        self.metadata = metadata

    def load(self) -> Path:
        """Return the absolute path of the converted weights, making them on first use."""
        from gtzan_kedro.musicnn.network import ensure_musicnn_weights  # noqa: PLC0415

        return ensure_musicnn_weights(
            self._model,
            self._weights_dir,
            wheel_cache=self._wheel_cache,
            wheel=self._wheel,
            index_url=self._index_url,
        ).resolve()

    def save(self, data: None) -> None:
        raise DatasetError("musicnn's weights come from its wheel; they are not saved by nodes.")

    def _exists(self) -> bool:
        from gtzan_kedro.musicnn.network import weights_file  # noqa: PLC0415

        return weights_file(self._weights_dir, self._model).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"model": self._model, "weights_dir": str(self._weights_dir)}
