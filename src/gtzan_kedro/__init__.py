"""gtzan-kedro: music-genre classification on GTZAN as Kedro pipelines."""

__version__ = "0.1.0"
