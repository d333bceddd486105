"""ECE, Brier score and reliability bins against a case worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.evaluation.calibration import (
    brier_score,
    calibration_scores,
    class_probabilities,
    expected_calibration_error,
    reliability_table,
)

# Four tracks, three labels. Top-1 confidences 0.72 and 0.70 fall in bin 10 of 15
# ((0.667, 0.733]): one right, one wrong; 0.90 in bin 13, right; 0.42 in bin 6, wrong.
LABELS = np.array([0, 1, 0, 2])
PROBABILITIES = np.array(
    [
        [0.72, 0.18, 0.10],
        [0.70, 0.20, 0.10],
        [0.90, 0.05, 0.05],
        [0.23, 0.42, 0.35],
    ]
)


def test_ece_is_the_track_weighted_gap_between_accuracy_and_confidence_per_bin():
    # bin 10: 2/4 * |0.5 - 0.71|; bin 13: 1/4 * |1 - 0.9|; bin 6: 1/4 * |0 - 0.42|.
    expected = 0.5 * 0.21 + 0.25 * 0.1 + 0.25 * 0.42

    assert expected_calibration_error(LABELS, PROBABILITIES) == pytest.approx(expected)
    assert expected == pytest.approx(0.235)


def test_brier_score_sums_the_squared_errors_over_labels_and_averages_over_tracks():
    per_track = [
        0.28**2 + 0.18**2 + 0.10**2,
        0.70**2 + 0.80**2 + 0.10**2,
        0.10**2 + 0.05**2 + 0.05**2,
        0.23**2 + 0.42**2 + 0.65**2,
    ]

    assert brier_score(LABELS, PROBABILITIES) == pytest.approx(np.mean(per_track))
    assert brier_score(LABELS, PROBABILITIES) == pytest.approx(0.4819)


def test_reliability_bins_hold_their_tracks_accuracy_and_mean_confidence():
    bins = reliability_table(LABELS, PROBABILITIES)

    assert len(bins) == 15 and bins["tracks"].sum() == 4
    assert bins.loc[10, ["tracks", "accuracy", "confidence"]].tolist() == pytest.approx(
        [2, 0.5, 0.71]
    )
    assert bins.loc[13, "accuracy"] == 1.0 and bins.loc[6, "accuracy"] == 0.0
    assert bins["accuracy"].isna().sum() == 12  # empty bins have no accuracy


def test_a_perfectly_calibrated_case_has_no_error_and_the_interval_holds_the_point():
    # Ten tracks at 80% confidence, eight of them right.
    probabilities = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)

    scores = calibration_scores(labels, probabilities, resamples=1000, seed=0)

    assert scores["track_ece"] == pytest.approx(0.0)
    assert scores["track_ece_ci_low"] <= scores["track_ece"] <= scores["track_ece_ci_high"]
    assert scores["track_ece_ci_high"] > 0  # resampled tracks are not exactly 80% right


def test_class_probabilities_are_the_label_columns_of_a_predictions_table():
    table = pd.DataFrame(
        {"track_id": ["a"], "label": [0], "predicted": [0], "x": [0.6], "y": [0.4], "fold": [1]}
    )

    assert list(class_probabilities(table).columns) == ["x", "y"]
