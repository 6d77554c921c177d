"""Errors that reach the user as one line: the CLI prints their message and exits non-zero, without a traceback."""

from __future__ import annotations


class RnnlabError(Exception):
    """A problem with the user's input, data or files; the message says what is wrong and what would be right."""
