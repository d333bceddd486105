"""The registered model's card: its facts as registry tags, and the same facts as Markdown.

The reporting pipeline sets the tags below on every registered version of the model and
uses :func:`model_card_markdown` of those tags as the version's description, so anything
that reads a version's tags (``MlflowClient().get_model_version_by_alias``) can show the
same card. Tags are strings; lists and tables among them are JSON.

Tags (``*`` only after cross-validation, ``**`` only when the model was trained again on
all tracks after it):

- ``architecture``, ``builder``, ``feature_set``: what was trained.
- ``feature_recipe``: JSON ``{"extractor", "params", "window"}`` of the feature set.
- ``pretrained``: JSON ``{argument: {"file", "licence"}}`` of the feature set's pretrained
  inputs (``{}`` when none).
- ``labels``: JSON ``{label: tracks}``, the label set in the model's order with each
  label's usable tracks.
- ``data_source``: the folder of ``data/01_raw`` the clips came from (``generated``, ``gtzan``).
- ``data_fingerprint``, ``split_fingerprint``, ``test_tracks_fingerprint``: hashes of the
  tracks, of their split, and of the tracks scored.
- ``split_strategy``: ``feature_engineering.split.strategy``.
- ``track_accuracy``, ``track_macro_f1`` (each with ``_ci_low`` and ``_ci_high``),
  ``track_ece``, ``track_brier``, ``confidence_level``, ``test_tracks``: test track scores
  (out of fold under cross-validation).
- ``per_label_f1``: JSON ``{label: F1}`` on the test tracks.
- ``folds``\\*, ``fold_<k>_track_accuracy``\\*: each fold's accuracy.
- ``refit``: ``true`` when the registered model was trained on all tracks;
  ``refit_train_tracks``\\*\\*, ``refit_validation_tracks``\\*\\*, ``temperature``\\*\\*.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

KFOLD_STRATEGIES = ("kfold", "artist_kfold")
ARTIST_FILTERED_STRATEGIES = ("artist_filtered", "artist_kfold")


def model_card_markdown(tags: Mapping[str, str]) -> str:
    """A short Markdown model card from a registered version's tags."""
    labels = json.loads(tags.get("label_counts", "{}"))
    per_label_f1 = json.loads(tags.get("per_label_f1", "{}"))
    recipe = json.loads(tags.get("feature_recipe", "{}"))
    pretrained = json.loads(tags.get("pretrained", "{}"))
    level = f"{float(tags.get('confidence_level', 0.95)):.0%}"
    cross_validated = tags.get("split_strategy") in KFOLD_STRATEGIES
    scored_on = (
        f"out-of-fold predictions of {tags.get('folds', '?')} folds, every track tested once"
        if cross_validated
        else "the held-out test tracks"
    )
    lines = [
        f"# Genre classifier: {tags.get('architecture', '?')}",
        "",
        f"Builder `{tags.get('builder', '?')}` on the feature set `{tags.get('feature_set', '?')}`"
        f"{_trained_on(tags)}.",
        "",
        "## Data",
        f"- Source: `{tags.get('data_source', '?')}` (data fingerprint "
        f"`{tags.get('data_fingerprint', '?')}`, split `{tags.get('split_fingerprint', '?')}`).",
        f"- Split strategy: `{tags.get('split_strategy', '?')}`.",
        f"- {len(labels)} labels (usable tracks): "
        + ", ".join(f"{label} ({count})" for label, count in labels.items())
        + ".",
        "",
        f"## Scores on {tags.get('test_tracks', '?')} tracks ({scored_on})",
        f"- Track accuracy {_with_interval(tags, 'track_accuracy')}, macro F1 "
        f"{_with_interval(tags, 'track_macro_f1')} ({level} bootstrap intervals).",
        f"- Calibration: ECE {_number(tags, 'track_ece')} (15 bins of top-1 confidence), "
        f"Brier score {_number(tags, 'track_brier')}.",
    ]
    folds = sorted(
        (name for name in tags if name.startswith("fold_") and name.endswith("_track_accuracy")),
        key=lambda name: int(name.split("_")[1]),
    )
    if folds:
        lines.append(
            "- Accuracy per fold: " + ", ".join(f"{float(tags[name]):.3f}" for name in folds) + "."
        )
    if per_label_f1:
        lines += [
            "",
            "| label | F1 |",
            "| --- | ---: |",
            *(f"| {label} | {f1:.2f} |" for label, f1 in per_label_f1.items()),
        ]
    lines += [
        "",
        "## Features",
        f"- Extractor `{recipe.get('extractor', '?')}` with parameters "
        f"`{json.dumps(recipe.get('params', {}), sort_keys=True)}`, windows "
        f"`{json.dumps(recipe.get('window'))}`.",
    ]
    lines += [
        f"- Pretrained `{argument}`: `{details.get('file', '?')}`, licence: "
        f"{details.get('licence', 'unknown')} (its notice travels inside the model artefact)."
        for argument, details in pretrained.items()
    ] or ["- No pretrained weights."]
    lines += ["", "## Known limitations", *(f"- {line}" for line in limitations(tags))]
    return "\n".join(lines) + "\n"


def limitations(tags: Mapping[str, str]) -> list[str]:
    """What a user of this model should know it cannot do, from its tags."""
    found = []
    source, strategy = tags.get("data_source"), tags.get("split_strategy")
    if source == "generated":
        found.append(
            "Trained and scored on synthetic clips from the embedded generator: the scores say "
            "nothing about real recordings."
        )
    if source == "gtzan" and strategy not in ARTIST_FILTERED_STRATEGIES:
        found.append(
            "GTZAN repeats artists and has replicated, mislabelled and distorted clips "
            "(Sturm, 2013); this split is not artist-filtered, so the same artist can be in "
            "training and test and the scores are optimistic. Use "
            "`feature_engineering.split.strategy: artist_filtered` or `artist_kfold`."
        )
    if tags.get("refit") == "true":
        found.append(
            "The scores are cross-validated estimates for models trained on fewer tracks; the "
            "registered model was trained on all of them and has no held-out score of its own."
        )
    found += [
        "Every clip gets one of the labels above, even music that is none of them.",
        "Probabilities are calibrated on validation tracks of the same collection; on other "
        "recordings they can be over- or under-confident.",
    ]
    return found


def _trained_on(tags: Mapping[str, str]) -> str:
    """How the registered model's training tracks were chosen."""
    if tags.get("refit") == "true":
        return (
            f", trained after cross-validation on all tracks ({tags.get('refit_train_tracks')} "
            f"for training, {tags.get('refit_validation_tracks')} for early stopping and "
            f"calibration; temperature {_number(tags, 'temperature')})"
        )
    return ""


def _number(tags: Mapping[str, str], name: str) -> str:
    """A tag as a number with three decimals, or ``?``."""
    return f"{float(tags[name]):.3f}" if name in tags else "?"


def _with_interval(tags: Mapping[str, str], name: str) -> str:
    """``0.830 [0.750, 0.900]`` from a score's tags."""
    return (
        f"{_number(tags, name)} [{_number(tags, f'{name}_ci_low')}, "
        f"{_number(tags, f'{name}_ci_high')}]"
    )
