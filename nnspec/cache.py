"""nnspec's cache folder: the parser's tables for the grammar, the records' compiled code."""

from __future__ import annotations

import os


def folder() -> str:
    """NNSPEC_CACHE_DIR, else `nnspec` in the user's cache folder (XDG_CACHE_HOME or ~/.cache)."""
    given = os.environ.get("NNSPEC_CACHE_DIR")
    if given:
        return given
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnspec")
