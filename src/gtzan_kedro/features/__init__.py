"""Per-track featurisation: what turns one clip into features, and where that runs."""
