"""Source text -> AST: the grammar's LALR parser (lalr.py), string decoding and friendly syntax errors (E1xx)."""

from __future__ import annotations

import re

from nnspec.compiler import ast, lalr, tables
from nnspec.diagnostics import Diagnostic, Span, source_lines

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}

# How a terminal is shown in "expected ..." messages, for those whose pattern is not literal.
_TERMINAL_WORDS = {
    "NAME": ("a name",),
    "INT": ("an integer",),
    "FLOAT": ("a number",),
    "STRING": ("a string",),
    lalr.END: ("end of file",),
}
_CLOSING = {"(": ")", "[": "]", "{": "}"}
# Expression levels: the passes recurse per level, and Python refuses generated code nested
# about 200 brackets deep (design §9).
MAX_NESTING = 100


def parse(source: str, path: str) -> tuple[ast.SpecFile | None, list[Diagnostic]]:
    """Parse `source`; on a syntax error return (None, [diagnostic])."""
    builder = _Builder(path)
    try:
        parts = tables.parser().parse(source, builder)
    except lalr.UnexpectedInput as exc:
        return None, [_syntax_error(exc, source, path)]
    sections = [p for p in parts if isinstance(p, ast.Section)]
    uses = tuple(p for p in parts if isinstance(p, ast.Use))
    return ast.SpecFile(path, source, tuple(sections), uses), builder.problems + _too_deep(sections)


def decode_bytes(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), []  # editors hide a byte-order mark
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        msg = f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        return None, [Diagnostic("E105", msg, Span.point(path, line, col), help="save the spec as UTF-8")]


def _too_deep(sections) -> list[Diagnostic]:
    """E107 for each statement whose expression nests more than MAX_NESTING levels."""
    roots = [p.default for sec in sections for p in sec.params or () if p.default is not None]
    roots += [stmt.value for sec in sections for stmt in sec.body if hasattr(stmt, "value")]
    return [
        Diagnostic(
            "E107",
            f"expression nested more than {MAX_NESTING} levels deep",
            root.span,
            help="name parts of it, or use a block",
        )
        for root in roots
        if _depth_exceeds(root, MAX_NESTING)
    ]


def _depth_exceeds(root, limit: int) -> bool:
    stack = [(root, 1)]  # iterative: the point is that the tree may be very deep
    while stack:
        expr, depth = stack.pop()
        if depth > limit:
            return True
        stack += [(child, depth + 1) for child in _children(expr)]
    return False


def _children(expr) -> list:
    if isinstance(expr, ast.Chain):
        return [expr.head, *(stage.call for stage in expr.stages)]
    if isinstance(expr, ast.Call):
        return [a.value for a in expr.args]
    if isinstance(expr, ast.BinOp):
        return [expr.left, expr.right]
    if isinstance(expr, ast.Neg):
        return [expr.operand]
    if isinstance(expr, ast.ListExpr):
        return list(expr.items)
    if isinstance(expr, ast.DictExpr):
        return [v for _, v in expr.items]
    if isinstance(expr, ast.Subscript):
        return [expr.value, *expr.items]
    if isinstance(expr, ast.SliceExpr):
        return [part for part in (expr.start, expr.stop, expr.step) if part is not None]
    return []


def _syntax_error(exc: lalr.UnexpectedInput, source: str, path: str) -> Diagnostic:
    line, col = exc.line, exc.column
    if isinstance(exc, lalr.UnexpectedCharacters):
        ch = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        if ch in "\"'":
            return Diagnostic(
                "E102", "string is not closed on this line", Span.point(path, line, col), help=f"end it with {ch}"
            )
        return Diagnostic("E102", f"unexpected character {ch!r}", Span.point(path, line, col))
    expected, token = _expected_words(exc.expected), exc.token
    if token.type == lalr.END:
        return _end_of_file(source, path, expected)
    width = max(1, len(str(token)))
    span = Span(path, line, col, line, col + width)
    help = _hint(str(token), exc.expected, source, exc.pos_in_stream)
    return Diagnostic("E101", f"unexpected `{token}`, expected {expected}", span, help=help)


def _hint(token: str, expected: set, source: str, pos: int) -> str | None:
    """The usual slips behind some unexpected tokens."""
    name = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", source[:pos].rstrip())
    if token == "(" and expected == {"EQUAL"} and name:
        return f"missing `->` before `{name.group()}(`? (a new statement `{name.group()} = ...` was expected here)"
    if token == "=" and source[pos + 1 : pos + 2] == ">":
        return "a chain arrow is written `->`"
    if token == ":" and "EQUAL" in expected:
        return "arguments are written `name=value`"
    return None


def _end_of_file(source: str, path: str, expected: str) -> Diagnostic:
    span, opener = _end_span(source, path), _unclosed(source)
    if opener is None:
        return Diagnostic("E103", f"unexpected end of file, expected {expected}", span)
    ch, line, col = opener
    label = (Span.point(path, line, col), "opened here, never closed")
    return Diagnostic(
        "E103", f"unexpected end of file: `{ch}` is not closed", span, help=f"add `{_CLOSING[ch]}`", labels=(label,)
    )


def _unclosed(source: str) -> tuple[str, int, int] | None:
    """The innermost bracket left open at the end of `source` (strings and comments skipped)."""
    stack, line, col, i = [], 1, 1, 0
    while i < len(source):
        ch = source[i]
        if ch == "#" or ch in "\"'":
            end = source.find("\n", i)
            end = len(source) if end < 0 else end
            if ch != "#":  # a string: up to its closing quote on the same line
                j = i + 1
                while j < end and source[j] != ch:
                    j += 2 if source[j] == "\\" else 1
                end = min(j + 1, end)
            col += end - i
            i = end
            continue
        if ch in _CLOSING:
            stack.append((ch, line, col))
        elif ch in _CLOSING.values() and stack and _CLOSING[stack[-1][0]] == ch:
            stack.pop()
        line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)
        i += 1
    return stack[-1] if stack else None


def _expected_words(names: set[str]) -> str:
    words = sorted({w for n in names for w in _terminal_words(n)})
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _terminal_words(name: str) -> tuple[str, ...]:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    pattern = tables.parser().pattern(name)
    return (f"`{pattern[1]}`",) if pattern is not None and pattern[0] == "str" else (name.lower(),)


def _end_span(source: str, path: str) -> Span:
    lines = source_lines(source.rstrip("\n")) if source.strip() else [""]
    return Span.point(path, len(lines), len(lines[-1]) + 1)


def _span(path: str, extent) -> Span:
    return Span.point(path) if extent is None else Span(path, *extent)


def _tok_span(path: str, tok) -> Span:
    return Span(path, tok.line, tok.column, tok.end_line, tok.end_column)


class _Builder:
    """Builds AST records, one method per rule of the grammar (lalr.Parser calls them with the
    rule's extent and children). It never raises for user input: problems are collected."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Diagnostic] = []

    def _sp(self, meta) -> Span:
        return _span(self.path, meta)

    def start(self, meta, children):
        return list(children)

    def section(self, meta, ch):
        kind, name, params, rest = ch[0], ch[1], ch[2], ch[3:]
        name_span = _tok_span(self.path, name) if name is not None else _tok_span(self.path, kind)
        return ast.Section(
            str(kind),
            _tok_span(self.path, kind),
            str(name) if name else None,
            name_span,
            params,
            tuple(rest),
            self._sp(meta),
        )

    def use(self, meta, ch):
        *named, word, origin = ch
        items = [i if isinstance(i, ast.Call) else ast.Name(str(i), _tok_span(self.path, i)) for i in named]
        is_path = origin.type == "STRING"
        text = self._string(origin) if is_path else str(origin)
        word_span, origin_span = _tok_span(self.path, word), _tok_span(self.path, origin)
        return ast.Use(tuple(items), str(word), word_span, text, is_path, origin_span, self._sp(meta))

    def params(self, meta, ch):
        return tuple(p for p in ch if p is not None)

    def param(self, meta, ch):
        return ast.Param(str(ch[0]), ch[1], self._sp(meta))

    def assign(self, meta, ch):
        return ast.Assign(str(ch[0]), _tok_span(self.path, ch[0]), ch[1], self._sp(meta))

    def unpack(self, meta, ch):
        targets, value = ch[:-1], ch[-1]
        spans = tuple(_tok_span(self.path, t) for t in targets)
        return ast.Unpack(tuple(str(t) for t in targets), spans, value, self._sp(meta))

    def tie(self, meta, ch):
        return ast.Tie(ch[0], ch[1], self._sp(meta))

    def dotted(self, meta, ch):
        return ast.Path(str(ch[0]), ".".join(str(c) for c in ch[1:]), self._sp(meta))

    def directive(self, meta, ch):
        values = tuple(ast.Const(self._string(t), _tok_span(self.path, t)) for t in ch[1:])
        return ast.Directive(str(ch[0]), _tok_span(self.path, ch[0]), values, self._sp(meta))

    def input_decl(self, meta, ch):
        return ast.InputDecl(tuple(ch), self._sp(meta))

    def input_item(self, meta, ch):
        name, dtype, shape = ch
        return ast.InputItem(str(name), str(dtype) if dtype else None, shape, self._sp(meta))

    def shape(self, meta, ch):
        return tuple(d for d in ch if d is not None)

    def int_dim(self, meta, ch):
        return self._int(ch[0])

    def sym_dim(self, meta, ch):
        return str(ch[0])

    def output_decl(self, meta, ch):
        return ast.OutputDecl(str(ch[0]) if ch[0] is not None else None, ch[1], self._sp(meta))

    def out_name(self, meta, ch):
        return ch[0]

    def module(self, meta, ch):
        return ast.Name(str(ch[0]), self._sp(meta))

    def subscripted(self, meta, ch):
        return ast.Subscript(ch[0], tuple(ch[1:]), self._sp(meta))

    def sub_index(self, meta, ch):
        return ch[0]

    def sub_slice(self, meta, ch):
        return ast.SliceExpr(ch[0], ch[1], ch[2], self._sp(meta))

    def sub_ellipsis(self, meta, ch):
        return ast.EllipsisExpr(self._sp(meta))

    def chain(self, meta, ch):
        return ast.Chain(ch[0], tuple(ch[1:]), self._sp(meta))

    def stage(self, meta, ch):
        repeat = self._int(ch[1]) if ch[1] is not None else 1
        if ch[1] is not None and repeat < 1:
            self._problem("E304", "a repetition count must be at least 1", _tok_span(self.path, ch[1]))
        return ast.Stage(ch[0], repeat, self._sp(meta))

    def binop(self, meta, ch):
        return ast.BinOp(str(ch[1]), ch[0], ch[2], self._sp(meta))

    def addop(self, meta, ch):
        return ch[0]

    mulop = addop

    def neg(self, meta, ch):
        return ast.Neg(ch[0], self._sp(meta))

    def name(self, meta, ch):
        return ast.Name(str(ch[0]), self._sp(meta))

    def call(self, meta, ch):
        args = tuple(a for a in ch[1:] if a is not None)
        return ast.Call(str(ch[0]), args, self._sp(meta), _tok_span(self.path, ch[0]))

    def arg(self, meta, ch):
        return ast.Arg(str(ch[0]) if ch[0] else None, ch[1], self._sp(meta))

    def list(self, meta, ch):
        return ast.ListExpr(tuple(c for c in ch if c is not None), self._sp(meta))

    def dict(self, meta, ch):
        return ast.DictExpr(tuple(c for c in ch if c is not None), self._sp(meta))

    def pair(self, meta, ch):
        key = ch[0]
        text = self._string(key) if key.type == "STRING" else str(key)
        return (text, ch[1])

    def int(self, meta, ch):
        return ast.Const(self._int(ch[0]), self._sp(meta))

    def float(self, meta, ch):
        value = float(str(ch[0]).replace("_", ""))
        if value in (float("inf"), float("-inf")):
            self._problem("E106", f"number {ch[0]} is too large for a float", self._sp(meta))
            value = 0.0
        return ast.Const(value, self._sp(meta))

    def string(self, meta, ch):
        return ast.Const(self._string(ch[0]), self._sp(meta))

    def true(self, meta, ch):
        return ast.Const(True, self._sp(meta))

    def false(self, meta, ch):
        return ast.Const(False, self._sp(meta))

    def none(self, meta, ch):
        return ast.Const(None, self._sp(meta))

    def _problem(self, code, message, span, help=None):
        self.problems.append(Diagnostic(code, message, span, help=help))

    def _int(self, tok) -> int:
        text = str(tok).replace("_", "")
        if len(text) > 100:
            self._problem("E106", "integer literal is too large", _tok_span(self.path, tok))
            return 0
        return int(text)

    def _string(self, tok) -> str:
        body, out, i = str(tok)[1:-1], [], 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            esc = body[i + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
            else:
                span = Span(self.path, tok.line, tok.column + i + 1, tok.line, tok.column + i + 3)
                self._problem(
                    "E104", f"unknown escape sequence `\\{esc}` in string", span, help="write `\\\\` for a backslash"
                )
            i += 2
        return "".join(out)
