"""Looking inside: traces of gates and hidden states, gradient flow, plots."""
