"""Which layer an export fails at: each layer's module exported alone, fed what it gets in the model.

No kind is named: every node of the checked graph that is a module of the built model is tried
in order, the same way as the whole model (torch.export with the varying sizes dynamic, then
ONNX conversion and onnxruntime, or the `.pt2` round trip), on the inputs the model gives it at
the trace sizes and at a check's sizes.
"""

from __future__ import annotations

import os
import tempfile

import torch
from torch.utils import _pytree as pytree

from nnspec.compiler.ir import Graph
from nnspec.compiler.walk import flat_nodes
from nnspec.export import onnx_file, program_file
from nnspec.export.capture import capture, exporting, reason
from nnspec.export.verify import difference
from nnspec.record import record


@record
class Culprit:
    """A layer that fails alone as the model failed, and why."""

    name: str
    kind: str
    where: str  # spec:line
    reason: str


def find_culprit(model, graph: Graph, samples, fmt: str, check=None) -> Culprit | None:
    """The first layer whose own export fails, checked at the sizes of `check` (default: the
    first check sample); None: every layer exports alone."""
    layers = _layers(model, graph)
    second = check or (samples.checks[0] if samples.checks else samples.trace)  # no other size: the traced one
    calls = _calls(model, layers, (samples.trace, second))
    for name, (kind, where, module) in layers.items():
        if len(calls.get(name, ())) < 2:
            continue  # not reached on both samples
        problem = _attempt(module, calls[name][0], calls[name][1], fmt)
        if problem:
            return Culprit(name, kind, where, problem)
    return None


def _layers(model, graph: Graph) -> dict:
    """Layer name (its module path, as summary shows it) -> (kind, spec:line, module)."""
    found = {}
    for name, _, node in flat_nodes(graph):
        if node.is_block:
            continue
        try:
            module = model.get_submodule(name)
        except AttributeError:  # a functional kind (`+`, a reshape): part of its caller's forward
            continue
        found[name] = (node.kind, f"{node.span.file}:{node.span.line}", module)
    return found


def _calls(model, layers: dict, samples) -> dict:
    """Layer name -> the (args, kwargs) of its first call in each sample's run, recorded by hooks."""
    calls: dict[str, list] = {name: [] for name in layers}
    runs = [0]

    def recorder(name):
        def hook(module, args, kwargs):
            if len(calls[name]) == runs[0]:  # the layer's first call in this run
                calls[name].append(pytree.tree_map_only(torch.Tensor, torch.clone, (args, kwargs)))

        return hook

    handles = [
        module.register_forward_pre_hook(recorder(name), with_kwargs=True) for name, (_, _, module) in layers.items()
    ]
    try:
        for sample in samples:
            with torch.no_grad():
                model(*sample.tensors)
            runs[0] += 1
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _attempt(module, traced, checked, fmt: str) -> str | None:
    """Why `module` alone does not export (or gives other values), or None."""
    (args, kwargs), (check_args, check_kwargs) = traced, checked
    dynamic = _varying(args, check_args)
    try:
        with exporting():
            ep = capture(module, args, dynamic, fmt, kwargs)
    except Exception as e:
        return f"torch.export cannot trace it: {reason(e)}"
    with tempfile.TemporaryDirectory(prefix="nnspec-blame-") as folder:
        path = os.path.join(folder, "layer.onnx" if fmt == "onnx" else "layer.pt2")
        flat = [t for t in pytree.tree_leaves(check_args) if isinstance(t, torch.Tensor)]
        names = [f"input{k}" for k in range(len(flat))]
        try:
            if fmt == "onnx":
                with exporting():
                    onnx_file.save(onnx_file.convert(ep, names, None, _flat_dims(dynamic)), path)
            else:
                with exporting():
                    program_file.save(ep, path, {})
        except Exception as e:
            return f"the {'ONNX exporter' if fmt == 'onnx' else 'exported program'} cannot hold it: {reason(e)}"
        with torch.no_grad():
            want = [t.numpy() for t in pytree.tree_leaves(module(*check_args, **check_kwargs))]
        try:
            with exporting():
                got = (
                    onnx_file.run(path, names, flat)
                    if fmt == "onnx"
                    else program_file.run(path, check_args, check_kwargs)
                )
        except Exception as e:
            return f"the exported layer fails at other sizes: {reason(e)}"
    _, problem = difference([f"{k}" for k in range(len(want))], want, got)
    return f"the exported layer computes other values: {problem}" if problem else None


def _varying(a, b):
    """For each tensor in `a`: {dim: name} of the dims whose size differs in `b`, nested alike."""
    if isinstance(a, torch.Tensor):
        return {d: f"d{d}" for d in range(a.dim()) if a.shape[d] != b.shape[d]}
    if isinstance(a, (tuple, list)):
        return type(a)(_varying(x, y) for x, y in zip(a, b))
    return None


def _flat_dims(dynamic) -> tuple:
    return tuple(d for d in pytree.tree_leaves(dynamic, is_leaf=lambda x: isinstance(x, dict)) if isinstance(d, dict))
