"""Checks that a search section changes things a trial can change and reads a column it writes.

A dimension (`lr = loguniform(...)`) names a parameter of the trained model, a scalar key of the
train or data section, or an argument of the train section's optimizer, scheduler or loss (E301);
grid and choice values must fit that parameter (E303, E304); the goal names a metrics.csv column
(E509).
"""

from __future__ import annotations

from nnspec.compiler.ir import BoundCall, Program, Settings
from nnspec.compiler.schema import DATA, SEARCH, TRAIN
from nnspec.compiler.settings import pick
from nnspec.compiler.trainable import monitor_columns
from nnspec.diagnostics import Sink
from nnspec.kinds.params import Anything, Bool, Float, Int, Optional, Param, Str
from nnspec.suggest import close_matches

_SCALARS = (Int, Float, Bool, Str)


def check_searches(program: Program, sink: Sink) -> None:
    for search in program.searches.values():
        train = pick(search, "train", program.trains)
        if train is not None:
            _check_search(search, train, program, sink)


def _check_search(search: Settings, train: Settings, program: Program, sink: Sink) -> None:
    searchable = _searchable(train, program)
    fixed = {p.name for p in SEARCH.params}
    for name, value in search.values.items():
        if name in fixed:
            continue
        span = search.spans.get(name, search.span)
        if name not in searchable:
            close = close_matches(name, list(searchable))
            help = f"did you mean `{close[0]}`?" if close else f"searchable here: {', '.join(sorted(searchable))}"
            sink.error(
                "E301", f"search: `{name}` is nothing a trial of train `{train.name}` can change", span, help=help
            )
            continue
        for v in _listed_values(value):
            problem = searchable[name].type.check(v)
            if problem:
                code = "E303" if problem[0] == "type" else "E304"
                sink.error(code, f"search: a value of `{name}` must be {problem[1]}, got {v!r}", span)
                break
    _check_goal(search, train, sink)


def _searchable(train: Settings, program: Program) -> dict[str, Param]:
    return {name: param for name, (_, param) in searchable(train, program).items()}


def searchable(train: Settings, program: Program) -> dict[str, tuple[str, Param]]:
    """Name -> (owner, Param) a dimension of that name changes; the first owner in this order:
    "model" (its parameters), "train", "optimizer", "scheduler", "loss", "data" (their keys)."""
    owners: list[tuple[str, tuple[Param, ...]]] = []
    graph = pick(train, "model", program.models)
    section = program.model_sections.get(graph.name) if graph is not None else None
    if section is not None:
        # A trial writes a value where the spec has it: not into the zoo or a used file.
        written = [
            p for p in section.params or () if p.default is not None and p.default.span.file == program.file.path
        ]
        owners.append(("model", tuple(Param(p.name, Anything()) for p in written)))
    owners.append(("train", tuple(p for p in TRAIN.params if _scalar(p.type))))
    for key in ("optimizer", "scheduler", "loss"):
        call = train.values.get(key)
        if isinstance(call, BoundCall):
            owners.append((key, call.kind.params))
    if pick(train, "data", program.data) is not None:
        owners.append(("data", tuple(p for p in DATA.params if _scalar(p.type))))
    found: dict[str, tuple[str, Param]] = {}
    for owner, params in owners:
        for p in params:
            found.setdefault(p.name, (owner, p))
    return found


def _scalar(type_) -> bool:
    inner = type_.inner if isinstance(type_, Optional) else type_
    return isinstance(inner, _SCALARS)


def _listed_values(value) -> list:
    """The values a grid dimension or a choice(...) lists; distributions list none."""
    if isinstance(value, list):
        return value
    if isinstance(value, BoundCall) and "values" in value.written:
        return list(value.written["values"])
    return []


def _check_goal(search: Settings, train: Settings, sink: Sink) -> None:
    goal = search.values.get("goal")
    if not isinstance(goal, BoundCall):
        return
    columns = monitor_columns(train)
    metric = goal.args()["metric"]
    if metric not in columns:
        sink.error(
            "E509",
            f"search goal names no metrics.csv column: {metric!r}",
            goal.span,
            help=f"columns: {', '.join(columns)}",
        )
