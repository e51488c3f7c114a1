"""The epoch loop: train, validate, step the scheduler, keep checkpoints, stop early, test once."""

import json
import math
import os

import torch

from nnspec.program.checkpoints import (
    load_checkpoint,
    load_weights,
    resumed,
    rng_state,
    save_checkpoint,
    write_file,
    write_metrics,
)
from nnspec.program.distributed import (
    check_ranks,
    rank_states,
    training_model,
)
from nnspec.program.errors import NonFiniteLoss
from nnspec.program.loop import evaluate, train_epoch

# Settings: each program writes the spec's values here.
MONITOR = "val_loss"  # the metrics.csv column that picks best.pt
MODE = "min"  # or "max"
PATIENCE = None  # early stopping: epochs without improvement
SCHEDULER_STEPS = None  # "batch", "epoch" or "metric"; None: no scheduler
METRICS = False
PRECISION = "32"  # "fp16": gradients scaled (CUDA)


def fit(
    model,
    batches,
    loss_fn,
    optimizer,
    data,
    args,
    report,
    *,
    metrics=None,
    scheduler=None,
    frozen=(),
):
    """Train for args.epochs, validate every epoch, test once with best.pt; files go to args.out.

    With args.overfit_batch there is no early stopping (the caller leaves the scheduler out).
    """
    options = {"epochs": args.epochs, "lr": args.lr, "seed": args.seed}
    state = {"epoch": 0, "best": None, "stale": 0, "rows": [], "options": options}
    check_ranks(batches["train"])
    # before resuming: it seeds each rank's dropout
    trained = training_model(model, report)
    if PRECISION == "fp16":  # float16 gradients would underflow unscaled
        scaler = torch.amp.GradScaler("cuda")
    if args.resume:
        last = os.path.join(args.out, "last.pt")
        state = resumed(
            last,
            model,
            optimizer,
            data,
            scheduler=scheduler,
            scaler=scaler if PRECISION == "fp16" else None,
        )
        state["options"]["epochs"] = args.epochs
        start = f"{state['epoch'] + 1} of {args.epochs}"
        report.message(f"resuming {args.out} at epoch {start}")
    for epoch in range(state["epoch"], args.epochs):
        report.start(epoch, args.epochs)
        row = {"epoch": epoch + 1}
        row["train_loss"], train_metrics = train_epoch(
            trained,
            batches["train"],
            epoch,
            loss_fn,
            optimizer,
            report,
            metrics=metrics,
            scheduler=scheduler,
            frozen=frozen,
            scaler=scaler if PRECISION == "fp16" else None,
        )
        val_metrics = {}
        if "val" in batches:
            row["val_loss"], val_metrics = evaluate(
                model, batches["val"], loss_fn, metrics=metrics
            )
            finite(row["val_loss"], f"after epoch {epoch + 1}")
        if METRICS:
            row.update({f"train_{k}": v for k, v in train_metrics.items()})
            row.update({f"val_{k}": v for k, v in val_metrics.items()})
        row["lr"] = optimizer.param_groups[0]["lr"]
        if SCHEDULER_STEPS == "epoch" and scheduler is not None:
            scheduler.step()
        if SCHEDULER_STEPS == "metric" and scheduler is not None:
            scheduler.step(row.get("val_loss", row["train_loss"]))
        keep(
            row,
            state,
            model,
            optimizer,
            data,
            args.out,
            scheduler=scheduler,
            scaler=scaler if PRECISION == "fp16" else None,
        )
        report.end(row)
        if PATIENCE is not None and not args.overfit_batch:
            if state["stale"] >= PATIENCE:
                stale = f"{MONITOR} has not improved for {PATIENCE} epochs"
                report.message(f"early stop: {stale}")
                break
    if "test" in batches:
        test(model, batches["test"], loss_fn, args.out, report, metrics=metrics)
    return state["rows"]


def finite(loss, when):
    """A NaN or infinite validation loss: the weights blew up; the last good checkpoint stays."""
    if not math.isfinite(loss):
        raise NonFiniteLoss(f"the validation loss is {loss} {when}")


def keep(row, state, model, optimizer, data, out, *, scheduler=None, scaler=None):
    """The epoch's row in metrics.csv; last.pt, and best.pt when the monitored value improved."""
    value, best = row.get(MONITOR, row["train_loss"]), state["best"]
    improved = best is None or (value < best if MODE == "min" else value > best)
    state["rows"].append(row)
    state["epoch"] = row["epoch"]
    state["best"] = value if improved else best
    state["stale"] = 0 if improved else state["stale"] + 1
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "state": state,
        "rng": rank_states(rng_state()),
        "classes": data.classes,
        "normalization": data.stats,
        "data": data.record(),
    }
    if SCHEDULER_STEPS is not None:
        saved = scheduler.state_dict() if scheduler is not None else None
        checkpoint["scheduler"] = saved
    if PRECISION == "fp16":
        checkpoint["scaler"] = scaler.state_dict()
    if improved:
        save_checkpoint(os.path.join(out, "best.pt"), checkpoint)
    save_checkpoint(os.path.join(out, "last.pt"), checkpoint)
    write_metrics(os.path.join(out, "metrics.csv"), state["rows"])


def test(model, batches, loss_fn, out, report, *, metrics=None):
    """The test split, once, with the best weights; the result also goes to test.json."""
    best = os.path.join(out, "best.pt")
    load_weights(model, load_checkpoint(best), best)
    loss, values = evaluate(model, batches, loss_fn, metrics=metrics)
    result = {"test_loss": loss, **{f"test_{k}": v for k, v in values.items()}}
    path = os.path.join(out, "test.json")
    write_file(path, lambda f: json.dump(result, f, indent=2), "w")
    report.result(result)
