"""Trained models of any architecture in one dataset: Keras as ``.keras``, scikit-learn as joblib."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import joblib
from kedro.io import AbstractVersionedDataset, DatasetError
from kedro.io.core import Version, get_filepath_str

from gtzan_kedro.datasets._fs import filesystem_for, write_atomically

KERAS_FILE = "model.keras"
JOBLIB_FILE = "model.joblib"


class ModelDataset(AbstractVersionedDataset[Any, Any]):
    """A trained model, stored in a folder in its framework's own format.

    A ``keras.Model`` is written as ``<filepath>/model.keras`` (Keras' native format) and
    anything else, such as a scikit-learn estimator, as ``<filepath>/model.joblib``. Loading
    reads whichever of the two the folder holds, so a single dataset factory serves deep and
    classical architectures alike. The folder's path does not depend on the model, so
    wrappers that need the save path before saving (``MlflowArtifactDataset``) work too.

    Supports Kedro versioning (``versioned: true``): each version is its own folder.

    Example catalog entry::

        "{namespace}.model":
          type: gtzan_kedro.datasets.ModelDataset
          filepath: data/06_models/{namespace}
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._fs, self._protocol, path = filesystem_for(filepath, fs_args, credentials)
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )
        self.metadata = metadata

    def load(self) -> Any:
        """Load the Keras model or the joblib-pickled estimator of the folder."""
        folder = get_filepath_str(self._get_load_path(), self._protocol)
        if self._fs.exists(f"{folder}/{KERAS_FILE}"):
            # Imported here: TensorFlow takes seconds to import and most runs never need it.
            import keras  # noqa: PLC0415

            with tempfile.TemporaryDirectory() as local:
                # Keras reads from a local path ending in .keras only.
                local_file = str(Path(local) / KERAS_FILE)
                self._fs.get(f"{folder}/{KERAS_FILE}", local_file)
                return keras.saving.load_model(local_file)
        if self._fs.exists(f"{folder}/{JOBLIB_FILE}"):
            with self._fs.open(f"{folder}/{JOBLIB_FILE}", "rb") as stream:
                return joblib.load(stream)
        raise DatasetError(f"No {KERAS_FILE} or {JOBLIB_FILE} in model folder '{folder}'.")

    def save(self, data: Any) -> None:
        """Write a Keras model as ``model.keras``, anything else as ``model.joblib``."""
        folder = get_filepath_str(self._get_save_path(), self._protocol)
        if _is_keras_model(data):
            with tempfile.TemporaryDirectory() as local:
                local_file = Path(local) / KERAS_FILE
                data.save(local_file)
                payload = local_file.read_bytes()
            write_atomically(
                self._fs, f"{folder}/{KERAS_FILE}", lambda stream: stream.write(payload)
            )
        else:
            write_atomically(
                self._fs, f"{folder}/{JOBLIB_FILE}", lambda stream: joblib.dump(data, stream)
            )
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            folder = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:  # no version saved yet
            return False
        return self._fs.exists(f"{folder}/{KERAS_FILE}") or self._fs.exists(
            f"{folder}/{JOBLIB_FILE}"
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))


def _is_keras_model(data: Any) -> bool:
    """Whether ``data`` is a Keras model, without importing Keras for other objects."""
    # A Keras model can only exist if Keras was imported already.
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(data, keras.Model)
