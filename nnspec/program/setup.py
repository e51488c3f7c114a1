"""A program's start: its options, the device, the seeds, the run folder, and what it prints."""

import argparse
import os
import random

import numpy as np
import torch

from nnspec.program.errors import DataError

# Settings: each program writes the spec's values here.
EPOCHS = 10
LR = 0.001
SEED = 0
DEVICE = "auto"
OUT = "runs/spec"
# --overfit-batch: at least this many steps unless --epochs says otherwise
OVERFIT_EPOCHS = 200


def arguments(argv=None, description=None):
    """The command line: every option overrides the spec's value (--resume: the run's own)."""
    parser = argparse.ArgumentParser(description=description)
    overfit = f"--overfit-batch: at least {OVERFIT_EPOCHS}"
    parser.add_argument(
        "--epochs", type=_positive, help=f"default: {EPOCHS} ({overfit})"
    )
    parser.add_argument(
        "--lr", type=_learning_rate, help=f"learning rate (default: {LR})"
    )
    parser.add_argument("--seed", type=_seed, help=f"default: {SEED}")
    parser.add_argument(
        "--device", default=DEVICE, help="auto, cpu, cuda or mps (default: %(default)s)"
    )
    parser.add_argument("--out", default=OUT, help="run folder (default: %(default)s)")
    parser.add_argument("--resume", action="store_true", help="continue the run in OUT")
    parser.add_argument(
        "--overfit-batch",
        action="store_true",
        help="train on one batch: the loss should go to about zero",
    )
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument(
        "--data-root", default=here, help="folder the data paths are relative to"
    )
    args = parser.parse_args(argv)
    if args.overfit_batch and args.epochs is None:
        args.epochs = max(EPOCHS, OVERFIT_EPOCHS)
    return args


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seed(text):
    value = int(text)
    if not 0 <= value < 2**32:  # what NumPy's and torch's generators take
        raise argparse.ArgumentTypeError(f"must be in 0..{2**32 - 1}, not {value}")
    return value


def _learning_rate(text):
    value = float(text)
    if not 0 <= value <= 3.0e38:  # float32 holds it
        raise argparse.ArgumentTypeError(
            f"must be a number >= 0 that float32 holds, not {text}"
        )
    return value


def pick_device(name):
    """`auto`: CUDA if present, else Apple's MPS, else the CPU; a device this torch lacks is an error."""
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if not available.get(name, False):
        have = ", ".join(d for d, ok in available.items() if ok)
        raise DataError(
            "E607", f"device {name!r} is not available to this torch (it has: {have})"
        )
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
        print(
            " ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in row.items()
            ),
            flush=True,
        )

    def message(self, text):
        print(text, flush=True)
