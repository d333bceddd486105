"""Wiring of inference: classify files, and the pipeline an MLflow model server runs.

- ``inference`` (``kedro run --pipeline inference``, ``gtzan-kedro predict``) classifies the
  files of ``audio_files`` with the latest model of the chosen architecture.
- ``create_serving_pipeline`` classifies the clips of a serving request with
  ``serving_model``, which ``create_model_selection_pipeline`` packages at the end of
  training; the ``training`` pipeline binds the two into one MLflow model.
"""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.inference.nodes import (
    choose_model,
    classify_clips,
    decode_requests,
    featurise_clips,
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
                inputs=[windows, model, model_card, "params:inference"],
                outputs=output,
                name=f"classify_{clips}",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Classify the given audio files with the chosen architecture's latest model."""
    return Pipeline(
        [
            Node(
                choose_model,
                inputs=["architecture_ranking", "trained_models", "params:inference.model"],
                outputs=["inference_model", "inference_model_card"],
                name="choose_model",
            )
        ]
    ) + _classification(
        "audio_files",
        "audio_file_windows",
        "inference_model",
        "inference_model_card",
        "genre_predictions",
    )


def create_serving_pipeline() -> Pipeline:
    """Classify the clips of a serving request with the model packaged by training."""
    return Pipeline(
        [
            Node(
                decode_requests,
                inputs=["audio_requests", "params:feature_engineering.log_mel"],
                outputs="requested_clips",
                name="decode_requests",
            )
        ]
    ) + _classification(
        "requested_clips",
        "requested_clip_windows",
        "serving_model",
        "serving_model_card",
        "genre_probabilities",
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
