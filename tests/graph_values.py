"""An independent evaluation of a checked graph in PyTorch (tests only).

Node by node, in the IR's order: each layer is the compiled model's submodule at the node's
module path (so a declared module called twice is one module), applied through its kind's own
forward expression to the values its inputs name; a block instance is its submodule's body,
evaluated the same way. None of codegen's grouping, variable naming or returns is used, so its
outputs equal the compiled model's only if those are right.
"""

from __future__ import annotations

import torch
from torch import nn

from nnspec.compiler.ir import Graph, value_ref
from nnspec.kinds.layer import LAYERS
from tests.torch_oracle import flat


def evaluate(root: nn.Module, graph: Graph, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """The graph's outputs for `inputs`, `root` holding its modules (the compiled model, or a block's)."""
    values = {i.name: t for i, t in zip(graph.inputs, inputs)}
    for node in graph.nodes:
        ins = [values[ref] for ref in node.inputs]
        if node.is_block:
            outs = evaluate(root.get_submodule(node.path), node.body, ins)
        else:
            outs = _layer(root, node, ins)
        for k, out in enumerate(outs):
            values[value_ref(node.id, k)] = out
    return [values[ref] for _, ref, _ in graph.outputs]


def _layer(root: nn.Module, node, ins: list[torch.Tensor]) -> list[torch.Tensor]:
    kind = LAYERS.get(node.kind)
    names = [f"x{i}" for i in range(len(ins))]
    env = {"torch": torch, "nn": nn, "self": root, **dict(zip(names, ins))}
    if kind.torch_class:
        env["m"] = root.get_submodule(node.path)
    forward = kind.forward_all if node.results > 1 else kind.forward
    out = eval(forward("m", names, node.args), env)
    return flat(out) if node.results > 1 else [out]


def assert_same(ours: list[torch.Tensor], theirs: list[torch.Tensor], what: str) -> None:
    assert len(ours) == len(theirs), what
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: value {k}"
        if a.is_floating_point():
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True), f"{what}: value {k} differs"
        else:
            assert torch.equal(a, b), f"{what}: value {k} differs"
