"""Lint-time look at a data section's source: the file exists, columns exist, sizes fit (E501-E503)."""

from __future__ import annotations

import os

from nnspec.compiler.ir import BoundCall, Graph, Program, Settings
from nnspec.diagnostics import Sink
from nnspec.kinds.sources import SOURCES, DataError, Peek
from nnspec.record import record
from nnspec.suggest import close_matches


@record
class DataFacts:
    """Features per sample and classes, as far as lint can tell."""

    features: int | None
    num_classes: int | None


def source_path(program: Program, relative: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(program.file.path)), relative)


def inspect_data(data: Settings, program: Program, graph: Graph, sink: Sink) -> DataFacts | None:
    source = data.values["source"]
    if not isinstance(source, BoundCall):
        return None
    _loading_fits(source, data, sink)
    peek = _peek(source, data, program, sink)
    if peek is None:
        return None
    features = peek.features
    if peek.columns is not None:
        features = _check_columns(peek.columns, data, source, sink)
        if features is None:
            return None
    where = source.args().get("path", source.kind.name)
    for code, message in peek.problems:
        sink.error(code, f"{where}: {message}", source.span)
    _classes_fit(peek, data, where, sink)
    _batch_fits(peek, data, sink)
    classes = data.values["num_classes"] or peek.classes
    facts = DataFacts(features, classes)
    _features_fit(facts, graph, data, sink)
    return facts


def _classes_fit(peek: Peek, data: Settings, where: str, sink: Sink) -> None:
    declared = data.values["num_classes"]
    if declared is not None and peek.classes is not None and peek.classes > declared:
        span = data.spans.get("num_classes", data.span)
        sink.error(
            "E512", f"{where}: the target has {peek.classes} distinct labels, more than num_classes = {declared}", span
        )


def _loading_fits(source: BoundCall, data: Settings, sink: Sink) -> None:
    """in_memory = false needs a source read sample by sample; workers only serve that path."""
    streamed, workers = not data.values["in_memory"], data.values["num_workers"]
    reason = source.kind.cannot_stream(source.args()) if streamed else None
    if reason:
        can = " or ".join(f"{k.name}(...)" for k in SOURCES if k.streams)
        span = data.spans.get("in_memory", data.span)
        help = f"sources that stream: {can}" if not source.kind.streams else None
        sink.error(
            "E514",
            f"{source.kind.name}(...) cannot be read sample by sample (in_memory = false): {reason}",
            span,
            help=help,
        )
    elif workers and not streamed:
        span = data.spans.get("num_workers", data.span)
        help = "set in_memory = false to read samples in worker processes" if source.kind.streams else None
        message = (
            f"num_workers = {workers} has no effect: in-memory data is batched by slicing tensors, without workers"
        )
        sink.warn("W511", message, span, help=help)


def _batch_fits(peek: Peek, data: Settings, sink: Sink) -> None:
    """With drop_last, a training split smaller than one batch would train on nothing."""
    if peek.rows is None or not data.values["drop_last"]:
        return
    train = int(round(peek.rows * data.values["split"]["train"]))
    if train < data.values["batch_size"]:
        span = data.spans.get("batch_size", data.span)
        sink.error(
            "E513",
            f"the training split has {train} samples, fewer than one batch of {data.values['batch_size']} (drop_last)",
            span,
        )


def _peek(source: BoundCall, data: Settings, program: Program, sink: Sink) -> Peek | None:
    args = source.args()
    path = source_path(program, args["path"]) if source.kind.has_file else None
    if not source.kind.tabular:
        for key in ("target", "features"):
            if data.values[key] is not None:
                sink.error("E303", f"`{key}` names CSV columns; {source.kind.name}(...) has none", data.spans[key])
                return None
    if path is not None and not os.path.exists(path):
        sink.error("E501", f"data file not found: {args['path']}", source.span, notes=[f"looked for {path}"])
        return None
    if path is not None and not (os.path.isfile(path) or os.path.isdir(path)):  # reading /dev/zero or a pipe never ends
        sink.error(
            "E501", f"{args['path']}: not a regular file or folder (devices and pipes are not read)", source.span
        )
        return None
    try:
        return source.kind.peek(path, args, data.values)
    except DataError as e:
        sink.error(e.code, f"{args['path']}: {e.message}", source.span)
        return None


def _check_columns(header: list, data: Settings, source: BoundCall, sink: Sink) -> int | None:
    """The number of feature columns, or None after reporting an unknown column."""
    target, features = data.values["target"], data.values["features"]
    for key, columns in (("target", [target] if target else []), ("features", features or [])):
        for i, column in enumerate(columns):
            if column not in header:
                _unknown_column(column, header, source.args()["path"], _item_span(data, key, i), sink)
                return None
    return len(features) if features else len(header) - (1 if target else 0)


def _item_span(data: Settings, key: str, i: int):
    """Where the i-th item of a list value is written (the whole value when it is not a list)."""
    items = data.item_spans.get(key, ())
    return items[i] if i < len(items) else data.spans.get(key, data.span)


def _unknown_column(column: str, header: list, path: str, span, sink: Sink) -> None:
    close = close_matches(column, header)
    help = f"did you mean `{close[0]}`?" if close else f"columns: {', '.join(header[:12])}"
    sink.error("E502", f"{path} has no column `{column}`", span, help=help)


def _features_fit(facts: DataFacts, graph: Graph, data: Settings, sink: Sink) -> None:
    if len(graph.inputs) != 1 or facts.features is None:
        return
    shape = graph.inputs[0].shape
    if shape is not None and shape.rank == 1 and shape.dims[0] != facts.features:
        sink.error(
            "E503",
            f"data `{data.name}` gives {facts.features} features per sample, model input `{graph.inputs[0].name}` expects {shape.dims[0]}",
            graph.inputs[0].span,
            help=f"write `input {graph.inputs[0].name}: [{facts.features}]` or choose the feature columns",
        )
