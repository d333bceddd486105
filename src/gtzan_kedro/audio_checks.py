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


def not_finite(samples: np.ndarray) -> str | None:
    """Return why a clip's samples are unusable when some are NaN or infinite, else ``None``."""
    finite = np.isfinite(samples)
    if finite.all():
        return None
    bad = finite.size - int(np.count_nonzero(finite))
    return f"{bad} of its {finite.size} samples are NaN or infinite (a damaged float file)"


def silent(samples: np.ndarray, silence_db: float, parameter: str) -> str | None:
    """Return why a clip is silent, or ``None`` when its loudest sample reaches ``silence_db``.

    The level is taken around the clip's mean, so that a constant signal (a DC offset, no
    sound at all) is as silent as digital silence.
    """
    level = peak_dbfs(samples)
    if level < silence_db:
        return f"its loudest sample is at {level:.0f} dBFS, below {parameter} ({silence_db} dBFS)"
    mean = float(np.mean(samples, dtype=np.float64))
    swing = peak_dbfs(np.array([samples.max() - mean, mean - samples.min()]))
    if swing >= silence_db:
        return None
    return (
        f"it is a constant level ({mean:+.3f}, a DC offset) with no sound: it varies by at most "
        f"{swing:.0f} dBFS, below {parameter} ({silence_db} dBFS)"
    )
