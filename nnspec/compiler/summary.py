"""Per-layer summary of a checked model: rows, totals, the cost of a training step, and the text
and JSON renderings."""

from __future__ import annotations

import json

from nnspec.bytesize import show
from nnspec.compiler.cost import Cost, LayerCost, estimate
from nnspec.compiler.ir import BoundCall, Graph
from nnspec.compiler.walk import flat_nodes
from nnspec.compiler.weights import frozen_count, frozen_patterns
from nnspec.record import record, replace

BYTES_PER_PARAM = 4  # float32


@record
class Row:
    """One layer of the summary table."""

    name: str
    kind: str
    shape: object
    params: int
    trainable: bool
    depth: int
    macs: int
    is_block: bool
    local: str  # the name inside its block, shown indented
    frozen: int = 0  # of its parameters, how many do not train
    recursive: bool = False  # a later call of a module: its parameters are counted at the first
    shapes: tuple = ()  # every value it gives, when it gives several
    cost: LayerCost = LayerCost()

    @property
    def partial(self) -> bool:
        return 0 < self.frozen < self.params


@record
class Summary:
    """The summary of one model."""

    model: str
    inputs: dict
    rows: tuple[Row, ...]
    total: int
    trainable: int
    macs: int
    cost: Cost

    @property
    def param_mb(self) -> float:
        return self.total * BYTES_PER_PARAM / 1e6


def summarize(
    graph: Graph, frozen: tuple[str, ...] = (), batch_size: int = 1, optimizer: BoundCall | None = None
) -> Summary:
    """`frozen`: a train section's glob patterns over layer and parameter names whose parameters
    do not train (the model's own `freeze` patterns are added); `batch_size` and `optimizer`: the
    training step the memory is estimated for."""
    patterns = (*frozen, *frozen_patterns(graph))
    cost = estimate(graph, batch_size, frozen, optimizer)
    rows = []
    for (name, depth, node), layer in zip(flat_nodes(graph), cost.layers):
        off = 0 if node.is_block else frozen_count(name, node, patterns)
        shapes = node.shapes if len(node.shapes) > 1 else ()
        row = Row(
            name, node.kind, node.shape, node.params, off < node.params, depth, node.macs, node.is_block,
            node.path, off, node.reused, shapes, layer,
        )  # fmt: skip
        rows.append(row)
    rows = _blocks_frozen(rows)
    leaves = [r for r in rows if not r.is_block]
    total = sum(r.params for r in leaves)
    trainable = total - sum(r.frozen for r in leaves)
    inputs = {i.name: i.shape for i in graph.inputs}
    return Summary(graph.name, inputs, tuple(rows), total, trainable, sum(r.macs for r in leaves), cost)


def _blocks_frozen(rows: list[Row]) -> list[Row]:
    """A block row's frozen count is its layers'."""
    out = []
    for i, row in enumerate(rows):
        if row.is_block:
            inside = [r for r in rows[i + 1 :] if r.name.startswith(row.name + ".") and not r.is_block]
            off = sum(r.frozen for r in inside)
            row = replace(row, trainable=off < row.params, frozen=off)
        out.append(row)
    return out


def to_json(s: Summary) -> str:
    data = {
        "model": s.model,
        "inputs": {k: v.json() for k, v in s.inputs.items()},
        "layers": [_layer_json(r) for r in s.rows],
        "total_params": s.total,
        "trainable_params": s.trainable,
        "non_trainable_params": s.total - s.trainable,
        "param_mb": round(s.param_mb, 4),
        "macs": s.macs,
        "flops": _flops(s.cost),
        "memory": _memory(s.cost),
    }
    return json.dumps(data, indent=2)


def _layer_json(r: Row) -> dict:
    """One row; `output_shapes` when it gives several values, `recursive` for a module's later
    calls (torchinfo's mark), `frozen_params` when only some of its parameters train."""
    row = {
        "name": r.name,
        "kind": r.kind,
        "output_shape": r.shape.json() if r.shape else None,
        "params": r.params,
        "trainable": r.trainable,
        "depth": r.depth,
        "macs": r.macs,
        "flops": {"forward": r.cost.forward, "backward": r.cost.backward},
        "memory": {"saved": r.cost.saved},
    }
    if r.shapes:
        row["output_shapes"] = [shape.json() for shape in r.shapes]
    if r.recursive:
        row["recursive"] = True
    if r.partial:
        row["frozen_params"] = r.frozen
    return row


def _flops(cost: Cost) -> dict:
    """Per sample, and of one training step (forward and backward) at the batch size."""
    return {
        "forward": cost.forward,
        "backward": cost.backward,
        "step": cost.memory.batch_size * (cost.forward + cost.backward),
    }


def _memory(cost: Cost) -> dict:
    m = cost.memory
    keys = (
        "batch_size",
        "optimizer",
        "parameters",
        "buffers",
        "gradients",
        "optimizer_state",
        "activations",
        "inputs",
        "peak",
    )
    return {k: getattr(m, k) for k in keys}


def to_text(s: Summary, source: str) -> str:
    batch = s.cost.memory.batch_size
    header = ("Layer (type)", "Output Shape", "Param #", "Trainable", "FLOPs", "Backward", f"Saved (batch {batch})")
    body = [(f"{n} (Input)", str(shape), "-", "", "", "", "") for n, shape in s.inputs.items()]
    for r in s.rows:
        label = "  " * r.depth + f"{r.local} ({r.kind})"
        shape = ", ".join(map(str, r.shapes)) if r.shapes else str(r.shape)
        count = "(recursive)" if r.recursive else f"{r.params:,}"
        trains = ("partial" if r.partial else "yes" if r.trainable else "no") if r.params else ""
        flops = (f"{r.cost.forward:,}", f"{r.cost.backward:,}", show(r.cost.saved) if r.cost.saved else "")
        body.append((label, shape, count, trains, *flops))
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
    lines = [f"{s.model}  ({source})", rule, _fmt(header, widths), rule, *(_fmt(b, widths) for b in body), rule]
    lines += [
        f"Total params: {s.total:,}",
        f"Trainable params: {s.trainable:,}",
        f"Non-trainable params: {s.total - s.trainable:,}",
        f"Params size (MB): {s.param_mb:.2f}",
        f"Mult-adds (M): {s.macs / 1e6:.2f}",
        f"FLOPs per sample: forward {_count(s.cost.forward)}, backward {_count(s.cost.backward)}",
        f"FLOPs of a training step, batch {batch}: {_count(_flops(s.cost)['step'])}",
        rule,
        *_memory_lines(s.cost),
        rule,
    ]
    return "\n".join(lines)


def _memory_lines(cost: Cost) -> list[str]:
    m = cost.memory
    optimizer = m.optimizer or "no optimizer"
    rows = [
        ("Parameters", m.parameters),
        ("Buffers", m.buffers),
        ("Gradients", m.gradients),
        (f"Optimizer state ({optimizer})", m.optimizer_state),
        ("Activations kept for backward", m.activations),
        ("Inputs and outputs", m.inputs),
        ("Peak of a training step (estimate)", m.peak),
    ]
    width = max(len(name) for name, _ in rows)
    return [f"Memory of a training step, batch {m.batch_size}:"] + [f"  {n:<{width}}  {show(b):>9}" for n, b in rows]


def _count(n: int) -> str:
    """2,400 as it is; above a million in M, G or T (10**6, 10**9, 10**12)."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:,}"


def _fmt(cells, widths) -> str:
    name, shape, params, trainable, *cost = cells
    left = f"{name:<{widths[0]}}  {shape:<{widths[1]}}  {params:>{widths[2]}}  {trainable:<{widths[3]}}"
    return (left + "".join(f"  {c:>{w}}" for c, w in zip(cost, widths[4:]))).rstrip()
