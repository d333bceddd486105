"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from gtzan_kedro.pipelines.inference.pipeline import create_training_pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under ``pipelines/`` and ``training``; ``__default__`` runs all.

    ``training`` (features, models, comparison) and ``__default__`` (ingestion, then the
    same) also log the MLflow model that serves the chosen architecture. ``inference``
    classifies given files, so it is left out of ``__default__`` and runs only when asked for.
    """
    pipelines = find_pipelines(raise_errors=True)
    training = sum(
        (pipe for name, pipe in pipelines.items() if name not in ("ingestion", "inference")),
        start=Pipeline([]),
    )
    pipelines["training"] = create_training_pipeline(training)
    pipelines["__default__"] = create_training_pipeline(pipelines["ingestion"] + training)
    return pipelines
