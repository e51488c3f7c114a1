"""Samples read one by one by DataLoader workers (in_memory = false), in the in-memory order."""

import torch
from torch.utils.data import DataLoader, Sampler, StackDataset

from nnspec.program.data import (
    Data,
    channel_statistics,
    encode_targets,
    model_input,
    scaled,
    split,
)
from nnspec.program.distributed import rank_part

# Settings: each program writes the spec's values here.
BATCH_SIZE = 32
SHUFFLE = True
DROP_LAST = False
NORMALIZE = "none"
NUM_WORKERS = 0
SPLIT = {"train": 0.8, "val": 0.2}


def prepare_streamed(samples, seed, fractions=None):
    """As prepare_data, without loading the features: splits hold Rows, statistics come from
    one streamed pass over the training split."""
    fractions = fractions or SPLIT
    rows = Rows(samples.x, samples.where)
    model_input(rows[0][None], samples.where)  # one sample's shape and values tell
    y, classes = encode_targets(samples.labels, samples.where)
    splits = split(rows, y, seed, fractions, samples.where)
    stats = None
    if NORMALIZE != "none":
        stats = (
            channel_statistics()
            if NORMALIZE == "channels"
            else streamed_statistics(splits["train"][0])
        )
        splits = {name: (x.scaled(stats), y) for name, (x, y) in splits.items()}
    return Data(splits, classes, stats, None, seed, fractions, len(rows))


def streamed_statistics(train):
    """Per-element shift and scale of the training samples, in one pass of DataLoader workers."""
    total = squares = low = high = None
    loader = DataLoader(
        train,
        batch_size=BATCH_SIZE,
        num_workers=NUM_WORKERS,
        generator=torch.Generator(),
    )
    for x in loader:
        # float64 sums keep the variance exact enough
        x = model_input(x, train.where).double()
        if total is None:
            total, squares, low, high = x.sum(0), (x * x).sum(0), x.amin(0), x.amax(0)
        else:
            total, squares = total + x.sum(0), squares + (x * x).sum(0)
            low, high = torch.minimum(low, x.amin(0)), torch.maximum(high, x.amax(0))
    if NORMALIZE == "standard":
        mean = total / len(train)
        shift, scale = (
            mean.float(),
            (squares / len(train) - mean * mean).clamp(min=0).sqrt().float(),
        )
    if NORMALIZE == "minmax":
        shift, scale = low.float(), (high - low).float()
    return {
        "shift": shift,
        "scale": torch.where(scale > 0, scale, torch.ones_like(scale)),
    }


class Rows:
    """Samples of a streamed source by index, and the statistics they are scaled with.

    A split holds Rows instead of a tensor: indexing with a slice or an index tensor gives
    Rows, with an integer one sample.
    """

    def __init__(self, samples, where, index=None, stats=None):
        self.samples, self.where, self.stats = samples, where, stats
        self.index = torch.arange(len(samples)) if index is None else index

    def __len__(self):
        return len(self.index)

    @property
    def shape(self):
        return (len(self), *self[0].shape)

    def __getitem__(self, i):
        if isinstance(i, int):
            return self.samples[int(self.index[i])]
        return Rows(self.samples, self.where, self.index[i], self.stats)

    def scaled(self, stats):
        return Rows(self.samples, self.where, self.index, stats)


class EpochOrder(Sampler):
    """Positions 0..n-1, reshuffled every epoch from a seed derived from it, as Batches does."""

    def __init__(self, n, shuffle, seed):
        self.n, self.shuffle, self.seed, self.epoch = n, shuffle, seed, 0

    def __len__(self):
        return self.n

    def __iter__(self):
        if not self.shuffle:
            return iter(range(self.n))
        return iter(
            torch.randperm(
                self.n, generator=torch.Generator().manual_seed(self.seed + self.epoch)
            ).tolist()
        )


class RankBatches(Sampler):
    """Batches of positions in the epoch's order; under torchrun, this rank's part of each."""

    def __init__(self, order, drop_last):
        self.order, self.drop_last = order, drop_last

    def __len__(self):
        full, rest = divmod(self.order.n, BATCH_SIZE)
        return full if self.drop_last or not rest else full + 1

    def __iter__(self):
        positions = list(self.order)
        for i in range(0, len(self) * BATCH_SIZE, BATCH_SIZE):
            mine = rank_part(i, min(i + BATCH_SIZE, len(positions)))
            # an evaluation batch smaller than the ranks leaves some without a part
            if mine.stop > mine.start:
                yield positions[mine]


class Streamed:
    """Mini-batches read by DataLoader workers, in the order Batches would take them from memory."""

    def __init__(self, rows, y, shuffle, drop_last, seed, device):
        self.stats, self.order, self.device = (
            rows.stats,
            EpochOrder(len(rows), shuffle, seed),
            device,
        )
        self.where = rows.where
        # A generator of its own: the loader's worker seeds must not draw from torch's global one
        self.loader = DataLoader(
            StackDataset(rows, y),
            batch_sampler=RankBatches(self.order, drop_last),
            num_workers=NUM_WORKERS,
            persistent_workers=NUM_WORKERS > 0,
            pin_memory=device.type == "cuda",
            generator=torch.Generator(),
        )

    def __len__(self):
        return len(self.loader)

    def size(self, i):
        """Batch i's samples, over all ranks."""
        return min(BATCH_SIZE, self.order.n - i * BATCH_SIZE)

    def epoch(self, epoch):
        self.order.epoch = epoch
        for x, y in self.loader:
            x = model_input(x, self.where)
            x = x if self.stats is None else scaled(x, self.stats)
            yield (
                x.to(self.device, non_blocking=True),
                y.to(self.device, non_blocking=True),
            )


def make_streamed(data, seed, device, overfit_batch=False):
    """Streamed batches per split; shuffle and drop_last apply to the training split only."""
    splits = data.splits
    if overfit_batch:
        rows, y = splits["train"]
        splits = {
            "train": (rows[:BATCH_SIZE], y[:BATCH_SIZE]),
            "val": (rows[:BATCH_SIZE], y[:BATCH_SIZE]),
        }
    train = {name: name == "train" for name in splits}
    return {
        name: Streamed(
            rows, y, SHUFFLE and train[name], DROP_LAST and train[name], seed, device
        )
        for name, (rows, y) in splits.items()
    }
