"""Suggestions for misspelled names ("did you mean"); difflib is imported only when needed."""

from __future__ import annotations


def close_matches(name: str, candidates) -> list[str]:
    """The closest candidate, if any is close (as a list of zero or one)."""
    import difflib  # costs import time on every lint otherwise

    return difflib.get_close_matches(name, list(candidates), n=1)
