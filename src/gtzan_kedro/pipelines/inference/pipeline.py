"""Wiring of inference: classify files (``inference``), and the model packaged for serving.

- ``inference`` (``kedro run --pipeline inference`` / ``gtzan-kedro predict``) classifies the
  files in ``audio_files`` with the latest trained model of the chosen architecture.
- ``create_training_pipeline`` binds a training pipeline to ``create_serving_pipeline`` with
  kedro-mlflow's ``pipeline_ml_factory``: the run trains every architecture, packages the
  chosen one as ``serving_model`` and logs one MLflow model (preprocessing + classifier)
  that answers requests of base64-encoded audio.
"""

from kedro.pipeline import Node, Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory
from kedro_mlflow.pipeline.pipeline_ml import PipelineML
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from gtzan_kedro.pipelines.inference.nodes import (
    choose_model,
    classify_clips,
    decode_requests,
    featurise_clips,
)

# `mlflow models serve -m runs:/<run id>/genre_classifier`
MLFLOW_MODEL_NAME = "genre_classifier"
# What a request holds, checked by MLflow before the model runs: one row per clip, its file's
# bytes base64-encoded, and optionally a name to recognise it by in the answer.
REQUEST_SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "audio"), ColSpec("string", "name", required=False)])
)


def _classification(clips: str, windows: str, model: str, model_card: str, output: str) -> Pipeline:
    """Featurise the clips in ``clips`` and classify them with ``model`` into ``output``."""
    return Pipeline(
        [
            Node(
                featurise_clips,
                inputs=[
                    clips,
                    "normalisation_stats",
                    "params:feature_engineering.log_mel",
                    "params:feature_engineering.sequences",
                    "params:inference",
                ],
                outputs=windows,
                name=f"featurise_{clips}",
            ),
            Node(
                classify_clips,
                inputs=[windows, model, model_card, "params:inference.top_k"],
                outputs=output,
                name=f"classify_{clips}",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Classify the given audio files with the chosen architecture's latest model."""
    return (
        Pipeline(
            [
                Node(
                    choose_model,
                    inputs=["architecture_ranking", "trained_models", "params:inference.model"],
                    outputs=["inference_model", "inference_model_card"],
                    name="choose_model",
                )
            ]
        )
        + _classification(
            "audio_files", "audio_file_windows", "inference_model", "inference_model_card",
            "genre_predictions",
        )
    )


def create_serving_pipeline() -> Pipeline:
    """Classify the clips of a serving request with the model packaged by training."""
    return (
        Pipeline(
            [
                Node(
                    decode_requests,
                    inputs=["audio_requests", "params:feature_engineering.log_mel"],
                    outputs="requested_clips",
                    name="decode_requests",
                )
            ]
        )
        + _classification(
            "requested_clips", "requested_clip_windows", "serving_model", "serving_model_card",
            "genre_probabilities",
        )
    )


def create_model_selection_pipeline() -> Pipeline:
    """Package the chosen architecture's model (the best one by default) for serving."""
    return Pipeline(
        [
            Node(
                choose_model,
                # The comparison this run's reporting wrote, so this node runs after it.
                inputs=["architecture_comparison", "trained_models", "params:inference.model"],
                outputs=["serving_model", "serving_model_card"],
                name="choose_serving_model",
            )
        ]
    )


def create_training_pipeline(training: Pipeline) -> PipelineML:
    """``training`` plus model selection, bound to serving: its run logs the MLflow model."""
    return pipeline_ml_factory(
        training=training + create_model_selection_pipeline(),
        inference=create_serving_pipeline(),
        input_name="audio_requests",
        log_model_kwargs={"name": MLFLOW_MODEL_NAME, "signature": REQUEST_SIGNATURE},
    )
