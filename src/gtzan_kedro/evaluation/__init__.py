"""Evaluation statistics: intervals and paired tests over track predictions."""
