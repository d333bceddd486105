"""musicnn, the pretrained network under both feature sets and models: its wheel and weights
(:mod:`.wheel`), and the network with its preprocessing (:mod:`.network`)."""
