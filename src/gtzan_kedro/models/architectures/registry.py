"""The registry of model builders: each registered by name with its model's framework.

Every builder takes the shape of one example (``(frames, dims)`` windows or ``(dims,)``
vectors, as its feature set gives them), the number of classes and its own hyperparameters
(the ``model`` block of the architecture's parameters, checked against the builder's type
hints before a run starts), and returns an untrained model: a ``keras.Model`` ending in a
softmax (``framework="keras"``) or a scikit-learn classifier with ``predict_proba``
(``framework="sklearn"``). The framework names the adapter (``gtzan_kedro.models.frameworks``)
that fits, predicts, saves and loads the model; nothing else asks which framework it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from gtzan_kedro.registry import Registry

Builder = Callable[..., Any]
Fraction = Annotated[float, Field(ge=0, lt=1)]


@dataclass(frozen=True)
class Architecture:
    """A registered builder and the framework its models belong to."""

    builder: Builder
    framework: str


ARCHITECTURES: Registry[Architecture] = Registry("builder")


def architecture(name: str, *, framework: str) -> Callable[[Builder], Builder]:
    """Register the decorated builder as ``name``, its models handled by ``framework``."""

    def decorator(builder: Builder) -> Builder:
        ARCHITECTURES.register(name, Architecture(builder, framework))
        return builder

    return decorator


def get_architecture(name: str) -> Architecture:
    """Return the builder registered as ``name``, or fail listing the known ones."""
    return ARCHITECTURES.named(name)


def merged_training(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` merged into ``defaults`` key by key, nested blocks (augmentation) too."""
    merged = dict(defaults)
    for key, value in overrides.items():
        nested = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merged_training(merged[key], value) if nested else value
    return merged
