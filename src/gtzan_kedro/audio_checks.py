"""The checks a clip passes before it is trained on or classified: one set for both."""

from __future__ import annotations

import numpy as np


def peak_dbfs(samples: np.ndarray) -> float:
    """Return the loudest sample's level in dB full scale (-200 for digital silence)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * np.log10(max(peak, 1e-10))


def too_short(seconds: float, min_seconds: float, parameter: str) -> str | None:
    """Return why a clip of ``seconds`` is too short, or ``None`` when it is long enough."""
    if seconds >= min_seconds:
        return None
    return f"{seconds:.2f} s long, and at least {min_seconds} s ({parameter}) are needed"


def silent(samples: np.ndarray, silence_db: float, parameter: str) -> str | None:
    """Return why a clip is silent, or ``None`` when its loudest sample reaches ``silence_db``."""
    level = peak_dbfs(samples)
    if level >= silence_db:
        return None
    return f"its loudest sample is at {level:.0f} dBFS, below {parameter} ({silence_db} dBFS)"
