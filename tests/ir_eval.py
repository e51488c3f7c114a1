"""An independent evaluation of a checked graph: each node computed from the IR's own wiring
with the compiled model's submodules, never through the generated forward code. The
differential tests compare the generated forward's outputs with it, value for value."""

from __future__ import annotations

import torch

from nnspec.kinds.layer import LAYERS


def evaluate_graph(module, graph, inputs: list) -> dict:
    """Output name -> tensor, evaluating `graph`'s nodes in order with `module`'s submodules."""
    values = {i.name: x for i, x in zip(graph.inputs, inputs)}
    for node in graph.nodes:
        ins = [values[ref] for ref in node.inputs]
        values[node.id] = _node_value(module, node, ins)
    return {name: values[ref] for name, ref, _ in graph.outputs}


def _node_value(module, node, ins: list):
    if node.is_block:
        block = module.get_submodule(node.id)
        return next(iter(evaluate_graph(block, node.body, ins).values()))
    kind = LAYERS.get(node.kind)
    names = [f"x{k}" for k in range(len(ins))]
    env = {"m": module.get_submodule(node.id) if kind.torch_class else None, "torch": torch}
    env.update(zip(names, ins))
    return eval(kind.forward("m", names, node.args), env)  # the kind's own forward expression
