"""An array handed over piece by piece, so that its producer and its writer never hold it whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChunkedArray:
    """An array of ``shape`` and ``dtype`` given as consecutive chunks along its first axis.

    A node returns one when its output may not fit in memory; ``NumpyArrayDataset`` writes the
    chunks as they come. The chunks can be iterated once.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    chunks: Iterable[np.ndarray]
