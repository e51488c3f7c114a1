"""The samples checked against the contract, targets encoded, split with a seed, normalized."""

import torch
from torch import nn

from nnspec.program.contract import (
    binary_problem,
    class_problem,
    declared_problem,
    input_problem,
    real_problem,
    split_counts,
    split_problem,
)
from nnspec.program.errors import DataError
from nnspec.program.samples import Data
from nnspec.program.targets import class_indices, facts, numbers, numeric

# Settings: each program writes the spec's values here.
SPLIT = {"train": 0.8, "val": 0.2}
INPUT_SHAPE = (8,)  # per sample; a text dim is symbolic (any size)
INPUT_DTYPE = "float"  # or "long"
OUTPUT_SHAPE = (2,)  # the model's output per sample
TARGETS = "index"  # how the loss takes targets: "index", "one_hot", "binary" or "real"
NUM_CLASSES = None  # the data section's num_classes: at least as many as the labels
NORMALIZE = "none"  # or "standard", "minmax", "channels" (MEAN and STD per channel)
MEAN = None  # per image channel: normalize = "imagenet", or the data section's mean and std
STD = None
BATCH_SIZE = 32
DROP_LAST = False
# the model has batch norm over (N, C): a batch of 1 cannot train it
BATCH_STATISTICS = False


def prepare_data(samples, seed, fractions=None):
    """Check and encode `samples`, split them with `seed` (and the spec's fractions unless others
    are given), normalize with training statistics."""
    fractions = fractions or SPLIT
    x = model_input(samples.x, samples.where)
    y, classes = encode_targets(samples.labels, samples.where)
    if samples.classes is not None:  # the source names them: a text's characters
        classes = [*samples.classes, *classes[len(samples.classes) :]]
    splits = split(x, y, seed, fractions, samples.where)
    stats = normalization(splits["train"][0])
    if NORMALIZE != "none":
        splits = {name: (scaled(x, stats), y) for name, (x, y) in splits.items()}
    return Data(splits, classes, stats, samples.columns, seed, fractions, len(x))


def model_input(x, where):
    """Features in the dtype the model takes, once their shape and values fit its input."""
    integral = not x.is_floating_point() or bool(torch.equal(x, x.round()))
    values = "integers" if integral else "reals"
    problem = input_problem(tuple(x.shape[1:]), values, INPUT_SHAPE, INPUT_DTYPE)
    if problem:
        raise DataError(problem[0], f"{where}: {problem[1]}")
    if INPUT_DTYPE == "long":
        return x.long()
    if not torch.isfinite(x).all():
        raise DataError("E511", f"{where}: the features hold NaN or infinite values")
    return x.float()


def encode_targets(labels, where):
    """(targets as the loss takes them, class names or None), once they fit the contract."""
    if labels is None:
        raise DataError("E502", f"{where}: the data has no targets")
    found = facts(labels)
    if TARGETS in ("index", "one_hot"):
        problem = class_problem(found, OUTPUT_SHAPE)
    if TARGETS in ("index", "one_hot") and NUM_CLASSES is not None:
        problem = problem or declared_problem(found, NUM_CLASSES)
    if TARGETS == "binary":
        problem = binary_problem(found, OUTPUT_SHAPE)
    if TARGETS == "real":
        problem = real_problem(found, OUTPUT_SHAPE)
    if problem:
        raise DataError(problem[0], f"{where}: {problem[1]}")
    if TARGETS == "real":
        return numbers(labels).float().reshape(len(labels), *OUTPUT_SHAPE), None
    if TARGETS == "binary" and (not isinstance(labels, list) or numeric(labels)):
        return numbers(labels).float().reshape(len(labels), *OUTPUT_SHAPE), ["0", "1"]
    y, classes = class_indices(labels, OUTPUT_SHAPE[-1])
    if TARGETS == "index":
        return y, classes
    if TARGETS == "one_hot":
        return nn.functional.one_hot(y, len(classes)).float(), classes
    return y.float().reshape(len(y), *OUTPUT_SHAPE), classes


def split(x, y, seed, fractions, where):
    """Disjoint train/val/test subsets in these proportions; the same for the same seed."""
    counts = split_counts(len(x), fractions)
    problem = split_problem(counts, BATCH_SIZE, DROP_LAST, BATCH_STATISTICS)
    if problem:
        raise DataError(problem[0], f"{where}: {problem[1]}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    splits, start = {}, 0
    for name, count in counts.items():
        index = order[start : start + count]
        splits[name] = (x[index], y[index])
        start += count
    return splits


def normalization(train):
    """Shift and scale from the training split only (no leak from val/test); kept in checkpoints."""
    if NORMALIZE == "none":
        return None
    if NORMALIZE == "channels":
        return channel_statistics()
    if NORMALIZE == "standard":
        shift, scale = train.mean(0), train.std(0, unbiased=False)
    if NORMALIZE == "minmax":
        shift, scale = train.amin(0), train.amax(0) - train.amin(0)
    # constant features stay as they are
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return {"shift": shift, "scale": scale}


def channel_statistics():
    """The spec's mean and deviation per channel, shaped (C, 1, 1) for images of any size."""
    return {
        "shift": torch.tensor(MEAN).view(-1, 1, 1),
        "scale": torch.tensor(STD).view(-1, 1, 1),
    }


def scaled(x, stats):
    """x = (x - shift) / scale: the mean and deviation (or minimum and range) of the training split."""
    return (x - stats["shift"]) / stats["scale"]
