"""Mini-batches of in-memory tensors: whole batches taken by slicing, not collated sample by sample."""

import torch

# Settings: each program writes the spec's values here.
BATCH_SIZE = 32
SHUFFLE = True
DROP_LAST = False


class Batches:
    """One split's mini-batches, reshuffled every epoch from a seed derived from the epoch."""

    def __init__(self, x, y, shuffle, drop_last, seed):
        self.x, self.y, self.shuffle, self.drop_last, self.seed = (
            x,
            y,
            shuffle,
            drop_last,
            seed,
        )

    def __len__(self):
        full, rest = divmod(len(self.x), BATCH_SIZE)
        return full if self.drop_last or not rest else full + 1

    def epoch(self, epoch):
        x, y = self.x, self.y
        if self.shuffle:
            order = torch.randperm(
                len(x), generator=torch.Generator().manual_seed(self.seed + epoch)
            )
            # one gather, then cheap slices
            x, y = x[order.to(x.device)], y[order.to(y.device)]
        for i in range(len(self)):
            yield (
                x[i * BATCH_SIZE : (i + 1) * BATCH_SIZE],
                y[i * BATCH_SIZE : (i + 1) * BATCH_SIZE],
            )


def make_batches(data, seed, device, overfit_batch=False):
    """Batches per split; shuffle and drop_last apply to the training split only.

    `overfit_batch`: the first training batch is the whole training and validation data.
    """
    splits = data.splits
    if overfit_batch:
        x, y = splits["train"]
        splits = {
            "train": (x[:BATCH_SIZE], y[:BATCH_SIZE]),
            "val": (x[:BATCH_SIZE], y[:BATCH_SIZE]),
        }
    return {
        name: Batches(
            x.to(device),
            y.to(device),
            SHUFFLE and name == "train",
            DROP_LAST and name == "train",
            seed,
        )
        for name, (x, y) in splits.items()
    }
