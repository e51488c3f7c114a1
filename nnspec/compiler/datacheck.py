"""Lint-time look at a data section's source: the file exists, columns exist, sizes fit (E501-E503)."""

from __future__ import annotations

import csv
import difflib
import os
from dataclasses import dataclass

from nnspec.compiler.ir import BoundCall, Graph, Program, Settings
from nnspec.diagnostics import Sink

MAX_SCAN_BYTES = 20_000_000  # larger files: header only, classes are not counted


@dataclass(frozen=True)
class DataFacts:
    features: int | None
    num_classes: int | None


def source_path(program: Program, relative: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(program.file.path)), relative)


def inspect_data(data: Settings, program: Program, graph: Graph, sink: Sink) -> DataFacts | None:
    source = data.values["source"]
    if not isinstance(source, BoundCall):
        return None
    if source.kind.has_file:
        facts = _inspect_csv(data, source, program, sink)
    else:
        args = source.args()
        facts = DataFacts(args["features"], args["classes"] if args["task"] == "classification" else None)
    if facts is None:
        return None
    if data.values["num_classes"] is not None:
        facts = DataFacts(facts.features, data.values["num_classes"])
    _features_fit(facts, graph, data, sink)
    return facts


def _inspect_csv(data: Settings, source: BoundCall, program: Program, sink: Sink) -> DataFacts | None:
    args = source.args()
    path = source_path(program, args["path"])
    if not os.path.isfile(path):
        sink.error("E501", f"data file not found: {args['path']}", source.span, notes=[f"looked for {path}"])
        return None
    try:
        header, targets = _read_csv(path, args["delimiter"], data.values["target"])
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        sink.error("E501", f"cannot read {args['path']}: {e}", source.span)
        return None
    if header is None:
        sink.error("E504", f"{args['path']} is empty", source.span)
        return None
    target, features = data.values["target"], data.values["features"]
    for key, columns in (("target", [target] if target else []), ("features", features or [])):
        for column in columns:
            if column not in header:
                _unknown_column(column, header, args["path"], data.spans.get(key, data.span), sink)
                return None
    count = len(features) if features else len(header) - (1 if target else 0)
    classes = len(set(targets)) if targets is not None else None
    return DataFacts(count, classes)


def _read_csv(path: str, delimiter: str, target: str | None):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if header is None or target is None or target not in header or os.path.getsize(path) > MAX_SCAN_BYTES:
            return header, None
        i = header.index(target)
        return header, [row[i] for row in reader if len(row) > i]


def _unknown_column(column: str, header: list, path: str, span, sink: Sink) -> None:
    close = difflib.get_close_matches(column, header, n=1)
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
