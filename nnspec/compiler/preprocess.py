"""A data section's per-channel normalization and augmentation, checked against the model's input."""

from __future__ import annotations

from nnspec.compiler.ir import BoundCall, Graph, Settings
from nnspec.diagnostics import Sink
from nnspec.kinds.base import ShapeError

# normalize = "<preset>": the per-channel mean and deviation of the images the weights saw
PRESETS = {"imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}


def channel_stats(data: Settings) -> tuple[list | None, list | None]:
    """(mean, std) per channel that the program normalizes with, or (None, None)."""
    values = data.values
    if values["normalize"] in PRESETS:
        return PRESETS[values["normalize"]]
    return values["mean"], values["std"]


def check_preprocessing(data: Settings, graph: Graph, sink: Sink) -> None:
    if len(graph.inputs) != 1 or graph.inputs[0].shape is None:
        return
    _channels(data, graph, sink)
    _augment(data, graph, sink)


def _channels(data: Settings, graph: Graph, sink: Sink) -> None:
    values, spans = data.values, data.spans
    given = [k for k in ("mean", "std") if values[k] is not None]
    if len(given) == 1:
        other = "std" if given[0] == "mean" else "mean"
        sink.error(
            "E302", f"data `{data.name}`: `{given[0]}` needs `{other}`", spans[given[0]], help=f"add `{other} = [...]`"
        )
        return
    if given and values["normalize"] != "none":
        message = f"data `{data.name}`: `mean` and `std` normalize already; `normalize = {values['normalize']!r}` too"
        sink.error("E307", message, spans["mean"], help="keep one of them")
        return
    mean, std = channel_stats(data)
    shape = graph.inputs[0].shape
    if mean is None:
        return
    where = spans["mean"] if given else spans["normalize"]
    if shape.rank != 3 or {len(mean), len(std)} != {shape.dims[0]}:
        message = f"data `{data.name}`: {len(mean)} means and {len(std)} deviations for inputs {shape}: one per channel of images (C, H, W)"
        sink.error("E503", message, where, labels=[(graph.inputs[0].span, "the model's input")])


def _augment(data: Settings, graph: Graph, sink: Sink) -> None:
    """Each kind takes the shape the one before gives; the last gives the model's input shape,
    since validation, test and predict batches, never augmented, have that shape too."""
    start = shape = graph.inputs[0].shape
    for call in data.values["augment"]:
        if not isinstance(call, BoundCall):
            return
        try:
            shape = call.kind.infer_shape(shape, call.args())
        except ShapeError as e:
            sink.error(e.code, f"data `{data.name}`: {e.message}", call.span, help=e.help)
            return
    if shape.dims != start.dims:
        message = (
            f"data `{data.name}`: augmented training batches are {shape}, the model and the other splits take {start}"
        )
        help = "crop to the size the images are read at (`size` of the source, or its `crop`)"
        sink.error(
            "E402", message, data.spans["augment"], labels=[(graph.inputs[0].span, "the model's input")], help=help
        )
