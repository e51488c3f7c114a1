"""Metrics fed in chunks: torchmetrics updated once per chunk of batches, not per batch."""

import torch

# Settings: each program writes the spec's values here.
TASK = "multiclass"  # or "binary", "regression": what the metrics compare
TARGETS = "index"  # how the loss takes targets (see data.py)
POSITIONS = False  # class scores at each position, (N, T, C), for targets (N, T)


class Metrics:
    """torchmetrics fed in chunks of about 8k samples: one update per chunk, not per batch."""

    CHUNK = 8192

    def __init__(self, metrics, device):
        self.metrics = {name: metric.to(device) for name, metric in metrics.items()}
        self.outs, self.ys, self.count = [], [], 0

    def add(self, out, y):
        self.outs.append(out.detach())
        self.ys.append(y)
        self.count += len(y)
        if self.count >= self.CHUNK:
            self.flush()

    def flush(self):
        if self.outs:
            preds, target = metric_inputs(torch.cat(self.outs), torch.cat(self.ys))
            for metric in self.metrics.values():
                metric.update(preds, target)
        self.outs, self.ys, self.count = [], [], 0

    def compute(self):
        """Values over everything added since the last call, then a fresh start."""
        self.flush()
        values = {}
        for name, metric in self.metrics.items():
            values[name] = metric.compute().item()
            metric.reset()
        return values


def metric_inputs(out, y):
    """Predictions and targets in the form torchmetrics expects."""
    if TASK == "multiclass" and TARGETS == "one_hot":
        return out, y.argmax(1)
    if TASK == "multiclass":
        return out.movedim(-1, 1) if POSITIONS else out, y
    if TASK == "binary":
        return out.reshape(-1), y.reshape(-1).long()
    return out.reshape(len(out), -1).squeeze(1), y.reshape(len(y), -1).squeeze(1)
