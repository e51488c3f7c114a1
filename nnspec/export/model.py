"""The model to export: the spec's generated classes, executed in memory, with a checkpoint's weights."""

from __future__ import annotations

import json
import os

import torch

from nnspec import __version__
from nnspec.compiler.codegen import generate_models
from nnspec.compiler.ir import Graph, Program
from nnspec.compiler.names import safe_variable
from nnspec.compiler.walk import output_shapes
from nnspec.export import ExportError
from nnspec.program.checkpoints import load_checkpoint, load_weights
from nnspec.program.errors import DataError
from nnspec.runtime.execute import load_program


def build_model(program: Program, graph: Graph) -> torch.nn.Module:
    """A fresh instance of the model's generated class (random weights)."""
    source = generate_models(program, os.path.basename(program.file.path) + ".py", format=False)
    namespace = load_program(source, program.file.path)
    return namespace[safe_variable(graph.name)]()


def load_trained(program: Program, graph: Graph, path: str) -> tuple[torch.nn.Module, dict]:
    """(the model in eval mode with the checkpoint's weights, the checkpoint); loaded with
    weights_only=True, so a foreign file is an error and never unpickled."""
    model = build_model(program, graph)
    try:
        checkpoint = load_checkpoint(path)
        load_weights(model, checkpoint, path)
    except DataError as e:
        raise ExportError(e.code, e.message, "give a checkpoint `nnspec run` wrote for this model") from None
    return model.eval(), checkpoint


def output_names(graph: Graph) -> list[str]:
    """The spec's output names, kept apart from its input names (ONNX needs them distinct)."""
    taken = {i.name for i in graph.inputs}
    names = []
    for name, _, _ in graph.outputs:
        while name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    return names


def metadata(program: Program, graph: Graph, checkpoint_path: str, checkpoint: dict) -> dict:
    """What the file records about itself: where it comes from, its tensors, and what a user needs
    to prepare inputs and read outputs (class names, the training split's normalization)."""
    outputs = output_shapes(graph)
    return {
        "generator": f"nnspec {__version__}",
        "spec": program.file.path,
        "model": graph.name,
        "checkpoint": checkpoint_path,
        "inputs": {i.name: _shape(i.shape) for i in graph.inputs},
        "outputs": {unique: _shape(outputs[name]) for unique, (name, _, _) in zip(output_names(graph), graph.outputs)},
        "classes": _plain(checkpoint.get("classes")),
        "normalization": _plain(checkpoint.get("normalization")),
    }


def _shape(shape) -> list:
    return shape.labels()  # the batch "N" where the layout puts it


def _plain(value):
    """Tensors as (nested) lists, so that the metadata is JSON; anything else JSON cannot hold as text."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def metadata_json(meta: dict) -> str:
    return json.dumps(meta, separators=(",", ":"))


def is_nnspec_metadata(text: str) -> bool:
    try:
        meta = json.loads(text)
    except ValueError:
        return False
    return isinstance(meta, dict) and str(meta.get("generator", "")).startswith("nnspec")
