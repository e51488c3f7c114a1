"""How `nnspec lint` time grows with the size of the network: 100 to 10,000 layers.

Three generated specs per size, written to a temporary folder:
- chain:      one statement, `h = x -> Linear(64) -> ReLU() -> Linear(64) -> ReLU() ...` over many lines;
- statements: one statement per pair, `h = h -> Linear(64) -> ReLU()` (a name reassigned many times);
- blocks:     a residual block of 5 layers (Linear, ReLU, Linear, Add, ReLU) used as `Res(64) * K`
              (at most 8,330 layers: lint caps a model at 10,000 unrolled nodes, block instances included).
For each: the whole `nnspec lint` process (the venv's console script; median of --process-runs; wall and
CPU time) and `nnspec.compiler.pipeline.check_file` in this process (median of --runs after one warm-up
call), with the parse alone timed apart. `exp` is the growth exponent from the previous size,
log(t2/t1) / log(n2/n1), of the in-process CPU time (CPU rather than wall: the machine may be shared):
1.0 is linear, 2.0 quadratic. Layers are counted in the checked graph.
Run from the repository root: python benchmarks/lint_scaling.py [--sizes 100,1000,3000,10000]
[--runs 3] [--process-runs 3] [--profile LAYERS [--profile-variant chain]]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from nnspec.compiler.expand import MAX_LAYERS  # noqa: E402
from nnspec.compiler.parser import parse  # noqa: E402
from nnspec.compiler.pipeline import check_file  # noqa: E402

NNSPEC = os.path.join(os.path.dirname(sys.executable), "nnspec")
WHOLE_PROCESS_LIMIT_S = 1.0  # for the 1,000-layer specs


def chain(layers: int) -> str:
    pairs = "\n".join("        -> Linear(64) -> ReLU()" for _ in range(layers // 2 - 1))
    return f"model Deep {{\n    input x: [64]\n    h = x -> Linear(64) -> ReLU()\n{pairs}\n    output h\n}}\n"


def statements(layers: int) -> str:
    lines = "\n".join("    h = h -> Linear(64) -> ReLU()" for _ in range(layers // 2 - 1))
    return f"model Deep {{\n    input x: [64]\n    h = x -> Linear(64) -> ReLU()\n{lines}\n    output h\n}}\n"


def blocks(layers: int) -> str:
    # lint counts a block instance too (6 per Res) against MAX_LAYERS: the largest size gets fewer layers
    repeats = min(layers // 5, MAX_LAYERS // 6)
    return (
        "block Res(width) {\n"
        "    input x\n"
        "    y = x -> Linear(width) -> ReLU() -> Linear(width)\n"
        "    output ReLU(y + x)\n"
        "}\n"
        "model Deep {\n"
        "    input x: [64]\n"
        f"    output x -> Res(64) * {repeats}\n"
        "}\n"
    )


VARIANTS = {"chain": chain, "statements": statements, "blocks": blocks}


def environment() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # otherwise every process recompiles every module it imports
    return env


def count_layers(graph) -> int:
    return sum(count_layers(n.body) if n.body is not None else 1 for n in graph.nodes)


def in_process(path: str, runs: int) -> dict:
    """Medians of check_file (wall and CPU seconds) and of parse alone (CPU), and the layers checked."""
    result = check_file(path)  # warm-up (and the first call loads the grammar)
    if not result.ok:
        sys.exit(f"{path} does not check cleanly: {result.diagnostics[:3]}")
    layers = sum(count_layers(g) for g in result.program.models.values())
    del result
    with open(path, encoding="utf-8") as f:
        source = f.read()
    walls, cpus, parses = [], [], []
    for _ in range(runs):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        check_file(path)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        gc.collect()
        cpu = time.process_time()
        parse(source, path)
        parses.append(time.process_time() - cpu)
    return {
        "layers": layers,
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "parse": statistics.median(parses),
    }


def whole_process(path: str, runs: int) -> dict:
    """Medians of wall and CPU (user + sys) seconds of `nnspec lint` as a child process."""
    walls, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryFile() as output:
            start = time.perf_counter()
            child = subprocess.Popen(
                [NNSPEC, "lint", "--format", "concise", path], cwd=ROOT, env=environment(), stdout=output, stderr=output
            )
            _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
            walls.append(time.perf_counter() - start)
            cpus.append(usage.ru_utime + usage.ru_stime)
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                output.seek(0)
                sys.exit(f"nnspec lint {path} exited {child.returncode}:\n{output.read().decode(errors='replace')}")
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


def profile(path: str, top: int = 25) -> str:
    check_file(path)
    profiler = cProfile.Profile()
    profiler.enable()
    check_file(path)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    text.write("\n")
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000,10000", help="layer counts, comma-separated")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"some of {', '.join(VARIANTS)}")
    parser.add_argument("--runs", type=int, default=3, help="in-process runs per spec (median; default 3)")
    parser.add_argument("--process-runs", type=int, default=3, help="whole-process runs per spec (median; default 3)")
    parser.add_argument(
        "--profile", type=int, metavar="LAYERS", help="print a cProfile of check_file at this size instead"
    )
    parser.add_argument("--profile-variant", default="chain", choices=VARIANTS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = args.variants.split(",")
    if not os.path.exists(NNSPEC):
        sys.exit(f"no nnspec console script next to {sys.executable}: install nnspec in this environment")

    with tempfile.TemporaryDirectory() as folder:

        def write(variant: str, layers: int) -> str:
            path = os.path.join(folder, f"{variant}_{layers}.nn")
            with open(path, "w", encoding="utf-8") as f:
                f.write(VARIANTS[variant](layers))
            return path

        if args.profile:
            print(profile(write(args.profile_variant, args.profile)))
            return 0
        whole_process(write(variants[0], sizes[0]), 1)  # warm-up: .pyc files, page cache
        load = os.getloadavg()[0]
        rows = []
        for variant in variants:
            previous = None
            for size in sizes:
                path = write(variant, size)
                inside = in_process(path, args.runs)
                process = whole_process(path, args.process_runs)
                layers, cpu = inside["layers"], inside["cpu"]
                exponent = (
                    "" if previous is None else f"{math.log(cpu / previous[1]) / math.log(layers / previous[0]):.2f}"
                )
                rows.append((variant, os.path.getsize(path), process, inside, exponent))
                previous = (layers, cpu)
        load = max(load, os.getloadavg()[0])

    print(
        f"`nnspec lint` of generated specs: the whole process (median of {args.process_runs}) and check_file in "
        f"process (median of {args.runs}, after a warm-up call); CPU is user + sys. 1-min load average up to "
        f"{load:.1f} on {os.cpu_count()} CPUs."
    )
    print()
    print(
        "| variant | layers | spec KiB | process wall ms | process CPU ms | in-process wall ms | in-process CPU ms "
        "| of which parse CPU ms | CPU µs/layer | exp |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant, size, process, inside, exponent in rows:
        layers = inside["layers"]
        print(
            f"| {variant} | {layers:,} | {size / 1024:.0f} | {process['wall'] * 1000:.0f} | {process['cpu'] * 1000:.0f} "
            f"| {inside['wall'] * 1000:.0f} | {inside['cpu'] * 1000:.0f} | {inside['parse'] * 1000:.0f} "
            f"| {inside['cpu'] / layers * 1e6:.0f} | {exponent} |"
        )
    print()
    print("exp: growth exponent of in-process CPU time from the previous size, log(t2/t1) / log(n2/n1); 1 is linear.")
    for variant, _, process, inside, _ in rows:
        if inside["layers"] == 1000:
            verdict = "PASS" if process["wall"] < WHOLE_PROCESS_LIMIT_S else "FAIL"
            print(
                f"- {variant}, 1,000 layers: whole process {process['wall'] * 1000:.0f} ms wall "
                f"({process['cpu'] * 1000:.0f} ms CPU) < 1 s: {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
