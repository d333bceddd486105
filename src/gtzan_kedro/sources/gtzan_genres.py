"""GTZAN's genre vocabulary, in GTZAN's own order: the label set of the GTZAN sources only."""

GTZAN_GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
