"""A parameter budget checked before anything is allocated (E510 over the limit, W510 over 1e9)."""

from __future__ import annotations

from nnspec.compiler.ir import Program
from nnspec.compiler.settings import pick
from nnspec.diagnostics import Sink
from nnspec.record import record

WARN_PARAMS = 1_000_000_000  # 4 GB of float32 weights before gradients and optimizer state


@record
class Options:
    """Options of a check that come from outside the spec."""

    max_params: int | None = None  # from the command line; overrides the train sections'


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


def _spec_limit(program: Program, graph) -> int | None:
    limits = [
        t.values["max_params"]
        for t in program.trains.values()
        if t.values["max_params"] is not None and pick(t, "model", program.models) is graph
    ]
    return min(limits, default=None)
