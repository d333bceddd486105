"""Modelling: build, train and evaluate every registered architecture, one namespace each."""

# The builders on pretrained musicnn features register with architectures.py's registry:
# imported with the package, so that whoever imports any of its modules sees every builder.
from gtzan_kedro.pipelines.modelling import musicnn_architectures  # noqa: F401
from gtzan_kedro.pipelines.modelling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
