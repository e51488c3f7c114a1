"""Build the real PyTorch module for a registered layer and measure it (tests only)."""

from __future__ import annotations

import torch
from torch import nn

from nnspec.kinds.base import Shape


def build(kind, args: dict) -> nn.Module | None:
    if kind.torch_class is None:
        return None
    positional, keywords = kind.constructor(args)
    cls = getattr(nn, kind.torch_class.split(".", 1)[1])
    return cls(*positional, **keywords)


def sizes(shape: Shape, batch: int = 2, env: dict | None = None) -> tuple:
    """The tensor's whole shape for a batch of `batch` samples (the batch where the Shape puts it)."""
    rows = batch * shape.scale if isinstance(shape.scale, int) else batch * (env or {})[shape.scale]
    dims = [d if isinstance(d, int) else (env or {})[d] for d in shape.dims]
    return (*dims[: shape.batch], rows, *dims[shape.batch :])


def sample(shape: Shape, batch: int = 2) -> torch.Tensor:
    dims = sizes(shape, batch)
    if shape.dtype == "long":
        return torch.randint(0, 5, dims)
    return torch.randn(dims)


def flat(out) -> list:
    """The tensors of a forward's result, nested tuples (an LSTM's (output, (h, c))) in order."""
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flat(item)]
    return [out]


def run(kind, args: dict, ins: list[Shape], results: int = 1) -> tuple[list[tuple], int, dict]:
    """(each value's whole shape, parameter count, {parameter name: shape}) of the real module."""
    module = build(kind, args)
    names = [f"x{i}" for i in range(len(ins))]
    forward = kind.forward_all if results > 1 else kind.forward
    expr = forward("m", names, args)  # the kind's own forward expression, as codegen emits it
    env = {
        "m": module,
        "torch": torch,
        "nn": nn,
        "self": nn.Module().eval(),
        **{n: sample(s) for n, s in zip(names, ins)},
    }
    if module is not None:
        module.eval()
    with torch.no_grad():
        out = eval(expr, env)
    outs = flat(out) if results > 1 else [out]
    named = {n: tuple(p.shape) for n, p in module.named_parameters()} if module is not None else {}
    params = sum(p.numel() for p in module.parameters()) if module is not None else 0
    return [tuple(o.shape) for o in outs], params, named
