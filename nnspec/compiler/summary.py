"""Per-layer summary of a checked model: rows, totals, and the text and JSON renderings."""

from __future__ import annotations

import json

from nnspec.compiler.ir import Graph
from nnspec.compiler.walk import flat_nodes
from nnspec.compiler.weights import frozen_count, frozen_patterns
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
    frozen: int = 0  # of its parameters, how many do not train
    recursive: bool = False  # a later call of a module: its parameters are counted at the first
    shapes: tuple = ()  # every value it gives, when it gives several

    @property
    def partial(self) -> bool:
        return 0 < self.frozen < self.params


_FIELDS = ("name", "kind", "shape", "params", "trainable", "depth", "macs", "is_block", "local")


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
    """`frozen`: a train section's glob patterns over layer and parameter names whose parameters
    do not train; the model's own `freeze` patterns are added."""
    patterns = (*frozen, *frozen_patterns(graph))
    rows = []
    for name, depth, node in flat_nodes(graph):
        off = 0 if node.is_block else frozen_count(name, node, patterns)
        shapes = node.shapes if len(node.shapes) > 1 else ()
        row = Row(
            name, node.kind, node.shape, node.params, off < node.params, depth, node.macs, node.is_block,
            node.path, off, node.reused, shapes,
        )  # fmt: skip
        rows.append(row)
    rows = _blocks_frozen(rows)
    leaves = [r for r in rows if not r.is_block]
    total = sum(r.params for r in leaves)
    trainable = total - sum(r.frozen for r in leaves)
    inputs = {i.name: i.shape for i in graph.inputs}
    return Summary(graph.name, inputs, tuple(rows), total, trainable, sum(r.macs for r in leaves))


def _blocks_frozen(rows: list[Row]) -> list[Row]:
    """A block row's frozen count is its layers'."""
    out = []
    for i, row in enumerate(rows):
        if row.is_block:
            inside = [r for r in rows[i + 1 :] if r.name.startswith(row.name + ".") and not r.is_block]
            off = sum(r.frozen for r in inside)
            row = Row(
                *(getattr(row, f) for f in _FIELDS[:4]),
                off < row.params,
                *(getattr(row, f) for f in _FIELDS[5:9]),
                off,
                row.recursive,
                row.shapes,
            )
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
    }
    if r.shapes:
        row["output_shapes"] = [shape.json() for shape in r.shapes]
    if r.recursive:
        row["recursive"] = True
    if r.partial:
        row["frozen_params"] = r.frozen
    return row


def to_text(s: Summary, source: str) -> str:
    header = ("Layer (type)", "Output Shape", "Param #", "Trainable")
    body = [(f"{n} (Input)", str(shape), "-", "") for n, shape in s.inputs.items()]
    for r in s.rows:
        label = "  " * r.depth + f"{r.local} ({r.kind})"
        shape = ", ".join(map(str, r.shapes)) if r.shapes else str(r.shape)
        count = "(recursive)" if r.recursive else f"{r.params:,}"
        trains = ("partial" if r.partial else "yes" if r.trainable else "no") if r.params else ""
        body.append((label, shape, count, trains))
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
