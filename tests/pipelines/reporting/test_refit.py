"""After cross-validation the best architecture is trained on all tracks and registered.

One tiny 3-fold project (``kfold_project``): modelling of two fast architectures, reporting
with the refit, then reporting again with ``reporting.refit=false``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gtzan_kedro.evaluation.model_card import model_card_markdown
from tests.pipelines.conftest import KfoldProject
from tests.pipelines.modelling.conftest import _merge, run_session
from tests.pipelines.modelling.test_end_to_end import artifacts, mlflow_run

ARCHITECTURES = ["mlp", "svm"]
TRAINING = {"modelling": {"training": {"epochs": 2, "batch_size": 16}}}


@pytest.mark.slow
def test_the_refit_model_is_registered_with_the_cross_validated_figures(
    kfold_project: KfoldProject,
):
    project = kfold_project.path
    params = _merge(kfold_project.params, TRAINING)
    run_session(project, ["modelling"], params, namespaces=ARCHITECTURES)
    run_session(project, ["reporting"], params)

    client, reporting = mlflow_run(project, "reporting kfold")
    _, modelling = mlflow_run(project, "modelling[mlp,svm] kfold")
    comparison = pd.read_csv(project / "data" / "08_reporting" / "architecture_comparison.csv")
    best = comparison.iloc[0]
    champion = client.get_model_version_by_alias("genre_classifier", "champion")
    tags = champion.tags

    # The registered model is the one the reporting run trained on all tracks ...
    assert champion.run_id == reporting.info.run_id
    logged = client.search_logged_models([reporting.info.experiment_id])
    assert {model.name for model in logged if model.source_run_id == reporting.info.run_id} == {
        f"{best['architecture']}_refit"
    }
    assert tags["architecture"] == best["architecture"] and tags["refit"] == "true"
    assert int(tags["refit_train_tracks"]) + int(tags["refit_validation_tracks"]) == 30
    card = json.loads(
        (project / "data" / "06_models" / "refit" / "genre_classifier.json").read_text()
    )
    assert card["architecture"] == best["architecture"]
    assert float(tags["temperature"]) == pytest.approx(card["temperature"], abs=1e-4)
    # ... while each fold's model stays in the modelling run.
    per_fold = client.search_logged_models([modelling.info.experiment_id])
    assert sum(model.source_run_id == modelling.info.run_id for model in per_fold) == 6

    # Its tags carry the cross-validated figures and the data's fingerprints.
    assert float(tags["track_accuracy"]) == pytest.approx(best["track_accuracy"], abs=1e-4)
    assert float(tags["track_accuracy_ci_low"]) <= float(tags["track_accuracy"])
    assert float(tags["track_accuracy"]) <= float(tags["track_accuracy_ci_high"])
    predictions = pd.read_parquet(
        project / "data" / "07_model_output" / best["architecture"] / "track_predictions.parquet"
    )
    right = (predictions["label"] == predictions["predicted"]).groupby(predictions["fold"]).mean()
    assert tags["folds"] == "3"
    assert [float(tags[f"fold_{fold}_track_accuracy"]) for fold in (1, 2, 3)] == pytest.approx(
        right.tolist(), abs=1e-4
    )
    assert {"data_fingerprint", "split_fingerprint", "test_tracks_fingerprint"} <= set(tags)
    assert tags["split_strategy"] == "kfold" and tags["data_source"] == "generated"
    assert sum(json.loads(tags["label_counts"]).values()) == 30
    assert float(tags["track_ece"]) == pytest.approx(best["track_ece"], abs=1e-4)

    # The description is the model card of those tags.
    assert champion.description == model_card_markdown(tags)
    assert "synthetic clips" in champion.description
    assert {"representation_map.png", "architecture_comparison.png"} <= artifacts(
        client, reporting.info.run_id
    )
    assert f"{best['architecture']}/reliability.png" in artifacts(
        client, modelling.info.run_id, best["architecture"]
    )

    # reporting.refit=false registers the best architecture's last fold model, as before.
    run_session(project, ["reporting"], _merge(params, {"reporting": {"refit": False}}))
    latest = max(
        client.search_model_versions("name = 'genre_classifier'"), key=lambda v: int(v.version)
    )
    assert latest.run_id == modelling.info.run_id
    assert latest.tags["refit"] == "false" and latest.tags["folds"] == "3"
    # An equal score on the same tracks takes the alias over: nothing scored higher.
    assert (
        client.get_model_version_by_alias("genre_classifier", "champion").version == latest.version
    )
