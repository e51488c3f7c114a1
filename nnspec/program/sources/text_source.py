"""A text file as a character-level language-modelling task: windows and their next characters."""

import torch

from nnspec.program.errors import DataError
from nnspec.program.samples import Samples
from nnspec.program.sources.text import decoded, windows


def load_text(path, block_size, stride=None):
    """Windows of `block_size` characters as class indices (W, T), each paired with the
    characters one position on (W, T); the classes are the file's characters, sorted."""
    try:
        with open(path, "rb") as f:
            text = decoded(f.read(), path)
    except OSError as e:
        raise DataError("E501", f"{path}: cannot read it ({e.strerror or e})") from None
    vocabulary = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocabulary)}
    ids = torch.tensor([index[ch] for ch in text], dtype=torch.long)
    starts = torch.tensor(windows(len(text), block_size, stride or block_size, path))
    at = starts.unsqueeze(1) + torch.arange(block_size)  # (W, T): window positions
    return Samples(ids[at], ids[at + 1], path, classes=vocabulary)
