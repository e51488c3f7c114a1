"""Per-layer summary of a checked model: rows, totals, the cost of a training step, and the text
and JSON renderings."""

from __future__ import annotations

import json

from nnspec.bytesize import show
from nnspec.compiler.cost import Cost, LayerCost, estimate, is_frozen
from nnspec.compiler.ir import BoundCall, Graph
from nnspec.compiler.walk import flat_nodes
from nnspec.record import record

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
    cost: LayerCost = LayerCost()


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
    """`frozen`: glob patterns over layer names whose parameters do not train; `batch_size` and
    `optimizer`: the training step the memory is estimated for."""
    cost = estimate(graph, batch_size, frozen, optimizer)
    rows = []
    for (name, depth, node), layer in zip(flat_nodes(graph), cost.layers):
        trainable = node.params > 0 and not is_frozen(name, frozen)
        rows.append(
            Row(name, node.kind, node.shape, node.params, trainable, depth, node.macs, node.is_block, node.id, layer)
        )
    leaves = [r for r in rows if not r.is_block]
    total = sum(r.params for r in leaves)
    stopped = {r.name for r in rows if r.is_block and r.params and not r.trainable}
    trainable = sum(r.params for r in leaves if r.trainable and not _inside(r.name, stopped))
    inputs = {i.name: i.shape for i in graph.inputs}
    return Summary(graph.name, inputs, tuple(rows), total, trainable, sum(r.macs for r in leaves), cost)


def _inside(name: str, blocks: set) -> bool:
    """Whether a layer lies inside one of `blocks` (a frozen block freezes its layers)."""
    parts = name.split(".")
    return any(".".join(parts[:n]) in blocks for n in range(1, len(parts)))


def to_json(s: Summary) -> str:
    data = {
        "model": s.model,
        "inputs": {k: v.json() for k, v in s.inputs.items()},
        "layers": [
            {
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
            for r in s.rows
        ],
        "total_params": s.total,
        "trainable_params": s.trainable,
        "non_trainable_params": s.total - s.trainable,
        "param_mb": round(s.param_mb, 4),
        "macs": s.macs,
        "flops": _flops(s.cost),
        "memory": _memory(s.cost),
    }
    return json.dumps(data, indent=2)


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
        trainable = ("yes" if r.trainable else "no") if r.params else ""
        flops = (f"{r.cost.forward:,}", f"{r.cost.backward:,}", show(r.cost.saved) if r.cost.saved else "")
        body.append((label, str(r.shape), f"{r.params:,}", trainable, *flops))
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
