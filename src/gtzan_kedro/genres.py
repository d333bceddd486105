"""The GTZAN genre vocabulary, in GTZAN's own order (label index = position)."""

GENRES: tuple[str, ...] = (
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

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".au", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}
)


def label_of(genre: str) -> int:
    """Return the label index of a GTZAN genre name."""
    return GENRES.index(genre)
