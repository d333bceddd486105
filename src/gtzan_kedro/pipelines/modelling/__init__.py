"""Modelling: build, train and evaluate every registered architecture, one namespace each."""

from gtzan_kedro.pipelines.modelling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
