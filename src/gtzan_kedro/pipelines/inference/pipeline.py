"""Wiring of inference: classify audio files with a trained model artefact."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.inference.nodes import classify_files, draw_timelines


def create_pipeline(**kwargs) -> Pipeline:
    """Classify the given audio files with the chosen model (the champion by default), and
    draw each file's windows' probabilities over time."""
    return Pipeline(
        [
            Node(
                classify_files,
                inputs=["inference_classifier", "audio_files", "params:inference"],
                outputs=["genre_predictions", "window_probabilities"],
                name="classify_files",
            ),
            Node(
                draw_timelines,
                inputs=["window_probabilities", "genre_predictions"],
                outputs="genre_timelines",
                name="draw_timelines",
            ),
        ]
    )
