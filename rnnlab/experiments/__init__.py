"""Experiments that reproduce the classic results about recurrent networks."""
