"""Each split's mini-batches of in-memory tensors, as the spec's batch settings say."""

from nnspec.program.minibatches import Batches

# Settings: each program writes the spec's values here.
BATCH_SIZE = 32
SHUFFLE = True
DROP_LAST = False


def make_batches(data, seed, device, overfit_batch=False):
    """Batches per split; shuffle and drop_last apply to the training split only.

    `overfit_batch`: the first training batch is the whole training and validation data.
    """
    splits = data.splits
    if overfit_batch:
        x, y = splits["train"]
        splits = dict.fromkeys(("train", "val"), (x[:BATCH_SIZE], y[:BATCH_SIZE]))
    batches = {}
    for name, (x, y) in splits.items():
        train = name == "train"
        x, y = x.to(device), y.to(device)
        batches[name] = Batches(
            x, y, BATCH_SIZE, SHUFFLE and train, DROP_LAST and train, seed
        )
    return batches
