"""Passes 3 and 4 over graphs: bind layer arguments, then infer shapes and count parameters.

Each call of a declared module is inferred at its own position; its arguments must be the ones
its first call gave the module (E401), and only the first call counts the parameters."""

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
    written = bind_call(kind, kind.params, list(node.raw_args), node.decl or node.span, scoped, spans)
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
    nodes, first = [], {}  # first: module name -> its first call
    scoped = _Scoped(sink, graph.trail)
    for node in graph.nodes:
        node = _infer_node(node, graph, shapes, scoped)
        if node.module is not None and not node.failed:
            node = _shared(node, first, graph, scoped)
        shapes.update(node.values())
        nodes.append(node)
    return replace(graph, nodes=tuple(nodes))


def _shared(node: Node, first: dict, graph: Graph, sink) -> Node:
    """A later call of a module: the module as its first call built it, the parameters counted there."""
    if node.module not in first:
        first[node.module] = node
        return node
    earlier = first[node.module]
    differs = _first_difference(earlier, node)
    if differs is not None:
        name, was, now = differs
        inner, _, arg = name.rpartition(".")  # a layer inside a block module: `head.fc`
        where = f"{node.module}.{inner}" if inner else node.module
        sink.error(
            "E401",
            f"`{where}` was built with {arg}={was!r} by its first call, but this input gives {now!r}",
            node.span,
            labels=[(earlier.span, f"first called here with {_fed(earlier, graph)}")],
            help="a module is one set of weights: feed it what its first call fed it, or declare a second one",
        )
        return replace(node, failed=True, shape=None, shapes=())
    return reused(node)


def reused(node: Node) -> Node:
    """A call whose parameters belong to an earlier call of the same module."""
    body = node.body
    if body is not None:
        body = replace(body, nodes=tuple(reused(n) for n in body.nodes))
    return replace(node, params=0, reused=True, body=body)


def _first_difference(a: Node, b: Node, prefix: str = ""):
    """(argument path, a's value, b's value) where two calls would build different modules."""
    if not a.is_block:
        for key, value in (a.args or {}).items():
            if (b.args or {}).get(key) != value:
                return prefix + key, value, (b.args or {}).get(key)
        return None
    for x, y in zip(a.body.nodes, b.body.nodes):
        found = _first_difference(x, y, f"{prefix}{x.path}.")
        if found is not None:
            return found
    return None


def _fed(node: Node, graph: Graph) -> str:
    shapes = graph.shapes()
    return " and ".join(str(shapes.get(ref)) for ref in node.inputs)


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
        applied = apply_layer(kind, node.written, ins, node.results)
    except ShapeError as e:
        _shape_error(e, node, ins, graph, sink)
        return replace(node, failed=True)
    return replace(
        node, args=applied.args, shape=applied.shape, shapes=applied.shapes, params=applied.params, macs=applied.macs
    )


def _infer_block(node: Node, ins: list[Shape], sink) -> Node:
    body = node.body
    if len(ins) != len(body.inputs):
        sink.error("E406", f"block `{node.kind}` takes {len(body.inputs)} input(s), got {len(ins)}", node.span)
        return replace(node, failed=True)
    body = infer_shapes(body, sink, ins)
    out = body.shapes()
    out.update({i.name: s for i, s in zip(body.inputs, ins)})
    shapes = tuple(out.get(ref) for _, ref, _ in body.outputs)
    params = sum(n.params for n in body.nodes)
    macs = sum(n.macs for n in body.nodes)
    if shapes and node.results != len(shapes) and None not in shapes:
        sink.error("E406", _block_values(node, len(shapes)), node.span)
        return replace(node, body=body, failed=True)
    failed = not shapes or None in shapes
    shape = shapes[0] if shapes else None
    return replace(node, body=body, shape=shape, shapes=shapes, params=params, macs=macs, failed=failed)


def _block_values(node: Node, count: int) -> str:
    if node.results == 1:
        return f"block `{node.kind}` gives {count} values: bind them, `a, b = x -> {node.kind}(...)`"
    return f"block `{node.kind}` gives {count} value{'s' * (count > 1)}, not {node.results}"


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
