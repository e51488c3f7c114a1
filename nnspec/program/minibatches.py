"""Mini-batches of in-memory tensors: whole batches taken by slicing, not collated sample by sample."""

import torch

from nnspec.program.distributed import rank_part


class Batches:
    """One split's mini-batches, reshuffled every epoch from a seed derived from the epoch."""

    def __init__(self, x, y, batch_size, shuffle, drop_last, seed):
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.shuffle, self.drop_last = shuffle, drop_last

    def __len__(self):
        full, rest = divmod(len(self.x), self.batch_size)
        return full if self.drop_last or not rest else full + 1

    def size(self, i):
        """Batch i's samples, over all ranks."""
        return min(self.batch_size, len(self.x) - i * self.batch_size)

    def epoch(self, epoch):
        x, y = self.x, self.y
        if self.shuffle:  # one gather, then cheap slices
            seeded = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(len(x), generator=seeded).to(x.device)
            x, y = x[order], y[order]
        size = self.batch_size
        for i in range(0, len(self) * size, size):
            mine = rank_part(i, min(i + size, len(x)))  # under torchrun, a part
            # an evaluation batch smaller than the ranks leaves some without a part
            if mine.stop > mine.start:
                yield x[mine], y[mine]
