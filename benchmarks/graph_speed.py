"""`nnspec graph` as a whole process: a 500-layer chain and ResNet-18, as DOT and Mermaid.

Each command is `python -m nnspec graph SPEC --format F -o OUT` run from the repository root (so this
checkout's nnspec is the one imported), once untimed, then --runs times: median and min wall time.
`nnspec lint` of the same spec is timed alike, for comparison: drawing adds the layout and the text
to lint's work. With Graphviz installed, SVG is timed too (fewer runs: `dot` lays the graph out).
Run from the repository root: python benchmarks/graph_speed.py [--runs 10] [--svg-runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAIN_LAYERS = 500


def chain(layers: int) -> str:
    """A model of `layers` layers in one chain: Linear, ReLU, Linear, ReLU ..."""
    pairs = "\n".join("        -> Linear(64) -> ReLU()" for _ in range(layers // 2 - 1))
    return f"model Chain {{\n    input x: [64]\n    h = x -> Linear(64) -> ReLU()\n{pairs}\n    output h\n}}\n"


def environment() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # .pyc files written once, then used, as a user's would be
    return env


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)!r} failed with exit code {done.returncode}:\n{done.stderr.decode()}")
    return seconds


def series(argv: list[str], runs: int) -> str:
    wall(argv)  # warm-up: .pyc files, the parser's cached tables, the page cache
    times = [wall(argv) for _ in range(runs)]
    return f"{statistics.median(times) * 1000:,.0f} ms ({min(times) * 1000:,.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each DOT, Mermaid and lint command")
    parser.add_argument("--svg-runs", type=int, default=3, help="timed runs of each SVG command (needs Graphviz)")
    args = parser.parse_args()
    python = [sys.executable, "-m", "nnspec"]
    formats = ["dot", "mermaid"] + (["svg"] if shutil.which("dot") else [])
    with tempfile.TemporaryDirectory() as folder:
        spec = os.path.join(folder, "chain500.nn")
        with open(spec, "w") as f:
            f.write(chain(CHAIN_LAYERS))
        specs = {f"{CHAIN_LAYERS}-layer chain": spec, "specs/resnet18.nn": "specs/resnet18.nn"}
        print(f"Whole processes, median (min) of {args.runs} runs ({args.svg_runs} for svg), after one warm-up;")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.\n")
        print("| spec | lint | " + " | ".join(f"graph --format {f}" for f in formats) + " |")
        print("| --- | ---: |" + " ---: |" * len(formats))
        for name, path in specs.items():
            cells = [series([*python, "lint", path], args.runs)]
            for fmt in formats:
                out = os.path.join(folder, f"out.{fmt}")
                runs = args.svg_runs if fmt == "svg" else args.runs
                cells.append(series([*python, "graph", path, "--format", fmt, "-o", out, "--force"], runs))
            print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
