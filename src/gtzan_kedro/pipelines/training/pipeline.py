"""Wiring of training: the training steps bound to serving with kedro-mlflow.

``pipeline_ml_factory`` makes the run log one MLflow model holding the serving pipeline
(decode, the training preprocessing, classify) and, as artifacts, what it reads from the
training run: the normalisation statistics, the chosen model and its card, and the
parameters. The serving pipeline's only other input is the request.
"""

from importlib import metadata

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory
from kedro_mlflow.pipeline.pipeline_ml import PipelineML
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from packaging.requirements import Requirement

from gtzan_kedro.pipelines import feature_engineering, modelling, reporting
from gtzan_kedro.pipelines.inference.pipeline import (
    create_model_selection_pipeline,
    create_serving_pipeline,
)

# `mlflow models serve -m runs:/<run id>/genre_classifier`
MLFLOW_MODEL_NAME = "genre_classifier"
# What a request holds, checked by MLflow before the model runs: one row per clip, its file's
# bytes base64-encoded, and optionally a name to recognise it by in the answer.
REQUEST_SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "audio"), ColSpec("string", "name", required=False)])
)


def runtime_requirements() -> list[str]:
    """The project's dependencies at their installed versions: the serving model's environment.

    MLflow would otherwise infer them by loading the model in a subprocess, which takes seconds
    of every training run and misses what only predicting imports (librosa, soundfile). The
    project itself is not on PyPI: serve with ``--env-manager local`` in its environment.
    """
    try:
        requirements = [Requirement(line) for line in metadata.requires("gtzan_kedro") or []]
    except metadata.PackageNotFoundError:  # running from a source tree: let MLflow infer them
        return []
    return [f"{req.name}=={metadata.version(req.name)}" for req in requirements if not req.marker]


def training_steps() -> Pipeline:
    """Features, one model per architecture, and their comparison."""
    return (
        feature_engineering.create_pipeline()
        + modelling.create_pipeline()
        + reporting.create_pipeline()
    )


def bind_serving_model(training: Pipeline) -> PipelineML:
    """``training`` plus serving-model selection, bound to the serving pipeline."""
    return pipeline_ml_factory(
        training=training + create_model_selection_pipeline(),
        inference=create_serving_pipeline(),
        input_name="audio_requests",
        log_model_kwargs={
            "name": MLFLOW_MODEL_NAME,
            "signature": REQUEST_SIGNATURE,
            "pip_requirements": runtime_requirements() or None,
        },
    )


def create_pipeline(**kwargs) -> PipelineML:
    """Train every architecture and log the chosen one, with its preprocessing, to MLflow."""
    return bind_serving_model(training_steps())
