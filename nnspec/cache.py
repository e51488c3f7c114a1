"""nnspec's cache folder: the parser's tables for the grammar, the records' compiled code.

Each file is a marshal of plain values behind a CRC-32 of them, so that a file torn by a kill or
damaged on disk reads as absent (and is computed again) rather than as wrong tables or code.
"""

from __future__ import annotations

import marshal
import os
import zlib


def folder() -> str:
    """NNSPEC_CACHE_DIR, else `nnspec` in the user's cache folder (XDG_CACHE_HOME or ~/.cache)."""
    given = os.environ.get("NNSPEC_CACHE_DIR")
    if given:
        return given
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnspec")


def load(name: str):
    """The value kept as `name` in the folder, or None if there is none or it is damaged."""
    try:
        with open(os.path.join(folder(), name), "rb") as f:
            data = f.read()
    except OSError:
        return None
    body = data[4:]
    if len(data) < 4 or int.from_bytes(data[:4], "little") != zlib.crc32(body):
        return None
    try:
        return marshal.loads(body)
    except (EOFError, ValueError, TypeError):  # a right checksum over wrong bytes: written by another Python
        return None


def keep(name: str, value) -> None:
    """Write `value` as `name`, atomically; a folder nnspec cannot write only costs the next process time."""
    from nnspec.files import write_atomic

    body = marshal.dumps(value)
    try:
        os.makedirs(folder(), exist_ok=True)
        write_atomic(os.path.join(folder(), name), zlib.crc32(body).to_bytes(4, "little") + body)
    except OSError:
        pass
