"""The comparison of architectures: intervals, significance, Markdown and chart."""

from __future__ import annotations

import io
import logging
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from gtzan_kedro.errors import InputError
from gtzan_kedro.evaluation.statistics import mcnemar_exact
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.pipelines.reporting.nodes import (
    choose_champion,
    compare_architectures,
    comparison_markdown,
    plot_comparison,
)
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES

SEED = 42
LABEL_SET = make_label_set(list(GENRES), "generated")
# As conf/base/parameters_reporting.yml, with fewer resamples: macro F1 costs one
# scikit-learn call per resample, and the interval's quality is tested in tests/evaluation.
# Every architecture's block, as compare_architectures reads it (builder and feature set).
ARCHITECTURES = defaultdict(lambda: {"builder": "a builder", "features": "a feature set"})
REPORTING = {
    "rank_by": ["track_accuracy", "track_macro_f1"],
    "chart_metrics": ["track_accuracy", "track_macro_f1", "track_ece"],
    "baseline": "svm",
    "alpha": 0.05,
    "bootstrap": {"resamples": 50, "confidence": 0.95},
}


def track_predictions(right: list[bool], tracks: range | None = None) -> pd.DataFrame:
    """A predictions table as modelling writes it: right or wrong genre for each test track."""
    tracks = tracks if tracks is not None else range(len(right))
    labels = np.array([index % len(GENRES) for index in tracks])
    predicted = np.where(right, labels, (labels + 1) % len(GENRES))
    probabilities = np.eye(len(GENRES))[predicted]
    return pd.DataFrame(
        {
            "track_id": [
                f"{GENRES[label]}.{index:05d}" for label, index in zip(labels, tracks, strict=True)
            ],
            "label": labels,
            "predicted": predicted,
            **{genre: probabilities[:, column] for column, genre in enumerate(GENRES)},
        }
    )


def right_on(n_right: int, n_tracks: int = 40) -> list[bool]:
    """The first ``n_right`` of ``n_tracks`` predicted right, the others wrong."""
    return [index < n_right for index in range(n_tracks)]


def test_architectures_are_ranked_by_track_accuracy_with_intervals_around_each_score():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        lstm=track_predictions(right_on(24)),
        svm=track_predictions(right_on(30)),
        gru=track_predictions(right_on(24)[::-1]),  # as accurate as lstm, other genres right
    )

    assert list(comparison["architecture"])[0] == "svm"
    assert comparison["track_accuracy"].tolist() == [0.75, 0.6, 0.6]
    assert comparison["track_macro_f1"].iloc[1] >= comparison["track_macro_f1"].iloc[2]
    assert comparison["n_tracks"].tolist() == [40, 40, 40]
    for metric in ("track_accuracy", "track_macro_f1"):
        assert (comparison[f"{metric}_ci_low"] < comparison[metric]).all()
        assert (comparison[metric] < comparison[f"{metric}_ci_high"]).all()


def test_the_same_seed_gives_the_same_comparison():
    tables = {"mlp": track_predictions(right_on(25)), "svm": track_predictions(right_on(22))}

    first = compare_architectures(REPORTING, ARCHITECTURES, SEED, LABEL_SET, **tables)

    pd.testing.assert_frame_equal(
        compare_architectures(REPORTING, ARCHITECTURES, SEED, LABEL_SET, **tables), first
    )


def test_architectures_never_evaluated_are_left_out_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        comparison = compare_architectures(
            REPORTING,
            ARCHITECTURES,
            SEED,
            LABEL_SET,
            svm=track_predictions(right_on(20)),
            tcn=None,
            cnn=None,
        )

    assert list(comparison["architecture"]) == ["svm"]
    assert "cnn, tcn" in caplog.text
    assert "--namespaces cnn,tcn" in caplog.text


def test_nothing_evaluated_is_an_error():
    with pytest.raises(InputError, match="run the modelling pipeline first"):
        compare_architectures(REPORTING, ARCHITECTURES, SEED, LABEL_SET, svm=None)


def test_a_best_right_on_every_track_the_runner_up_missed_is_significantly_better():
    # 20 tracks both right, 20 only mlp right: the McNemar test sees 20 discordant tracks.
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        mlp=track_predictions(right_on(40)),
        svm=track_predictions(right_on(20)),
    )

    best = comparison.iloc[0]
    assert best["architecture"] == "mlp"
    assert best["p_vs_runner_up"] == pytest.approx(binomtest(0, 20, 0.5).pvalue)
    assert best["significantly_better_than_runner_up"]
    assert comparison["p_vs_runner_up"].iloc[1:].isna().all()
    assert not comparison["significantly_better_than_runner_up"].iloc[1:].any()


def test_a_best_ahead_by_one_track_is_not_significantly_better():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        mlp=track_predictions(right_on(21)),
        svm=track_predictions(right_on(20)),
        gru=track_predictions(right_on(10)),
    )

    assert comparison["architecture"].iloc[0] == "mlp"
    assert comparison["p_vs_runner_up"].iloc[0] == pytest.approx(1.0)
    assert not comparison["significantly_better_than_runner_up"].iloc[0]


def test_each_architecture_is_tested_against_the_baseline():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        strong=track_predictions(right_on(38)),
        svm=track_predictions(right_on(20)),
        close=track_predictions(right_on(23)),
        weak=track_predictions(right_on(5)),
    ).set_index("architecture")

    assert comparison.loc["strong", "beats_baseline"]
    assert comparison.loc["strong", "p_vs_baseline"] < 0.05
    assert not comparison.loc["close", "beats_baseline"]  # better, but by 3 tracks of 40
    assert comparison.loc["close", "p_vs_baseline"] == pytest.approx(binomtest(0, 3).pvalue)
    assert not comparison.loc["weak", "beats_baseline"]  # significant, but worse
    assert comparison.loc["weak", "p_vs_baseline"] < 0.05
    assert np.isnan(comparison.loc["svm", "p_vs_baseline"])
    assert not comparison.loc["svm", "beats_baseline"]


def test_architectures_evaluated_on_different_tracks_are_tested_on_the_tracks_both_predicted(
    caplog,
):
    svm = track_predictions(right_on(15, 30), tracks=range(30))
    mlp = track_predictions(right_on(30, 40), tracks=range(10, 50))  # 20 tracks shared

    with caplog.at_level(logging.WARNING):
        comparison = compare_architectures(
            REPORTING, ARCHITECTURES, SEED, LABEL_SET, svm=svm, mlp=mlp
        )

    shared = svm.merge(mlp, on=["track_id", "label"], suffixes=("_svm", "_mlp"))
    expected = mcnemar_exact(shared["label"], shared["predicted_mlp"], shared["predicted_svm"])
    assert comparison.set_index("architecture").loc["mlp", "p_vs_baseline"] == expected
    assert "on the 20 test tracks both predicted (of 40 and 30)" in caplog.text


def test_markdown_shows_intervals_and_what_is_significant():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        mlp=track_predictions(right_on(40)),
        svm=track_predictions(right_on(20)),
        gru=track_predictions(right_on(22)),
    )
    # The Markdown node reads the comparison back from its CSV file.
    saved = pd.read_csv(io.StringIO(comparison.to_csv(index=False)))

    markdown = comparison_markdown(saved, REPORTING)
    lines = markdown.splitlines()

    header = (
        "| rank | architecture | track accuracy [95% CI] | track macro F1 [95% CI] "
        "| ECE [95% CI] | test tracks | p vs runner-up | p vs svm | beats svm |"
    )
    assert header in lines
    first = next(line for line in lines if line.startswith("| 1 |"))
    low, high = comparison.loc[0, ["track_accuracy_ci_low", "track_accuracy_ci_high"]]
    assert f"| 1 | mlp | 1.00 [{low:.2f}, {high:.2f}] |" in first
    assert first.endswith("| 40 | < 0.001 | < 0.001 | yes |")
    # Certain of every track (probability 1): the ECE is the share of tracks it got wrong.
    assert "| 0.000 [0.000, 0.000] | 40 |" in first
    assert next(line for line in lines if "| svm |" in line).count("| 0.500 [") == 1
    assert lines.index(header) < lines.index(next(line for line in lines if "| svm |" in line))
    assert next(line for line in lines if "| svm |" in line).endswith("| – | – | baseline |")
    assert "**mlp** is significantly better than the runner-up **gru**" in markdown
    assert "Significantly better than the baseline **svm**" in markdown
    assert markdown.rstrip().endswith(": mlp.")


def test_markdown_says_when_nothing_is_significant_or_the_baseline_is_missing():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        mlp=track_predictions(right_on(21)),
        gru=track_predictions(right_on(20)),
        svm=None,
    )

    markdown = comparison_markdown(comparison, REPORTING)

    assert "**mlp** is not significantly better than the runner-up **gru**" in markdown
    assert "The baseline **svm** was not evaluated" in markdown
    assert "| 1 | mlp |" in markdown
    assert markdown.splitlines()[6].endswith("| – | – |")


def test_chart_draws_each_interval_as_an_error_bar_best_first():
    comparison = compare_architectures(
        REPORTING,
        ARCHITECTURES,
        SEED,
        LABEL_SET,
        lstm=track_predictions(right_on(24)),
        svm=track_predictions(right_on(30)),
    )

    figure = plot_comparison(comparison, REPORTING["chart_metrics"], LABEL_SET)
    axes = figure.axes[0]

    assert [label.get_text() for label in axes.get_xticklabels()] == ["svm", "lstm"]
    bars = [container for container in axes.containers if hasattr(container, "errorbar")]
    assert len(bars) == 3  # one group per metric, one bar per architecture
    for metric, container in zip(REPORTING["chart_metrics"], bars, strict=True):
        assert [bar.get_height() for bar in container] == pytest.approx(comparison[metric])
        segments = container.errorbar.lines[2][0].get_segments()
        assert [segment[0][1] for segment in segments] == pytest.approx(
            comparison[f"{metric}_ci_low"]
        )
        assert [segment[1][1] for segment in segments] == pytest.approx(
            comparison[f"{metric}_ci_high"]
        )


def test_predictions_over_other_labels_are_refused_with_what_to_do():
    other = make_label_set(["techno", "house", "ambient"], "local")

    with pytest.raises(
        InputError,
        match=r"svm_track_predictions was made for the labels blues, "
        r"classical.*now has techno, house, ambient: train it again",
    ):
        compare_architectures(
            REPORTING, ARCHITECTURES, SEED, other, svm=track_predictions(right_on(20))
        )


def champion_choice(current: dict | None, label_set: dict, promote: str = "auto") -> dict:
    """What ``choose_champion`` decides for a comparison won by svm at 0.5 accuracy."""
    predictions = track_predictions(right_on(20))
    comparison = compare_architectures(REPORTING, ARCHITECTURES, SEED, LABEL_SET, svm=predictions)
    splits = pd.DataFrame(
        {
            "track_id": predictions["track_id"],
            "path": [f"generated/{track}.wav" for track in predictions["track_id"]],
            "duration_s": 1.0,
            "label": predictions["label"],
            "split": "test",
        }
    )
    recipe = {"extractor": "an extractor", "params": {}, "window": None}
    return choose_champion(
        comparison,
        current,
        splits,
        label_set,
        architectures=ARCHITECTURES,
        feature_engineering={
            "feature_sets": {"a feature set": recipe},
            "split": {"strategy": "stratified"},
        },
        pretrained_inputs={},
        promote=promote,
        svm_track_predictions=predictions,
    )


def test_the_champion_only_moves_between_models_of_the_same_labels(caplog):
    three = make_label_set(["techno", "house", "ambient"], "local")
    first = champion_choice(None, LABEL_SET)
    champion = {"version": 1, **first["tags"], "track_accuracy": "0.1"}

    with caplog.at_level(logging.WARNING):
        other_labels = champion_choice(champion, three)
    forced = champion_choice(champion, three, promote="always")
    same_labels = champion_choice(champion, LABEL_SET)

    assert first["promote"] and first["tags"]["labels"] == ", ".join(GENRES)
    assert other_labels["promote"] is False
    assert other_labels["tags"]["labels"] == "techno, house, ambient"
    assert "does not replace the champion (version 1, 'svm')" in caplog.text
    assert "this one techno, house, ambient" in caplog.text
    assert forced["promote"] and same_labels["promote"]
