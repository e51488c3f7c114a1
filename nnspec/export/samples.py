"""The inputs an export is traced and verified with: every size that may vary differs between them.

The batch is traced at 3 and checked at 5 and at 1 (the batch a deployment often runs). A symbolic
size (`input x: [T, 4]`) takes a different value in each: the first of LENGTHS the model runs
with, then later ones. Integer inputs (token indices) are drawn below the largest index the model
accepts, found by running it.
"""

from __future__ import annotations

import torch

from nnspec.compiler.ir import Graph
from nnspec.export import ExportError
from nnspec.record import record

TRACE_BATCH = 3
CHECK_BATCHES = (5, 1)
# Distinct from the batches and from each other (torch.export would take equal sizes for one).
LENGTHS = (7, 11, 16, 24, 32, 48, 64, 96, 128, 256)
MAX_INDEX = 2**24
SEED = 0


@record
class Sample:
    """One set of model inputs and the sizes they were made with."""

    batch: int
    lengths: dict  # symbol -> value
    tensors: tuple

    def sizes(self) -> str:
        return ", ".join([f"batch {self.batch}", *(f"{k}={v}" for k, v in self.lengths.items())])


@record
class Samples:
    trace: Sample
    checks: tuple[Sample, ...]
    dynamic: tuple[dict, ...]  # per input: dim -> the name of the size it varies with ("N", "T")
    refused: tuple[Sample, ...] = ()  # check sizes PyTorch's own model does not run at (batch 1 and BatchNorm)


def symbols(graph: Graph) -> list[str]:
    """The symbolic sizes of the model's inputs, in order of appearance."""
    return list(dict.fromkeys(d for i in graph.inputs for d in i.shape.dims if isinstance(d, str)))


def choose_samples(model: torch.nn.Module, graph: Graph) -> Samples:
    envs = _lengths(model, graph)
    limits = _index_limits(model, graph, envs[0])
    generator = torch.Generator().manual_seed(SEED)

    def sample(batch: int, env: dict) -> Sample:
        return Sample(batch, env, _tensors(graph, batch, env, limits, generator))

    trace = sample(TRACE_BATCH, envs[0])
    checks = [sample(b, envs[min(k + 1, len(envs) - 1)]) for k, b in enumerate(CHECK_BATCHES)]
    # the batch is "N" wherever the input's layout puts it (`input seq: [T, N, 10]`)
    dynamic = tuple({k: d for k, d in enumerate(i.shape.labels()) if isinstance(d, str)} for i in graph.inputs)
    runs = [_runs(model, c.tensors) for c in checks]
    kept = tuple(c for c, ok in zip(checks, runs) if ok)
    return Samples(trace, kept, dynamic, tuple(c for c, ok in zip(checks, runs) if not ok))


def _lengths(model, graph: Graph) -> list[dict]:
    """Up to three assignments of the symbolic sizes that the model runs with."""
    names = symbols(graph)
    if not names:
        return [{}]
    found = []
    for value in LENGTHS:
        env = {name: value + k for k, name in enumerate(names)}
        if _runs(model, _plain(graph, TRACE_BATCH, env)):
            found.append(env)
            if len(found) == 3:
                break
    if len(found) < 2:
        tried = ", ".join(map(str, LENGTHS))
        raise ExportError(
            "E626",
            f"model `{graph.name}` runs with {'only one' if found else 'none'} of the sizes tried for "
            f"{', '.join(names)} ({tried}): a size that must take one value cannot vary in the exported file",
            "write that size as a number in the spec's input",
        )
    return found


def _index_limits(model, graph: Graph, env: dict) -> dict:
    """Input position -> the largest index the model takes there (integer inputs only)."""
    return {
        k: _largest_index(model, graph, env, k) for k, item in enumerate(graph.inputs) if item.shape.dtype == "long"
    }


def _largest_index(model, graph: Graph, env: dict, k: int) -> int:
    """Doubling, then halving: the largest value input `k` may hold (an embedding table's size - 1)."""

    def runs_with(index: int) -> bool:
        tensors = list(_plain(graph, TRACE_BATCH, env))
        tensors[k].fill_(index)  # every element: any of them may reach the table
        return _runs(model, tuple(tensors))

    low, high = 0, 1  # all zeros ran
    while high <= MAX_INDEX and runs_with(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if runs_with(middle) else (low, middle)
    return low


def _dims(item, batch: int, env: dict) -> tuple[int, ...]:
    dims = [env[d] if isinstance(d, str) else d for d in item.shape.dims]
    return (*dims[: item.shape.batch], batch, *dims[item.shape.batch :])


def _plain(graph: Graph, batch: int, env: dict) -> tuple:
    """Zeros of the right shapes and types: index 0 exists in every embedding table."""
    return tuple(
        torch.zeros(_dims(i, batch, env), dtype=torch.long if i.shape.dtype == "long" else torch.float32)
        for i in graph.inputs
    )


def _tensors(graph: Graph, batch: int, env: dict, limits: dict, generator) -> tuple:
    tensors = []
    for k, item in enumerate(graph.inputs):
        dims = _dims(item, batch, env)
        if item.shape.dtype == "long":
            tensors.append(torch.randint(0, limits[k] + 1, dims, generator=generator))
        else:
            tensors.append(torch.randn(dims, generator=generator))
    return tuple(tensors)


def _runs(model, tensors: tuple) -> bool:
    try:
        with torch.no_grad():
            model(*tensors)
    except Exception:  # an index out of range, a size the layers refuse: not these sizes
        return False
    return True
