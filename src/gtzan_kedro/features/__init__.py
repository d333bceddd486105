"""Feature sets: one registered extractor function and one parameters block each.

Importing this package registers every extractor module listed below.
"""

from gtzan_kedro.features import log_mel, mfcc_stats, musicnn  # noqa: F401 - registers them
from gtzan_kedro.features.registry import (
    FEATURE_SETS,
    feature_set,
    featurise_clip,
    get_extractor,
)

__all__ = ["FEATURE_SETS", "feature_set", "featurise_clip", "get_extractor"]
