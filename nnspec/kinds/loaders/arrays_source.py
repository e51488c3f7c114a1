"""NumPy .npy/.npz files, never unpickled."""

import os

import numpy as np
import torch


class ArrayRows:
    """The samples of an .npy, memory-mapped and read from disk when indexed.

    `labels` are the targets, loaded whole. Each process maps the file itself: pickling this
    for a worker copies the path, not the array.
    """

    def __init__(self, path, options):
        self.path, self.x = path, None
        self.labels = torch.from_numpy(np.ascontiguousarray(_checked(path, self._features(), _targets(path, options))))

    def _features(self):
        if self.x is None:
            self.x = np.load(self.path, mmap_mode="r", allow_pickle=False)
        return self.x

    def __getstate__(self):
        return {**self.__dict__, "x": None}

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return torch.from_numpy(np.array(self._features()[i], dtype=np.float32))


def open_source(path, options):
    if path.endswith(".npz"):
        raise DataError("E514", f"{path}: an .npz is read whole; save the features as .npy, with targets_path")
    return ArrayRows(path, options)


def load_source(path, options):
    """An .npz with arrays named `features` and `targets`, or an .npy of features plus `targets_path`."""
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as arrays:
            for key in (options["features"], options["targets"]):
                if key not in arrays:
                    raise DataError("E502", f"{path}: no array {key!r}; arrays: {', '.join(arrays.files)}")
            x, y = arrays[options["features"]], arrays[options["targets"]]
    else:
        x, y = np.load(path, allow_pickle=False), _targets(path, options)
    y = _checked(path, x, y)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(np.ascontiguousarray(y))


def _targets(path, options):
    """The .npy of targets beside an .npy of features."""
    targets = os.path.join(os.path.dirname(path), options["targets_path"] or "")
    if not options["targets_path"] or not os.path.isfile(targets):
        raise DataError("E501", f"{path}: an .npy source needs targets_path, a second .npy of targets")
    return np.load(targets, allow_pickle=False)


def _checked(path, x, y):
    """`y`, once features and targets are known to fit together."""
    if len(x) != len(y):
        raise DataError("E504", f"{path}: {len(x)} samples but {len(y)} targets")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError("E511", f"{path}: features are {x.dtype}, not numbers")
    return y
