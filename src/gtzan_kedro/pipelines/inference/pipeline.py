"""Wiring of inference: classify audio files with a trained model artefact."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.inference.nodes import classify_files


def create_pipeline(**kwargs) -> Pipeline:
    """Classify the given audio files with the chosen model (the champion by default)."""
    return Pipeline(
        [
            Node(
                classify_files,
                inputs=["inference_classifier", "audio_files", "params:inference"],
                outputs="genre_predictions",
                name="classify_files",
            )
        ]
    )
