"""The parameters' schema: checked when a run starts, before any node runs.

Every block of ``conf/*/parameters*.yml`` has a pydantic model here, without defaults: each
value has one home, the YAML. An architecture's
``model`` block is checked against its builder's keyword arguments and a feature set's
``params`` against its extractor's, from their type hints, so a registered function and its
block are all it takes to add either. A wrong type, an out-of-range value or an unknown key
ends the run with one line naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    create_model,
    model_validator,
)

from gtzan_kedro.errors import InputError
from gtzan_kedro.features import FEATURE_SETS
from gtzan_kedro.features.registry import disordered_parameter
from gtzan_kedro.models.architectures import (
    ARCHITECTURES,
    Fraction,
    merged_training,
)
from gtzan_kedro.sources import SOURCES


class _Block(BaseModel):
    """A parameters block: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Augmentation(_Block):
    """``modelling.training.augmentation``: what changes the training batches every epoch."""

    time_masks: NonNegativeInt
    max_time_mask: Fraction
    frequency_masks: NonNegativeInt
    max_frequency_mask: Fraction
    mixup_alpha: NonNegativeFloat
    random_crop: bool


class Training(_Block):
    """How a model with epochs is fitted (``modelling.training``, merged into each block)."""

    epochs: PositiveInt
    batch_size: PositiveInt
    learning_rate: PositiveFloat
    early_stopping_patience: NonNegativeInt
    # Temperature scaling fitted on the validation tracks, kept in the model artefact.
    calibrate: bool
    weight_decay: NonNegativeFloat
    label_smoothing: Fraction
    schedule: Literal["constant", "cosine", "plateau"]
    augmentation: Augmentation
    # Keras' XLA compilation: "auto" (Keras' choice), true or false.
    jit_compile: bool | Literal["auto"]


class Architecture(_Block):
    """``modelling.architectures.<name>``: the builder, its feature set and settings."""

    builder: str
    features: str
    model: dict[str, Any] = {}
    training: dict[str, Any] = {}


class Modelling(_Block):
    """``modelling``: training defaults and one block per architecture."""

    training: Training
    architectures: dict[str, Architecture]


class Window(_Block):
    """Windows of frames that make one example."""

    frames: PositiveInt
    hop: PositiveInt

    @model_validator(mode="after")
    def _covers_every_frame(self) -> Window:
        if self.hop > self.frames:
            raise ValueError(f"hop={self.hop} may not exceed frames={self.frames}")
        return self


class FeatureSet(_Block):
    """``feature_engineering.feature_sets.<name>``: an extractor, its parameters, windows."""

    extractor: str
    params: dict[str, Any] = {}
    # Extractor arguments read from the catalog ({argument: dataset}), e.g. pretrained weights;
    # the files they name travel inside every model artefact trained on this feature set.
    inputs: dict[str, str] = {}
    window: Window | None = None


class Split(_Block):
    """``feature_engineering.split``: which track goes to which split."""

    strategy: Literal["stratified", "artist_filtered", "kfold", "artist_kfold", "dataset"]
    validation_size: Fraction
    test_size: Fraction
    folds: Annotated[int, Field(ge=2)]
    min_tracks_per_label: PositiveInt

    @model_validator(mode="after")
    def _leaves_training_tracks(self) -> Split:
        if self.validation_size + self.test_size >= 1:
            raise ValueError("validation_size + test_size must be below 1 to leave training tracks")
        return self


class Executor(_Block):
    """``feature_engineering.executor``: where the per-track work runs."""

    kind: Literal["local", "dask"]
    # Workers: a positive number, or -1 for one per core (checked by the executor).
    n_jobs: int
    address: str | None


class FeatureEngineering(_Block):
    """``feature_engineering``: the split, the feature sets and how they are computed."""

    split: Split
    feature_sets: dict[str, FeatureSet]
    executor: Executor
    recompute_features: bool


class Inference(_Block):
    """``inference``: classifying files with a trained model.

    ``model``, ``files`` and ``output`` are given at run time; the catalog says what their
    absence means.
    """

    # At most the model's number of labels: more are listed as all of them.
    top_k: Annotated[int, Field(ge=1)]
    silence_db: Annotated[float, Field(le=0)]
    min_seconds: Annotated[float, Field(ge=0)]
    model: str | None = None
    files: Any = None
    output: str | None = None
    timeline: str | None = None


class Bootstrap(_Block):
    """``reporting.bootstrap``: the intervals of the track scores."""

    resamples: Annotated[int, Field(ge=1000)]
    confidence: Annotated[float, Field(gt=0, lt=1)]


Score = Literal["track_accuracy", "track_macro_f1"]


class Reporting(_Block):
    """``reporting``: the comparison, its statistics and the registry's champion."""

    rank_by: Annotated[list[Score], Field(min_length=1)]
    chart_metrics: Annotated[
        list[Literal["track_accuracy", "track_macro_f1", "track_ece"]], Field(min_length=1)
    ]
    baseline: str
    alpha: Annotated[float, Field(gt=0, lt=1)]
    bootstrap: Bootstrap
    promote_champion: Literal["auto", "always"]
    # After cross-validation, train the best architecture on all tracks and register it.
    refit: bool


class Generator(_Block):
    """``ingestion.generator``: the embedded GTZAN-shaped collection."""

    clips_per_genre: PositiveInt
    clip_seconds: PositiveFloat
    sample_rate: PositiveInt


class Download(_Block):
    """``ingestion.download``: where GTZAN is fetched from and how it is verified."""

    mirrors: list[str]
    filename: str
    checksum: str
    timeout_s: PositiveFloat
    attempts: PositiveInt


class Fma(_Block):
    """``ingestion.fma``: a copy of the Free Music Archive, on disk or downloaded."""

    path: str | None
    subset: Literal["small", "medium", "large"]
    download: bool
    url: str
    checksums: dict[str, str]
    timeout_s: PositiveFloat
    attempts: PositiveInt


class ClipChecks(_Block):
    """``ingestion.checks``: what a clip must pass to be used."""

    silence_db: Annotated[float, Field(le=0)]
    min_seconds: Annotated[float, Field(ge=0)]


class ExampleFigures(_Block):
    """``ingestion.example_figures``: the spectrograms of one clip per genre."""

    sample_rate: PositiveInt
    n_fft: PositiveInt
    hop_length: PositiveInt
    n_mels: PositiveInt


class Ingestion(_Block):
    """``ingestion``: where the raw clips come from and what a usable clip is.

    A source added later brings its own block (``ingestion.<source name>``), which its function
    reads and checks; any other unknown key is an error.
    """

    # A registered source (src/gtzan_kedro/sources/), checked against the registry.
    source: str
    local_path: str | None
    # With a source whose labels come from the data: keep these, in this order.
    labels: list[str] | None
    download: Download
    fma: Fma
    checks: ClipChecks
    generator: Generator
    example_figures: ExampleFigures

    @model_validator(mode="before")
    @classmethod
    def _leave_sources_their_blocks(cls, values: Any) -> Any:
        """Set aside the blocks named after a registered source that this schema does not type."""
        if not isinstance(values, dict):
            return values
        return {
            key: value
            for key, value in values.items()
            if key in cls.model_fields or key not in SOURCES
        }


class Parameters(_Block):
    """All parameters; their values, defaults included, live in ``conf/``."""

    # NumPy and Keras take 32-bit seeds.
    seed: Annotated[int, Field(ge=0, lt=2**32)]
    sample_rate: PositiveInt
    ingestion: Ingestion
    feature_engineering: FeatureEngineering
    modelling: Modelling
    reporting: Reporting
    inference: Inference


def validate_parameters(parameters: dict[str, Any]) -> Parameters:
    """Check every parameter; raise :class:`InputError` with one line on the first problem."""
    try:
        checked = Parameters.model_validate(parameters)
    except ValidationError as error:
        raise InputError(_one_line(error)) from None
    _check_known(checked.ingestion.source, SOURCES, "ingestion.source")
    for name, feature_set in checked.feature_engineering.feature_sets.items():
        prefix = f"feature_engineering.feature_sets.{name}"
        _check_known(feature_set.extractor, FEATURE_SETS, f"{prefix}.extractor")
        extractor = FEATURE_SETS[feature_set.extractor]
        placeholders = dict.fromkeys(feature_set.inputs, "<catalog dataset>")
        _check_keywords(extractor, feature_set.params | placeholders, f"{prefix}.params")
        _check_ordered(feature_set.extractor, feature_set.params, f"{prefix}.params")
    _check_known(checked.reporting.baseline, checked.modelling.architectures, "reporting.baseline")
    for name, block in checked.modelling.architectures.items():
        prefix = f"modelling.architectures.{name}"
        _check_known(block.builder, ARCHITECTURES, f"{prefix}.builder")
        _check_known(block.features, checked.feature_engineering.feature_sets, f"{prefix}.features")
        _check_keywords(ARCHITECTURES[block.builder].builder, block.model, f"{prefix}.model")
        training_for(checked.modelling.training.model_dump(), block.training, prefix)
    return checked


def training_for(defaults: dict[str, Any], overrides: dict[str, Any], where: str) -> dict[str, Any]:
    """``modelling.training`` with an architecture's own ``training`` values merged over it."""
    try:
        return Training.model_validate(merged_training(defaults, overrides)).model_dump()
    except ValidationError as error:
        raise InputError(_one_line(error, f"{where}.training")) from None


def _check_known(name: str, known: dict[str, Any], where: str) -> None:
    """Fail unless ``name`` is one of ``known``."""
    if name not in known:
        raise InputError(
            f"Invalid parameter {where}={name!r}: use one of {', '.join(sorted(known))}."
        )


def _check_ordered(extractor: str, params: dict[str, Any], where: str) -> None:
    """Fail if ``params`` break one of the extractor's ordered pairs (hop above window)."""
    problem = disordered_parameter(extractor, params)
    if problem:
        raise InputError(f"Invalid parameter {where}.{problem}.")


def _check_keywords(function: Callable[..., Any], values: dict[str, Any], where: str) -> None:
    """Check ``values`` against ``function``'s keyword-only arguments and their type hints."""
    schema = _keyword_schema(function)
    try:
        schema.model_validate(values)
    except ValidationError as error:
        allowed = ", ".join(schema.model_fields)
        raise InputError(
            f"{_one_line(error, where)} ({function.__name__} takes: {allowed})"
        ) from None


def _keyword_schema(function: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of ``function``'s keyword-only arguments."""
    annotations = inspect.get_annotations(function)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        hint = annotations.get(name, "Any")
        # Hints are strings under `from __future__ import annotations`: resolved one by one,
        # so a return type imported only for type checking is never needed.
        hint = eval(hint, function.__globals__) if isinstance(hint, str) else hint
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (hint, default)
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    return create_model(f"{function.__name__}_keywords", __config__=config, **fields)


def _one_line(error: ValidationError, prefix: str = "") -> str:
    """The first problem of ``error`` as ``Invalid parameter a.b=value: what is allowed.``"""
    first = error.errors()[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    if first["type"] == "extra_forbidden":
        return f"Unknown parameter {path}: remove it or check its spelling."
    if first["type"] == "missing":
        return f"Missing parameter {path}: add it to the parameters."
    message = first["msg"][0].lower() + first["msg"][1:]
    return f"Invalid parameter {path}={first.get('input')!r}: {message}."
