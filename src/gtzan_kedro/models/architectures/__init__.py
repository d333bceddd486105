"""Architectures: one registered model builder and one parameters block each.

Importing this package registers every builder module listed below.
"""

from gtzan_kedro.models.architectures import musicnn, scratch  # noqa: F401 - registers them
from gtzan_kedro.models.architectures.registry import (
    ARCHITECTURES,
    Fraction,
    architecture,
    get_architecture,
    merged_training,
)

__all__ = ["ARCHITECTURES", "Fraction", "architecture", "get_architecture", "merged_training"]
