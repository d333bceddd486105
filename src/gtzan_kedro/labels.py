"""The label set: which labels a collection has, in order (a label's index is its position).

The source decides it (GTZAN's ten genres, the folder names found, FMA's top genres);
ingestion records it once as the ``label_set`` dataset and every later step reads it there.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gtzan_kedro.errors import InputError


def make_label_set(labels: list[str], source: str) -> dict[str, Any]:
    """The ``label_set`` dataset: the labels in order, their source and their fingerprint."""
    return {"labels": list(labels), "source": source, "fingerprint": labels_fingerprint(labels)}


def labels_fingerprint(labels: list[str]) -> str:
    """A short hash of the labels in order: two label sets are the same when it is."""
    return hashlib.sha256(json.dumps(list(labels)).encode()).hexdigest()[:16]


def configured_labels(ingestion: dict[str, Any]) -> list[str] | None:
    """``ingestion.labels``: a list of folder names, or ``None`` to take every folder found."""
    labels = ingestion.get("labels")
    if labels is None:
        return None
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise InputError(
            f"Invalid parameter ingestion.labels={labels!r}: give a list of folder names, e.g. "
            "[techno, house, ambient], or null for every folder found."
        )
    return labels


def check_same_labels(labels: list[str], expected: list[str], what: str, fix: str) -> None:
    """Fail with one line when ``what`` was made for other labels than the current ones."""
    if list(labels) != list(expected):
        raise InputError(
            f"{what} was made for the labels {', '.join(labels) or '(none recorded)'}, but the "
            f"track table now has {', '.join(expected)}: {fix}."
        )
