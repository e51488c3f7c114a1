"""A saved checkpoint used again: predictions for new samples, loss and metrics on its test split."""

import torch
from torch.utils.data import DataLoader

from nnspec.program.batches import make_batches
from nnspec.program.checkpoints import load_weights
from nnspec.program.data import model_input, prepare_data, scaled
from nnspec.program.errors import DataError
from nnspec.program.loop import evaluate
from nnspec.program.streamed import make_streamed, prepare_streamed

# Settings: each program writes the spec's values here.
IN_MEMORY = True
NUM_WORKERS = 0
NORMALIZE = "none"
POSITIONS = False  # the output scores classes at each position


@torch.no_grad()
def predict(model, samples, checkpoint, path, device):
    """The model's outputs for `samples` (read like the training data), after the checkpoint's
    normalization; `path` names the checkpoint in messages."""
    if POSITIONS:  # a table of one row per sample cannot hold them
        raise DataError(
            "E507",
            "predict writes class probabilities per sample; this model scores them at each position",
        )
    load_weights(model, checkpoint, path)
    model.to(device).eval()
    if IN_MEMORY:
        chunks = samples.x.split(1024)
    if not IN_MEMORY:
        chunks = DataLoader(samples.x, batch_size=1024, num_workers=NUM_WORKERS)
    outs = []
    for x in chunks:
        x = model_input(x, samples.where)
        if NORMALIZE != "none":
            x = scaled(x, checkpoint["normalization"])
        outs.append(model(x.to(device)).cpu())
    return torch.cat(outs)


def evaluate_checkpoint(
    model, samples, checkpoint, path, loss_fn, device, *, metrics=None
):
    """(split name, loss and metrics) of the checkpoint on the split it was not trained on:
    the data split as its run split it (the seed and fractions it recorded)."""
    recorded = checkpoint["data"]
    if recorded["samples"] != len(samples):
        message = f"{path} was trained on {recorded['samples']} samples; {samples.where} holds {len(samples)}"
        raise DataError("E606", message)
    if IN_MEMORY:
        data = prepare_data(samples, recorded["seed"], recorded["split"])
        batches = make_batches(data, recorded["seed"], device)
    if not IN_MEMORY:
        data = prepare_streamed(samples, recorded["seed"], recorded["split"])
        batches = make_streamed(data, recorded["seed"], device)
    name = (
        "test" if "test" in data.splits else "val" if "val" in data.splits else "train"
    )
    load_weights(model, checkpoint, path)
    model.to(device)
    loss, values = evaluate(model, batches[name], loss_fn.to(device), metrics=metrics)
    return name, {"loss": loss, **values}
