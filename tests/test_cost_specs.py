"""The cost model on whole networks: every shipped spec and a sample of the differential fuzz's
random specs, compiled and measured in PyTorch.

Forward and backward FLOPs equal FlopCounterMode's for a batch; the bytes kept for backward are
within 10% of what saved_tensors_hooks records in one training forward pass; the estimated peak
of a training step is compared with the CPU allocator's, from the profiler's memory timeline.
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
import warnings

import pytest
import torch
from hypothesis import given, settings

from nnspec.compiler.codegen import generate_models
from nnspec.compiler.cost import estimate
from nnspec.compiler.names import safe_variable
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.settings import pick
from nnspec.compiler.walk import flat_nodes
from nnspec.program.finetune import matches
from tests import cost_oracle
from tests.test_differential import FUZZ, sample, specs

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = sorted([*ROOT.glob("specs/*.nn"), *ROOT.glob("examples/*.nn")])
BATCH = 2
SYMBOL = 7  # the size a symbolic input dim is given
SAVED_TOLERANCE = 0.10
PEAK_BATCH = 16
PEAK_RANGE = (0.75, 1.10)  # estimated / measured; kernels' own workspaces are not modelled
PEAK_SLACK = 4096  # bytes: the allocations of a few-kilobyte model's step that are not tensors of it
HEAVY = {
    "alexnet",
    "vgg16",
    "resnet18",
    "resnet50",
    "nanogpt",
}  # 224x224 images, 10M weights: measured for the README, not on every run
FUZZ_SAMPLE = int(os.environ.get("NNSPEC_COST_FUZZ_EXAMPLES", "200"))


def concrete(text: str, env: dict) -> str:
    """The spec with its symbolic input sizes written as numbers: nnspec counts a symbol as 1.
    `N` marks where the batch is (`[T, N, F]`) and stays."""

    def fix(line: re.Match) -> str:
        return re.sub(r"\b([A-MO-Z])\b", lambda m: str(env.get(m.group(1), SYMBOL)), line.group(0))  # N: the batch

    return re.sub(r"^\s*input\b.*$", fix, text, flags=re.M)


@functools.cache
def program(path: pathlib.Path):
    result = check_source(concrete(path.read_text(encoding="utf-8"), {}), str(path))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.program


def trained(prog, graph):
    """(train section, frozen patterns) of the first train section that trains `graph`."""
    for train in prog.trains.values():
        if pick(train, "model", prog.models) is graph:
            return train, tuple(train.values["freeze"])
    return None, ()


def build(prog, name: str, frozen=()):
    source = generate_models(prog, "cost_models.py", format=False)
    namespace: dict = {"__name__": "cost_models"}
    exec(compile(source, "cost_models.py", "exec"), namespace)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RNN dropout with one layer ...
        model = namespace[safe_variable(name)]().train()
    for pname, p in model.named_parameters():
        if any(matches(pname, pattern) for pattern in frozen):
            p.requires_grad_(False)
    return model


def one(out) -> torch.Tensor:
    """A single tensor backward can start from: the sum of every output."""
    outs = out if isinstance(out, tuple) else (out,)
    return sum(o.float().sum() for o in outs)


def squares(out) -> torch.Tensor:
    """A loss whose gradient is a tensor as large as the output, as a training loss's is (a plain
    sum's is an expanded scalar, no memory: a wide output's gradient would go unmeasured)."""
    outs = out if isinstance(out, tuple) else (out,)
    return sum(o.float().square().sum() for o in outs)


def counted(graph, cost, frozen) -> tuple[int, int]:
    """nnspec's FLOPs per sample as FlopCounterMode counts them: without the kinds it does not
    count, and a grouped convolution's weight gradient as if it were not grouped."""
    forward, backward = cost.forward, cost.backward
    for (name, _, node), row in zip(flat_nodes(graph), cost.layers):
        if node.is_block:
            continue
        if node.kind in cost_oracle.UNCOUNTED:
            forward, backward = forward - row.forward, backward - row.backward
        groups = node.args.get("groups", 1)
        if groups > 1 and row.backward and node.params and not any(matches(name + ".weight", p) for p in frozen):
            backward += (groups - 1) * row.forward
    return forward, backward


def check_model(prog, name: str, env: dict | None = None) -> dict:
    """Measure one model against its static cost; returns the figures for the caller's asserts."""
    graph = prog.models[name]
    train, frozen = trained(prog, graph)
    cost = estimate(graph, BATCH, frozen, train.values["optimizer"] if train else None)
    model = build(prog, name, frozen)
    inputs = [sample(i.shape, env or {}) for i in graph.inputs]
    forward, backward = cost_oracle.flops(lambda: one(model(*inputs)), model)
    measured = cost_oracle.saved_bytes(lambda: model(*inputs), model)
    return {
        "flops": (forward, backward),
        "static_flops": tuple(f * BATCH for f in counted(graph, cost, frozen)),
        "saved": measured,
        "static_saved": cost.memory.activations,
        "model": model,
        "inputs": inputs,
        "cost": cost,
        "train": train,
    }


def assert_saved_close(figures: dict, what: str) -> None:
    measured, static = figures["saved"], figures["static_saved"]
    assert abs(static - measured) <= SAVED_TOLERANCE * max(measured, 1), f"{what}: nnspec {static}, autograd {measured}"


MODELS = [(path, name) for path in SHIPPED for name in program(path).models]


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors, a shared machine


@pytest.mark.parametrize("path,name", MODELS, ids=[f"{p.stem}-{n}" for p, n in MODELS])
def test_shipped_specs(path, name):
    figures = check_model(program(path), name)
    assert figures["static_flops"] == figures["flops"]
    assert_saved_close(figures, f"{path.name} {name}")


def optimizer_for(train, model):
    """The train section's optimizer over the parameters that train, or plain SGD."""
    params = [p for p in model.parameters() if p.requires_grad]
    if train is None:
        return torch.optim.SGD(params, lr=0.01)
    bound = train.values["optimizer"]
    positional, keywords = bound.kind.constructor(bound.args())
    return getattr(torch.optim, bound.kind.torch_class.rsplit(".", 1)[1])(params, *positional, **keywords)


LIGHT = [(path, name) for path, name in MODELS if path.stem not in HEAVY]


@pytest.mark.parametrize("path,name", LIGHT, ids=[f"{p.stem}-{n}" for p, n in LIGHT])
def test_peak_estimate_near_the_cpu_allocators(path, name):
    """One training step after a first one (the optimizer's state exists), as the profiler's
    memory timeline sees the allocator: the estimate is within PEAK_RANGE of its peak."""
    prog = program(path)
    graph = prog.models[name]
    train, frozen = trained(prog, graph)
    estimated = estimate(graph, PEAK_BATCH, frozen, train.values["optimizer"] if train else None).memory.peak
    model = build(prog, name, frozen)
    optimizer = optimizer_for(train, model)
    inputs = [sample(i.shape, {}).repeat_interleave(PEAK_BATCH // 2, dim=0) for i in graph.inputs]

    def step():
        squares(model(*inputs)).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()
    measured = cost_oracle.peak_bytes(step, model)
    low, high = PEAK_RANGE
    assert low * measured - PEAK_SLACK <= estimated <= high * measured + PEAK_SLACK, (estimated, measured)


@settings(FUZZ, max_examples=FUZZ_SAMPLE)
@given(specs())
def test_random_specs(case):
    text, env = case
    result = check_source(concrete(text, env), "fuzz.nn")
    assert result.ok, [d.message for d in result.diagnostics]
    for name in result.program.models:
        figures = check_model(result.program, name, env)
        assert figures["static_flops"] == figures["flops"], text
        assert_saved_close(figures, text)
