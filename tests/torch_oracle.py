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


def sample(shape: Shape, batch: int = 2) -> torch.Tensor:
    dims = (batch, *shape.dims)
    if shape.dtype == "long":
        return torch.randint(0, 5, dims)
    return torch.randn(dims)


def run(kind, args: dict, ins: list[Shape]) -> tuple[tuple, int]:
    """(output shape without batch, parameter count) of the real module."""
    module = build(kind, args)
    names = [f"x{i}" for i in range(len(ins))]
    expr = kind.forward("m", names, args)
    env = {"m": module, "torch": torch, **{n: sample(s) for n, s in zip(names, ins)}}
    if module is not None:
        module.eval()
    with torch.no_grad():
        out = eval(expr, env)  # the kind's own forward expression, as codegen emits it
    params = sum(p.numel() for p in module.parameters()) if module is not None else 0
    return tuple(out.shape[1:]), params
