"""Nodes of the reporting pipeline: compare the architectures on their test tracks."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.manifold import TSNE
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.errors import InputError
from gtzan_kedro.evaluation.calibration import calibration_scores, class_probabilities
from gtzan_kedro.evaluation.model_card import model_card_markdown
from gtzan_kedro.evaluation.statistics import mcnemar_exact, track_scores_with_intervals
from gtzan_kedro.features.preprocessing import track_examples
from gtzan_kedro.labels import check_same_labels
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.musicnn.wheel import licence_of
from gtzan_kedro.pipelines.modelling.nodes import (
    build_model,
    calibrate_model,
    package_classifier,
    train_model,
)
from gtzan_kedro.project_config import REFIT, feature_set_of

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = ("track_id", "label", "predicted")
# What a refit reads of its feature set (per feature set, in the refit's namespace).
REFIT_DATA = (
    "train_examples",
    "train_labels",
    "train_track_ids",
    "validation_examples",
    "validation_labels",
    "validation_track_ids",
    "normalisation",
)
# t-SNE needs a few points to place them relative to each other.
MIN_MAP_TRACKS = 5
# Scores of the comparison where a smaller value is the better one.
LOWER_IS_BETTER = ("track_ece",)


def compare_architectures(
    reporting: dict[str, Any],
    architectures: dict[str, dict[str, Any]],
    seed: int,
    label_set: dict[str, Any],
    **track_predictions: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per evaluated architecture, best first: scores with intervals, McNemar tests.

    ``track_predictions`` maps each architecture to its test tracks' predictions (None when
    it was never evaluated); predictions over other labels than ``label_set``'s are refused.
    Columns: the architecture's builder and feature set, the scores and their bootstrap intervals
    (accuracy, macro F1, ECE), the Brier score, ``n_tracks``, ``p_vs_runner_up`` and
    ``significantly_better_than_runner_up`` (best row
    only), ``p_vs_baseline`` and ``beats_baseline`` (better and ``p < alpha``).
    """
    evaluated = _evaluated(track_predictions)
    for name, predictions in evaluated.items():
        classes = [
            column for column in predictions.columns if column not in {*PREDICTION_COLUMNS, "fold"}
        ]
        check_same_labels(
            classes,
            label_set["labels"],
            f"{name}_track_predictions",
            f"train it again (`kedro run --pipeline modelling --namespaces {name}`)",
        )
    bootstrap = reporting["bootstrap"]
    rows = [
        {
            "architecture": architecture,
            "builder": architectures[architecture]["builder"],
            "features": feature_set_of(architectures[architecture]),
            **track_scores_with_intervals(
                predictions["label"],
                predictions["predicted"],
                resamples=bootstrap["resamples"],
                confidence=bootstrap["confidence"],
                seed=seed,
            ),
            **calibration_scores(
                predictions["label"],
                class_probabilities(predictions),
                resamples=bootstrap["resamples"],
                confidence=bootstrap["confidence"],
                seed=seed,
            ),
            "n_tracks": len(predictions),
        }
        for architecture, predictions in evaluated.items()
    ]
    comparison = _ranked(pd.DataFrame(rows), reporting["rank_by"])
    comparison = _with_runner_up_test(comparison, evaluated, reporting["alpha"])
    return _with_baseline_tests(comparison, evaluated, reporting["baseline"], reporting["alpha"])


def _evaluated(track_predictions: dict[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame]:
    """The architectures with predictions; warn about the others, fail if there are none."""
    evaluated = {name: table for name, table in track_predictions.items() if table is not None}
    missing = sorted(set(track_predictions) - set(evaluated))
    if missing:
        logger.warning(
            "Not compared, never evaluated: %s. Add them with `kedro run --pipeline modelling "
            "--namespaces %s`.",
            ", ".join(missing),
            ",".join(missing),
        )
    if not evaluated:
        raise InputError(
            "No architecture has been evaluated yet: run the modelling pipeline first "
            "(`kedro run --pipeline modelling`)."
        )
    for name, table in evaluated.items():
        absent = [column for column in PREDICTION_COLUMNS if column not in table]
        if absent:
            raise ValueError(f"{name}_track_predictions has no column {', '.join(absent)}.")
        if table["track_id"].duplicated().any():
            raise ValueError(f"{name}_track_predictions predicts some track more than once.")
    return evaluated


def _ranked(comparison: pd.DataFrame, rank_by: list[str]) -> pd.DataFrame:
    """The comparison sorted best first by ``rank_by``: the first score decides, then ties."""
    return comparison.sort_values(rank_by, ascending=False, kind="stable").reset_index(drop=True)


def _paired_test(
    first: pd.DataFrame, second: pd.DataFrame, names: tuple[str, str]
) -> tuple[float, bool]:
    """Exact McNemar p-value on the tracks both predicted, and whether ``first`` got more right."""
    shared = first.merge(second, on="track_id", suffixes=("_first", "_second"))
    if (shared["label_first"] != shared["label_second"]).any():
        raise ValueError(
            f"{names[0]} and {names[1]} disagree on the true genre of some test track: "
            "evaluate both on the same track table."
        )
    if len(shared) < max(len(first), len(second)):
        logger.warning(
            "%s and %s are compared on the %d test tracks both predicted (of %d and %d): "
            "evaluate them in one run for a comparison on the same tracks.",
            *names,
            len(shared),
            len(first),
            len(second),
        )
    labels = shared["label_first"]
    p_value = mcnemar_exact(labels, shared["predicted_first"], shared["predicted_second"])
    more_right = (shared["predicted_first"] == labels).sum() > (
        shared["predicted_second"] == labels
    ).sum()
    return p_value, bool(more_right)


def _with_runner_up_test(
    comparison: pd.DataFrame, evaluated: dict[str, pd.DataFrame], alpha: float
) -> pd.DataFrame:
    """Add the best's McNemar p-value against the runner-up, and whether it is significant."""
    comparison = comparison.assign(p_vs_runner_up=np.nan, significantly_better_than_runner_up=False)
    if len(comparison) < 2:
        return comparison
    best, runner_up = comparison["architecture"].iloc[:2]
    p_value, more_right = _paired_test(evaluated[best], evaluated[runner_up], (best, runner_up))
    comparison.loc[0, "p_vs_runner_up"] = p_value
    comparison.loc[0, "significantly_better_than_runner_up"] = more_right and p_value < alpha
    logger.info(
        "Best: %s; exact McNemar p = %.3g against the runner-up %s.", best, p_value, runner_up
    )
    return comparison


def _with_baseline_tests(
    comparison: pd.DataFrame, evaluated: dict[str, pd.DataFrame], baseline: str, alpha: float
) -> pd.DataFrame:
    """Add each architecture's McNemar p-value against the baseline and whether it beats it."""
    tests = {
        name: _paired_test(predictions, evaluated[baseline], (name, baseline))
        for name, predictions in evaluated.items()
        if baseline in evaluated and name != baseline
    }
    p_values = comparison["architecture"].map(lambda name: tests.get(name, (np.nan, False))[0])
    beats = comparison["architecture"].map(
        lambda name: name in tests and tests[name][1] and tests[name][0] < alpha
    )
    return comparison.assign(
        p_vs_baseline=p_values.astype(float), beats_baseline=beats.astype(bool)
    )


def comparison_markdown(comparison: pd.DataFrame, reporting: dict[str, Any]) -> str:
    """The comparison as Markdown: scores with intervals, then what is significant."""
    baseline, alpha = reporting["baseline"], reporting["alpha"]
    level = f"{reporting['bootstrap']['confidence']:.0%}"
    header = [
        "rank",
        "architecture",
        f"track accuracy [{level} CI]",
        f"track macro F1 [{level} CI]",
        f"ECE [{level} CI]",
        "test tracks",
        "p vs runner-up",
        f"p vs {baseline}",
        f"beats {baseline}",
    ]
    baseline_evaluated = baseline in set(comparison["architecture"])
    rows = [
        [
            str(rank),
            row.architecture,
            _with_interval(row, "track_accuracy"),
            _with_interval(row, "track_macro_f1"),
            _with_interval(row, "track_ece", digits=3),
            str(row.n_tracks),
            _p_value(row.p_vs_runner_up),
            _p_value(row.p_vs_baseline),
            _beats(row, baseline, baseline_evaluated),
        ]
        for rank, row in enumerate(comparison.itertuples(index=False), start=1)
    ]
    lines = [
        "# Architectures on the test tracks",
        "",
        f"Track scores with their {level} bootstrap intervals (tracks resampled); ECE is the "
        "expected calibration error of the top-1 confidence (15 bins; lower is better); "
        "p-values of exact McNemar tests on the test tracks both architectures predicted.",
        "",
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join(" --- " if column == "architecture" else " ---: " for column in header)
        + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        _runner_up_sentence(comparison, alpha),
        "",
        _baseline_sentence(comparison, baseline, alpha, baseline_evaluated),
    ]
    return "\n".join(lines) + "\n"


def _with_interval(row: Any, metric: str, digits: int = 2) -> str:
    """``0.83 [0.75, 0.90]``: a score and its interval."""
    low, high = getattr(row, f"{metric}_ci_low"), getattr(row, f"{metric}_ci_high")
    return f"{getattr(row, metric):.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _p_value(p_value: float) -> str:
    """A p-value to three decimals, or a dash where no test was run."""
    if pd.isna(p_value):
        return "–"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _beats(row: Any, baseline: str, baseline_evaluated: bool) -> str:
    """Whether the row's architecture beats the baseline, as the table shows it."""
    if row.architecture == baseline:
        return "baseline"
    if not baseline_evaluated:
        return "–"
    return "yes" if row.beats_baseline else "no"


def _runner_up_sentence(comparison: pd.DataFrame, alpha: float) -> str:
    """Whether the best architecture is significantly better than the runner-up."""
    if len(comparison) < 2:
        return f"Only **{comparison['architecture'].iloc[0]}** was evaluated: nothing to compare."
    best, runner_up = comparison["architecture"].iloc[:2]
    test = f"exact McNemar test, p = {_p_value(comparison['p_vs_runner_up'].iloc[0])}, α = {alpha}"
    if comparison["significantly_better_than_runner_up"].iloc[0]:
        return (
            f"**{best}** is significantly better than the runner-up **{runner_up}** on the "
            f"test tracks both predicted ({test})."
        )
    return (
        f"**{best}** is not significantly better than the runner-up **{runner_up}** ({test}): "
        "on these test tracks their order may be chance."
    )


def _baseline_sentence(
    comparison: pd.DataFrame, baseline: str, alpha: float, baseline_evaluated: bool
) -> str:
    """Which architectures beat the baseline significantly."""
    if not baseline_evaluated:
        return (
            f"The baseline **{baseline}** was not evaluated, so nothing is compared with it: "
            f"`kedro run --pipeline modelling --namespaces {baseline}`."
        )
    winners = comparison.loc[comparison["beats_baseline"].astype(bool), "architecture"].tolist()
    rule = f"higher accuracy on the same tracks and exact McNemar p < {alpha}"
    if not winners:
        return f"No architecture is significantly better than the baseline **{baseline}** ({rule})."
    return f"Significantly better than the baseline **{baseline}** ({rule}): {', '.join(winners)}."


def plot_comparison(
    comparison: pd.DataFrame, chart_metrics: list[str], label_set: dict[str, Any]
) -> Figure:
    """Grouped bars of ``chart_metrics`` per architecture with their intervals as error bars."""
    figure = Figure(figsize=(max(6, 1.2 * len(comparison)), 4.5))
    axes = figure.subplots()
    positions = np.arange(len(comparison))
    width = 0.8 / len(chart_metrics)
    for index, metric in enumerate(chart_metrics):
        values = comparison[metric].to_numpy(dtype=float)
        errors = np.vstack(
            [
                values - comparison[f"{metric}_ci_low"].to_numpy(dtype=float),
                comparison[f"{metric}_ci_high"].to_numpy(dtype=float) - values,
            ]
        )
        bars = axes.bar(
            positions + (index - (len(chart_metrics) - 1) / 2) * width,
            values,
            width,
            yerr=errors,
            capsize=3,
            error_kw={"elinewidth": 1},
            label=metric.replace("_", " ")
            + (" (lower is better)" if metric in LOWER_IS_BETTER else ""),
        )
        # Inside the bars: above them sit the error bars.
        axes.bar_label(bars, fmt="%.2f", fontsize=8, label_type="center")
    chance = 1 / len(label_set["labels"])
    axes.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    axes.set_xticks(positions, comparison["architecture"])
    axes.set(
        ylim=(0, 1.05),
        ylabel="score on the test tracks",
        title="Architectures, best first (error bars: bootstrap interval)",
    )
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


def _fingerprint(table: pd.DataFrame) -> str:
    """A short hash of a table's rows, for telling two sets of tracks apart."""
    rows = table.astype(str).sort_values(list(table.columns)).to_csv(index=False)
    return hashlib.sha256(rows.encode()).hexdigest()[:16]


def describe_pretrained_inputs(**feature_inputs: Any) -> dict[str, dict[str, str]]:
    """Each pretrained input (``<feature set>.<argument>``: its file) with its licence."""
    return {
        name: {"file": Path(path).name, "licence": licence_of(Path(path))}
        for name, path in feature_inputs.items()
    }


def choose_champion(  # noqa: PLR0913 - the comparison and the facts of its model card
    comparison: pd.DataFrame,
    current_champion: dict[str, Any] | None,
    track_splits: pd.DataFrame,
    label_set: dict[str, Any],
    *,
    architectures: dict[str, dict[str, Any]],
    feature_engineering: dict[str, Any],
    pretrained_inputs: dict[str, dict[str, str]],
    promote: str,
    refit: dict[str, Any] | None = None,
    **track_predictions: pd.DataFrame | None,
) -> dict[str, Any]:
    """Register the best architecture; move ``champion`` unless the current one scored higher.

    Scores are compared only on the same test tracks, and the champion only moves between
    models of the same labels; ``promote: always`` moves it anyway.
    The version's tags are the facts of its model card (``gtzan_kedro.evaluation.model_card``),
    its description that card. ``refit`` describes the model trained again on all tracks
    after cross-validation, which is then the one registered.
    """
    best = comparison.iloc[0]
    name = best["architecture"]
    tags = _champion_tags(
        best,
        track_predictions[f"{name}_track_predictions"],
        track_splits,
        architecture=architectures[name],
        feature_engineering=feature_engineering,
        pretrained_inputs=pretrained_inputs,
    ) | {
        "labels": ", ".join(label_set["labels"]),
        "label_set_fingerprint": label_set["fingerprint"],
    }
    logged_model = name
    if refit is not None:
        # The refit is logged as `<architecture>_refit` (catalog: refit_genre_classifier).
        logged_model = f"{name}_{REFIT}"
        tags |= {
            "refit": "true",
            "refit_train_tracks": str(refit["train_tracks"]),
            "refit_validation_tracks": str(refit["validation_tracks"]),
            "temperature": f"{refit['temperature']:.4f}",
        }
    if _other_labels(current_champion, label_set) and promote != "always":
        logger.warning(
            "'%s' is registered but does not replace the champion (version %s, '%s'): that one "
            "predicts other labels (%s), this one %s. Promote it anyway with `kedro run "
            "--pipeline reporting --params reporting.promote_champion=always`.",
            name,
            current_champion["version"],
            current_champion.get("architecture"),
            current_champion.get("labels"),
            tags["labels"],
        )
        return {
            "architecture": name,
            "model": logged_model,
            "tags": tags,
            "description": model_card_markdown(tags),
            "promote": False,
        }
    beaten = (
        current_champion is not None
        and current_champion.get("test_tracks_fingerprint") == tags["test_tracks_fingerprint"]
        # The tag holds 4 decimals: an equal score must not look higher once rounded up.
        and float(current_champion.get("track_accuracy", "nan")) > round(best["track_accuracy"], 4)
    )
    if beaten and promote != "always":
        logger.warning(
            "The champion (version %s, '%s', track accuracy %s) scored higher on the same test "
            "tracks than '%s' (%.4f): it stays champion. Promote anyway with `kedro run "
            "--pipeline reporting --params reporting.promote_champion=always`.",
            current_champion["version"],
            current_champion.get("architecture"),
            current_champion.get("track_accuracy"),
            name,
            best["track_accuracy"],
        )
    return {
        "architecture": name,
        "model": logged_model,
        "tags": tags,
        "description": model_card_markdown(tags),
        "promote": not beaten or promote == "always",
    }


def _other_labels(current_champion: dict[str, Any] | None, label_set: dict[str, Any]) -> bool:
    """Whether the champion was trained on another label set (older versions do not say)."""
    recorded = (current_champion or {}).get("label_set_fingerprint")
    return recorded is not None and recorded != label_set["fingerprint"]


def _champion_tags(  # noqa: PLR0913 - every fact of the model card
    best: pd.Series,
    predictions: pd.DataFrame,
    track_splits: pd.DataFrame,
    *,
    architecture: dict[str, Any],
    feature_engineering: dict[str, Any],
    pretrained_inputs: dict[str, dict[str, str]],
) -> dict[str, str]:
    """The registered version's tags: what was trained on what, and how well it scored."""
    feature_set = architecture["features"]
    recipe = feature_engineering["feature_sets"][feature_set]
    class_names = list(class_probabilities(predictions).columns)
    # Under cross-validation every track is a test track once.
    tested = track_splits["split"] == "test" if "split" in track_splits else track_splits.index >= 0
    label_counts = track_splits["label"].value_counts()
    per_label_f1 = f1_score(
        predictions["label"],
        predictions["predicted"],
        labels=range(len(class_names)),
        average=None,
        zero_division=0,
    )
    tags = {
        "architecture": best["architecture"],
        "builder": architecture["builder"],
        "feature_set": feature_set,
        "feature_recipe": json.dumps(
            {key: recipe.get(key) for key in ("extractor", "params", "window")}
        ),
        "pretrained": json.dumps(
            {
                argument: pretrained_inputs.get(f"{feature_set}.{argument}", {})
                for argument in recipe.get("inputs") or {}
            }
        ),
        "label_counts": json.dumps(
            {label: int(label_counts.get(index, 0)) for index, label in enumerate(class_names)}
        ),
        "data_source": _data_source(track_splits["path"]),
        "data_fingerprint": _fingerprint(track_splits[["track_id", "path", "duration_s"]]),
        "split_fingerprint": _fingerprint(track_splits.drop(columns=["path", "duration_s"])),
        "test_tracks_fingerprint": _fingerprint(track_splits.loc[tested, ["track_id", "path"]]),
        "split_strategy": feature_engineering["split"]["strategy"],
        "test_tracks": str(len(predictions)),
        "per_label_f1": json.dumps(
            {
                label: round(float(f1), 4)
                for label, f1 in zip(class_names, per_label_f1, strict=True)
            }
        ),
        "refit": "false",
    }
    for metric in ("track_accuracy", "track_macro_f1", "track_ece"):
        for suffix in ("", "_ci_low", "_ci_high"):
            tags[f"{metric}{suffix}"] = f"{best[metric + suffix]:.4f}"
    tags["track_brier"] = f"{best['track_brier']:.4f}"
    if "fold" in predictions:
        correct = predictions["label"] == predictions["predicted"]
        per_fold = correct.groupby(predictions["fold"]).mean()
        tags["folds"] = str(len(per_fold))
        tags |= {f"fold_{fold}_track_accuracy": f"{value:.4f}" for fold, value in per_fold.items()}
    return tags


def _data_source(paths: pd.Series) -> str:
    """The folders of ``data/01_raw`` the tracks came from (``generated``, ``gtzan``)."""
    return ", ".join(sorted({PurePosixPath(path).parts[0] for path in paths}))


def refit_best_architecture(
    comparison: pd.DataFrame,
    architectures: dict[str, dict[str, Any]],
    training: dict[str, Any],
    label_set: dict[str, Any],
    seed: int,
    **inputs: Any,
) -> tuple[GenreClassifier, dict[str, Any]]:
    """Train the comparison's best architecture again on all tracks, calibrate and package it.

    ``inputs`` are, per feature set, its examples, labels, track ids and statistics on the
    tracks of every fold (``<feature set>.train_examples``, ...) and its pretrained inputs
    (``<feature set>.<argument>``). Returns the model artefact and what it was trained on.
    """
    name = comparison["architecture"].iloc[0]
    block = architectures[name]
    feature_set = block["features"]
    data = {
        key.removeprefix(f"{feature_set}."): value
        for key, value in inputs.items()
        if key.startswith(f"{feature_set}.")
    }
    started = time.perf_counter()
    model = build_model(data["train_examples"], data["normalisation"], label_set, block, seed)
    model, _ = train_model(
        model,
        data["train_examples"],
        data["train_labels"],
        data["train_track_ids"],
        data["validation_examples"],
        data["validation_labels"],
        data["normalisation"],
        block,
        training,
        seed,
        name=f"{name}_refit",
    )
    temperature = calibrate_model(
        model,
        data["validation_examples"],
        data["validation_labels"],
        data["validation_track_ids"],
        label_set,
        block,
        training,
    )
    feature_inputs = {key: value for key, value in data.items() if key not in REFIT_DATA}
    classifier = package_classifier(
        model, data["normalisation"], block, name, temperature, **feature_inputs
    )
    summary = {
        "architecture": name,
        "train_tracks": len(np.unique(data["train_track_ids"])),
        "validation_tracks": len(np.unique(data["validation_track_ids"])),
        "temperature": temperature,
        "seconds": time.perf_counter() - started,
    }
    logger.info(
        "Trained '%s' again on all tracks (%d for training, %d for validation) in %.1f s.",
        name,
        summary["train_tracks"],
        summary["validation_tracks"],
        summary["seconds"],
    )
    return classifier, summary


def track_representations(
    track_features: dict[str, Callable[[], np.ndarray]],
    track_ids: pd.Series,
    window: dict[str, int] | None,
) -> np.ndarray:
    """Each track's examples averaged into one vector per track (over examples and frames)."""
    vectors = []
    for track_id in track_ids:
        examples = track_examples(track_features[track_id](), window)
        vectors.append(examples.reshape(-1, examples.shape[-1]).mean(axis=0))
    return np.stack(vectors)


def plot_representation_map(
    comparison: pd.DataFrame,
    architectures: dict[str, dict[str, Any]],
    feature_sets: dict[str, dict[str, Any]],
    seed: int,
    **inputs: Any,
) -> Figure:
    """t-SNE map of the test tracks in the best architecture's feature set, by true label.

    ``inputs`` hold each architecture's ``<name>_track_predictions`` and each feature set's
    ``<feature set>.track_features``; tracks the best architecture got wrong are circled.
    """
    name = comparison["architecture"].iloc[0]
    feature_set = architectures[name]["features"]
    predictions = inputs[f"{name}_track_predictions"]
    class_names = list(class_probabilities(predictions).columns)
    vectors = track_representations(
        inputs[f"{feature_set}.track_features"],
        predictions["track_id"],
        feature_sets[feature_set].get("window"),
    )
    figure = Figure(figsize=(8, 7))
    axes = figure.subplots()
    axes.set_title(f"Test tracks in the '{feature_set}' features of {name} (t-SNE)")
    if len(vectors) < MIN_MAP_TRACKS:
        axes.text(0.5, 0.5, "Too few test tracks for a map.", ha="center", va="center")
        axes.set_axis_off()
        return figure
    points = TSNE(
        n_components=2,
        # Perplexity must stay below the number of tracks; 30 is t-SNE's usual value.
        perplexity=min(30.0, (len(vectors) - 1) / 3),
        init="pca",
        random_state=seed,
    ).fit_transform(StandardScaler().fit_transform(vectors))
    labels = predictions["label"].to_numpy()
    colours = matplotlib.colormaps["tab20" if len(class_names) > 10 else "tab10"]
    for index, label in enumerate(class_names):
        chosen = labels == index
        if chosen.any():
            axes.scatter(*points[chosen].T, s=18, color=colours(index % colours.N), label=label)
    wrong = labels != predictions["predicted"].to_numpy()
    axes.scatter(
        *points[wrong].T,
        s=60,
        facecolors="none",
        edgecolors="black",
        linewidths=0.8,
        label=f"misclassified ({int(wrong.sum())})",
    )
    axes.set(xticks=[], yticks=[])
    axes.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    figure.tight_layout()
    return figure
