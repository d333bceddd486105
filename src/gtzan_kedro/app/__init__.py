"""``gtzan-kedro app``: a web page where a person drops audio files and sees their genres."""
