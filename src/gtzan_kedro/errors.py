"""Errors about the user's data or configuration, as opposed to bugs."""

from __future__ import annotations

import sys
from urllib.parse import urlparse


class InputError(ValueError):
    """Bad input the user can fix: the message names the file or parameter and what to do."""


def input_error_in(error: BaseException) -> InputError | None:
    """The :class:`InputError` that ``error`` is or was raised from, if any.

    Kedro wraps what a dataset raises in its own ``DatasetError``; the user's message is the
    original one. A library's error with a cause the user can fix (a damaged or locked
    MLflow store, a configuration file that is not YAML) is turned into one too.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, InputError):
            return seen
        known = _fixable_library_error(seen)
        if known is not None:
            return known
        seen = seen.__cause__ or seen.__context__
    return None


def _fixable_library_error(error: BaseException) -> InputError | None:
    """A library's error whose cause is the user's files, said in one line, else ``None``."""
    return (
        _store_error(error)
        or _yaml_error(error)
        or _config_folder_error(error)
        or _unwritten_input_error(error)
    )


def _store_error(error: BaseException) -> InputError | None:
    """SQLite's error about the MLflow store's file: locked by a writer, or not a database."""
    # Looked up, not imported: an error of a module never loaded cannot be here.
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not isinstance(error, sqlite3.DatabaseError):
        return None
    message = str(error).strip()
    if "database is locked" in message:
        return InputError(
            f"The MLflow store {_tracking_store()} is locked by another process writing to it "
            "(another run, or `mlflow ui` migrating it): wait for it to finish, then run again."
        )
    if "not a database" in message or "malformed" in message:
        return InputError(
            f"The MLflow store {_tracking_store()} is damaged ({message}): restore it from a "
            "backup, or move it aside to start a new, empty one."
        )
    return None


def _yaml_error(error: BaseException) -> InputError | None:
    """A configuration file that is not YAML: Kedro's loader names the file and line."""
    yaml = sys.modules.get("yaml")
    if yaml is None or not isinstance(error, yaml.YAMLError):
        return None
    message = str(error).strip()
    if not message.startswith("Invalid YAML"):
        return None
    return InputError(f"{message.splitlines()[0]} Correct its syntax and run again.")


def _unwritten_input_error(error: BaseException) -> InputError | None:
    """Kedro failing to load a run's input whose file no earlier run wrote."""
    kedro_io = sys.modules.get("kedro.io")
    if kedro_io is None or not isinstance(error, kedro_io.DatasetError):
        return None
    # Kedro's catalog prefixes the dataset's name: "<name>: Failed while loading data ...".
    name, separator, rest = str(error).partition(": ")
    if not separator or not rest.startswith("Failed while loading data"):
        return None
    missing = error.__cause__
    while missing is not None and not isinstance(missing, FileNotFoundError):
        missing = missing.__cause__ or missing.__context__
    if missing is None:
        return None
    return InputError(
        f"'{name}' has not been written ({missing.filename} is missing): run the pipeline that "
        "writes it first, with the same --env and --params as this run (a run of another split "
        "strategy or feature set writes other datasets); `kedro run` runs them all in order."
    )


def _config_folder_error(error: BaseException) -> InputError | None:
    """Kedro's loader finding no folder for a configuration environment (no conf/local)."""
    kedro_config = sys.modules.get("kedro.config")
    if kedro_config is None or not isinstance(error, kedro_config.MissingConfigException):
        return None
    prefix = "Given configuration path either does not exist or is not a valid directory: "
    message = str(error).strip()
    if not message.startswith(prefix):
        return None
    return missing_folder_error(message.removeprefix(prefix))


def missing_folder_error(folder: str) -> InputError:
    """A configuration environment's folder is missing."""
    return InputError(
        f"The configuration folder {folder} is missing: create it (it may be empty), or choose "
        "an existing environment with --env."
    )


def _tracking_store() -> str:
    """The tracking store's file (or URI) if MLflow is in use, for messages."""
    mlflow = sys.modules.get("mlflow")
    uri = mlflow.get_tracking_uri() if mlflow is not None else ""
    if urlparse(uri).scheme == "sqlite":
        return f"'{uri.removeprefix('sqlite:///')}'"
    return f"'{uri}'" if uri else "(mlflow.db)"
