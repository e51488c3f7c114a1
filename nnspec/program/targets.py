"""What the targets hold, read off the labels for the contract."""

import torch

from nnspec.program.contract import Facts, text_facts
from nnspec.program.errors import DataError
from nnspec.program.sources.table import label_order, number

# Settings: each program writes the spec's values here.
OUTPUT_SHAPE = (2,)  # the model's output per sample


def facts(labels):
    """What the targets hold, as the contract describes them."""
    if isinstance(labels, list):
        return text_facts(labels)
    if labels.is_floating_point() and not torch.isfinite(labels).all():
        raise DataError("E511", "the targets hold NaN or infinite values")
    values = torch.unique(labels).tolist()
    return Facts(_kind(labels), values, len(values), tuple(labels.shape[1:]))


def _kind(labels):
    integral = not labels.is_floating_point() or torch.equal(labels, labels.round())
    return "integers" if integral else "reals"


def numeric(labels):
    return isinstance(labels, list) and all(
        isinstance(number(label), float) for label in labels
    )


def numbers(labels):
    """Targets as numbers: a tensor as it is, text labels parsed (their cells were checked)."""
    if isinstance(labels, list):
        return torch.tensor([number(label) for label in labels], dtype=torch.float64)
    return labels


def class_indices(labels, scores):
    """(class index per sample, class names): text labels in label order, numbers as they are;
    one name per output score of the `scores` (an unused score is named by its index).
    """
    if isinstance(labels, list):
        names = sorted(set(labels), key=label_order)
        index = {name: i for i, name in enumerate(names)}
        y = torch.tensor([index[label] for label in labels])
    elif len(OUTPUT_SHAPE) > 1:  # a label per position, as the contract checked
        y = labels.long()
        names = [str(i) for i in range(int(y.max()) + 1)]
    else:
        y = labels.reshape(len(labels)).long()
        names = [str(i) for i in range(int(y.max()) + 1)]
    return y, names + [str(i) for i in range(len(names), scores)]
