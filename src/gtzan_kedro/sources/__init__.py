"""Where raw clips come from: the embedded generator and real GTZAN copies."""
