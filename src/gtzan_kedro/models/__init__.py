"""Trained models: the one genre-classifier artefact and the framework adapters behind it."""
