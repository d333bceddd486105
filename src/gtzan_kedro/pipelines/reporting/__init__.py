"""Reporting: all evaluated architectures side by side."""

from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
