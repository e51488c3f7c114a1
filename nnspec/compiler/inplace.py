"""W302: a layer that writes its result over its input (`inplace=true`) where that is unsafe.

In place is safe where nothing else needs the value it overwrites, as in `Conv2d -> BatchNorm2d
-> ReLU(inplace=true)`. It is not where an earlier layer keeps that value for backward (backward
then fails), where another layer reads the value afterwards or the model returns it (they see the
changed value), or where the value is the model's input (the caller's tensor changes).
"""

from __future__ import annotations

from nnspec.compiler.cost import forward_pass
from nnspec.compiler.ir import Graph
from nnspec.diagnostics import Sink
from nnspec.kinds.layer import LAYERS


def check_in_place(graph: Graph, sink: Sink) -> None:
    """One warning per source position, however often a block holding it is used."""
    if not _has_in_place(graph):
        return
    walk, seen = forward_pass(graph), set()
    for i, node in enumerate(walk.nodes):
        param = _in_place_param(node)
        if param is None:
            continue
        why = _hazard(walk, i)
        span = node.arg_spans.get(param.name, node.span)
        if why and span not in seen:
            seen.add(span)
            sink.warn(
                "W302",
                f"{node.kind}: `{param.name}=true` overwrites {why}",
                span,
                help=f"leave `{param.name}` out here",
            )


def _has_in_place(graph: Graph) -> bool:
    for node in graph.nodes:
        if node.body is not None and _has_in_place(node.body):
            return True
        if _in_place_param(node) is not None:
            return True
    return False


def _in_place_param(node):
    """The argument, written as true, that makes the layer work in place; else None."""
    if node.is_block or node.args is None:
        return None
    kind = LAYERS.get(node.kind)
    return next((p for p in kind.params if p.in_place and node.args.get(p.name) is True), None)


def _hazard(walk, i: int) -> str | None:
    """Why overwriting step i's input is unsafe, or None."""
    root = walk.steps[i].ins[0].root
    if any(v.root == root for v in walk.inputs):
        return "the model's input, which the caller still holds"
    for j in range(i):
        if walk.live[j] and root in walk.steps[j].kept:
            other = walk.nodes[j]
            return f"a value {other.kind} `{other.id}` keeps for backward, so backward fails"
    made_since = {id(v) for s in walk.steps[i:] for v in (s.out, *s.more)}
    for j in range(i + 1, len(walk.steps)):
        if any(v.root == root and id(v) not in made_since for v in walk.steps[j].ins):
            other = walk.nodes[j]
            return f"a value {other.kind} `{other.id}` reads afterwards, which then sees it changed"
    if any(v.root == root and id(v) not in made_since for v in walk.outputs):
        return "a value the model returns, which then holds the changed value"
    return None
