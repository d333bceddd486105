"""The one model artefact: everything needed to go from audio to genre probabilities.

A :class:`GenreClassifier` holds the feature set (extractor name, parameters, window), the
normalisation fitted on the training split, the sample rate the training clips were decoded
at, the class names in order, the framework and the fitted native model. Evaluation, the
``predict`` command and the MLflow model server all call :meth:`GenreClassifier.predict_proba`
on the same code path.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import pandas as pd

from gtzan_kedro.errors import InputError
from gtzan_kedro.features import get_extractor
from gtzan_kedro.features.preprocessing import (
    check_normalisation,
    example_spans,
    normalise,
    track_examples,
)
from gtzan_kedro.features.registry import row_seconds
from gtzan_kedro.models.calibration import apply_temperature
from gtzan_kedro.models.frameworks import get_adapter

logger = logging.getLogger(__name__)

CARD_FILE = "genre_classifier.json"
MODEL_FOLDER = "model"
INPUTS_FOLDER = "inputs"
# Examples of several tracks predicted in one call: a few tens of MB of log-mel windows.
EXAMPLES_PER_CALL = 1024


@dataclass
class GenreClassifier:
    """A trained classifier bound to the preprocessing it was trained with."""

    architecture: str
    builder: str
    framework: str
    feature_set: str
    extractor: str
    feature_params: dict[str, Any]
    window: dict[str, int] | None
    normalisation: dict[str, Any]
    sample_rate: int
    class_names: list[str]
    model: Any = field(repr=False)
    # Extractor arguments that are files (pretrained weights): copied into the artefact.
    feature_inputs: dict[str, str] = field(default_factory=dict)
    # Divides the log of a track's probabilities (fitted on validation tracks); artefacts saved
    # before calibration existed have none and load with 1, which changes nothing.
    temperature: float = 1.0

    def features(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """The feature set's ``(rows, dims)`` features of one clip."""
        waveform = np.asarray(waveform, dtype=np.float32)
        if sample_rate != self.sample_rate:
            waveform = librosa.resample(waveform, orig_sr=sample_rate, target_sr=self.sample_rate)
        return get_extractor(self.extractor)(
            waveform, self.sample_rate, **self.feature_params, **self.feature_inputs
        )

    def examples(self, features: np.ndarray) -> np.ndarray:
        """A track's normalised examples, as the model was trained on them."""
        return normalise(track_examples(features, self.window), self.normalisation)

    def window_proba_features(self, features: np.ndarray) -> np.ndarray:
        """The model's class probabilities ``(examples, n_classes)`` of each of a track's
        examples, before calibration (:meth:`track_proba` calibrates their mean)."""
        return self._examples_proba(self.examples(features))

    def _examples_proba(self, examples: np.ndarray) -> np.ndarray:
        """The model's class probabilities of examples."""
        return get_adapter(self.framework).predict_proba(
            self.model, examples, len(self.class_names)
        )

    def predict_proba_tracks(self, tracks: Iterable[np.ndarray]) -> np.ndarray:
        """Class probabilities ``(tracks, n_classes)`` of many tracks, from their features.

        The same as :meth:`predict_proba_features` track by track, but the examples of
        consecutive tracks go to the model together (up to ``EXAMPLES_PER_CALL``): a Keras
        call per track costs more than its predictions.
        """
        probabilities: list[np.ndarray] = []
        pending: list[np.ndarray] = []
        waiting = 0  # examples in pending
        for features in tracks:
            pending.append(self.examples(features))
            waiting += len(pending[-1])
            if waiting >= EXAMPLES_PER_CALL:
                probabilities += self._tracks_proba(pending)
                pending, waiting = [], 0
        probabilities += self._tracks_proba(pending)
        if not probabilities:
            return np.empty((0, len(self.class_names)), dtype=np.float32)
        return np.stack(probabilities)

    def _tracks_proba(self, examples: list[np.ndarray]) -> list[np.ndarray]:
        """Each track's probabilities from its examples, the model called once for all."""
        if not examples:
            return []
        per_example = self._examples_proba(np.concatenate(examples))
        ends = np.cumsum([len(track) for track in examples])[:-1]
        return [self.track_proba(track) for track in np.split(per_example, ends)]

    def track_proba(self, window_probabilities: np.ndarray) -> np.ndarray:
        """A track's calibrated class probabilities ``(n_classes,)``: its examples' mean,
        temperature-scaled (which keeps its most probable label)."""
        probabilities = apply_temperature(window_probabilities.mean(axis=0), self.temperature)
        if not np.all(np.isfinite(probabilities)):
            raise InputError(
                f"The '{self.architecture}' model gave probabilities that are not finite: "
                "the model or its statistics are damaged; train it again."
            )
        return probabilities

    def predict_proba_features(self, features: np.ndarray) -> tuple[np.ndarray, int]:
        """Class probabilities of one track from its features, and how many examples voted."""
        window_probabilities = self.window_proba_features(features)
        return self.track_proba(window_probabilities), len(window_probabilities)

    def predict_proba(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """Calibrated class probabilities ``(n_classes,)`` of one clip (:meth:`track_proba`)."""
        return self.predict_proba_features(self.features(waveform, sample_rate))[0]

    def window_spans(self, n_rows: int, seconds: float) -> np.ndarray:
        """``(examples, 2)`` start and end seconds of the examples cut from ``n_rows`` feature
        rows of a clip ``seconds`` long."""
        timing = row_seconds(self.extractor, self.sample_rate, self.feature_params)
        return example_spans(n_rows, seconds, self.window, timing)

    def timeline_table(
        self, window_probabilities: np.ndarray, n_rows: int, seconds: float
    ) -> pd.DataFrame:
        """One row per example: ``start_s``, ``end_s`` and the model's probability of each
        class for it (the temperature was fitted to, and scales, the track's mean only)."""
        spans = self.window_spans(n_rows, seconds)
        table = pd.DataFrame(window_probabilities.astype(np.float64), columns=self.class_names)
        table.insert(0, "start_s", spans[:, 0].round(3))
        table.insert(1, "end_s", spans[:, 1].round(3))
        return table

    def timeline(self, waveform: np.ndarray, sample_rate: int) -> pd.DataFrame:
        """A clip's per-window class probabilities over time (:meth:`timeline_table`)."""
        features = self.features(waveform, sample_rate)
        return self.timeline_table(
            self.window_proba_features(features), len(features), len(waveform) / sample_rate
        )

    def card(self) -> dict[str, Any]:
        """Everything but the native model, as JSON-ready values."""
        card = asdict(self)
        card.pop("model")
        return card

    def save(self, folder: Path) -> None:
        """Write the card as JSON, the input files and the native model in its own format."""
        (folder / MODEL_FOLDER).mkdir(parents=True)
        card = self.card()
        card["feature_inputs"] = {}
        for name, path in self.feature_inputs.items():
            copied = Path(INPUTS_FOLDER) / f"{name}{''.join(Path(path).suffixes)}"
            (folder / INPUTS_FOLDER).mkdir(exist_ok=True)
            shutil.copyfile(path, folder / copied)
            for notice in Path(path).parent.glob("*LICENSE*"):  # licences travel with weights
                shutil.copyfile(notice, folder / INPUTS_FOLDER / notice.name)
            card["feature_inputs"][name] = copied.as_posix()
        (folder / CARD_FILE).write_text(json.dumps(card, indent=1))
        get_adapter(self.framework).save(self.model, folder / MODEL_FOLDER)

    @classmethod
    def load(cls, folder: Path) -> GenreClassifier:
        """Read what :meth:`save` wrote, checking the statistics before any use."""
        card_path = Path(folder) / CARD_FILE
        try:
            card = json.loads(card_path.read_text())
            check_normalisation(card["normalisation"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"'{card_path}' is not a usable model card ({error}): train the model again."
            ) from None
        try:
            model = get_adapter(card["framework"]).load(Path(folder) / MODEL_FOLDER)
        except Exception as error:  # each framework fails its own way on a damaged file
            raise InputError(
                f"The {card['framework']} model in '{Path(folder) / MODEL_FOLDER}' could not be "
                f"loaded ({type(error).__name__}: {error}): train the model again."
            ) from None
        inputs = {
            name: str(Path(folder) / path) for name, path in card.pop("feature_inputs").items()
        }
        return cls(**card, feature_inputs=inputs, model=model)
