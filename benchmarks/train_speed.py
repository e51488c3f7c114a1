"""Training throughput of the generated loop vs the textbook loop vs the compute floor.

MLP 32->256->256->10 on 200,000 synthetic rows, CPU; batch 64 and 512; 1 and 2 threads.
- generated: the program `nnspec compile` writes (Batches + train_epoch), metrics on or off;
- textbook: TensorDataset + DataLoader(shuffle=True), loss.item() every batch;
- floor: forward, backward and optimizer step on pre-made batches, nothing else.
Run: python benchmarks/train_speed.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from mlp_program import Quiet, mlp_program
from torch.utils.data import DataLoader, TensorDataset


def run_generated(g, x, y, batch):
    model = g["build_model"]()
    loss_fn, optimizer = g["build_loss"](), g["build_optimizer"](model, 1e-3)
    batches = g["Batches"](x, y, True, False, 0)  # the program's BATCH_SIZE is `batch`
    extra = {"metrics": g["Metrics"](g["build_metrics"](), torch.device("cpu"))} if "build_metrics" in g else {}
    start = time.perf_counter()
    g["train_epoch"](model, batches, 0, loss_fn, optimizer, Quiet(), **extra)
    return len(x) / (time.perf_counter() - start)


def run_textbook(g, x, y, batch):
    model = g["build_model"]()
    loss_fn, optimizer = g["build_loss"](), g["build_optimizer"](model, 1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)
    start = time.perf_counter()
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return len(x) / (time.perf_counter() - start)


def run_floor(g, x, y, batch):
    model = g["build_model"]()
    loss_fn, optimizer = g["build_loss"](), g["build_optimizer"](model, 1e-3)
    batches = [(x[i : i + batch], y[i : i + batch]) for i in range(0, len(x), batch)]
    start = time.perf_counter()
    for xb, yb in batches:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        "| threads | batch | floor (samples/s) | generated | generated + Accuracy | textbook | generated / floor | generated / textbook | metrics cost |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (64, 512):
            plain, with_metrics = mlp_program(args.rows, batch), mlp_program(args.rows, batch, "Accuracy()")
            x, y = plain["prepare_data"](plain["read_data"]("."), 0).splits["train"]
            best = {
                name: max(fn(g, x, y, batch) for _ in range(args.repeat))
                for name, fn, g in (
                    ("floor", run_floor, plain),
                    ("generated", run_generated, plain),
                    ("metrics", run_generated, with_metrics),
                    ("textbook", run_textbook, plain),
                )
            }
            print(
                f"| {threads} | {batch} | {best['floor']:,.0f} | {best['generated']:,.0f} | {best['metrics']:,.0f} | {best['textbook']:,.0f} "
                f"| {best['generated'] / best['floor']:.0%} | {best['generated'] / best['textbook']:.2f}x | {1 - best['metrics'] / best['generated']:.1%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
