"""Modelling: build, train and evaluate every registered architecture, one namespace each."""

from typing import Any

# The builders on pretrained musicnn features register with architectures.py's registry:
# imported with the package, so that whoever imports any of its modules sees every builder.
from gtzan_kedro.pipelines.modelling import musicnn_architectures  # noqa: F401

__all__ = ["create_pipeline"]


def __getattr__(name: str) -> Any:
    """``create_pipeline``, imported when asked for (PEP 562).

    The parameter schema imports this package's architecture registry at every session start;
    the pipeline's nodes (plots, metrics, the feature pipeline) only matter to runs that
    build this pipeline, not to ``gtzan-kedro predict``.
    """
    if name == "create_pipeline":
        from gtzan_kedro.pipelines.modelling.pipeline import create_pipeline  # noqa: PLC0415

        return create_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
