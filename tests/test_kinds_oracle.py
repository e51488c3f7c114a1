"""Every registered layer kind, every worked example: static shape and count equal PyTorch's."""

from __future__ import annotations

import inspect

import pytest
from torch import nn

import nnspec.kinds.layers  # noqa: F401  (registers the kinds)
from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS
from tests import torch_oracle

CASES = [(kind, i, ex) for kind in LAYERS for i, ex in enumerate(kind.examples)]


def test_every_kind_has_examples():
    assert [k.name for k in LAYERS if not k.examples] == []


@pytest.mark.parametrize("kind,i,example", CASES, ids=[f"{k.name}-{i}" for k, i, _ in CASES])
def test_example_matches_pytorch(kind, i, example):
    """Every value's whole shape (the batch where nnspec says), the count, each parameter's name and shape."""
    ins = example.shapes()
    applied = apply_layer(kind, example.args, ins, example.results)
    shapes, params, named = torch_oracle.run(kind, applied.args, ins, example.results)
    assert shapes == [torch_oracle.sizes(s) for s in applied.shapes]
    assert params == applied.params
    if kind.torch_class:
        assert named == kind.parameters(applied.args)


TORCH_KINDS = [k for k in LAYERS if k.torch_class]


@pytest.mark.parametrize("kind", TORCH_KINDS, ids=[k.name for k in TORCH_KINDS])
def test_declared_defaults_equal_pytorch(kind):
    cls = getattr(nn, kind.torch_class.split(".", 1)[1])
    signature = _signature(cls)
    forward = inspect.signature(cls.forward).parameters
    for param in kind.params:
        if param.forward:  # an argument of forward(): keyword only there too
            assert forward[param.name].default == param.default, f"{kind.name}.{param.name}"
            assert forward[param.name].kind is not inspect.Parameter.VAR_KEYWORD
            continue
        if param.name not in signature.parameters and not param.required:
            assert _built_default(kind, param.name) == param.default  # RNN's keyword-only nonlinearity
            continue
        assert param.name in signature.parameters, f"{kind.name}.{param.name} is not a PyTorch argument"
        default = signature.parameters[param.name].default
        if param.required:
            assert default is inspect.Parameter.empty, f"{kind.name}.{param.name} has a default in PyTorch"
        else:
            default = getattr(default, "__name__", default)  # activation=F.relu is written "relu"
            assert default == param.default, f"{kind.name}.{param.name}: {param.default!r} != {default!r}"


def _signature(cls) -> inspect.Signature:
    sig = inspect.signature(cls.__init__)
    if any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):  # RNN/LSTM/GRU take *args
        sig = inspect.signature(nn.RNNBase.__init__)
    return sig


def _built_default(kind, name):
    example = kind.examples[0]
    ins = [Shape(tuple(s), example.dtype) for s in example.inputs]
    required = {
        p.name: v for p, v in zip(kind.params, apply_layer(kind, example.args, ins).args.values()) if p.required
    }
    args = {p.name: required.get(p.name, p.default) for p in kind.params}
    return getattr(torch_oracle.build(kind, args), name)
