"""Wiring of the ingestion pipeline."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.ingestion.nodes import (
    acquire_clips,
    build_track_table,
    count_tracks_per_genre,
    plot_class_distribution,
    plot_genre_examples,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Fetch or generate the raw clips, describe them and draw what they look like."""
    return Pipeline(
        [
            Node(
                acquire_clips,
                inputs=["params:ingestion", "params:seed", "gtzan_downloads"],
                outputs=["raw_clips", "refused_source_files"],
                name="acquire_clips",
            ),
            Node(
                build_track_table,
                inputs=[
                    "raw_clips",
                    "raw_clip_headers",
                    "params:ingestion",
                    "refused_source_files",
                ],
                outputs="track_table",
                name="build_track_table",
            ),
            Node(
                count_tracks_per_genre,
                inputs="track_table",
                outputs="class_distribution",
                name="count_tracks_per_genre",
            ),
            Node(
                plot_class_distribution,
                inputs="class_distribution",
                outputs="class_distribution_chart",
                name="plot_class_distribution",
            ),
            Node(
                plot_genre_examples,
                inputs=["track_table", "raw_clips", "params:ingestion.example_figures"],
                outputs="genre_example_figures",
                name="plot_genre_examples",
            ),
        ]
    )
