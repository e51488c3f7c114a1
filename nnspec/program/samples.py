"""`Samples`: what a data source provides, before the program checks and encodes it."""

import os

from nnspec.program.errors import DataError


class Samples:
    """Features (N, ...) in the source's own dtype (a tensor, or a dataset read sample by sample
    when streamed), raw labels (a list of text or a tensor; None when the source has none), where
    they come from, the feature columns by name and the columns left unused (None for sources
    without named columns), and the classes' names when the source knows them (a text's
    characters)."""

    def __init__(self, x, labels, where, columns=None, unused=None, classes=None):
        self.x, self.labels, self.where = x, labels, where
        self.columns, self.unused, self.classes = columns, unused, classes

    def __len__(self):
        return len(self.x)


def data_file(root, path):
    """`path` under `root`, once it is a file or folder to read (a pipe or device never ends)."""
    full = os.path.normpath(os.path.join(root, path))
    if not os.path.exists(full):
        raise DataError("E501", f"{full}: no such file or folder")
    if not (os.path.isfile(full) or os.path.isdir(full)):
        message = "not a regular file or folder (pipes and devices are not read)"
        raise DataError("E501", f"{full}: {message}")
    return full


class Data:
    """The splits {name: (x, y)} and what checkpoints keep to read new data the same way."""

    def __init__(self, splits, classes, stats, columns, seed, fractions, samples):
        self.splits, self.classes, self.stats = splits, classes, stats
        self.columns, self.seed = columns, seed
        self.fractions, self.samples = fractions, samples

    def record(self):
        """What a checkpoint keeps to read data as this run did: plain values and tensors."""
        return {
            "columns": self.columns,
            "seed": self.seed,
            "split": dict(self.fractions),
            "samples": self.samples,
        }
