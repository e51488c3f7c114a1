"""Read-only walks over checked graphs shared by lints, summary and code generation."""

from __future__ import annotations

import fnmatch

from nnspec.compiler.ir import Graph, Node, split_ref
from nnspec.kinds.layer import LAYERS


def producer(
    graph: Graph, ref: str, through_transparent: bool = True, outer: dict | None = None, stop=None
) -> Node | None:
    """The layer node whose value `ref` is, looking into block outputs (None: a model input).

    `outer` (see `block_entry`) lets the search leave a block body through its inputs; `stop`
    (a predicate) ends the walk through transparent layers at a node it accepts.
    """
    while True:
        node = graph.node(ref)
        if node is None:
            if not outer or ref not in outer:
                return None
            graph, ref, outer = outer[ref]
        elif node.is_block and node.body is not None and node.body.outputs:
            k = min(split_ref(ref)[1], len(node.body.outputs) - 1)  # the block output this value is
            graph, ref, outer = node.body, node.body.outputs[k][1], block_entry(graph, node, outer)
        elif through_transparent and LAYERS.get(node.kind).transparent and node.inputs and not (stop and stop(node)):
            ref = node.inputs[0]
        else:
            return node


def block_entry(graph: Graph, node: Node, outer: dict | None = None) -> dict:
    """For a block instance's body: input name -> (graph, ref, outer) of what feeds it."""
    return {i.name: (graph, ref, outer) for i, ref in zip(node.body.inputs, node.inputs)}


def batch_statistics(graph: Graph, fed: dict | None = None) -> bool:
    """Whether a layer trains on statistics over the batch alone (a batch of one cannot train it).

    `fed`: the shapes a block body's inputs get from the instance that uses it."""
    shapes = {i.name: i.shape for i in graph.inputs} | (fed or {})
    for node in graph.nodes:
        ins = [shapes.get(ref) for ref in node.inputs]
        shapes.update(node.values())
        if node.is_block:
            if node.body is not None and batch_statistics(
                node.body, dict(zip((i.name for i in node.body.inputs), ins))
            ):
                return True
        elif node.args is not None and None not in ins and LAYERS.get(node.kind).batch_only(node.args, ins):
            return True
    return False


def output_shapes(graph: Graph) -> dict:
    """Output name -> Shape of a shape-checked graph."""
    shapes = graph.shapes()
    return {name: shapes.get(ref) for name, ref, _ in graph.outputs}


def flat_nodes(graph: Graph, prefix: str = "", depth: int = 0):
    """(module path, depth, node) for every node, block bodies included, in order; each call of a
    declared module has the module's path."""
    for node in graph.nodes:
        yield prefix + node.path, depth, node
        if node.is_block and node.body is not None:
            yield from flat_nodes(node.body, f"{prefix}{node.path}.", depth + 1)


def covered(name: str, patterns) -> bool:
    """Whether a layer-name pattern names the layer `name` or a block that encloses it, as the
    training program applies `freeze` and `layer_lr`."""
    parts = name.split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[:n]), p) for p in patterns for n in range(1, len(parts) + 1))
