"""Bootstrap intervals and McNemar tests of track predictions, independent of how they were split."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import f1_score

from gtzan_kedro.evaluation.statistics import (
    _macro_f1_along,
    bootstrap_interval,
    mcnemar_exact,
    score,
    track_scores_with_intervals,
)

N_GENRES = 10


def predictions(n_tracks: int, accuracy: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True labels and predictions right on about ``accuracy`` of the tracks, wrong genre else."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_GENRES, n_tracks)
    wrong = (labels + rng.integers(1, N_GENRES, n_tracks)) % N_GENRES
    return labels, np.where(rng.random(n_tracks) < accuracy, labels, wrong)


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
@pytest.mark.parametrize(("n_tracks", "accuracy"), [(12, 0.5), (60, 0.8), (200, 0.3)])
def test_interval_contains_the_point_estimate(metric, n_tracks, accuracy):
    labels, predicted = predictions(n_tracks, accuracy, seed=n_tracks)

    low, high = bootstrap_interval(labels, predicted, metric, seed=1)

    assert low < score(labels, predicted, metric) < high


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
@pytest.mark.parametrize("accuracy", [1.0, 0.0])
def test_all_right_or_all_wrong_gives_an_interval_at_the_point_estimate(metric, accuracy):
    labels, predicted = predictions(30, accuracy, seed=3)

    low, high = bootstrap_interval(labels, predicted, metric, seed=1)

    assert low == high == score(labels, predicted, metric) == accuracy


def test_interval_narrows_with_more_tracks():
    widths = []
    for n_tracks in (20, 100, 1000):
        labels, predicted = predictions(n_tracks, 0.7, seed=n_tracks)
        low, high = bootstrap_interval(labels, predicted, seed=1)
        widths.append(high - low)

    assert widths[0] > widths[1] > widths[2]
    # Binomial spread: about 2 * 1.96 * sqrt(0.7 * 0.3 / n), 0.40 wide for 20 tracks.
    assert widths[0] == pytest.approx(0.40, abs=0.1)
    assert widths[2] == pytest.approx(0.057, abs=0.01)


def test_95_percent_intervals_hold_the_true_accuracy_about_95_times_in_100():
    covered = 0
    for seed in range(100):
        labels, predicted = predictions(80, 0.7, seed=seed)
        low, high = bootstrap_interval(labels, predicted, seed=seed)
        covered += low <= 0.7 <= high

    assert 88 <= covered <= 99


def test_interval_is_reproducible_with_its_seed():
    labels, predicted = predictions(50, 0.6, seed=0)

    first = bootstrap_interval(labels, predicted, seed=7)

    assert bootstrap_interval(labels, predicted, seed=7) == first
    assert bootstrap_interval(labels, predicted, seed=8) != first


def test_mcnemar_on_a_known_table_is_the_exact_binomial_test_of_the_discordant_tracks():
    # 30 tracks both right, 1 only a right, 9 only b right, 10 both wrong.
    both, only_a, only_b, neither = 30, 1, 9, 10
    labels = np.zeros(both + only_a + only_b + neither, dtype=int)
    a_right = np.repeat([True, True, False, False], [both, only_a, only_b, neither])
    b_right = np.repeat([True, False, True, False], [both, only_a, only_b, neither])
    predicted_a, predicted_b = np.where(a_right, 0, 3), np.where(b_right, 0, 5)

    p_value = mcnemar_exact(labels, predicted_a, predicted_b)

    assert p_value == pytest.approx(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    assert p_value == pytest.approx(0.021484375)  # 2 * (1 + 10) / 2**10
    assert mcnemar_exact(labels, predicted_b, predicted_a) == pytest.approx(p_value)


def test_mcnemar_without_disagreement_finds_no_difference():
    labels, predicted = predictions(40, 0.6, seed=2)
    other_mistakes = np.where(predicted == labels, labels, (predicted + 1) % N_GENRES)

    assert mcnemar_exact(labels, predicted, other_mistakes) == 1.0


def test_track_scores_carry_both_metrics_with_their_intervals():
    labels, predicted = predictions(60, 0.7, seed=4)

    scores = track_scores_with_intervals(labels, predicted, seed=1)

    assert scores["track_accuracy"] == pytest.approx(np.mean(labels == predicted))
    for metric in ("track_accuracy", "track_macro_f1"):
        assert scores[f"{metric}_ci_low"] < scores[metric] < scores[f"{metric}_ci_high"]
    assert scores["track_macro_f1_ci_low"] != scores["track_accuracy_ci_low"]


def test_resampled_macro_f1_is_scikit_learns_on_every_resample():
    # Resamples may miss a genre among the labels or the predictions, or both.
    rng = np.random.default_rng(5)
    labels, predicted = predictions(15, 0.6, seed=6)
    picks = rng.integers(0, len(labels), size=(300, len(labels)))

    resampled = _macro_f1_along(labels[picks], predicted[picks], axis=-1)

    expected = [f1_score(labels[p], predicted[p], average="macro", zero_division=0) for p in picks]
    np.testing.assert_allclose(resampled, expected, rtol=0, atol=1e-12)
