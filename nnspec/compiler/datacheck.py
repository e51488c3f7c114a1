"""Lint-time look at a data section's source: the file, its columns, and the data-model-loss
contract (nnspec/program/contract.py) as far as the files tell, with the codes programs use."""

from __future__ import annotations

import os

from nnspec.compiler.ir import BoundCall, Graph, Program, Settings
from nnspec.compiler.walk import batch_statistics, output_shapes
from nnspec.diagnostics import Sink
from nnspec.kinds.sources import SOURCES, Peek
from nnspec.program.contract import (
    declared_problem,
    input_problem,
    memory_problem,
    split_counts,
    split_problem,
    target_problem,
)
from nnspec.program.errors import DataError
from nnspec.suggest import close_matches

SHOWN = 12  # columns listed in a help before "and N more"


def source_path(program: Program, relative: str) -> str:
    # normpath: `..` is resolved in the text, so a folder on the way need not exist yet
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(program.file.path)), relative))


def check_data(train: Settings, data: Settings, program: Program, graph: Graph, sink: Sink) -> Peek | None:
    """Everything lint can check of `data` feeding `graph` under `train`'s loss; what it read."""
    source = data.values["source"]
    if not isinstance(source, BoundCall):
        return None
    _loading_fits(source, data, sink)
    peek = _peek(source, data, program, sink)
    if peek is None:
        return None
    if peek.columns is not None and not _columns_exist(peek.columns, data, source, sink):
        return None
    for code, message in peek.problems:
        sink.error(code, _shown(message, program, source), source.span)
    _contract(train, data, graph, peek, sink)
    return peek


def _contract(train: Settings, data: Settings, graph: Graph, peek: Peek, sink: Sink) -> None:
    values, span = data.values, data.values["source"].span
    model_input = graph.inputs[0]
    if peek.features is not None and len(graph.inputs) == 1:
        problem = input_problem(peek.features, peek.values, model_input.shape.dims, model_input.shape.dtype)
        if problem:
            help = f"write `input {model_input.name}: {list(peek.features)}` or choose other features"
            sink.error(problem[0], f"data `{data.name}`: {problem[1]}", model_input.span, help=help)
    loss = train.values["loss"]
    shape = output_shapes(graph)[graph.outputs[0][0]] if len(graph.outputs) == 1 else None
    if peek.targets is not None and shape is not None and shape.batch_first and isinstance(loss, BoundCall):
        encoding = "one_hot" if values["one_hot"] else loss.kind.targets[0]
        output = shape.dims
        problem = target_problem(encoding, peek.targets, output)
        if problem:
            sink.error(problem[0], f"data `{data.name}` and {loss.kind.name}: {problem[1]}", span)
        _declared_classes(peek, data, output, encoding, sink)
    if peek.samples is not None and peek.features is not None and values["in_memory"]:
        problem = memory_problem(peek.samples, peek.features, f"data `{data.name}`")
        if problem:
            sink.error(*problem, span, help=_streaming_help(data.values["source"]))
    if peek.samples is not None:
        counts = split_counts(peek.samples, values["split"])
        problem = split_problem(counts, values["batch_size"], values["drop_last"], batch_statistics(graph))
        if problem:
            code, message, key = problem
            sink.error(code, f"data `{data.name}`: {message}", data.spans.get(key, data.name_span or data.span))


def _declared_classes(peek: Peek, data: Settings, output: tuple, encoding: str, sink: Sink) -> None:
    """`num_classes` written out: no fewer than the labels, no more than the output scores."""
    declared = data.values["num_classes"]
    if declared is None or encoding not in ("index", "one_hot"):
        return
    span = data.spans.get("num_classes", data.span)
    problem = declared_problem(peek.targets, declared)
    if problem:
        sink.error(problem[0], f"data `{data.name}`: {problem[1]}", span)
    if isinstance(output[-1], int) and output[-1] < declared:
        sink.error("E517", f"num_classes = {declared}, but the model's output scores {output[-1]} classes", span)


def _streaming_help(source: BoundCall) -> str:
    if source.kind.streams:
        return "read it sample by sample with `in_memory = false`, or use fewer samples"
    return "use fewer samples"


def _loading_fits(source: BoundCall, data: Settings, sink: Sink) -> None:
    """in_memory = false needs a source read sample by sample; workers only serve that path."""
    streamed, workers = not data.values["in_memory"], data.values["num_workers"]
    reason = source.kind.cannot_stream(source.args()) if streamed else None
    if reason:
        can = " or ".join(f"{k.name}(...)" for k in SOURCES if k.streams)
        span = data.spans.get("in_memory", data.span)
        help = f"sources that stream: {can}" if not source.kind.streams else None
        message = f"{source.kind.name}(...) cannot be read sample by sample (in_memory = false): {reason}"
        sink.error("E514", message, span, help=help)
    elif workers and not streamed:
        span = data.spans.get("num_workers", data.span)
        help = "set in_memory = false to read samples in worker processes" if source.kind.streams else None
        message = (
            f"num_workers = {workers} has no effect: in-memory data is batched by slicing tensors, without workers"
        )
        sink.warn("W511", message, span, help=help)


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
    if path is not None and not (os.path.isfile(path) or os.path.isdir(path)):  # /dev/zero or a pipe never ends
        sink.error(
            "E501", f"{args['path']}: not a regular file or folder (devices and pipes are not read)", source.span
        )
        return None
    try:
        return source.kind.peek(path, args, data.values)
    except DataError as e:
        sink.error(e.code, _shown(e.message, program, source), source.span)
        return None


def _shown(message: str, program: Program, source: BoundCall) -> str:
    """A message about a data file, naming it as the spec writes it."""
    path = source.args().get("path")
    if path is None:
        return message
    full = source_path(program, path)
    return message.replace(full, path) if full in message else f"{path}: {message}"


def _columns_exist(header: list, data: Settings, source: BoundCall, sink: Sink) -> bool:
    """Every column the data section names is in the header; each unknown one is reported."""
    target, features = data.values["target"], data.values["features"]
    ok = True
    for key, columns in (("target", [target] if target else []), ("features", features or [])):
        for i, column in enumerate(columns):
            if column not in header:
                _unknown_column(column, header, source, _item_span(data, key, i), sink)
                ok = False
    return ok


def _item_span(data: Settings, key: str, i: int):
    """Where the i-th item of a list value is written (the whole value when it is not a list)."""
    items = data.item_spans.get(key, ())
    return items[i] if i < len(items) else data.spans.get(key, data.span)


SEPARATORS = {";": ";", "\t": "\\t", "|": "|"}  # other delimiters people use, as a spec writes them


def _unknown_column(column: str, header: list, source: BoundCall, span, sink: Sink) -> None:
    args = source.args()
    path, close = args["path"], close_matches(column, header)
    more = f" and {len(header) - SHOWN} more" if len(header) > SHOWN else ""
    help = f"did you mean `{close[0]}`?" if close else f"the columns are {', '.join(header[:SHOWN])}{more}"
    other = next((c for c in SEPARATORS if c != args["delimiter"] and any(c in h for h in header)), None)
    if other is not None:  # one wide column holding the real ones: the file has another delimiter
        help = f'the header holds `{SEPARATORS[other]}`: read it with {source.kind.name}("{path}", delimiter="{SEPARATORS[other]}")'
    sink.error("E502", f"{path} has no column `{column}`", span, help=help)
