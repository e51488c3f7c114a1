"""An independent evaluation of a checked graph: each node computed from the IR's own wiring
with the compiled model's submodules, never through the generated forward code. The
differential tests compare the generated forward's outputs with it, value for value.

A node's module is the submodule at its module path, so every call of a declared module is the
one module; a node giving several values (`a, b = x -> Chunk(2, dim=1)`, an LSTM's states, a
block's outputs) gives them through its kind's own `forward_all` expression or the block's body.
"""

from __future__ import annotations

import torch
from torch import nn

from nnspec.compiler.ir import value_ref
from nnspec.kinds.layer import LAYERS
from tests.torch_oracle import flat


def evaluate_graph(module, graph, inputs: list) -> dict:
    """Output name -> tensor, evaluating `graph`'s nodes in order with `module`'s submodules."""
    values = {i.name: x for i, x in zip(graph.inputs, inputs)}
    for node in graph.nodes:
        ins = [values[ref] for ref in node.inputs]
        for k, value in enumerate(_node_values(module, node, ins)):
            values[value_ref(node.id, k)] = value
    return {name: values[ref] for name, ref, _ in graph.outputs}


def _node_values(module, node, ins: list) -> list:
    if node.is_block:
        return list(evaluate_graph(module.get_submodule(node.path), node.body, ins).values())
    kind = LAYERS.get(node.kind)
    names = [f"x{k}" for k in range(len(ins))]
    env = {"m": module.get_submodule(node.path) if kind.torch_class else None, "torch": torch, "nn": nn}
    env["self"] = module  # a forward that reads self.training (attention's dropout)
    env.update(zip(names, ins))
    forward = kind.forward_all if node.results > 1 else kind.forward
    value = eval(forward("m", names, node.args), env)  # the kind's own forward expression
    return flat(value) if node.results > 1 else [value]
