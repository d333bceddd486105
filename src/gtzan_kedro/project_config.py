"""The pipelines' shape: architectures, the feature sets they read, folds.

Kedro builds the registered pipelines lazily, the first time a run asks for them, which in
a session is after it has read its configuration. So a session's hook hands its parameters
over here (:func:`use_session_parameters`) and the pipelines are built from that one reading,
``--env`` and ``--params`` included. Built once, they are never reset: a later session of the
same process that declares another shape gets a one-line error instead
(:func:`check_pipelines_fit_session`). Pipelines built outside a session (kedro-viz,
``kedro registry``) follow the parameter files of ``conf/base`` and ``KEDRO_ENV``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from kedro.framework.project import settings

from gtzan_kedro.errors import InputError
from gtzan_kedro.project_path import check_environment, project_root

# The artist-filtered lists give three artist-disjoint partitions: one fold each.
ARTIST_FOLDS = 3
# After cross-validation, the namespace of every track's split into training and validation
# tracks (no test tracks), on which the chosen architecture is trained once more.
REFIT = "refit"

_state: dict[str, dict[str, Any] | None] = {"session": None, "built": None}
# What each part of the layout is called in messages.
_PARTS = {
    "architectures": "architectures",
    "feature_inputs": "feature-set inputs",
    "folds": "folds",
}


def feature_set_of(architecture: dict[str, Any]) -> str:
    """The feature set an architecture's parameters block reads."""
    return architecture["features"]


def read_parameters(
    project_path: Path, env: str | None = None, runtime_params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The parameters a session of ``project_path`` would read, through the project's loader."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        runtime_params=runtime_params,
        **settings.CONFIG_LOADER_ARGS,
    )
    check_environment(loader)
    return loader["parameters"]


@cache
def _conf_layout() -> dict[str, Any]:
    """The layout the parameter files declare, for pipelines built outside a session."""
    return layout_of(read_parameters(project_root(), os.environ.get("KEDRO_ENV")))


def layout_of(parameters: dict[str, Any]) -> dict[str, Any]:
    """Architectures and the feature set each reads, feature sets' catalog inputs, folds."""
    blocks = parameters["modelling"]["architectures"]
    feature_sets = parameters["feature_engineering"]["feature_sets"]
    split = parameters["feature_engineering"]["split"]
    count = {"kfold": split["folds"], "artist_kfold": ARTIST_FOLDS}.get(split["strategy"])
    return {
        "architectures": {name: feature_set_of(block) for name, block in blocks.items()},
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
    return _state["session"] or _conf_layout()


def layout_to_build() -> dict[str, Any]:
    """The layout to build the pipelines from now (``register_pipelines`` calls it)."""
    _state["built"] = _layout()
    return _state["built"]


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
    """Build the pipelines of this process from a session's parameters."""
    try:
        _state["session"] = layout_of(parameters)
    except (KeyError, TypeError, AttributeError):  # malformed: the parameters' check says how
        _state["session"] = None


def end_session() -> None:
    """Forget the finished session's layout: pipelines built next follow the parameter files."""
    _state["session"] = None


def check_pipelines_fit_session() -> None:
    """Fail if this process built its pipelines for another shape than the session's."""
    built, session = _state["built"], _state["session"]
    if built is None or session is None or built == session:
        return
    differs = [name for key, name in _PARTS.items() if built[key] != session[key]]
    raise InputError(
        f"This process built its pipelines for other {' and '.join(differs)} than this "
        "session's parameters declare: run a session of another shape in a process of its own."
    )
