"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from gtzan_kedro.pipelines.training.pipeline import bind_serving_model, training_steps


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under ``pipelines/``; ``__default__`` runs all but inference.

    ``__default__`` is ingestion then ``training``: it also logs the MLflow model that
    serves the chosen architecture. ``inference`` classifies given files, so it runs only
    when asked for.
    """
    pipelines = find_pipelines(raise_errors=True)
    # Kedro loads only the pipelines a run names; `__default__` is there when it loads all.
    if "__default__" in pipelines:
        pipelines["__default__"] = bind_serving_model(pipelines["ingestion"] + training_steps())
    return pipelines
