"""Checks that a train section can become a training program (E506-E509, E518)."""

from __future__ import annotations

import fnmatch

from nnspec.compiler.ir import BoundCall, Graph, Settings
from nnspec.compiler.walk import covered, flat_nodes, output_shapes
from nnspec.compiler.weights import pattern_names
from nnspec.diagnostics import Sink


def check_trainable(train: Settings, graph: Graph, data: Settings | None, sink: Sink) -> None:
    if data is None:
        sink.error(
            "E506",
            f"train `{train.name}` has no data to train on",
            train.name_span or train.span,
            help="add a data section and `data = <its name>`",
        )
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        sink.error(
            "E507",
            f"train `{train.name}`: model `{graph.name}` has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; training needs one of each",
            train.spans.get("model", train.span),
        )
    else:
        _batch_first(train, graph, sink)
    for key in ("init", "freeze", "layer_lr", "exclude"):
        _patterns(train, key, graph, sink)
    _rate_unused(train, graph, sink)
    _monitor(train, sink)
    if data is not None:
        _targets_fit_loss(data, train.values["loss"], sink)


def _batch_first(train: Settings, graph: Graph, sink: Sink) -> None:
    """Batches come one sample per row, and the loss pairs each output row with one sample's target."""
    value = graph.inputs[0]
    output = output_shapes(graph)[graph.outputs[0][0]]
    for what, shape, span in (("input", value.shape, value.span), ("output", output, graph.outputs[0][2])):
        if shape is not None and not shape.batch_first:
            sink.error(
                "E507",
                f"train `{train.name}`: the model's {what} {shape} does not have one sample per row first; the training program's batches do",
                span,
                help="move the batch back to dim 0 (or split the batches joined along it) before the output",
            )


def layer_names(graph: Graph) -> list[str]:
    """Names of the layers that hold parameters, blocks included (patterns match these)."""
    return [name for name, _, node in flat_nodes(graph) if node.params and not node.reused]


def _patterns(train: Settings, key: str, graph: Graph, sink: Sink) -> None:
    """`init` names layers; `freeze` and `layer_lr` also parameters and the modules holding them."""
    names = layer_names(graph)
    wider = None
    for pattern in train.values[key]:
        if key != "init" and not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            wider = wider if wider is not None else pattern_names(graph)  # listed only when needed
            if any(fnmatch.fnmatchcase(name, pattern) for name in wider):
                continue
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
            sink.error(
                "E508",
                f"`{key}` pattern {pattern!r} matches no layer with parameters",
                train.spans[key],
                help=f"layers: {shown}",
            )


def _rate_unused(train: Settings, graph: Graph, sink: Sink) -> None:
    """W512: `layer_lr` covers every layer, so the optimizer's own `lr` trains nothing."""
    optimizer, patterns = train.values["optimizer"], list(train.values["layer_lr"])
    if not patterns or not isinstance(optimizer, BoundCall) or "lr" not in optimizer.written:
        return
    names = [name for name, _, node in flat_nodes(graph) if node.params and not node.is_block]
    if names and all(covered(name, patterns) for name in names):
        sink.warn(
            "W512",
            f"`layer_lr` gives every layer its rate: the optimizer's lr={optimizer.written['lr']} applies to none",
            train.spans["layer_lr"],
            labels=[(optimizer.span, "this lr is unused")],
            help="leave `lr` out of the optimizer, or `layer_lr` only for the layers that differ",
        )


def monitor_columns(train: Settings) -> list[str]:
    metrics = [m.kind.column for m in train.values["metrics"] if isinstance(m, BoundCall)]
    return ["train_loss", "val_loss", *(f"{split}_{m}" for split in ("train", "val") for m in metrics)]


def _monitor(train: Settings, sink: Sink) -> None:
    columns = monitor_columns(train)
    if train.values["monitor"] not in columns:
        span = train.spans.get("monitor", train.span)
        sink.error(
            "E509",
            f"`monitor` names no metrics.csv column: {train.values['monitor']!r}",
            span,
            help=f"columns: {', '.join(columns)}",
        )


def _targets_fit_loss(data: Settings, loss: BoundCall, sink: Sink) -> None:
    """`one_hot = true` only for a loss that takes class probabilities (with its arguments)."""
    if not data.values["one_hot"] or "one_hot" in loss.kind.takes(loss.args()):
        return
    given = " with these arguments" if "one_hot" in loss.kind.targets else ""
    sink.error(
        "E518",
        f"`one_hot = true` in data `{data.name}`, but {loss.kind.name}{given} does not take one-hot targets",
        data.spans.get("one_hot", data.span),
        labels=[(loss.span, "the loss")],
        help="remove `one_hot = true`" + (", or the loss arguments that need class indices" if given else ""),
    )
