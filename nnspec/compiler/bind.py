"""Bind call arguments to a kind's parameters: order, names, types, ranges (E301-E307, W301)."""

from __future__ import annotations

from nnspec.compiler.ir import ArgValue, CallValue
from nnspec.diagnostics import Sink, Span
from nnspec.kinds.params import Param
from nnspec.record import record
from nnspec.suggest import close_matches


@record(eq=False)
class _Placement:
    """The arguments of a call placed by one positional order, with what went wrong."""

    written: dict
    spans: dict
    problems: Sink  # E301/E305/E306, not yet reported
    missing: list  # required parameters nothing filled

    @property
    def cost(self) -> tuple[int, int]:
        return len(self.problems.items), len(self.missing)


def bind_call(
    kind, params: tuple[Param, ...], args, span: Span, sink: Sink, spans_out: dict | None = None
) -> dict | None:
    """The written arguments by name, or None when any is wrong (diagnostics in `sink`).

    A call that binds to PyTorch's full signature by Python's rules means what it means in
    PyTorch: `Conv2d(1, 10, kernel_size=5)`. Otherwise the inferred input sizes are left out
    of the positional order: `Conv2d(10, 5)`.
    """
    before = len(sink.items)
    placed = _choose(params, args, [_place(kind, params, args, True), _place(kind, params, args, False)])
    for d in placed.problems.items:  # through `sink`, which may add notes (a block's trail)
        sink.error(d.code, d.message, d.span, notes=d.notes, help=d.help)
    written, spans = placed.written, placed.spans
    if spans_out is not None:
        spans_out.update(spans)
    by_name = {p.name: p for p in params}
    for name, value in written.items():  # the well-placed ones are checked even when others are not
        _check_value(kind, by_name[name], value, spans[name], sink)
    if placed.problems.items:  # a misspelled or extra argument: "missing" would only repeat that mistake
        return None
    if placed.missing:
        names = ", ".join(f"`{m}`" for m in placed.missing)
        sink.error("E302", f"{kind.name} is missing {names}", span, help=f"signature: {signature(kind.name, params)}")
    if any(d.is_error for d in sink.items[before:]):
        return None
    defaults = {p.name: written.get(p.name, p.default) for p in params}
    for code, message, arg in kind.validate(defaults):
        sink.error(code, message, spans.get(arg, span))
    return None if any(d.is_error for d in sink.items[before:]) else written


def _choose(params, args, forms: list[_Placement]) -> _Placement:
    """The full form if it binds, else the short one; when neither does, the one with fewer
    mistakes, and on a tie the full form for a call with as many positionals as PyTorch requires."""
    full, short = forms
    for form in forms:
        if form.cost == (0, 0):
            return form
    if full.cost != short.cost:
        return min(forms, key=lambda f: f.cost)
    positionals = sum(a.name is None for a in args)
    return full if positionals >= sum(p.required for p in params) else short


def _place(kind, params, args: list[ArgValue], full: bool) -> _Placement:
    order = [p for p in params if not p.forward and (full or not p.inferred)]  # forward's arguments: keywords
    written, spans, problems = {}, {}, Sink()
    seen_keyword = False
    for i, arg in enumerate(args):
        if arg.name is None:
            if seen_keyword:
                problems.error("E305", "a positional argument cannot follow a keyword argument", arg.span)
                continue
            index = len([a for a in args[:i] if a.name is None])
            if index >= len(order):
                problems.error(
                    "E305",
                    f"{kind.name} takes at most {len(order)} positional arguments",
                    arg.span,
                    help=f"signature: {signature(kind.name, params)}",
                )
                continue
            name = order[index].name
        else:
            seen_keyword = True
            name = arg.name
            if name not in {p.name for p in params}:
                close = close_matches(name, [p.name for p in params])
                help = f"did you mean `{close[0]}`?" if close else f"signature: {signature(kind.name, params)}"
                problems.error("E301", f"{kind.name} has no argument `{name}`", arg.span, help=help)
                continue
        if name in written:
            problems.error("E306", f"argument `{name}` is given twice", arg.span)
            continue
        written[name], spans[name] = arg.value, arg.span
    missing = [p.name for p in params if p.required and (full or not p.inferred) and p.name not in written]
    return _Placement(written, spans, problems, missing)


def _check_value(kind, param: Param, value, span, sink) -> None:
    problem = param.type.check(value)
    if problem:
        code = "E303" if problem[0] == "type" else "E304"
        sink.error(code, f"{kind.name}: `{param.name}` must be {problem[1]}, got {_show(value)}", span)
        return
    if param.advise and isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = param.advise
        if not lo <= value <= hi:
            sink.warn("W301", f"{kind.name}: `{param.name}` = {value} is outside the usual range {lo}..{hi}", span)


def signature(name: str, params) -> str:
    parts = []
    for p in params:
        if p.forward and "*" not in parts:
            parts.append("*")  # keyword only from here
        if p.inferred:
            parts.append(f"[{p.name}]")
        elif p.required:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={_show(p.default)}")
    return f"{name}({', '.join(parts)})"


def _show(value) -> str:
    """A value as the spec writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k if k.isidentifier() else _show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, CallValue):
        return f"{value.name}(...)"
    return repr(value) if not hasattr(value, "name") else f"`{value.name}`"
