"""The architectures the configuration declares, for building the pipelines.

Kedro builds pipelines before a session reads its configuration, so by default the
namespaces (one per architecture, one per feature set they read) come from the parameter
files of ``conf/base`` and ``KEDRO_ENV`` (``local`` by default). When a session's parameters
(another ``--env``, or ``--params``) declare other architectures, the session hook hands them
over here and the pipelines are registered again from them.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from kedro.framework.project import configure_project, settings

PROJECT_PATH = Path(__file__).resolve().parents[2]

_session_architectures: dict[str, str] | None = None


@cache
def _conf_architectures() -> dict[str, str]:
    """``{architecture: feature set}`` of the parameter files."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_PATH / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return architectures_of(loader["parameters"])


def architectures_of(parameters: dict[str, Any]) -> dict[str, str]:
    """``{architecture: feature set it reads}``, in the order of the parameters."""
    blocks = parameters["modelling"]["architectures"]
    return {name: block["features"] for name, block in blocks.items()}


def configured_architectures() -> dict[str, str]:
    """The architectures of the running session, else those of the parameter files."""
    return _conf_architectures() if _session_architectures is None else _session_architectures


def configured_feature_sets() -> list[str]:
    """The feature sets that at least one architecture reads."""
    return list(dict.fromkeys(configured_architectures().values()))


def use_session_parameters(parameters: dict[str, Any]) -> None:
    """Build the pipelines for a session's (checked) parameters if they declare others."""
    global _session_architectures  # noqa: PLW0603 - Kedro offers no per-session registry
    architectures = architectures_of(parameters)
    if architectures != configured_architectures():
        _session_architectures = architectures
        configure_project(__package__)  # forgets the registered pipelines
