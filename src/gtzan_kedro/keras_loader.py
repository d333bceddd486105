"""Keras for the modules that build or run networks, imported only when one does."""

from __future__ import annotations

from typing import Any


def load_keras() -> Any:
    """Keras, imported on first use: TensorFlow takes seconds and 0.5 GB to import."""
    import keras  # noqa: PLC0415

    return keras
