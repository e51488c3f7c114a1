"""Checks on NumPy arrays by their shape and dtype alone: lint reads them from file headers,
programs from the loaded arrays; the rules are these, once."""

from nnspec.program.errors import DataError


def check_features(path, shape, dtype):
    if len(shape) == 0 or shape[0] == 0:
        message = f"{path}: the features are of shape {tuple(shape)}: no samples"
        raise DataError("E504", message)
    if dtype.kind not in "biuf":
        raise DataError("E511", f"{path}: the features are {dtype}, not numbers")


def check_targets(path, samples, shape, dtype):
    if len(shape) == 0 or shape[0] != samples:
        message = f"{path}: {samples} samples but targets of shape {tuple(shape)}"
        raise DataError("E504", message)
    if dtype.kind in "US" and len(shape) != 1:
        message = f"{path}: text targets of shape {tuple(shape)}: one label per sample is expected"
        raise DataError("E517", message)
    if dtype.kind not in "biufUS":
        raise DataError("E511", f"{path}: the targets are {dtype}, not numbers or text")
