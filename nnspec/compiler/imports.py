"""`use` statements: models and blocks taken from the packaged zoo or another spec file.

A used section, and every block it calls, joins the spec's sections as if written there; a model
used with arguments (`use ResNet50(num_classes=10) from zoo`) has them as its parameters' defaults.
"""

from __future__ import annotations

import errno
import os
import stat

from nnspec.compiler import ast
from nnspec.compiler.parser import decode_bytes, parse
from nnspec.diagnostics import Sink
from nnspec.record import replace
from nnspec.suggest import close_matches

ZOO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo")
LIBRARY = "zoo"  # the one origin written as a bare name
MAX_DEPTH = 8  # files that use files that use files ...
GRAPH_KINDS = ("model", *ast.BLOCK_KINDS)


def zoo_files() -> list[str]:
    return sorted(os.path.join(ZOO, f) for f in os.listdir(ZOO) if f.endswith(".nn"))


def take_uses(spec: ast.SpecFile, sink: Sink, depth: int = 0) -> ast.SpecFile:
    """The spec with the sections its `use` statements name placed before its own."""
    taken: list[ast.Section] = []
    libraries: dict[tuple, dict | None] = {}  # origin -> its sections, read once per spec
    for use in spec.uses:
        if use.word != "from":
            sink.error(
                "E101", f"unexpected `{use.word}`, expected `from`", use.word_span, help="write `use Name from zoo`"
            )
            continue
        origin = (use.is_path, use.origin)
        if origin not in libraries:
            libraries[origin] = _library(use, spec.path, sink, depth)
        library = libraries[origin]
        if library is not None:
            for item in use.items:
                taken += _take(item, library, use, sink)
    unique = list({id(s): s for s in taken}.values())  # two models may call one block
    return replace(spec, sections=tuple(unique) + spec.sections)


def _library(use: ast.Use, spec_path: str, sink: Sink, depth: int) -> dict | None:
    """{name: section} of the models and blocks the origin defines."""
    if not use.is_path and use.origin != LIBRARY:
        help = f'`{LIBRARY}` is the packaged library; another spec file is a string: `from "blocks.nn"`'
        sink.error("E201", f"unknown library `{use.origin}`", use.origin_span, help=help)
        return None
    if depth >= MAX_DEPTH:
        sink.error("E210", f"`use` goes more than {MAX_DEPTH} files deep", use.span)
        return None
    paths = zoo_files() if not use.is_path else [os.path.join(os.path.dirname(spec_path), use.origin)]
    sections: dict[str, ast.Section] = {}
    for path in paths:
        spec = _parse_file(path, use, sink)
        if spec is None:
            return None
        spec = take_uses(spec, sink, depth + 1)
        sections.update({s.name: s for s in spec.sections if s.kind in GRAPH_KINDS and s.name})
    return sections


def _parse_file(path: str, use: ast.Use, sink: Sink) -> ast.SpecFile | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe or device may never end
            raise OSError(errno.EINVAL, "not a regular file")
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        sink.error("E210", f"cannot read {path}: {e.strerror or e}", use.origin_span)
        return None
    text, problems = decode_bytes(data, path)
    spec, more = parse(text, path) if text is not None else (None, [])
    for d in [*problems, *more]:
        sink.items.append(d)
    return None if problems or more or spec is None else spec


def _take(item, library: dict, use: ast.Use, sink: Sink) -> list[ast.Section]:
    name = item.name if isinstance(item, ast.Call) else item.id
    span = item.name_span if isinstance(item, ast.Call) else item.span
    if name not in library:
        close = close_matches(name, list(library))
        origin = LIBRARY if not use.is_path else use.origin
        help = f"did you mean `{close[0]}`?" if close else f"it defines {', '.join(sorted(library)) or 'no model'}"
        sink.error("E201", f"`{name}` is not defined in {origin}", span, help=help)
        return []
    section = library[name]
    if isinstance(item, ast.Call):
        section = _with_defaults(section, item, sink)
    return [*_called_blocks(section, library), section]


def _with_defaults(section: ast.Section, call: ast.Call, sink: Sink) -> ast.Section:
    """The section with the call's keyword arguments as its parameters' defaults."""
    params = {p.name: p for p in section.params or ()}
    for arg in call.args:
        if arg.name is None:
            sink.error("E305", f"the arguments of `use {call.name}(...)` are keywords", arg.span)
        elif arg.name not in params:
            close = close_matches(arg.name, list(params))
            help = f"did you mean `{close[0]}`?" if close else f"its parameters: {', '.join(params) or 'none'}"
            sink.error("E301", f"`{call.name}` has no parameter `{arg.name}`", arg.span, help=help)
        else:
            params[arg.name] = replace(params[arg.name], default=arg.value)
    return replace(section, params=tuple(params.values()))


def _called_blocks(section: ast.Section, library: dict) -> list[ast.Section]:
    """The library's blocks the section calls, directly or through other blocks, callees first."""
    found: dict[str, ast.Section] = {}

    def visit(sec: ast.Section) -> None:
        for name in _call_names(sec):
            callee = library.get(name)
            if callee is not None and callee.kind in ast.BLOCK_KINDS and name not in found and callee is not section:
                found[name] = callee
                visit(callee)

    visit(section)
    return list(found.values())


def _call_names(section: ast.Section) -> set[str]:
    names, stack = set(), [s.value for s in section.body if hasattr(s, "value")]
    while stack:
        expr = stack.pop()
        if isinstance(expr, ast.Call):
            names.add(expr.name)
            stack += [a.value for a in expr.args]
        elif isinstance(expr, ast.Chain):
            stack += [expr.head, *(stage.call for stage in expr.stages)]
        elif isinstance(expr, ast.BinOp):
            stack += [expr.left, expr.right]
        elif isinstance(expr, (ast.Neg, ast.Subscript)):
            stack.append(expr.operand if isinstance(expr, ast.Neg) else expr.value)
    return names
