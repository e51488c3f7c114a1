"""One training epoch and one evaluation pass (metrics.py feeds the metrics)."""

import torch
from torch import nn

from nnspec.program.distributed import all_sum, same_buffers, share
from nnspec.program.errors import NonFiniteLoss

# Settings: each program writes the spec's values here.
ACCUMULATE = 1  # batches per optimizer step
CLIP_GRAD_NORM = None
# when the scheduler steps: "batch", "epoch", "metric"; None: no scheduler
SCHEDULER_STEPS = None
METRICS = False  # whether the spec asks for metrics
FREEZE = []  # layer-name patterns whose parameters do not train
POSITIONS = False  # class scores at each position, (N, T, C), for targets (N, T)
PRECISION = "32"  # "fp16": gradients scaled (CUDA)


def train_epoch(
    model,
    batches,
    epoch,
    loss_fn,
    optimizer,
    report,
    *,
    metrics=None,
    scheduler=None,
    frozen=(),
    scaler=None,
):
    """One pass over the training batches: the mean loss and the metrics."""
    model.train()
    if FREEZE:
        for module in frozen:  # frozen batch norm keeps its running statistics
            module.eval()
    total, count = 0.0, 0
    optimizer.zero_grad(set_to_none=True)
    for i, (x, y) in enumerate(batches.epoch(epoch)):
        out = model(x)
        loss = loss_fn(out.movedim(-1, 1) if POSITIONS else out, y)  # classes in dim 1
        if not torch.isfinite(loss):
            where = f"at epoch {epoch + 1}, batch {i + 1}"
            raise NonFiniteLoss(f"the loss is {loss.item()} {where}")
        weighted = loss * share(len(x), batches.size(i))  # 1 in one process
        if PRECISION == "fp16":
            weighted = scaler.scale(weighted)
        if ACCUMULATE == 1:
            weighted.backward()
        if ACCUMULATE > 1:  # the step applies the mean gradient of ACCUMULATE batches
            (weighted / ACCUMULATE).backward()
        if ACCUMULATE == 1 or (i + 1) % ACCUMULATE == 0 or i + 1 == len(batches):
            if PRECISION == "fp16":
                scaler.unscale_(optimizer)  # clipped and stepped as unscaled gradients
            if CLIP_GRAD_NORM is not None:
                nn.utils.clip_grad_norm_(model.parameters(), CLIP_GRAD_NORM)
            if PRECISION == "fp16":
                scaler.step(optimizer)  # skipped when a gradient is infinite
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if SCHEDULER_STEPS == "batch" and scheduler is not None:
                scheduler.step()
        total += loss.detach() * len(x)
        count += len(x)
        if METRICS:
            metrics.add(out, y)
        report.batch(i + 1, len(batches), len(x), loss)
    total, count = all_sum(total, count)  # over the ranks under torchrun
    same_buffers(model)
    return (total / count).item(), metrics.compute() if METRICS else {}


@torch.no_grad()
def evaluate(model, batches, loss_fn, *, metrics=None):
    """Mean loss and metrics over `batches` with dropout and batch-norm updates off."""
    model.eval()
    total, count = 0.0, 0
    for x, y in batches.epoch(0):
        out = model(x)
        total += loss_fn(out.movedim(-1, 1) if POSITIONS else out, y) * len(x)
        count += len(x)
        if METRICS:
            metrics.add(out, y)
    total, count = all_sum(total, count)  # every sample of the split once
    return (total / count).item(), metrics.compute() if METRICS else {}
