"""Ingestion: raw clips -> track table, class distribution and example figures."""

from gtzan_kedro.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
