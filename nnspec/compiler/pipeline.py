"""The passes in order: parse, sections, names, settings, expand, bind, shapes, weights, references, lints."""

from __future__ import annotations

import errno
import os
import stat

from nnspec.compiler.budget import Options, check_budget
from nnspec.compiler.expand import expand_models
from nnspec.compiler.graphs import bind_args, infer_shapes
from nnspec.compiler.imports import take_uses
from nnspec.compiler.ir import Program
from nnspec.compiler.lints import lint_graphs, lint_training
from nnspec.compiler.parser import decode_bytes, parse
from nnspec.compiler.resolve import resolve_names
from nnspec.compiler.sections import collect_sections
from nnspec.compiler.settings import check_settings, resolve_refs
from nnspec.compiler.weights import check_frozen, tie_weights
from nnspec.diagnostics import Diagnostic, Sink, Span, sort_key
from nnspec.record import record

DEFAULT_OPTIONS = Options()  # immutable: safe to share as a default


@record
class Result:
    """A checked spec (None after errors) and its diagnostics."""

    program: Program | None
    diagnostics: tuple[Diagnostic, ...]
    source: str | None

    @property
    def ok(self) -> bool:
        return self.program is not None and not any(d.is_error for d in self.diagnostics)


def check_file(path: str, options: Options = DEFAULT_OPTIONS) -> Result:
    try:
        data = _read_spec(path)
    except OSError as e:
        reason = e.strerror or str(e)
        return Result(None, (Diagnostic("E100", f"cannot read {path}: {reason}", Span.point(path)),), None)
    text, problems = decode_bytes(data, path)
    if text is None:
        return Result(None, tuple(problems), None)
    return check_source(text, path, options)


def _read_spec(path: str) -> bytes:
    """A spec file's bytes; a pipe or device is refused at once (reading it may never end)."""
    with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK)) as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (pipes and devices are not read)")
        return f.read()


def check_source(source: str, path: str, options: Options = DEFAULT_OPTIONS) -> Result:
    spec, problems = parse(source, path)
    sink = Sink(list(problems))
    if spec is None or sink.has_errors:
        return _done(None, sink, source)
    spec = take_uses(spec, sink)
    if sink.has_errors:
        return _done(None, sink, source)
    return check_spec(spec, sink, options)


def check_spec(spec, sink: Sink | None = None, options: Options = DEFAULT_OPTIONS) -> Result:
    """The passes after parsing, on an AST (a search trial's is the spec's with values replaced)."""
    sink = sink or Sink()
    source = spec.source
    sections = collect_sections(spec, sink)
    resolve_names(sections, sink)
    settings = check_settings(sections, sink)
    if sink.has_errors:
        return _done(None, sink, source)
    models = expand_models(sections, sink)
    for step in (bind_args, infer_shapes, tie_weights):
        if sink.has_errors:
            return _done(None, sink, source)
        models = {name: step(graph, sink) for name, graph in models.items()}
    if sink.has_errors:
        return _done(None, sink, source)
    for graph in models.values():
        check_frozen(graph, sink)
    resolve_refs(settings, models, sink, sections["block"])
    program = Program(
        spec, models, sections["block"], settings["data"], settings["train"], settings["search"], sections["model"]
    )
    if not sink.has_errors:
        lint_graphs(models, sink)
        lint_training(program, sink)
        if program.searches:  # the schema's search keys: imported for a spec that searches
            from nnspec.compiler.searchable import check_searches

            check_searches(program, sink)
        check_budget(program, options, sink)
    return _done(program, sink, source)


def _done(program, sink: Sink, source: str) -> Result:
    unique = list(dict.fromkeys(sink.items))
    return Result(program, tuple(sorted(unique, key=sort_key)), source)
