"""The architectures, feature sets and folds the configuration declares, for the pipelines.

Kedro builds pipelines before a session reads its configuration, so by default the
namespaces (one per architecture, one per feature set they read, one per cross-validation
fold) come from the parameter files of ``conf/base`` and ``KEDRO_ENV`` (``local`` by
default). When a session's parameters (another ``--env``, or ``--params``) declare others, the
session hook hands them over here and the pipelines are registered again from them.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from kedro.framework.project import configure_project, settings

PROJECT_PATH = Path(__file__).resolve().parents[2]

# The artist-filtered lists give three artist-disjoint partitions: one fold each.
ARTIST_FOLDS = 3
# After cross-validation, the namespace of every track's split into training and validation
# tracks (no test tracks), on which the chosen architecture is trained once more.
REFIT = "refit"

_session_layout: dict[str, Any] | None = None


@cache
def _conf_layout() -> dict[str, Any]:
    """The pipelines' layout as the parameter files declare it."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_PATH / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return layout_of(loader["parameters"])


def layout_of(parameters: dict[str, Any]) -> dict[str, Any]:
    """Architectures and the feature set each reads, feature sets' catalog inputs, folds."""
    blocks = parameters["modelling"]["architectures"]
    feature_sets = parameters["feature_engineering"]["feature_sets"]
    split = parameters["feature_engineering"]["split"]
    count = {"kfold": split.get("folds", 5), "artist_kfold": ARTIST_FOLDS}.get(split["strategy"])
    return {
        "architectures": {name: block["features"] for name, block in blocks.items()},
        "feature_inputs": {
            name: dict(block.get("inputs") or {}) for name, block in feature_sets.items()
        },
        # One unnamed "fold" for a holdout split: the namespaces stay those of the
        # architectures and feature sets.
        "folds": [f"fold_{index}" for index in range(1, count + 1)] if count else [""],
        "refit": bool(count) and parameters.get("reporting", {}).get("refit", True),
    }


def _layout() -> dict[str, Any]:
    """The running session's layout, else that of the parameter files."""
    return _conf_layout() if _session_layout is None else _session_layout


def configured_architectures() -> dict[str, str]:
    """``{architecture: feature set it reads}``, in the order of the parameters."""
    return _layout()["architectures"]


def configured_feature_sets() -> list[str]:
    """The feature sets that at least one architecture reads."""
    return list(dict.fromkeys(configured_architectures().values()))


def feature_set_inputs(feature_set: str) -> dict[str, str]:
    """``{extractor argument: catalog dataset}`` that ``feature_set`` reads besides the audio."""
    return _layout()["feature_inputs"].get(feature_set, {})


def configured_folds() -> list[str]:
    """``fold_1`` ... ``fold_k`` for cross-validation, ``[""]`` for a holdout split."""
    return _layout()["folds"]


def refit_after_cross_validation() -> bool:
    """Whether the best architecture of a cross-validation is trained again on all tracks."""
    return _layout()["refit"]


def scoped(name: str, fold: str) -> str:
    """``name`` inside ``fold``'s namespace (``lstm.fold_2``), or as is for a holdout split."""
    return f"{name}.{fold}" if fold else name


def use_session_parameters(parameters: dict[str, Any]) -> None:
    """Build the pipelines for a session's (checked) parameters if they declare others."""
    global _session_layout  # noqa: PLW0603 - Kedro offers no per-session pipeline registry
    layout = layout_of(parameters)
    if layout != _layout():
        _session_layout = layout
        configure_project(__package__)  # forgets the registered pipelines
