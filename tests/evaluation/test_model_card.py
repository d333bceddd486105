"""The model card: the registered version's tags rendered as Markdown."""

from __future__ import annotations

import json

from gtzan_kedro.evaluation.model_card import model_card_markdown

TAGS = {
    "architecture": "musicnn_probe",
    "builder": "musicnn_probe",
    "feature_set": "musicnn",
    "feature_recipe": json.dumps(
        {"extractor": "musicnn", "params": {"layers": ["max_pool"]}, "window": None}
    ),
    "pretrained": json.dumps(
        {"weights": {"file": "MSD_musicnn.weights.h5", "licence": "ISC (musicnn-LICENSE.md)"}}
    ),
    "label_counts": json.dumps({"jazz": 100, "rock": 99}),
    "data_source": "gtzan",
    "data_fingerprint": "abc123",
    "split_fingerprint": "def456",
    "split_strategy": "stratified",
    "test_tracks": "40",
    "track_accuracy": "0.8250",
    "track_accuracy_ci_low": "0.7000",
    "track_accuracy_ci_high": "0.9250",
    "track_macro_f1": "0.8200",
    "track_macro_f1_ci_low": "0.6900",
    "track_macro_f1_ci_high": "0.9200",
    "track_ece": "0.0412",
    "track_brier": "0.2500",
    "per_label_f1": json.dumps({"jazz": 0.85, "rock": 0.79}),
    "refit": "false",
}


def test_the_card_shows_labels_scores_features_and_licence():
    card = model_card_markdown(TAGS)

    assert card.startswith("# Genre classifier: musicnn_probe\n")
    assert "2 labels (usable tracks): jazz (100), rock (99)." in card
    assert "Track accuracy 0.825 [0.700, 0.925], macro F1 0.820 [0.690, 0.920]" in card
    assert "ECE 0.041" in card and "Brier score 0.250" in card
    assert "| rock | 0.79 |" in card
    assert "`MSD_musicnn.weights.h5`, licence: ISC (musicnn-LICENSE.md)" in card
    assert "Source: `gtzan` (data fingerprint `abc123`" in card


def test_gtzan_without_an_artist_filtered_split_is_warned_about():
    stratified = model_card_markdown(TAGS)
    artist = model_card_markdown(TAGS | {"split_strategy": "artist_filtered"})

    assert "repeats artists" in stratified
    assert "repeats artists" not in artist


def test_a_refit_card_gives_the_folds_and_how_the_model_was_trained():
    card = model_card_markdown(
        TAGS
        | {
            "split_strategy": "artist_kfold",
            "folds": "3",
            "fold_1_track_accuracy": "0.8",
            "fold_2_track_accuracy": "0.7",
            "fold_3_track_accuracy": "0.9",
            "refit": "true",
            "refit_train_tracks": "170",
            "refit_validation_tracks": "29",
            "temperature": "1.4",
        }
    )

    assert "out-of-fold predictions of 3 folds" in card
    assert "Accuracy per fold: 0.800, 0.700, 0.900." in card
    assert "all tracks (170 for training, 29 for early stopping and calibration" in card
    assert "no held-out score of its own" in card
