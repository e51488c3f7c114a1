"""Training throughput of the generated program on 1 and 2 processes (torchrun, DDP).

The MLP of train_speed.py (32->256->256->10, Adam) on synthetic rows, batch_size the global
batch (each of 2 processes takes half of every batch). Per setting: samples/s, the best of 3
timed epochs after a warm-up epoch; with 2 processes also the fraction of an epoch that
gradient all-reduce adds (epochs under DDP's no_sync, which skips it, against epochs with it).
gloo on the CPU, nccl on CUDA: the script runs unchanged on GPUs (--device cuda).
Run: python benchmarks/ddp_speed.py [--rows 100000] [--batch 256] [--device cpu]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
from mlp_program import Quiet, mlp_program


def timed_epoch(g, trained, batches, epoch, loss_fn, optimizer, sync=True) -> float:
    quiet = contextlib.nullcontext() if sync else trained.no_sync()
    start = time.perf_counter()
    with quiet:
        g["train_epoch"](trained, batches, epoch, loss_fn, optimizer, Quiet())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def worker(rows: int, batch: int, device: str) -> None:
    """One process's part: prints {"samples_per_s", "allreduce_fraction"} on rank 0."""
    g = mlp_program(rows, batch, device=device)
    args = g["arguments"](["--out", tempfile.mkdtemp()])
    with g["Processes"](args) as dev:
        g["seed_everything"](0)
        data = g["prepare_data"](g["read_data"]("."), 0)
        batches = g["make_batches"](data, 0, dev)["train"]
        model = g["build_model"]().to(dev)
        loss_fn, optimizer = g["build_loss"]().to(dev), g["build_optimizer"](model, 1e-3)
        trained = g["training_model"](model, Quiet())
        timed_epoch(g, trained, batches, 0, loss_fn, optimizer)  # warm-up
        seconds = min(timed_epoch(g, trained, batches, e, loss_fn, optimizer) for e in (1, 2, 3))
        result = {"samples_per_s": rows / seconds}
        if g["world"]() > 1:
            alone = min(timed_epoch(g, trained, batches, e, loss_fn, optimizer, sync=False) for e in (4, 5, 6))
            result["allreduce_fraction"] = max(0.0, (seconds - alone) / seconds)
        if g["rank"]() == 0:
            print(json.dumps(result), flush=True)


def measure(nproc: int, threads: int, argv: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    script = [os.path.abspath(__file__), "--worker", *argv]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    command = [*launcher, *script] if nproc > 1 else [sys.executable, *script]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--device", default="cpu")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.rows, args.batch, args.device)
    argv = ["--rows", str(args.rows), "--batch", str(args.batch), "--device", args.device]
    print(f"MLP 32->256->256->10, Adam, {args.rows} rows, global batch {args.batch}, {args.device}")
    for nproc, threads in ((1, 1), (1, 2), (2, 1)):
        r = measure(nproc, threads, argv)
        share = f", all-reduce {r['allreduce_fraction']:.0%} of an epoch" if "allreduce_fraction" in r else ""
        print(f"{nproc} process(es) x {threads} thread(s): {r['samples_per_s']:,.0f} samples/s{share}")


if __name__ == "__main__":
    main()
