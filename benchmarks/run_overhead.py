"""What `nnspec run` costs beyond the PyTorch script it replaces, end to end, as processes.

Workload: a 569-row, 30-feature CSV shaped like the breast-cancer data set (two classes, text
labels), generated here with a fixed seed; MLP 30->32->2, Adam, batches of 32, at most 200
epochs with early stopping (patience 10 on val_loss), accuracy each epoch, CPU.
- nnspec run: `python -m nnspec run spec.nn` (compile, train, checkpoints, metrics.csv, plot),
  and the same spec without metrics (no torchmetrics import);
- compiled: the program `nnspec compile` wrote, run as `python train.py`;
- script: a hand-written PyTorch script doing the same training (csv module, manual accuracy,
  best.pt and metrics.csv).
Each is timed to its end and to its first epoch line, with one torch thread. Goal: nnspec run within 1.2x the script.
Run: python benchmarks/run_overhead.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS, FEATURES = 569, 30
# One torch thread for every command: on a shared machine, two threads of a tiny model wait for
# each other whenever another process takes a core (epochs then vary from 0.1 to 1 s).
THREADS = 1

SPEC = """\
data cancer {
    source     = csv("cancer.csv")
    target     = "diagnosis"
    split      = { train: 0.7, val: 0.15, test: 0.15 }
    batch_size = 32
    normalize  = "standard"
}
model Net {
    input x: [30]
    output x -> Linear(32) -> ReLU() -> Linear(2)
}
train {
    loss      = CrossEntropyLoss()
    optimizer = Adam(lr=0.001)
    epochs    = 200
    patience  = 10
    metrics   = [Accuracy()]
    device    = "cpu"
    seed      = 0
}
"""

SCRIPT = """\
import csv, os, sys
import torch
from torch import nn

torch.manual_seed(0)
with open("cancer.csv", newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
x = torch.tensor([[float(v) for v in row[:-1]] for row in rows])
names = sorted({row[-1] for row in rows})
y = torch.tensor([names.index(row[-1]) for row in rows])
order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
n_train, n_val = round(0.7 * len(x)), round(0.15 * len(x))
train, val = order[:n_train], order[n_train : n_train + n_val]
test = order[n_train + n_val :]
mean, std = x[train].mean(0), x[train].std(0)
x = (x - mean) / std
model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def evaluate(index):
    model.eval()
    with torch.no_grad():
        logits = model(x[index])
        return loss_fn(logits, y[index]).item(), (logits.argmax(1) == y[index]).float().mean().item()


best, stale, lines = None, 0, ["epoch,train_loss,val_loss,val_accuracy"]
for epoch in range(200):
    model.train()
    perm = train[torch.randperm(len(train))]
    total = 0.0
    for i in range(0, len(perm), 32):
        batch = perm[i : i + 32]
        loss = loss_fn(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    val_loss, val_accuracy = evaluate(val)
    print(f"epoch={epoch + 1} train_loss={total / len(train):.4g} val_loss={val_loss:.4g} val_accuracy={val_accuracy:.4g}", flush=True)
    lines.append(f"{epoch + 1},{total / len(train)},{val_loss},{val_accuracy}")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, os.path.join(out, "last.pt"))
    if best is None or val_loss < best:
        best, stale = val_loss, 0
        torch.save({"model": model.state_dict()}, os.path.join(out, "best.pt"))
    else:
        stale += 1
        if stale >= 10:
            break
with open(os.path.join(out, "metrics.csv"), "w") as f:
    f.write("\\n".join(lines) + "\\n")
model.load_state_dict(torch.load(os.path.join(out, "best.pt"))["model"])
test_loss, test_accuracy = evaluate(test)
print(f"test_loss={test_loss:.4g} test_accuracy={test_accuracy:.4g}")
"""


def write_data(path: str) -> None:
    """Two Gaussian classes (357 benign, 212 malignant as in the original), 30 correlated features."""
    rng = random.Random(0)
    scales = [rng.uniform(0.5, 20.0) for _ in range(FEATURES)]
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(FEATURES)) + ",diagnosis\n")
        for row in range(ROWS):
            label = "M" if row % 569 < 212 else "B"
            shared = rng.gauss(2.0 if label == "M" else 0.0, 1.0)
            cells = [scales[i] * (shared + rng.gauss(0.0, 1.5)) for i in range(FEATURES)]
            f.write(",".join(f"{c:.4f}" for c in cells) + f",{label}\n")


def timed(argv: list[str], cwd: str) -> tuple[float, float, float, int]:
    """(seconds to the end, CPU seconds, seconds to the first epoch line, epochs printed)."""
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": str(THREADS)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    first, epochs = None, 0
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            if re.match(r"epoch[= ]\d", line):  # the script's and the program's, nnspec run's
                first = first or time.perf_counter() - start
                epochs += 1
        err = p.stderr.read()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime  # one child at a time
    return wall, cpu, first, epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="run_overhead_")
    write_data(os.path.join(folder, "cancer.csv"))
    with open(os.path.join(folder, "spec.nn"), "w") as f:
        f.write(SPEC)
    with open(os.path.join(folder, "plain.nn"), "w") as f:  # no metrics: no torchmetrics import
        f.write(SPEC.replace("    metrics   = [Accuracy()]\n", ""))
    with open(os.path.join(folder, "script.py"), "w") as f:
        f.write(SCRIPT)
    python = sys.executable
    subprocess.run(
        [python, "-m", "nnspec", "compile", "spec.nn", "-o", "train.py"],
        cwd=folder,
        check=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    commands = {
        "nnspec run": lambda i: [python, "-m", "nnspec", "run", "spec.nn", "--out", f"runs/nnspec{i}"],
        "nnspec run, no metrics": lambda i: [python, "-m", "nnspec", "run", "plain.nn", "--out", f"runs/plain{i}"],
        "compiled program": lambda i: [python, "train.py", "--out", f"runs/compiled{i}"],
        "hand-written script": lambda i: [python, "script.py", f"runs/script{i}"],
        "import torch": lambda i: [python, "-c", "import torch"],
    }
    timed([python, "-c", "import torch, torchmetrics"], folder)  # warm the file cache
    results = {name: [] for name in commands}
    for i in range(args.repeat):  # interleaved: a slow moment of a shared machine hits all alike
        for name, argv in commands.items():
            results[name].append(timed(argv(i), folder))
    report(results, args.repeat)


def report(results: dict, repeat: int) -> None:
    """Wall time (median and best) and CPU time (median; other processes on a shared machine
    slow the wall clock, not the CPU a process uses), each against the script's."""
    median = {name: [statistics.median(run[i] for run in runs) for i in (0, 1)] for name, runs in results.items()}
    wall, cpu = median["hand-written script"]
    print(
        f"{ROWS} rows x {FEATURES} features, early stopping; {repeat} runs each, CPU, {THREADS} torch thread of {os.cpu_count()} cores"
    )
    print(f"{'seconds':24}{'wall':>6}{'best':>6}{'CPU':>6}{'first epoch':>13}{'epochs':>7}{'wall x':>8}{'CPU x':>7}")
    for name, runs in results.items():
        first = [run[2] for run in runs if run[2] is not None]
        first_text = f"{statistics.median(first):.2f}" if first else "-"
        w, c = median[name]
        print(
            f"{name:24}{w:6.2f}{min(run[0] for run in runs):6.2f}{c:6.2f}{first_text:>13}"
            f"{runs[0][3] or '-'!s:>7}{w / wall:7.2f}x{c / cpu:6.2f}x"
        )


if __name__ == "__main__":
    main()
