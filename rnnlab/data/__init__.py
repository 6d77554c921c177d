"""Data: one module per kind (series, text, pairs), and the built-in datasets."""
