"""Pass 5: machine-learning lints (W5xx) and checks that tie a model to its loss and data (E5xx)."""

from __future__ import annotations

from nnspec.compiler.inplace import check_in_place
from nnspec.compiler.ir import BoundCall, Graph, Program
from nnspec.compiler.preprocess import check_preprocessing
from nnspec.compiler.settings import pick
from nnspec.compiler.trainable import check_trainable
from nnspec.compiler.walk import block_entry, output_shapes, producer
from nnspec.diagnostics import Sink
from nnspec.kinds.layer import LAYERS


def lint_graphs(models: dict, sink: Sink) -> None:
    for graph in models.values():
        trails = {id(n): body.trail for body in _bodies(graph) for n in body.nodes}
        _collapsible_pairs(graph, sink, trails)
        check_in_place(graph, sink)
        for name, ref, _ in graph.outputs:
            node = producer(graph, ref, stop=lambda n: LAYERS.get(n.kind).regularizer)  # Dropout -> Flatten too
            if node is not None and LAYERS.get(node.kind).regularizer:
                sink.warn(
                    "W505",
                    f"output `{name}` ends with {node.kind}, which only acts while training",
                    node.span,
                    help="put dropout before the last layer, not after it",
                )


def _bodies(graph: Graph):
    """The graph and every block instance body inside it."""
    yield graph
    for node in graph.nodes:
        if node.is_block and node.body is not None:
            yield from _bodies(node.body)


def _collapsible_pairs(graph: Graph, sink: Sink, trails: dict, outer: dict | None = None) -> None:
    """`outer`: how a block body's inputs are fed, so pairs across block boundaries are found.

    `trails`: id(node) -> the block uses its instance comes from, to label both ends of a pair.
    """
    for node in graph.nodes:
        if node.is_block:
            if node.body is not None:
                _collapsible_pairs(node.body, sink, trails, block_entry(graph, node, outer))
            continue
        if not LAYERS.get(node.kind).collapsible or not node.inputs:
            continue
        before = producer(graph, node.inputs[0], outer=outer)
        if before is None or before.is_block or not LAYERS.get(before.kind).collapsible:
            continue
        crossed = not any(n is before for n in graph.nodes)  # the pair spans a block boundary
        sink.warn(
            "W504",
            f"{before.kind} `{before.id}` feeds {node.kind} `{node.id}` with nothing non-linear between them",
            node.span,
            notes=["two linear maps in a row are one linear map with more parameters"],
            help=LAYERS.get(node.kind).collapse_help or None,
            labels=_pair_labels(before, graph.trail, trails[id(before)])
            if crossed
            else [(before.span, "the first one")],
        )


def _pair_labels(before, trail: tuple, first_trail: tuple) -> list:
    """The first layer, the block uses only it comes from, then those of the second."""
    first = [(span, f"the first one is {use}") for span, use in first_trail if (span, use) not in trail]
    return [(before.span, "the first one"), *first, *trail]


def lint_training(program: Program, sink: Sink) -> None:
    for train in program.trains.values():
        graph = pick(train, "model", program.models)
        data = pick(train, "data", program.data)
        loss = train.values["loss"]
        if graph is None or not isinstance(loss, BoundCall):
            continue
        check_trainable(train, graph, data, sink)
        peek = None
        if data is not None:
            # the data contract (the program library's) is imported only for specs that read data
            from nnspec.compiler.datacheck import check_data

            check_preprocessing(data, graph, sink)
            peek = check_data(train, data, program, graph, sink)
        if len(graph.outputs) == 1:
            _loss_fits_output(graph, loss, peek, sink)
        _metrics_fit_loss(train, loss, sink)


def _loss_fits_output(graph: Graph, loss: BoundCall, peek, sink: Sink) -> None:
    name, ref, span = graph.outputs[0]
    node = producer(graph, ref)
    produces = LAYERS.get(node.kind).produces if node is not None else "values"
    kind = loss.kind
    logits_ok = kind.expects == "logits" and produces == "values"
    if produces != kind.expects and kind.expects != "values" and not logits_ok:
        _mismatch(node, produces, loss, span, sink)
    shape = output_shapes(graph)[name]
    targets = peek.targets if peek is not None else None
    classes = targets.count if targets is not None and targets.named else None
    if "index" in kind.targets and shape is not None and classes and shape.dims and shape.dims[-1] > classes:
        sink.warn(
            "W506",
            f"output {shape} has {shape.dims[-1]} values per sample, but the data has {classes} class{'es' if classes != 1 else ''}",
            span,
            help=f"make the last layer give {classes} values per sample",
        )


def _mismatch(node, produces: str, loss: BoundCall, span, sink: Sink) -> None:
    wants = {
        "logits": "raw scores (logits)",
        "probabilities": "probabilities",
        "log_probabilities": "log-probabilities",
        "values": "values",
    }
    where = node.span if node is not None else span
    source = f"{node.kind} `{node.id}`" if node is not None else "the model input"
    message = f"{source} gives {wants[produces]}, but {loss.kind.name} expects {wants[loss.kind.expects]}"
    help = (
        loss.kind.hint or f"remove the {node.kind if node else 'final activation'}: {loss.kind.name} applies it itself"
    )
    sink.warn("W501", message, where, help=help)


def _metrics_fit_loss(train, loss: BoundCall, sink: Sink) -> None:
    task = loss.kind.task
    for metric in train.values["metrics"]:
        if not isinstance(metric, BoundCall):
            continue
        fits = task in metric.kind.tasks
        if not fits:
            sink.error("E505", f"{metric.kind.name} does not fit a {task} loss ({loss.kind.name})", metric.span)
