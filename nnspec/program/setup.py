"""A program's command line: every option overrides the spec's value."""

import argparse
import os

from nnspec.program.console import learning_rate, positive, seed_option

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
    p = argparse.ArgumentParser(description=description)
    overfit = f"--overfit-batch: at least {OVERFIT_EPOCHS}"
    p.add_argument("--epochs", type=positive, help=f"default: {EPOCHS} ({overfit})")
    p.add_argument("--lr", type=learning_rate, help=f"learning rate (default: {LR})")
    p.add_argument("--seed", type=seed_option, help=f"default: {SEED}")
    devices = "auto, cpu, cuda or mps (default: %(default)s)"
    p.add_argument("--device", default=DEVICE, help=devices)
    p.add_argument("--out", default=OUT, help="run folder (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run in OUT")
    one = "train on one batch: the loss should go to about zero"
    p.add_argument("--overfit-batch", action="store_true", help=one)
    here = os.path.dirname(os.path.abspath(__file__))
    root = "folder the data paths are relative to"
    p.add_argument("--data-root", default=here, help=root)
    args = p.parse_args(argv)
    # the spec's values, where neither this command line nor a resumed run gives one
    args.defaults = {"epochs": EPOCHS, "lr": LR, "seed": SEED}
    if args.overfit_batch and args.epochs is None:
        args.epochs = max(EPOCHS, OVERFIT_EPOCHS)
    return args
