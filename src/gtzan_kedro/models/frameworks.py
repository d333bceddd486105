"""Framework adapters: the only code that knows how a Keras or scikit-learn model works.

An adapter fits a built model on training examples, returns class probabilities, and saves
and loads the model in its framework's own format inside a folder. Architectures name their
adapter when they register (``@architecture("recurrent", framework="keras")``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np

from gtzan_kedro.keras_loader import load_keras as _keras
from gtzan_kedro.models.augmentation import CropPartners

logger = logging.getLogger(__name__)

# Keras' own default batch size for predict; every prediction is padded to whole batches of it.
PREDICT_BATCH_SIZE = 32

History = dict[str, list[float]]

# Threads (`kedro run --runner ThreadRunner`) share a framework's global seed: one model at a
# time is built on it, so that its initial weights do not depend on what other threads drew.
_SEEDING = threading.Lock()


class FrameworkAdapter(Protocol):
    """What the pipeline and the model artefact need from a framework."""

    def seeded(self, seed: int) -> AbstractContextManager[None]:
        """Seed the framework's random choices (initial weights) for the model built inside."""

    def fit(  # noqa: PLR0913 - the training and validation data and the training block
        self,
        model: Any,
        train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray],
        training: dict[str, Any],
        seed: int,
        *,
        crops: CropPartners | None = None,
        name: str = "model",
    ) -> tuple[Any, History]:
        """Fit ``model``; return it with its per-epoch history (one entry for one-step fits).

        ``crops`` says which training example continues which, for random crops; ``name``
        is what progress lines call the model.
        """

    def predict_proba(self, model: Any, examples: np.ndarray, n_classes: int) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` of ``examples``."""

    def save(self, model: Any, folder: Path) -> None:
        """Write ``model`` into ``folder`` in the framework's own format."""

    def load(self, folder: Path) -> Any:
        """Read back what :meth:`save` wrote."""


class KerasAdapter:
    """Keras 3 models: AdamW, cross-entropy, early stopping; saved as ``model.keras``.

    Every Keras architecture trains through :meth:`fit`, with the options of its ``training``
    block; an option that is absent is off (no weight decay, smoothing, schedule or
    augmentation), as in the seed.
    """

    file_name = "model.keras"

    @contextmanager
    def seeded(self, seed: int) -> Iterator[None]:
        """Seed Python, NumPy and the backend at once, for this thread's model alone."""
        with _SEEDING:
            _keras().utils.set_random_seed(seed)
            yield

    def fit(  # noqa: PLR0913
        self,
        model: Any,
        train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray],
        training: dict[str, Any],
        seed: int,
        *,
        crops: CropPartners | None = None,
        name: str = "model",
    ) -> tuple[Any, History]:
        """Fit with early stopping on the validation loss, keeping the best epoch's weights.

        Training batches are shuffled and augmented anew each epoch (seeded); the validation
        split is scored as it is. One log line per epoch, named ``name``.
        """
        from gtzan_kedro.models.keras_batches import EpochLog, TrainingBatches  # noqa: PLC0415

        keras = _keras()
        n_classes = int(model.output_shape[-1])
        batches = TrainingBatches(
            *train,
            n_classes=n_classes,
            batch_size=training["batch_size"],
            augmentation=training.get("augmentation") or {},
            seed=seed,
            crops=crops,
        )
        schedule = training.get("schedule", "constant")
        learning_rate = training["learning_rate"]
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=training["early_stopping_patience"],
                restore_best_weights=True,
            ),
            EpochLog(name),
        ]
        if schedule == "cosine":
            learning_rate = keras.optimizers.schedules.CosineDecay(
                learning_rate, decay_steps=training["epochs"] * len(batches)
            )
        elif schedule == "plateau":
            callbacks.append(
                keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
            )
        model.compile(
            # Decoupled weight decay (AdamW); 0 is Adam.
            optimizer=keras.optimizers.AdamW(
                learning_rate=learning_rate, weight_decay=training.get("weight_decay", 0.0)
            ),
            loss=keras.losses.CategoricalCrossentropy(
                label_smoothing=training.get("label_smoothing", 0.0)
            ),
            metrics=["accuracy"],
            jit_compile=training.get("jit_compile", "auto"),
        )
        validation_examples, validation_labels = validation
        history = model.fit(
            batches,
            validation_data=(
                np.asarray(validation_examples),
                np.eye(n_classes, dtype=np.float32)[np.asarray(validation_labels)],
            ),
            validation_batch_size=training["batch_size"],
            epochs=training["epochs"],
            # The batches shuffle themselves, seeded; Keras would reorder them with Python's
            # global generator, which threads training other models draw from too.
            shuffle=False,
            callbacks=callbacks,
            # EpochLog's lines instead: Keras' do not say which model they are about.
            verbose=0,
        )
        epochs = {
            name: [float(value) for value in values]
            for name, values in history.history.items()
            if name != "learning_rate"
        }
        logger.info(
            "Trained %d epochs; kept the weights of epoch %d.",
            len(epochs["val_loss"]),
            int(np.argmin(epochs["val_loss"])) + 1,
        )
        return model, epochs

    def predict_proba(self, model: Any, examples: np.ndarray, n_classes: int) -> np.ndarray:
        """The softmax output, the examples padded to whole batches: a batch of another size
        would make TensorFlow trace the model again (about as slow as predicting, and each
        retrace is reported as a warning)."""
        examples = np.asarray(examples)
        padding = -len(examples) % PREDICT_BATCH_SIZE
        padded = np.concatenate(
            [examples, np.zeros((padding, *examples.shape[1:]), examples.dtype)]
        )
        probabilities = model.predict(padded, batch_size=PREDICT_BATCH_SIZE, verbose=0)
        return probabilities[: len(examples)].astype(np.float32)

    def save(self, model: Any, folder: Path) -> None:
        """Keras' native ``.keras`` file."""
        model.save(folder / self.file_name)

    def load(self, folder: Path) -> Any:
        """Load the ``.keras`` file, compiled state left out (only prediction follows)."""
        # Registers the project's own Keras classes (the fine-tuning model) before loading.
        import gtzan_kedro.models.fine_tuning  # noqa: F401, PLC0415

        model = _keras().saving.load_model(folder / self.file_name, compile=False)
        # A loaded model predicts a clip or a batch of tracks, once: compiling its predict
        # step with XLA would take longer than predicting (about 2 s per cold start).
        model.jit_compile = False
        return model


class SklearnAdapter:
    """scikit-learn estimators with ``predict_proba``; saved with joblib (a pickle)."""

    file_name = "model.joblib"

    @contextmanager
    def seeded(self, seed: int) -> Iterator[None]:
        """Nothing global: estimators take ``random_state`` when they are fitted."""
        yield

    def fit(  # noqa: PLR0913
        self,
        model: Any,
        train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray],
        training: dict[str, Any],
        seed: int,
        *,
        crops: CropPartners | None = None,
        name: str = "model",
    ) -> tuple[Any, History]:
        """Fit in one step on the training examples; the history is that one step's scores.

        Augmentation (``crops`` included) is the Keras batches': an estimator sees each
        example once, as it is.
        """
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        model.fit(np.asarray(train[0]), train[1])
        (loss, accuracy), (val_loss, val_accuracy) = (
            self._scores(model, *split) for split in (train, validation)
        )
        history = {
            "loss": [loss],
            "accuracy": [accuracy],
            "val_loss": [val_loss],
            "val_accuracy": [val_accuracy],
        }
        return model, history

    def _scores(self, model: Any, examples: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """Cross-entropy and accuracy of ``model`` on labelled examples, as Keras reports them."""
        # Imported here: scoring is training's; predicting with any model starts without it.
        from sklearn.metrics import accuracy_score, log_loss  # noqa: PLC0415

        labels = np.asarray(labels)
        n_classes = int(max(model.classes_.max(), labels.max())) + 1
        probabilities = self.predict_proba(model, examples, n_classes)
        loss = log_loss(labels, probabilities, labels=np.arange(n_classes))
        return float(loss), float(accuracy_score(labels, probabilities.argmax(axis=1)))

    def predict_proba(self, model: Any, examples: np.ndarray, n_classes: int) -> np.ndarray:
        """``predict_proba``, with a zero column for any class the estimator never saw."""
        probabilities = np.zeros((len(examples), n_classes), dtype=np.float32)
        probabilities[:, model.classes_] = model.predict_proba(np.asarray(examples))
        return probabilities

    def save(self, model: Any, folder: Path) -> None:
        """joblib's pickle of the estimator."""
        joblib.dump(model, folder / self.file_name)

    def load(self, folder: Path) -> Any:
        """Unpickle the estimator: only ever from a store the project wrote (a pickle runs code)."""
        return joblib.load(folder / self.file_name)


FRAMEWORKS: dict[str, FrameworkAdapter] = {"keras": KerasAdapter(), "sklearn": SklearnAdapter()}


def get_adapter(framework: str) -> FrameworkAdapter:
    """The adapter of ``framework``, or fail listing the known ones."""
    try:
        return FRAMEWORKS[framework]
    except KeyError:
        raise ValueError(
            f"Unknown framework '{framework}'. Known: {', '.join(sorted(FRAMEWORKS))}."
        ) from None
