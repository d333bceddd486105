"""A predictions table is never replaced by predictions over other labels."""

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from gtzan_kedro.datasets.table import PredictionTableDataset
from gtzan_kedro.errors import input_error_in
from gtzan_kedro.models.prediction import prediction_columns


def predictions(labels: list[str]) -> pd.DataFrame:
    """A one-row prediction table over ``labels``, as ``classify_clips`` writes it."""
    row = dict.fromkeys(prediction_columns(labels, 1))
    row |= {"file": "song.wav", "status": "ok", "genre_1": labels[0], "probability_1": 1.0}
    row |= {label: float(index == 0) for index, label in enumerate(labels)}
    return pd.DataFrame([row])


@pytest.mark.parametrize("name", ["table.csv", "table.json"])
def test_predictions_of_other_labels_leave_the_table_as_it_is(tmp_path: Path, name: str):
    path = tmp_path / name
    dataset = PredictionTableDataset(filepath=str(path))
    dataset.save(predictions(["blues", "rock"]))
    written = path.read_bytes()

    with pytest.raises(DatasetError) as raised:
        dataset.save(predictions(["techno", "house", "ambient"]))

    # What `gtzan-kedro predict` and `kedro run` print as the one line of the error.
    assert str(input_error_in(raised.value)).endswith(
        "holds predictions over the labels blues, rock; this model predicts techno, house, "
        "ambient: write to another file (--output, inference.output) or move that one away."
    )
    assert path.read_bytes() == written
    dataset.save(predictions(["blues", "rock"]).assign(file="other.wav"))
    assert list(dataset.load()["file"]) == ["other.wav"]
