"""Spans, diagnostics (with labelled secondary spans) and the three renderers of design §5: full, concise, json."""

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
    """One finding: a code, a message, where, and optional notes, a fix hint and secondary spans.

    `labels` are the other places that explain it, each (span, what it is): the producer of a bad
    shape, the first definition of a duplicate, the block use an error inside the block comes from.
    """

    code: str
    message: str
    span: Span
    severity: str = "error"  # "error" | "warning"
    notes: tuple[str, ...] = ()
    help: str | None = None
    labels: tuple[tuple[Span, str], ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class Sink:
    """Collects the diagnostics of one pass; the pipeline stops after a pass that `has_errors`."""

    def __init__(self, items: list[Diagnostic] | None = None):
        self.items = [] if items is None else items

    def error(self, code, message, span, *, notes=(), help=None, labels=()):
        self.items.append(Diagnostic(code, message, span, "error", tuple(notes), help, tuple(labels)))

    def warn(self, code, message, span, *, notes=(), help=None, labels=()):
        self.items.append(Diagnostic(code, message, span, "warning", tuple(notes), help, tuple(labels)))

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
            "labels": [_label_json(span, label) for span, label in d.labels],
        }
        for d in diags
    ]
    import json  # only the json format needs it

    return json.dumps(rows, indent=2)


def _label_json(s: Span, message: str) -> dict:
    return {
        "file": s.file,
        "line": s.line,
        "col": s.col,
        "end_line": s.end_line,
        "end_col": s.end_col,
        "message": message,
    }


def render_full(d: Diagnostic, source: str | None) -> str:
    s = d.span
    lines = [f"{d.severity}[{d.code}]: {d.message}", f"  --> {s.file}:{s.line}:{s.col}"]
    marks = [(s, "^", "")] + [(span, "-", label) for span, label in d.labels]
    shown = _shown(marks, s.file, source)
    lines += _excerpt(shown, source) if shown else []
    # A label that cannot be shown in this file's excerpt still says where it points.
    lines += [f"  ::: {m[0].file}:{m[0].line}:{m[0].col}: {m[2]}" for m in marks[1:] if m not in shown]
    lines += [f"   = note: {n}" for n in d.notes]
    if d.help:
        lines.append(f"   = help: {d.help}")
    return "\n".join(lines)


def shown_source(d: Diagnostic, path: str, source: str | None) -> str | None:
    """The text a diagnostic's excerpt comes from: the spec's, or that of the zoo or spec file a
    `use` took the section from (None when it cannot be read)."""
    if d.span.file == path:
        return source
    try:
        with open(d.span.file, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def source_lines(source: str) -> list[str]:
    """Lines as the parser counts them: only "\n" ends a line (not form feeds or U+2028)."""
    return [line.removesuffix("\r") for line in source.split("\n")]


def _shown(marks: list, file: str, source: str | None) -> list:
    """The marks (span, underline character, label) that fall on a line of `source`."""
    if source is None:
        return []
    count = len(source_lines(source))
    return [m for m in marks if m[0].file == file and 1 <= m[0].line <= count]


def _excerpt(marks: list, source: str) -> list[str]:
    """Each marked line once, in order, with one underline row per mark; `...` where lines are skipped.

       |
     4 | model Net {
       |       --- first defined here
    ...
     9 | data Net {
       |      ^^^
    """
    src_lines = source_lines(source)
    numbers = sorted({m[0].line for m in marks})
    width = len(str(numbers[-1]))
    pad = " " * width
    out = [f" {pad} |"]
    for k, number in enumerate(numbers):
        if k and number > numbers[k - 1] + 1:
            out.append("...")
        text = src_lines[number - 1].expandtabs(1)
        out.append(f" {number:>{width}} | {text}")
        out += [
            f" {pad} | {_underline(span, char, text)}{' ' + label if label else ''}"
            for span, char, label in marks
            if span.line == number
        ]
    return out


def _underline(s: Span, char: str, text: str) -> str:
    end = s.end_col if s.end_line == s.line else len(text) + 1
    return " " * (s.col - 1) + char * max(1, end - s.col)
