"""Nodes of the reporting pipeline: compare the architectures on their test tracks."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.errors import InputError
from gtzan_kedro.evaluation.statistics import mcnemar_exact, track_scores_with_intervals
from gtzan_kedro.labels import check_same_labels
from gtzan_kedro.project_config import feature_set_of

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = ("track_id", "label", "predicted")


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
    Columns: the architecture's builder and feature set, the scores and their bootstrap intervals,
    ``n_tracks``, ``p_vs_runner_up`` and ``significantly_better_than_runner_up`` (best row
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
        f"Track scores with their {level} bootstrap intervals (tracks resampled); p-values of "
        "exact McNemar tests on the test tracks both architectures predicted.",
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


def _with_interval(row: Any, metric: str) -> str:
    """``0.83 [0.75, 0.90]``: a score and its interval."""
    low, high = getattr(row, f"{metric}_ci_low"), getattr(row, f"{metric}_ci_high")
    return f"{getattr(row, metric):.2f} [{low:.2f}, {high:.2f}]"


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
            label=metric.replace("_", " "),
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


def choose_champion(  # noqa: PLR0913, PLR0917 - Kedro passes one positional input per dataset
    comparison: pd.DataFrame,
    current_champion: dict[str, Any] | None,
    track_splits: pd.DataFrame,
    label_set: dict[str, Any],
    architectures: dict[str, dict[str, Any]],
    promote: str,
) -> dict[str, Any]:
    """Register the best architecture; move ``champion`` unless the current one scored higher.

    Scores are compared only on the same test tracks, and the champion only moves between
    models of the same labels; ``promote: always`` moves it anyway.
    """
    best = comparison.iloc[0]
    name = best["architecture"]
    # Under cross-validation every track is a test track once.
    tested = track_splits["split"] == "test" if "split" in track_splits else track_splits.index >= 0
    test_tracks = _fingerprint(track_splits.loc[tested, ["track_id", "path"]])
    tags = {
        "architecture": name,
        "builder": architectures[name]["builder"],
        "feature_set": feature_set_of(architectures[name]),
        "track_accuracy": f"{best['track_accuracy']:.4f}",
        "data_fingerprint": _fingerprint(track_splits[["track_id", "path", "duration_s"]]),
        "split_fingerprint": _fingerprint(track_splits.drop(columns=["path", "duration_s"])),
        "test_tracks_fingerprint": test_tracks,
        "labels": ", ".join(label_set["labels"]),
        "label_set_fingerprint": label_set["fingerprint"],
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
        return {"architecture": name, "tags": tags, "promote": False}
    beaten = (
        current_champion is not None
        and current_champion.get("test_tracks_fingerprint") == test_tracks
        and float(current_champion.get("track_accuracy", "nan")) > best["track_accuracy"]
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
    return {"architecture": name, "tags": tags, "promote": not beaten or promote == "always"}


def _other_labels(current_champion: dict[str, Any] | None, label_set: dict[str, Any]) -> bool:
    """Whether the champion was trained on another label set (older versions do not say)."""
    recorded = (current_champion or {}).get("label_set_fingerprint")
    return recorded is not None and recorded != label_set["fingerprint"]
