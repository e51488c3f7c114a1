"""ONNX: an ExportedProgram converted by torch.onnx, its sizes named as in the spec, marked as
nnspec's, saved as one file, and run by onnxruntime."""

from __future__ import annotations

import numpy as np
import torch

from nnspec.export.model import is_nnspec_metadata, metadata_json

# Bytes of weights above which they go to a `.data` file beside the model: an ONNX file is one
# protobuf message, which cannot exceed 2 GB; torch.onnx uses the same margin for the graph.
LARGE = 1536 * 2**20
MARK_KEY = "nnspec"  # the metadata entry that holds the metadata JSON


def convert(ep, input_names: list[str], output_names: list[str], dynamic: tuple, meta: dict | None = None):
    """The ONNXProgram of `ep`; the dims in `dynamic` (per input {dim: name}) get those names."""
    program = torch.onnx.export(
        ep, dynamo=True, input_names=input_names, output_names=output_names, verbose=False, optimize=True
    )
    _name_sizes(program, dynamic)
    if meta is not None:
        program.model.metadata_props[MARK_KEY] = metadata_json(meta)
    return program


def _name_sizes(program, dynamic: tuple) -> None:
    """`N` and the spec's symbols (`T`) instead of torch's `s77`, in the inputs and all they reach."""
    import onnx_ir as ir

    names = {}
    for value, dims in zip(program.model.graph.inputs, dynamic):
        for dim, name in dims.items():
            size = value.shape[dim]
            if isinstance(size, ir.SymbolicDim) and size.value is not None:
                names[size.value] = name
    program.rename_axes(names)


def weight_bytes(program) -> int:
    return sum(v.const_value.nbytes for v in program.model.graph.initializers.values() if v.const_value is not None)


def opset(program) -> int:
    return program.model.opset_imports.get("", 0)


def save(program, path: str) -> bool:
    """Write the model; True when its weights had to go to `<path>.data` beside it."""
    external = weight_bytes(program) > LARGE
    program.save(path, external_data=external)
    return external


def run(path: str, names: list[str], tensors: tuple) -> list[np.ndarray]:
    """onnxruntime's outputs for the inputs `names` (an input the graph dropped is not fed)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    feed = {name: t.numpy() for name, t in zip(names, tensors) if name in wanted}
    return session.run(None, feed)


def written_by_nnspec(path: str) -> bool:
    """Whether `path` is an ONNX model whose metadata says nnspec exported it."""
    import onnx

    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # not ONNX, or not readable: not ours
        return False
    props = {p.key: p.value for p in model.metadata_props}
    return is_nnspec_metadata(props.get(MARK_KEY, ""))
