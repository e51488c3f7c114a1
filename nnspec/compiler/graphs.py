"""Passes 3 and 4 over graphs: bind layer arguments, then infer shapes and count parameters."""

from __future__ import annotations

from nnspec.compiler.bind import bind_call
from nnspec.compiler.ir import Graph, Node
from nnspec.diagnostics import Sink
from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import Shape, ShapeError
from nnspec.kinds.layer import LAYERS
from nnspec.record import replace


def bind_args(graph: Graph, sink: Sink) -> Graph:
    return replace(graph, nodes=tuple(_bind_node(n, graph, sink) for n in graph.nodes))


def _bind_node(node: Node, graph: Graph, sink: Sink) -> Node:
    if node.failed:
        return node
    if node.is_block:
        return replace(node, body=bind_args(node.body, sink))
    kind = LAYERS.get(node.kind)
    scoped = _Scoped(sink, graph.trail)
    spans: dict = {}
    written = bind_call(kind, kind.params, list(node.raw_args), node.span, scoped, spans)
    if written is None:
        return replace(node, failed=True)
    return replace(node, written=written, arg_spans=spans)


class _Scoped(Sink):
    """A sink that labels every diagnostic with the block uses it comes from (the trail)."""

    def __init__(self, sink: Sink, trail):
        self.base = getattr(sink, "base", sink)
        self.items, self.trail = self.base.items, trail

    def error(self, code, message, span, *, notes=(), help=None, labels=()):
        super().error(code, message, span, notes=notes, help=help, labels=tuple(labels) + self.trail)

    def warn(self, code, message, span, *, notes=(), help=None, labels=()):
        super().warn(code, message, span, notes=notes, help=help, labels=tuple(labels) + self.trail)


def infer_shapes(graph: Graph, sink: Sink, ins: list[Shape] | None = None) -> Graph:
    """Shapes flow from the inputs (or `ins`, for a block instance) through every node."""
    shapes = {i.name: (ins[k] if ins is not None else i.shape) for k, i in enumerate(graph.inputs)}
    nodes = []
    for node in graph.nodes:
        node = _infer_node(node, graph, shapes, _Scoped(sink, graph.trail))
        shapes[node.id] = node.shape
        nodes.append(node)
    return replace(graph, nodes=tuple(nodes))


def _infer_node(node: Node, graph: Graph, shapes: dict, sink) -> Node:
    ins = [shapes.get(i) for i in node.inputs]
    if node.failed or any(s is None for s in ins):
        return replace(node, shape=None)
    if node.is_block:
        return _infer_block(node, ins, sink)
    kind = LAYERS.get(node.kind)
    if not kind.takes(len(ins)):
        sink.error("E406", f"{kind.name} takes {kind.arity_words()}, got {len(ins)}", node.span)
        return replace(node, failed=True)
    try:
        applied = apply_layer(kind, node.written, ins)
    except ShapeError as e:
        _shape_error(e, node, ins, graph, sink)
        return replace(node, failed=True)
    return replace(node, args=applied.args, shape=applied.shape, params=applied.params, macs=applied.macs)


def _infer_block(node: Node, ins: list[Shape], sink) -> Node:
    body = node.body
    if len(ins) != len(body.inputs):
        sink.error("E406", f"block `{node.kind}` takes {len(body.inputs)} input(s), got {len(ins)}", node.span)
        return replace(node, failed=True)
    body = infer_shapes(body, sink, ins)
    out = dict((n.id, n.shape) for n in body.nodes)
    out.update({i.name: s for i, s in zip(body.inputs, ins)})
    shape = out.get(body.outputs[0][1]) if body.outputs else None
    params = sum(n.params for n in body.nodes)
    macs = sum(n.macs for n in body.nodes)
    return replace(node, body=body, shape=shape, params=params, macs=macs, failed=shape is None)


def _shape_error(e: ShapeError, node: Node, ins, graph: Graph, sink) -> None:
    labels = [
        _producer_label(graph, ref, s, k if len(ins) > 1 else None) for k, (ref, s) in enumerate(zip(node.inputs, ins))
    ]
    notes = [f"expected {e.expected}"] if e.expected else []
    span = node.arg_spans.get(e.arg, node.span)
    help = e.help
    if e.code == "E401" and not any(a.name == e.arg for a in node.raw_args):
        help = f"leave `{e.arg}` out (it is inferred); a call that fits PyTorch's whole signature is read in its order"
    sink.error(e.code, f"{e.message} (in `{node.id}`)", span, notes=notes, help=help, labels=labels)


def _producer_label(graph: Graph, ref: str, shape: Shape, k: int | None) -> tuple:
    """(span, text) at what gives input `k` (0-based; None for a node's only input)."""
    which = "" if k is None else f", input {k + 1}"
    producer = graph.node(ref)
    if producer is not None:
        return producer.span, f"`{producer.id}` ({producer.kind}) gives {shape}{which}"
    declared = next(i for i in graph.inputs if i.name == ref)
    return declared.span, f"input `{ref}` gives {shape}{which}"
