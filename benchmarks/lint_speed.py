"""`nnspec lint` vs `torchinfo.summary` on the specs of NETWORKS (below), each as a whole process.

- nnspec: the venv's `nnspec lint specs/<name>.nn` console script (interpreter start, imports, parse,
  checks, output), median and min wall time of --runs runs, and the peak RSS of each child;
- torchinfo: `python -c "import torch, torchinfo; ...; torchinfo.summary(model, input_data=...)"`
  on the hand-written networks of tests/ (torchvision cannot be imported here), fed their own inputs:
  import, model construction and the forward pass included, over --torchinfo-runs runs,
  taken in turns with the lint runs of the same spec.
Every command runs once untimed first, and without PYTHONDONTWRITEBYTECODE, so .pyc files exist.
It also checks that the lint process imports none of torch, torchmetrics, black (and numpy, jinja2).
Run from the repository root: python benchmarks/lint_speed.py [--runs 30] [--torchinfo-runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
NNSPEC = os.path.join(BIN, "nnspec")
PYTHON = sys.executable
MiB = 1024 * 1024
# spec name -> (module in tests/, builder, torchinfo input_data: one batch of the spec's inputs)
IMAGE = "[torch.randn(1, 3, 224, 224)]"
NETWORKS = {
    "resnet18": ("reference_models", "resnet18()", IMAGE),
    "vgg16": ("reference_models", "vgg16()", IMAGE),
    "resnet50": ("reference_networks", "ResNet50()", IMAGE),
    "nanogpt": ("reference_networks", "GPT()", "[torch.randint(0, 65, (1, 256))]"),
    "siamese": ("reference_networks", "Siamese()", "[torch.randn(1, 1, 28, 28), torch.randn(1, 1, 28, 28)]"),
    "seq2seq": ("reference_networks", "Seq2Seq()", "[torch.randint(0, 10, (1, 20)), torch.randint(0, 10, (1, 18))]"),
    "unet": ("reference_networks", "UNet()", "[torch.randn(1, 3, 64, 64)]"),
}
HEAVY = ("torch", "torchmetrics", "black", "numpy", "jinja2")  # the first three must stay out of lint (design §9)
LIMIT_MS, LIMIT_MIB, MIN_SPEEDUP = 150, 40, 20

TORCHINFO = """\
import torch, torchinfo
from tests.{module} import *
model = {call}
torchinfo.summary(model, input_data={inputs})
"""

# Runs the nnspec console script exactly as the shell would, then reports the top-level packages loaded.
IMPORTS = """\
import json, runpy, sys
sys.argv = [{script!r}, "lint", {spec!r}]
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit as e:
    code = e.code
sys.stderr.write("\\nMODULES " + json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})) + "\\n")
sys.exit(code)
"""


def environment() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # otherwise every process recompiles every module it imports
    return env


def measure(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one child process, which must exit 0."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=errors)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN's ru_maxrss is a maximum over all children)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")
            sys.exit(f"{' '.join(argv)!r} failed with exit code {child.returncode}:\n{message}")
    kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return seconds, usage.ru_utime + usage.ru_stime, kib * 1024 / MiB


def series(argv: list[str], runs: int) -> dict:
    measure(argv)  # warm-up: writes any missing .pyc, fills the page cache
    return summary([measure(argv) for _ in range(runs)])


def interleaved(a: list[str], runs_a: int, b: list[str], runs_b: int) -> tuple[dict, dict]:
    """Two series taken in turns (b spread evenly among a), so that both see the machine as it
    is: its speed drifts by tens of percent within a minute, which one series after the other mixes in."""
    measure(a), measure(b)  # warm-ups
    every = max(1, runs_a // max(runs_b, 1))
    done_a, done_b = [], []
    for i in range(runs_a):
        if i % every == 0 and len(done_b) < runs_b:
            done_b.append(measure(b))
        done_a.append(measure(a))
    done_b += [measure(b) for _ in range(runs_b - len(done_b))]
    return summary(done_a), summary(done_b)


def summary(measured: list[tuple[float, float, float]]) -> dict:
    times, cpus, peaks = zip(*measured)
    return {
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "cpu_median_ms": statistics.median(cpus) * 1000,
        "cpu_min_ms": min(cpus) * 1000,
        "peak_mib": max(peaks),
    }


def lint_imports(spec: str) -> list[str]:
    code = IMPORTS.format(script=NNSPEC, spec=spec)
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=environment(), capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("MODULES ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"nnspec lint {spec} failed with exit code {done.returncode}:\n{done.stdout}{done.stderr}")
    loaded = set(json.loads(lines[-1][len("MODULES ") :]))
    return [name for name in HEAVY if name in loaded]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each nnspec lint (default 30)")
    parser.add_argument(
        "--torchinfo-runs", type=int, default=5, help="timed runs of each torchinfo summary (default 5)"
    )
    args = parser.parse_args()
    if not os.path.exists(NNSPEC):
        sys.exit(f"no nnspec console script next to {PYTHON}: install nnspec in this environment (make bench does)")
    load = os.getloadavg()[0]
    baseline = series([PYTHON, "-c", "pass"], args.runs)
    rows, imports = [], {}
    for name, (module, call, inputs) in NETWORKS.items():
        spec = f"specs/{name}.nn"
        code = TORCHINFO.format(module=module, call=call, inputs=inputs)
        lint, torchinfo = interleaved([NNSPEC, "lint", spec], args.runs, [PYTHON, "-c", code], args.torchinfo_runs)
        rows.append((spec, lint, torchinfo))
        imports[spec] = lint_imports(spec)
    load = max(load, os.getloadavg()[0])

    print(
        f"`nnspec lint` vs `torchinfo.summary`, whole processes: median (min) of {args.runs} nnspec runs, "
        f"{args.torchinfo_runs} torchinfo runs taken in turns with them, after one warm-up each; "
        "peak RSS is the largest over the runs."
    )
    print()
    print(
        "| spec | nnspec median ms (min) | nnspec peak MiB | torchinfo median ms (min) | torchinfo peak MiB | speedup |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for spec, lint, info in rows:
        speedup = info["median_ms"] / lint["median_ms"]
        print(
            f"| {spec} | {lint['median_ms']:.0f} ({lint['min_ms']:.0f}) | {lint['peak_mib']:.1f} "
            f"| {info['median_ms']:.0f} ({info['min_ms']:.0f}) | {info['peak_mib']:.0f} | {speedup:.0f}x |"
        )
    print()
    print(
        f"CPU time (user + sys) of the same runs, median (min); 1-min load average up to {load:.1f} on {os.cpu_count()} CPUs:"
    )
    print()
    print("| spec | nnspec CPU ms | torchinfo CPU ms |")
    print("| --- | ---: | ---: |")
    for spec, lint, info in rows:
        print(
            f"| {spec} | {lint['cpu_median_ms']:.0f} ({lint['cpu_min_ms']:.0f}) | {info['cpu_median_ms']:.0f} ({info['cpu_min_ms']:.0f}) |"
        )
    print()
    print(
        f"Baseline `python -c pass`: median {baseline['median_ms']:.0f} ms (min {baseline['min_ms']:.0f}), "
        f"CPU {baseline['cpu_median_ms']:.0f} ms, peak {baseline['peak_mib']:.1f} MiB."
    )
    print()
    for spec, lint, info in rows:
        speedup = info["median_ms"] / lint["median_ms"]
        checks = [
            (f"median < {LIMIT_MS} ms", lint["median_ms"] < LIMIT_MS),
            (f"peak < {LIMIT_MIB} MiB", lint["peak_mib"] < LIMIT_MIB),
            (f">= {MIN_SPEEDUP}x faster than torchinfo", speedup >= MIN_SPEEDUP),
            ("no torch/torchmetrics/black import", not set(imports[spec]) & {"torch", "torchmetrics", "black"}),
        ]
        verdicts = ", ".join(f"{label}: {'PASS' if ok else 'FAIL'}" for label, ok in checks)
        print(f"- {spec}: {verdicts}; heavy packages imported by lint: {', '.join(imports[spec]) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
