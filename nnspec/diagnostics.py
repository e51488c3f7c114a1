"""Spans, diagnostics and the three renderers (full, concise, json) of design §5."""

from __future__ import annotations

from nnspec.record import record


@record
class Span:
    """A region of a spec: 1-based lines and columns, end exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int  # exclusive, 1-based like col

    @staticmethod
    def point(file: str, line: int = 1, col: int = 1) -> Span:
        return Span(file, line, col, line, col + 1)


@record
class Diagnostic:
    """One finding: a code, a message, where, and optional notes and a fix hint."""

    code: str
    message: str
    span: Span
    severity: str = "error"  # "error" | "warning"
    notes: tuple[str, ...] = ()
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class Sink:
    """Collects the diagnostics of one pass; the pipeline stops after a pass that `has_errors`."""

    def __init__(self, items: list[Diagnostic] | None = None):
        self.items = [] if items is None else items

    def error(self, code, message, span, *, notes=(), help=None):
        self.items.append(Diagnostic(code, message, span, "error", tuple(notes), help))

    def warn(self, code, message, span, *, notes=(), help=None):
        self.items.append(Diagnostic(code, message, span, "warning", tuple(notes), help))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def sort_key(d: Diagnostic):
    return (d.span.file, d.span.line, d.span.col, d.code)


def render_concise(d: Diagnostic) -> str:
    s = d.span
    return f"{s.file}:{s.line}:{s.col}: {d.code} {d.message}"


def render_json(diags: list[Diagnostic]) -> str:
    rows = [
        {
            "file": d.span.file,
            "line": d.span.line,
            "col": d.span.col,
            "end_line": d.span.end_line,
            "end_col": d.span.end_col,
            "severity": d.severity,
            "code": d.code,
            "message": d.message,
            "notes": list(d.notes),
            "help": d.help,
        }
        for d in diags
    ]
    import json  # only the json format needs it

    return json.dumps(rows, indent=2)


def render_full(d: Diagnostic, source: str | None) -> str:
    s = d.span
    lines = [f"{d.severity}[{d.code}]: {d.message}", f"  --> {s.file}:{s.line}:{s.col}"]
    lines += _excerpt(s, source)
    lines += [f"   = note: {n}" for n in d.notes]
    if d.help:
        lines.append(f"   = help: {d.help}")
    return "\n".join(lines)


def source_lines(source: str) -> list[str]:
    """Lines as the parser counts them: only "\n" ends a line (not form feeds or U+2028)."""
    return [line.removesuffix("\r") for line in source.split("\n")]


def _excerpt(s: Span, source: str | None) -> list[str]:
    if source is None:
        return []
    src_lines = source_lines(source)
    if not 1 <= s.line <= len(src_lines):
        return []
    text = src_lines[s.line - 1].expandtabs(1)
    width = len(str(s.line))
    end = s.end_col if s.end_line == s.line else len(text) + 1
    carets = "^" * max(1, end - s.col)
    pad = " " * width
    return [f" {pad} |", f" {s.line} | {text}", f" {pad} | {' ' * (s.col - 1)}{carets}"]
