"""Feature engineering: track-level split, log-mel spectrograms, normalised sequences."""

from gtzan_kedro.pipelines.feature_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
