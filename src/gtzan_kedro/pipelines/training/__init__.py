"""Training: features, every architecture and their comparison, logged as one MLflow model."""

from gtzan_kedro.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
