"""Text files as characters, read and checked without torch: lint and programs share it."""

from nnspec.program.errors import DataError


def decoded(data, path):
    """The file's characters; a byte that is not UTF-8 is named with its line."""
    try:
        # editors hide a byte-order mark
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            "E511", f"{path}:{line}: byte 0x{data[e.start]:02x} is not UTF-8 text"
        ) from None


def windows(length, block_size, stride, path):
    """Where each window of `block_size` characters starts, every `stride` characters, each
    followed by one more character (its last target)."""
    if length < block_size + 1:
        raise DataError(
            "E504",
            f"{path}: {length} characters, fewer than a window of {block_size} and its next one",
        )
    return list(range(0, length - block_size, stride))
