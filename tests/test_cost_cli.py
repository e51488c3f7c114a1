"""The cost model at the command line: summary's FLOPs and memory fields beside the interface
others rely on, --batch-size, the memory budget (max_memory, --max-memory, E519), sizes as
people write them, and a cost that grows linearly with the layers."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from nnspec import bytesize
from nnspec.compiler.cost import estimate
from nnspec.compiler.pipeline import check_source
from tests.support import run_cli

SPEC = """\
data blobs {
    source = synthetic(features=4, classes=3)
    batch_size = 8
}
model Small {
    input x: [4]
    h = x -> Linear(16) -> ReLU()
    output h -> Linear(3)
}
train {
    loss = CrossEntropyLoss()
    optimizer = Adam(lr=0.01)
}
"""
LAYER_KEYS = {"name", "kind", "output_shape", "params", "trainable", "depth", "macs"}  # design §5 and earlier
TOP_KEYS = {"model", "inputs", "layers", "total_params", "trainable_params", "non_trainable_params", "param_mb", "macs"}
MEMORY_KEYS = {"batch_size", "optimizer", "parameters", "buffers", "gradients", "optimizer_state"}
MEMORY_KEYS |= {"activations", "inputs", "peak"}


def summary(capsys, path, *argv):
    code, out, err = run_cli(capsys, "summary", path, "--format", "json", *argv)
    return code, (json.loads(out) if out else None), err


def test_summary_json_adds_flops_and_memory_and_keeps_every_key(write, capsys):
    code, data, _ = summary(capsys, write(SPEC))
    assert code == 0
    assert set(data) == TOP_KEYS | {"flops", "memory"}
    assert all(set(layer) == LAYER_KEYS | {"flops", "memory"} for layer in data["layers"])
    linear = data["layers"][0]
    assert linear["flops"] == {"forward": 2 * 4 * 16, "backward": 2 * 4 * 16}  # the input needs no gradient
    assert linear["memory"] == {"saved": 8 * 4 * 4}  # the batch it multiplied, for the weights' gradient
    assert set(data["memory"]) == MEMORY_KEYS
    memory = data["memory"]
    assert (memory["batch_size"], memory["optimizer"]) == (8, "Adam")  # the train section's data and optimizer
    params = 4 * 16 + 16 + 16 * 3 + 3
    assert (memory["parameters"], memory["gradients"], memory["optimizer_state"]) == (
        4 * params,
        4 * params,
        8 * params,
    )
    assert memory["activations"] == sum(layer["memory"]["saved"] for layer in data["layers"])
    assert data["flops"]["forward"] == sum(layer["flops"]["forward"] for layer in data["layers"])
    assert data["flops"]["step"] == 8 * (data["flops"]["forward"] + data["flops"]["backward"])


def test_batch_size_scales_what_grows_with_the_batch(write, capsys):
    path = write(SPEC)
    small, large = summary(capsys, path, "--batch-size", "1")[1], summary(capsys, path, "--batch-size", "64")[1]
    assert (small["memory"]["batch_size"], large["memory"]["batch_size"]) == (1, 64)
    assert large["memory"]["activations"] == 64 * small["memory"]["activations"]
    assert large["memory"]["parameters"] == small["memory"]["parameters"]
    assert large["flops"]["forward"] == small["flops"]["forward"]  # per sample, as macs


def test_without_a_train_section_a_batch_of_one_and_no_optimizer(write, capsys):
    data = summary(capsys, write("model M {\n    input x: [4]\n    output x -> Linear(2)\n}\n"))[1]
    assert (data["memory"]["batch_size"], data["memory"]["optimizer"], data["memory"]["optimizer_state"]) == (
        1,
        None,
        0,
    )


def test_summary_text_shows_the_cost_columns_and_the_memory(write, capsys):
    code, out, _ = run_cli(capsys, "summary", write(SPEC))
    assert code == 0
    assert "FLOPs" in out and "Saved (batch 8)" in out and "Optimizer state (Adam)" in out and "Peak" in out


def test_max_memory_in_the_spec_is_e519_at_its_value(write, capsys):
    path = write(SPEC.replace("optimizer = Adam(lr=0.01)", 'optimizer = Adam(lr=0.01)\n    max_memory = "1KB"'))
    code, out, err = run_cli(capsys, "lint", path, "--format", "concise")
    assert code == 1
    assert [line.split()[1] for line in out.splitlines()] == ["E519"]
    assert out.startswith(f"{path}:13:18:")
    assert run_cli(capsys, "lint", path, "--max-memory", "1GB")[0] == 0  # the command line's budget wins


def test_max_memory_on_the_command_line(write, capsys):
    path = write(SPEC)
    assert run_cli(capsys, "lint", path, "--max-memory", "1MB")[0] == 0
    code, out, _ = run_cli(capsys, "lint", path, "--max-memory", "1KB", "--format", "concise")
    assert code == 1 and " E519 " in out
    assert run_cli(capsys, "lint", path, "--max-memory", "1MB", "--batch-size", "100000")[0] == 1
    code, _, err = run_cli(capsys, "lint", path, "--max-memory", "lots")
    assert code == 2 and "--max-memory" in err


def test_summary_over_the_budget_still_shows_where_the_memory_goes(write, capsys):
    code, data, err = summary(capsys, write(SPEC), "--max-memory", "1KB")
    assert code == 1
    assert data["memory"]["peak"] > 1000
    assert "error[E519]" in err


@pytest.mark.parametrize(
    "text,value",
    [("512MB", 512 * 10**6), ("8GB", 8 * 10**9), ("1.5GiB", 3 * 2**29), ("8 gb", 8 * 10**9), ("100", 100)],
)
def test_sizes(text, value):
    assert bytesize.parse(text) == value


@pytest.mark.parametrize("text", ["", "8 gigs", "GB", "-1GB", "0B", "0.5B", "1e9", "8GB8"])
def test_not_sizes(text):
    assert bytesize.parse(text) is None


def test_max_memory_as_a_number_of_bytes(write, capsys):
    path = write(SPEC.replace("optimizer = Adam(lr=0.01)", "optimizer = Adam(lr=0.01)\n    max_memory = 1000"))
    assert [d.code for d in check_source(open(path).read(), path).diagnostics] == ["E519"]


def test_lint_with_a_memory_budget_does_not_import_torch(write, tmp_path):
    probe = "import sys\nfrom nnspec.cli import main\nmain(sys.argv[1:])\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    argv = ["lint", write(SPEC), "--max-memory", "1GB", "--batch-size", "4"]
    proc = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr


def chain(layers: int) -> str:
    body = " -> ".join(["Linear(8)", "ReLU()"] * (layers // 2))
    return f"model Deep {{\n    input x: [8]\n    output x -> {body}\n}}\n"


def test_cost_grows_linearly_with_the_layers():
    """Four times the layers take about four times as long (quadratic would be sixteen)."""
    graphs = {n: next(iter(check_source(chain(n), "deep.nn").program.models.values())) for n in (1000, 4000)}
    seconds = {}
    for n, graph in graphs.items():
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            estimate(graph, 32)
            runs.append(time.perf_counter() - start)
        seconds[n] = min(runs)
    assert seconds[4000] < 8 * seconds[1000]
