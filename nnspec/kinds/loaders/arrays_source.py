"""NumPy .npy/.npz files, never unpickled."""

import os

import numpy as np
import torch


def load_source(path, options):
    """An .npz with arrays named `features` and `targets`, or an .npy of features plus `targets_path`."""
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as arrays:
            for key in (options["features"], options["targets"]):
                if key not in arrays:
                    raise DataError("E502", f"{path}: no array {key!r}; arrays: {', '.join(arrays.files)}")
            x, y = arrays[options["features"]], arrays[options["targets"]]
    else:
        targets = os.path.join(os.path.dirname(path), options["targets_path"] or "")
        if not options["targets_path"] or not os.path.isfile(targets):
            raise DataError("E501", f"{path}: an .npy source needs targets_path, a second .npy of targets")
        x, y = np.load(path, allow_pickle=False), np.load(targets, allow_pickle=False)
    if len(x) != len(y):
        raise DataError("E504", f"{path}: {len(x)} samples but {len(y)} targets")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError("E511", f"{path}: features are {x.dtype}, not numbers")
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(np.ascontiguousarray(y))
