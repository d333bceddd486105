"""The audio file extensions the project reads (whatever libsndfile decodes)."""

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".au", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}
)
