"""The device, the seeds, the option types and what a program prints."""

import argparse
import os
import random

import numpy as np
import torch

from nnspec.program.errors import DataError


def _checked(convert, ok, expected):
    """An option's type: `convert` the text, refused unless `ok(value)`."""

    def option(text):
        value = convert(text)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, not {text}")
        return value

    option.__name__ = convert.__name__  # argparse names it: "invalid int value: 'x'"
    return option


positive = _checked(int, lambda v: v >= 1, "at least 1")


# what NumPy's and torch's generators take
seed_option = _checked(int, lambda v: 0 <= v < 2**32, f"in 0..{2**32 - 1}")


_float32 = "a number >= 0 that float32 holds"  # nan compares false: refused


learning_rate = _checked(float, lambda v: 0 <= v <= 3.0e38, _float32)


def pick_device(name):
    """`auto`: CUDA if present, else Apple's MPS, else the CPU; a device this torch lacks is an error."""
    mps = torch.backends.mps.is_available()
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": mps}
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if not available.get(name, False):
        have = ", ".join(d for d, ok in available.items() if ok)
        message = f"device {name!r} is not available to this torch (it has: {have})"
        raise DataError("E607", message)
    return torch.device(name)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class PrintReport:
    """One line per epoch; `nnspec run` passes a live progress view instead."""

    def start(self, epoch, epochs):
        pass

    def batch(self, done, total, samples, loss):
        pass

    def end(self, row):
        self.result(row)

    def result(self, row):
        if os.environ.get("RANK", "0") != "0":  # under torchrun rank 0 speaks for all
            return
        shown = {k: f"{v:.4g}" if isinstance(v, float) else v for k, v in row.items()}
        print(" ".join(f"{k}={v}" for k, v in shown.items()), flush=True)

    def message(self, text):
        if os.environ.get("RANK", "0") == "0":
            print(text, flush=True)
