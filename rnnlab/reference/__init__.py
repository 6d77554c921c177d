"""Reference implementations used as test oracles and as readable from-scratch code."""
