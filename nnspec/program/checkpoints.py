"""Checkpoints and metrics.csv written so that a kill never leaves a torn file; every RNG state;
a run's state loaded back to resume it."""

import csv
import os
import random

import numpy as np
import torch

from nnspec.program.distributed import barrier, own_state, rank
from nnspec.program.errors import DataError

# Settings: each program writes the spec's values here.
SCHEDULER_STEPS = None  # "batch", "epoch" or "metric"; None: no scheduler
PRECISION = "32"  # "fp16": gradients scaled (CUDA)

# What makes a file an nnspec checkpoint: these keys, the model's tensors under "model".
CHECKPOINT_KEYS = ("model", "classes", "normalization", "data")


def write_file(path, write, mode="wb"):
    """`write(f)` into `path` by rank 0 alone; the others wait until it is written."""
    if rank() == 0:
        write_whole(path, write, mode)
    barrier()


def write_whole(path, write, mode="wb"):
    """`write(f)` into a file beside `path`, fsynced, then renamed over it: a kill or a full disk
    leaves the old file whole and, but for a kill, no temporary file."""
    tmp = f"{path}.tmp"
    try:
        with open(tmp, mode, **({} if "b" in mode else {"newline": ""})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    # the folder's entry too, so that the rename itself survives a power cut
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def save_checkpoint(path, state):
    def save(f):
        try:
            torch.save(state, f)
        except RuntimeError as e:  # torch.save hides a full disk behind its zip error
            if isinstance(e.__context__, OSError):
                raise e.__context__ from None
            raise

    write_file(path, save)


def load_checkpoint(path):
    """A checkpoint nnspec wrote, loaded without unpickling code; anything else is an error."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError("E501", f"{path}: no such checkpoint") from None
    except Exception as e:  # truncated, corrupt or not a checkpoint
        message = f"{path}: not a checkpoint that loads safely ({type(e).__name__})"
        raise DataError("E608", f"{message}: truncated or corrupt") from None
    keys = CHECKPOINT_KEYS
    if not isinstance(checkpoint, dict) or any(k not in checkpoint for k in keys):
        message = f"not an nnspec checkpoint (it lacks {', '.join(keys)})"
        raise DataError("E608", f"{path}: {message}")
    tensors = checkpoint["model"]
    if not isinstance(tensors, dict) or not all(
        isinstance(t, torch.Tensor) for t in tensors.values()
    ):
        raise DataError("E608", f"{path}: its `model` entry is not a dict of tensors")
    return checkpoint


def load_weights(model, checkpoint, path):
    """The checkpoint's tensors into `model`; another architecture is an error naming them."""
    own, saved = model.state_dict(), checkpoint["model"]
    shaped = [k for k in own if k in saved and saved[k].shape != own[k].shape]
    missing, unexpected = (
        [k for k in own if k not in saved],
        [k for k in saved if k not in own],
    )
    wrong = {"missing": missing, "unexpected": unexpected, "other shape": shaped}
    parts = [
        f"{name}: {', '.join(keys[:3])}" + " ..." * (len(keys) > 3)
        for name, keys in wrong.items()
        if keys
    ]
    if parts:
        message = f"a checkpoint of another model ({'; '.join(parts)})"
        raise DataError("E608", f"{path}: {message}")
    model.load_state_dict(saved)


def rng_state():
    """Every random state, as plain tensors and numbers (weights_only=True can load them)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    numpy = {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos}
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {**numpy, "has_gauss": has_gauss, "gauss": gauss},
        "python": random.getstate(),
    }


def set_rng_state(state):
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def write_metrics(path, rows):
    """metrics.csv: one row per epoch, rewritten whole so that it always matches last.pt."""

    def write(f):
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    write_file(path, write, "w")


def resumed(last, model, optimizer, data, *, scheduler=None, scaler=None):
    """The training state of `last`, loaded into the model, optimizer and scheduler."""
    checkpoint = load_checkpoint(last)
    if checkpoint["data"]["samples"] != data.samples:
        trained = checkpoint["data"]["samples"]
        message = f"{last} was trained on {trained} samples; the data now holds {data.samples}"
        raise DataError("E606", message)
    load_weights(model, checkpoint, last)
    optimizer.load_state_dict(checkpoint["optimizer"])
    if SCHEDULER_STEPS is not None and scheduler is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    if PRECISION == "fp16":
        scaler.load_state_dict(checkpoint["scaler"])
    set_rng_state(own_state(checkpoint["rng"], last))
    return checkpoint["state"]
