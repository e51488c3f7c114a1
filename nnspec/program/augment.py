"""Augmentation of training batches: batched on their device, seeded per batch, resumed exactly."""

import torch
from torch import nn

from nnspec.program.distributed import rank
from nnspec.program.errors import DataError


def import_kornia():
    """kornia, which runs the image kinds; without it (an optional extra) E520 says so."""
    try:
        import kornia.augmentation
    except ImportError:
        message = "augment = [...] with image kinds needs the kornia package"
        raise DataError("E520", f"{message}: pip install 'nnspec[augment]'") from None
    return kornia


class AddNoise(nn.Module):
    """x + N(mean, sigma²) for every value; `clip` keeps the result in [0, 1] (pixels)."""

    def __init__(self, mean=0.0, sigma=0.1, clip=False):
        super().__init__()
        self.mean, self.sigma, self.clip = mean, sigma, clip

    def forward(self, x):
        x = x + self.mean + self.sigma * torch.randn_like(x)
        return x.clamp(0.0, 1.0) if self.clip else x


class Augmented:
    """The training batches, each changed by `augment` with a seed of its own.

    A batch's seed depends only on the run's seed, the epoch and its place in the epoch, and the
    global generators are left as they were: a resumed run draws the same changes as an
    uninterrupted one, and dropout draws the same numbers as without augmentation. Augmentation
    sees the values as they were read (pixels in [0, 1]); `stats` normalizes them afterwards.
    """

    def __init__(self, batches, augment, seed, stats=None):
        self.batches, self.augment = batches, augment
        self.seed, self.stats = seed, stats

    def __len__(self):
        return len(self.batches)

    def size(self, i):
        """Batch i's samples, over all ranks (augmentation keeps them)."""
        return self.batches.size(i)

    def epoch(self, epoch):
        for i, (x, y) in enumerate(self.batches.epoch(epoch)):
            yield self.changed(x, batch_seed(self.seed, epoch, i, rank())), y

    def changed(self, x, seed):
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            if self.stats is not None:  # back to the values as read
                shift, scale = (self.stats[k].to(x.device) for k in ("shift", "scale"))
                x = x * scale + shift
            x = self.augment(x)
            if self.stats is not None:
                x = (x - shift) / scale
        return x


def batch_seed(seed, epoch, batch, process=0):
    """One seed per (run seed, epoch, batch, process rank), below 2**63: under torchrun each
    process changes its part of a batch with draws of its own."""
    return (((seed * 1_000_003 + epoch) * 1_000_003 + batch) + process * 2**40) % 2**63
