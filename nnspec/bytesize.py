"""Sizes in bytes as people write them ("512MB", "8GB", "1.5GiB") and as nnspec shows them."""

from __future__ import annotations

import re

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.I)
EXAMPLE = '"512MB", "8GB" or "1.5GiB"'


def parse(text: str) -> int | None:
    """Bytes (rounded down), or None for a string that is not a size of at least one byte."""
    match = _SIZE.fullmatch(text)
    if match is None or match.group(2).lower() not in UNITS:
        return None
    number, unit = match.group(1), UNITS[match.group(2).lower()]
    whole, _, fraction = number.partition(".")
    # exact for any number of digits: no float rounding of "1.1GB"
    value = (int(whole or 0) * 10 ** len(fraction) + int(fraction or 0)) * unit // 10 ** len(fraction)
    return value if value >= 1 else None


def show(n: int) -> str:
    """Decimal units, as "Params size (MB)": 1 KB = 1,000 bytes."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"
