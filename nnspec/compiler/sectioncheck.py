"""Data, train and search sections checked against their schemas: keys, values, and the calls
they hold bound against their registries (losses, optimizers, sources, distributions, ...)."""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.compiler.bind import bind_call
from nnspec.compiler.ir import ArgValue, BoundCall, CallValue, Ref, Settings
from nnspec.compiler.schema import SCHEMAS, CallTo, DictOf
from nnspec.compiler.values import ValueProblem, evaluate
from nnspec.diagnostics import Sink
from nnspec.kinds.params import Optional, Seq
from nnspec.kinds.sources import DISTRIBUTIONS
from nnspec.record import replace


def check_sections(sections: dict, sink: Sink) -> dict[str, dict[str, Settings]]:
    """Settings by section kind and name, for the sections that pass their schema."""
    out = {}
    for kind, schema in SCHEMAS.items():
        out[kind] = {}
        for name, section in sections[kind].items():
            settings = _check_section(section, schema, sink)
            if settings is not None:
                out[kind][name] = settings
    return out


def _check_section(section: ast.Section, schema, sink: Sink) -> Settings | None:
    args, failed = [], set()
    for stmt in section.body:
        if not isinstance(stmt, ast.Assign):
            sink.error(
                "E209", f"`input` and `output` belong in a model or block, not a {schema.name} section", stmt.span
            )
            continue
        try:
            args.append(_arg(stmt))
        except ValueProblem as e:
            sink.error(e.code, e.message, e.span, help=e.help)
            failed.add(stmt.target)
    known = {p.name for p in schema.params}
    extra = [a for a in args if schema.open_keys and a.name not in known]
    # A key whose value was already reported is not "missing" as well.
    params = tuple(replace(p, default=None) if p.name in failed else p for p in schema.params)
    spans: dict = {}
    written = bind_call(schema, params, [a for a in args if a not in extra], section.name_span, sink, spans)
    dimensions = {a.name: _dimension(a, sink) for a in extra}
    if written is None or failed:
        _bind_nested(params, args, sink)
        return None
    values = {p.name: written.get(p.name, p.default) for p in params}
    for p in params:
        if p.name in written:
            values[p.name] = _bind_calls(p.type, written[p.name], sink)
    for a in extra:
        values[a.name], spans[a.name] = dimensions[a.name], a.span
    items = {
        s.target: tuple(i.span for i in s.value.items)
        for s in section.body
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.ListExpr)
    }
    return Settings(schema.name, section.name or schema.name, values, spans, section.span, items, section.name_span)


def _bind_nested(params, args, sink: Sink) -> None:
    """A section with a wrong key still has the calls in its keys checked (the well-formed ones)."""
    by_name = {p.name: p for p in params}
    for a in args:
        if a.name in by_name:
            _bind_calls(by_name[a.name].type, a.value, sink)


def _arg(stmt: ast.Assign) -> ArgValue:
    return ArgValue(stmt.target, evaluate(stmt.value, {}, refs=True), stmt.value.span)


def _bind_calls(type_, value, sink: Sink):
    """CallValues become BoundCalls, checked against their registry (a list of them too)."""
    if isinstance(type_, Optional):
        type_ = type_.inner
    if isinstance(type_, Seq) and isinstance(value, list):
        return [_bind_calls(type_.item, v, sink) for v in value]
    if isinstance(type_, DictOf) and isinstance(value, dict):
        return {k: _bind_calls(type_.item, v, sink) for k, v in value.items()}
    if isinstance(type_, CallTo) and isinstance(value, CallValue):
        return bind_value_call(type_.registry, value, sink)
    return value


def bind_value_call(registry, call: CallValue, sink: Sink) -> BoundCall | None:
    kind = registry.get(call.name)
    if kind is None:
        hint = registry.suggest(call.name)
        sink.error(
            "E205",
            f"unknown {registry.family} `{call.name}`",
            call.name_span,
            help=f"did you mean `{hint}`?" if hint else f"known: {', '.join(k.name for k in registry)}",
        )
        return None
    for arg in call.args:
        if isinstance(arg.value, (Ref, CallValue)):
            sink.error("E303", f"{kind.name}: expected a number, string, boolean or list", arg.span)
            return None
    written = bind_call(kind, kind.params, list(call.args), call.span, sink)
    return BoundCall(kind, written, call.span) if written is not None else None


def _dimension(arg, sink: Sink):
    """A searched dimension: a distribution call, or a list of values for a grid."""
    if isinstance(arg.value, list) and arg.value:
        return arg.value
    if isinstance(arg.value, CallValue):
        return bind_value_call(DISTRIBUTIONS, arg.value, sink)
    calls = ", ".join(f"{k.name}(...)" for k in DISTRIBUTIONS)
    sink.error("E303", f"`{arg.name}` must be a list of values or one of {calls}", arg.span)
    return None
