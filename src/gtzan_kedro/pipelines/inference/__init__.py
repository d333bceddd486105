"""Inference: the genres of any audio file, from the command line or an MLflow model server."""

from gtzan_kedro.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
