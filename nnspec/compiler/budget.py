"""Budgets checked before anything is allocated: parameters (E510 over the limit, W510 over 1e9)
and the estimated peak memory of a training step (E519)."""

from __future__ import annotations

from nnspec import bytesize
from nnspec.compiler.cost import estimate, training_step
from nnspec.compiler.ir import Program
from nnspec.compiler.settings import pick
from nnspec.diagnostics import Sink
from nnspec.record import record

WARN_PARAMS = 1_000_000_000  # 4 GB of float32 weights before gradients and optimizer state
CODES = ("E510", "E519")  # the budgets' errors: the spec itself is sound


@record
class Options:
    """Options of a check that come from outside the spec."""

    max_params: int | None = None  # from the command line; overrides the train sections'
    max_memory: int | None = None  # bytes; from the command line, overrides the train sections'
    batch_size: int | None = None  # of the training step max_memory is checked for


def check_budget(program: Program, options: Options, sink: Sink) -> None:
    for name, graph in program.models.items():
        total = graph.total_params()
        limit = options.max_params if options.max_params is not None else _spec_limit(program, graph)
        span = program.model_sections[name].name_span
        if limit is not None and total > limit:
            sink.error(
                "E510",
                f"model `{name}` has {total:,} parameters, over the budget of {limit:,}",
                span,
                help="make it smaller, or raise max_params",
            )
        elif total > WARN_PARAMS:
            sink.warn(
                "W510",
                f"model `{name}` has {total:,} parameters ({total * 4 / 1e9:.1f} GB as float32)",
                span,
                help="set max_params to make this an error",
            )
        check_memory(program, name, options, sink)


def _spec_limit(program: Program, graph) -> int | None:
    limits = [
        t.values["max_params"]
        for t in program.trains.values()
        if t.values["max_params"] is not None and pick(t, "model", program.models) is graph
    ]
    return min(limits, default=None)


def check_memory(program: Program, name: str, options: Options, sink: Sink) -> None:
    """Each train section's step against its `max_memory` (or --max-memory); with --max-memory,
    a model no section trains too, as a step of --batch-size (or 1) without an optimizer."""
    graph = program.models[name]
    trains = [t for t in program.trains.values() if pick(t, "model", program.models) is graph]
    checks = [(t, _memory_limit(t, options)) for t in trains] or [(None, options.max_memory)]
    for train, limit in checks:
        if limit is None:
            continue
        step = training_step(program, graph, train, options.batch_size)
        peak = estimate(graph, step.batch_size, step.frozen, step.optimizer).memory.peak
        if peak > limit:
            from_spec = options.max_memory is None
            span = train.spans["max_memory"] if from_spec else (train.name_span if train else None)
            sink.error(
                "E519",
                f"model `{name}` needs about {bytesize.show(peak)} for a training step at batch {step.batch_size}"
                f", over the budget of {bytesize.show(limit)}",
                span or program.model_sections[name].name_span,
                help="`nnspec summary` shows where it goes; a smaller batch or model, or another optimizer, may fit",
            )


def _memory_limit(train, options: Options) -> int | None:
    if options.max_memory is not None:
        return options.max_memory
    value = train.values["max_memory"]
    return bytesize.parse(value) if isinstance(value, str) else value
