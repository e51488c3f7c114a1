"""Per-layer summary of a checked model: rows, totals, and the text and JSON renderings."""

from __future__ import annotations

import fnmatch
import json

from nnspec.compiler.ir import Graph
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


@record
class Summary:
    """The summary of one model."""

    model: str
    inputs: dict
    rows: tuple[Row, ...]
    total: int
    trainable: int
    macs: int

    @property
    def param_mb(self) -> float:
        return self.total * BYTES_PER_PARAM / 1e6


def summarize(graph: Graph, frozen: tuple[str, ...] = ()) -> Summary:
    """`frozen`: glob patterns over layer names whose parameters do not train."""
    rows = []
    for name, depth, node in flat_nodes(graph):
        is_frozen = _frozen(name, frozen)
        trainable = node.params > 0 and not is_frozen
        rows.append(Row(name, node.kind, node.shape, node.params, trainable, depth, node.macs, node.is_block, node.id))
    leaves = [r for r in rows if not r.is_block]
    total = sum(r.params for r in leaves)
    trainable = sum(r.params for r in leaves if r.trainable and not _inside_frozen(r, rows, frozen))
    inputs = {i.name: i.shape for i in graph.inputs}
    return Summary(graph.name, inputs, tuple(rows), total, trainable, sum(r.macs for r in leaves))


def _frozen(name: str, patterns) -> bool:
    """As the training program freezes: a pattern naming the layer or any enclosing block."""
    parts = name.split(".")
    prefixes = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(prefix, p) for p in patterns for prefix in prefixes) or any(
        fnmatch.fnmatchcase(name + ".weight", p) for p in patterns
    )


def _inside_frozen(row: Row, rows, frozen) -> bool:
    """A layer inside a frozen block is frozen too."""
    return any(not r.trainable and r.is_block and row.name.startswith(r.name + ".") for r in rows if r.params)


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
            }
            for r in s.rows
        ],
        "total_params": s.total,
        "trainable_params": s.trainable,
        "non_trainable_params": s.total - s.trainable,
        "param_mb": round(s.param_mb, 4),
        "macs": s.macs,
    }
    return json.dumps(data, indent=2)


def to_text(s: Summary, source: str) -> str:
    header = ("Layer (type)", "Output Shape", "Param #", "Trainable")
    body = [(f"{n} (Input)", str(shape), "-", "") for n, shape in s.inputs.items()]
    for r in s.rows:
        label = "  " * r.depth + f"{r.local} ({r.kind})"
        body.append((label, str(r.shape), f"{r.params:,}", ("yes" if r.trainable else "no") if r.params else ""))
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(4)]
    rule = "=" * (sum(widths) + 6)
    lines = [f"{s.model}  ({source})", rule, _fmt(header, widths), rule, *(_fmt(b, widths) for b in body), rule]
    lines += [
        f"Total params: {s.total:,}",
        f"Trainable params: {s.trainable:,}",
        f"Non-trainable params: {s.total - s.trainable:,}",
        f"Params size (MB): {s.param_mb:.2f}",
        f"Mult-adds (M): {s.macs / 1e6:.2f}",
        rule,
    ]
    return "\n".join(lines)


def _fmt(cells, widths) -> str:
    name, shape, params, trainable = cells
    return f"{name:<{widths[0]}}  {shape:<{widths[1]}}  {params:>{widths[2]}}  {trainable}"
