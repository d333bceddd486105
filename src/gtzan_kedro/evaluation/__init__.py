"""How sure the scores are: bootstrap intervals and paired significance tests on test tracks."""
