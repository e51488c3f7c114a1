"""Training throughput of the generated loop vs the textbook loop vs the compute floor.

MLP 32->256->256->10 on 200,000 synthetic rows, CPU; batch 64 and 512; 1 and 2 threads.
- generated: the program `nnspec compile` writes (Batches + train_epoch), metrics on or off;
- textbook: TensorDataset + DataLoader(shuffle=True), loss.item() every batch;
- floor: forward, backward and optimizer step on pre-made batches, nothing else.
Run: python benchmarks/train_speed.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nnspec.compiler.codegen import Target, generate  # noqa: E402
from nnspec.compiler.pipeline import check_source  # noqa: E402

SPEC = """
data blobs {{
    source = synthetic(samples={rows}, features=32, classes=10)
    split = {{ train: 1.0 }}
    batch_size = {batch}
}}
model MLP {{
    input x: [32]
    output x -> Linear(256) -> ReLU() -> Linear(256) -> ReLU() -> Linear(10)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = Adam(lr=0.001)
    metrics = [{metrics}]
}}
"""


def generated_module(rows: int, batch: int, metrics: bool):
    text = SPEC.format(rows=rows, batch=batch, metrics="Accuracy()" if metrics else "")
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "bench.nn")
    with open(path, "w") as f:
        f.write(text)
    result = check_source(text, path)
    assert result.ok, result.diagnostics
    source = generate(result.program, result.program.trains["train"], Target("bench.py", folder, "runs"), format=False)
    namespace = {"__name__": "bench", "__file__": os.path.join(folder, "bench.py")}
    exec(compile(source, "bench.py", "exec"), namespace)
    return namespace


class Quiet:
    def start(self, epoch, epochs):
        pass

    def batch(self, done, total, samples, loss):
        pass

    def end(self, row):
        pass

    def message(self, text):
        pass


def run_generated(g, x, y, batch):
    model = g["build_model"]()
    loss_fn, optimizer = g["build_loss"](), g["build_optimizer"](model, 1e-3)
    metrics = g["Metrics"](g["build_metrics"]())
    batches = g["Batches"](x, y, batch, True, False, 0)
    start = time.perf_counter()
    g["train_epoch"](model, batches, 0, loss_fn, optimizer, None, metrics, torch.device("cpu"), Quiet())
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
            plain, with_metrics = generated_module(args.rows, batch, False), generated_module(args.rows, batch, True)
            x, y = plain["load_source"](None, plain["DATA"]["options"])
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
