"""Mini-batches of in-memory tensors: whole batches taken by slicing, not collated sample by sample."""

import torch

from nnspec.program.distributed import rank_part

# Settings: each program writes the spec's values here.
BATCH_SIZE = 32
SHUFFLE = True
DROP_LAST = False


class Batches:
    """One split's mini-batches, reshuffled every epoch from a seed derived from the epoch."""

    def __init__(self, x, y, shuffle, drop_last, seed):
        self.x, self.y, self.seed = x, y, seed
        self.shuffle, self.drop_last = shuffle, drop_last

    def __len__(self):
        full, rest = divmod(len(self.x), BATCH_SIZE)
        return full if self.drop_last or not rest else full + 1

    def size(self, i):
        """Batch i's samples, over all ranks."""
        return min(BATCH_SIZE, len(self.x) - i * BATCH_SIZE)

    def epoch(self, epoch):
        x, y = self.x, self.y
        if self.shuffle:  # one gather, then cheap slices
            seeded = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(len(x), generator=seeded).to(x.device)
            x, y = x[order], y[order]
        for i in range(0, len(self) * BATCH_SIZE, BATCH_SIZE):
            mine = rank_part(i, min(i + BATCH_SIZE, len(x)))  # under torchrun, a part
            # an evaluation batch smaller than the ranks leaves some without a part
            if mine.stop > mine.start:
                yield x[mine], y[mine]


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
        batches[name] = Batches(x, y, SHUFFLE and train, DROP_LAST and train, seed)
    return batches
