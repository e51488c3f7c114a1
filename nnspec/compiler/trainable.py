"""Checks that a train section can become a training program (E506-E509, E518)."""

from __future__ import annotations

import fnmatch

from nnspec.compiler.ir import BoundCall, Graph, Settings
from nnspec.compiler.walk import covered, flat_nodes
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
    for key in ("init", "freeze", "layer_lr"):
        _patterns(train, key, graph, sink)
    _rate_unused(train, graph, sink)
    _monitor(train, sink)
    if data is not None:
        _targets_fit_loss(data, train.values["loss"], sink)


def layer_names(graph: Graph) -> list[str]:
    """Names of the layers that hold parameters, blocks included (patterns match these)."""
    return [name for name, _, node in flat_nodes(graph) if node.params]


def _patterns(train: Settings, key: str, graph: Graph, sink: Sink) -> None:
    names = layer_names(graph)
    for pattern in train.values[key]:
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
