"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from gtzan_kedro.project_config import layout_to_build


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under ``pipelines/``; ``__default__`` runs all but inference.

    ``inference`` classifies given files with a trained model, so it runs only when asked for.
    """
    layout_to_build()  # the pipelines below read it
    pipelines = find_pipelines(raise_errors=True)
    # Kedro loads only the pipelines a run names; `__default__` is there when it loads all.
    if "__default__" in pipelines:
        pipelines["__default__"] = sum(
            (
                pipeline
                for name, pipeline in pipelines.items()
                if name not in {"__default__", "inference"}
            ),
            start=Pipeline([]),
        )
    return pipelines
