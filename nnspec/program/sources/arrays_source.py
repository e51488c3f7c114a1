"""NumPy .npy/.npz files, never unpickled."""

import os
import zipfile

import numpy as np
import torch

from nnspec.program.errors import DataError
from nnspec.program.samples import Samples
from nnspec.program.sources.array_shapes import check_features, check_targets


class ArrayRows:
    """The samples of an .npy, memory-mapped and read from disk when indexed.

    `labels` are the targets, loaded whole. Each process maps the file itself: pickling this
    for a worker copies the path, not the array.
    """

    def __init__(self, path, targets_path):
        self.path, self.x = path, None
        self.labels = _array_labels(
            path, self._features(), _npy_targets(path, targets_path)
        )

    def _features(self):
        if self.x is None:
            self.x = _array_features(self.path, _np_load(self.path, mmap_mode="r"))
        return self.x

    def __getstate__(self):
        return {**self.__dict__, "x": None}

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        # one sample, in the file's dtype
        return torch.from_numpy(np.array(self._features()[i]))


def open_numpy_arrays(path, features="features", targets="targets", targets_path=None):
    """The rows of an .npy as a dataset, each read when a batch needs it."""
    if path.endswith(".npz"):
        message = f"{path}: an .npz is read whole; save the features as .npy, with targets_path"
        raise DataError("E514", message)
    rows = ArrayRows(path, targets_path)
    return Samples(rows, rows.labels, path)


def load_numpy_arrays(path, features="features", targets="targets", targets_path=None):
    """An .npz with arrays named `features` and `targets`, or an .npy of features and `targets_path`."""
    if path.endswith(".npz"):
        arrays = _np_load(path)
        with arrays:
            for key in (features, targets):
                if key not in arrays:
                    message = f"{path}: no array {key!r}; the arrays are {', '.join(arrays.files)}"
                    raise DataError("E502", message)
            x, y = (
                _npz_member(arrays, features, path),
                _npz_member(arrays, targets, path),
            )
    else:
        x, y = _np_load(path), _npy_targets(path, targets_path)
    x = _array_features(path, x)
    return Samples(
        torch.from_numpy(np.ascontiguousarray(x)), _array_labels(path, x, y), path
    )


def _np_load(path, **options):
    """np.load that never unpickles; a file that is not NumPy's is an error naming it."""
    try:
        return np.load(path, allow_pickle=False, **options)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        message = f"{path}: not a NumPy .npy/.npz file that loads without pickle ({e})"
        raise DataError("E501", message) from None


def _npz_member(arrays, key, path):
    try:
        return arrays[key]
    except (
        ValueError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
    ) as e:  # object arrays, a torn member
        message = f"{path}: array {key!r} does not load without pickle ({e})"
        raise DataError("E501", message) from None


def _npy_targets(path, targets_path):
    """The .npy of targets beside an .npy of features."""
    targets = os.path.join(os.path.dirname(path), targets_path or "")
    if not targets_path or not os.path.isfile(targets):
        message = f"{path}: an .npy source needs targets_path, a second .npy of targets"
        raise DataError("E501", message)
    return _np_load(targets)


def _array_features(path, x):
    check_features(path, x.shape, x.dtype)
    return x


def _array_labels(path, x, y):
    """Targets as a tensor (numbers) or a list of text (string labels), once they fit the features."""
    check_targets(path, len(x), y.shape, y.dtype)
    if y.dtype.kind in "US":
        return [str(label) for label in y]
    return torch.from_numpy(np.ascontiguousarray(y))
