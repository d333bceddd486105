"""The pipelines and namespaces a ``kedro run`` asks for, checked before anything is written.

``kedro run`` records what it was asked for (:func:`request`); the session's first hook checks
it (:func:`check_requested`) once the pipelines are built from the session's own reading of
the parameters, and before kedro-mlflow opens its store: an unknown name leaves nothing behind.
"""

from __future__ import annotations

import pkgutil

from kedro.framework.project import pipelines
from kedro.pipeline import Pipeline

from gtzan_kedro import pipelines as pipeline_packages
from gtzan_kedro.errors import InputError

_requested: dict[str, tuple[list[str], list[str]] | None] = {"selection": None}


def request(pipeline_names: list[str], namespaces: list[str]) -> None:
    """Remember the pipelines and namespaces the coming run selects."""
    _requested["selection"] = (list(pipeline_names), list(namespaces))


def check_requested() -> None:
    """Check the selection :func:`request` remembered, once; nothing to do without one."""
    selection, _requested["selection"] = _requested["selection"], None
    if selection is not None:
        check_run_selection(*selection)


def check_run_selection(pipeline_names: list[str], namespaces: list[str]) -> None:
    """Refuse a pipeline or namespace that is not registered, listing the known ones."""
    selected = _registered_pipeline(pipeline_names)
    known = namespace_prefixes(selected)
    unknown = [namespace for namespace in namespaces if namespace not in known]
    if unknown:
        names = "+".join(pipeline_names or ["__default__"])
        top_level = sorted(prefix for prefix in known if "." not in prefix)
        allowed = f"use one of {', '.join(top_level)}" if top_level else "it has no namespaces"
        raise InputError(
            f"Unknown namespace {', '.join(map(repr, unknown))} in pipeline '{names}': {allowed}."
        )


def _registered_pipeline(pipeline_names: list[str]) -> Pipeline:
    """The named registered pipelines together; an unknown name is an ``InputError``.

    Names are checked against the packages under ``pipelines/`` before any is loaded: Kedro
    loads only the pipelines a run names, and fails on an unknown one with an ``ImportError``.
    """
    known = sorted(
        ["__default__"]
        + [module.name for module in pkgutil.iter_modules(pipeline_packages.__path__)]
    )
    unknown = [name for name in pipeline_names if name not in known]
    if unknown:
        raise InputError(
            f"Unknown pipeline {', '.join(map(repr, unknown))}: use one of {', '.join(known)}."
        )
    return sum((pipelines[name] for name in pipeline_names or ["__default__"]), Pipeline([]))


def namespace_prefixes(pipeline: Pipeline) -> set[str]:
    """Every namespace ``--namespaces`` can select in ``pipeline``: ``a`` and ``a.b`` of ``a.b``."""
    parts = [node.namespace.split(".") for node in pipeline.nodes if node.namespace]
    return {".".join(part[:depth]) for part in parts for depth in range(1, len(part) + 1)}
