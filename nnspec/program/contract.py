"""The data-model-loss contract, checked by lint (from what it can read) and by programs (from
the loaded data) with the same rules: which targets a loss takes, how the samples split.

Torch-free: lint imports it, and generated programs copy it. A check returns (code, message)
or None.
"""

import math
import os

from nnspec.program.sources.table import label_order, number

SHOWN_VALUES = 5  # example values in a message


class Facts:
    """What targets hold: `kind` is "text", "integers" or "reals"; `values` the sorted distinct
    values (None when unknown); `count` how many distinct (None: unknown); `shape` one sample's
    target shape (() for one value per sample); `named`: labels written as text (a CSV column),
    which class losses take as class names even when they are numbers."""

    def __init__(self, kind, values, count, shape, named=False):
        self.kind, self.values, self.count = kind, values, count
        self.shape, self.named = tuple(shape), named or kind == "text"


def text_facts(labels):
    """Facts of labels written as text (a CSV column, folder names): class names, or numbers."""
    names = sorted(set(labels), key=label_order)
    values = [number(name) for name in names]
    if not all(isinstance(v, float) for v in values):
        return Facts("text", names, len(names), ())
    kind = "integers" if all(v.is_integer() for v in values) else "reals"
    return Facts(kind, sorted(values), len(names), (), named=True)


def target_problem(encoding, facts, output):
    """(code, message) when targets with these facts cannot train a model of per-sample output
    shape `output` under `encoding` ("index", "one_hot", "binary" or "real"); else None.
    """
    if encoding == "one_hot" and len(output) > 1:
        return (
            "E516",
            f"one-hot targets for an output of {_dims(output)} per sample: class scores"
            " at each position take class indices (one_hot = false)",
        )
    if encoding in ("index", "one_hot"):
        return class_problem(facts, output)
    if encoding == "binary":
        return binary_problem(facts, output)
    return real_problem(facts, output)


def declared_problem(facts, num_classes):
    """The data section's num_classes holds every label."""
    if facts.count is not None and facts.count > num_classes:
        message = f"the targets hold {facts.count} distinct labels, more than num_classes = {num_classes}"
        return "E512", message
    return None


def real_problem(facts, output):
    """Regression targets: numbers, as many per sample as the output gives."""
    if facts.kind == "text":
        message = f"the targets are class labels ({_shown(facts)}), not the real values a regression loss takes"
        return "E516", message
    return _width_problem(facts, output, "targets")


def class_problem(facts, output):
    """Class targets: one label per sample, or one per position when the output scores the
    classes at each (an output (T, C) takes targets (T,)); no more classes than it scores.
    """
    classes, positions = output[-1], tuple(output[:-1])
    if facts.kind == "reals":
        return (
            "E516",
            f"the targets are real values ({_shown(facts)}), not class labels",
        )
    if positions and not _same_dims(facts.shape, positions):
        return (
            "E517",
            f"class targets of shape {facts.shape} per sample; the output scores classes"
            f" at {_dims(positions)} positions: one label per position is expected",
        )
    if not positions and facts.shape not in ((), (1,)):
        return (
            "E517",
            f"class targets of shape {facts.shape} per sample: one class label per sample is expected",
        )
    if facts.named:
        if facts.count is not None and facts.count > classes:
            return (
                "E517",
                f"the targets hold {facts.count} classes ({_shown(facts)}), the output scores only {classes}",
            )
    elif facts.values:
        low, high = facts.values[0], facts.values[-1]
        if low < 0 or high >= classes:
            label = high if high >= classes else low
            return (
                "E517",
                f"class label {_number(label)} is outside the {classes} classes the model's output scores",
            )
    return None


def _same_dims(shape, dims):
    """A symbolic dim (a name) stands for any size."""
    return len(shape) == len(dims) and all(
        not isinstance(d, int) or d == s for d, s in zip(dims, shape)
    )


def binary_problem(facts, output):
    """Binary targets: 0 or 1 (or two class names), one per output value."""
    if facts.kind == "text":
        if facts.count is not None and facts.count > 2:
            message = f"a binary loss takes two classes; the targets hold {facts.count} ({_shown(facts)})"
            return "E516", message
        return None
    outside = [v for v in facts.values or () if v not in (0, 1)]
    if outside:
        message = (
            f"a binary loss takes targets 0 and 1; the targets hold {_listed(outside)}"
        )
        return "E516", message
    return _width_problem(facts, output, "0/1 targets")


def _width_problem(facts, output, what):
    given, room = _width(facts.shape), _width(output)
    if given != room and all(isinstance(d, int) for d in output):
        message = (
            f"the model's output gives {room} values per sample, the {what} {given}"
        )
        return "E517", message
    return None


def _width(shape):
    return math.prod(d for d in shape if isinstance(d, int))


def _dims(shape):
    return (
        "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def _number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _shown(facts):
    return _listed(facts.values) if facts.values else f"{facts.count} distinct values"


def _listed(values):
    more = len(values) - SHOWN_VALUES
    shown = ", ".join(str(_number(v)) for v in values[:SHOWN_VALUES])
    return shown + (f" and {more} more" if more > 0 else "")


def split_counts(samples, fractions):
    """Samples per split in the order train, val, test; the last split of a fraction above 0
    takes what rounding leaves (a split of fraction 0 gets none)."""
    names = [name for name in ("train", "val", "test") if name in fractions]
    last = max(i for i, name in enumerate(names) if fractions[name] > 0)
    counts = {}
    for i, name in enumerate(names):
        share = round(fractions[name] * samples)
        counts[name] = samples - sum(counts.values()) if i == last else share
    return counts


def split_problem(counts, batch_size, drop_last, batch_statistics):
    """(code, message, the data key to change) when a split is too small to train or evaluate
    on; else None."""
    if any(count <= 0 for count in counts.values()):
        empty = next(name for name, count in counts.items() if count <= 0)
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        return "E513", f"the {empty} split gets no samples ({listed})", "split"
    train = counts["train"]
    if drop_last and train < batch_size:
        message = f"the training split has {train} samples, fewer than one batch of {batch_size} (drop_last)"
        return "E513", message, "batch_size"
    if batch_statistics and (
        batch_size == 1 or not drop_last and train % batch_size == 1
    ):
        message = f"the last training batch holds 1 sample ({train} samples, batches of {batch_size}): "
        message += "batch norm cannot take the statistics of one sample"
        return "E513", message, "batch_size"
    return None


def input_problem(features, dtype, shape, input_dtype):
    """Samples of per-sample `features` shape and kind of values `dtype` ("integers", "reals")
    against a model input of `shape` and `input_dtype`."""
    fits = len(features) == len(shape)
    if not fits or any(isinstance(d, int) and d != f for d, f in zip(shape, features)):
        dims = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        message = f"samples of shape {tuple(features)}, the model input expects {dims}"
        return "E503", message
    if input_dtype == "long" and dtype != "integers":
        message = "the samples hold real values; the model input is `long`"
        return "E503", message + " (integer indices)"
    return None


def physical_memory():
    """Bytes of memory this machine has; None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def memory_problem(samples, shape, where, memory=None):
    """E613: samples of `shape` held in memory as float32 (with int64 targets) need more than
    the machine has. Checked before anything is allocated."""
    memory = physical_memory() if memory is None else memory
    needed = samples * (4 * math.prod(shape) + 8)
    if memory is None or needed <= memory:
        return None
    held = f"{samples:,} samples of {list(shape)} take {_gigabytes(needed)} in memory"
    return "E613", f"{where}: {held}; this machine has {_gigabytes(memory)}"


def _gigabytes(n):
    return f"{n / 1e9:,.1f} GB"
