"""Source-level pruning of library code for one spec: only the lines its settings reach.

A branch on settings (`if ACCUMULATE > 1:`, `x if METRICS else {}`) whose condition the spec
decides is replaced by the branch taken; a condition the spec only partly decides is shortened
(`ACCUMULATE == 1 or i % ACCUMULATE == 0` -> `i % ACCUMULATE == 0`). Then a keyword-only
parameter that no remaining line of its function reads is dropped, with the arguments every
call passes for it. Edits work on the text, so comments and layout stay as written.
"""

from __future__ import annotations

import ast
import operator
import textwrap

UNKNOWN = object()  # a condition the spec does not decide

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def decide(node, settings: dict):
    """The value of an expression over settings and constants, or UNKNOWN."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return settings.get(node.id, UNKNOWN)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [decide(e, settings) for e in node.elts]
        return UNKNOWN if any(i is UNKNOWN for i in items) else tuple(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        value = decide(node.operand, settings)
        return UNKNOWN if value is UNKNOWN else not value
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left, right = decide(node.left, settings), decide(node.comparators[0], settings)
        return UNKNOWN if UNKNOWN in (left, right) else _COMPARE[type(node.ops[0])](left, right)
    if isinstance(node, ast.BoolOp):
        return _decide_bool(node, settings)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
        value = decide(node.args[0], settings)  # len(OUTPUT_SHAPE): fixed when the setting is
        return UNKNOWN if value is UNKNOWN or not hasattr(value, "__len__") else len(value)
    return UNKNOWN


def _decide_bool(node: ast.BoolOp, settings: dict):
    deciding = isinstance(node.op, ast.Or)  # the value that decides an `or` (True) or an `and` (False)
    values = [decide(v, settings) for v in node.values]
    if any(v is not UNKNOWN and bool(v) == deciding for v in values):
        return deciding
    return UNKNOWN if any(v is UNKNOWN for v in values) else not deciding


def prune(text: str, settings: dict) -> str:
    """`text` (whole top-level definitions) with every branch the settings decide resolved."""
    while True:
        edit = _next_edit(ast.parse(text), text.splitlines(keepends=True), settings)
        if edit is None:
            return text
        text = edit


_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _next_edit(tree, lines: list[str], settings: dict) -> str | None:
    for node in ast.walk(tree):
        for block in _blocks(node):
            exits = [k for k, stmt in enumerate(block[:-1]) if isinstance(stmt, _EXITS)]
            if exits:  # what an inlined branch's return left unreachable
                return _splice(lines, _first_line(block[exits[0] + 1]), block[-1].end_lineno, "")
        if isinstance(node, ast.If):
            value = decide(node.test, settings)
            if value is not UNKNOWN and _is_elif(lines, node):
                return _resolve_elif(node, bool(value), lines)
            if value is not UNKNOWN:
                return _resolve_if(node, bool(value), lines)
            shorter = _shortened(node.test, settings)
            if shorter is not None:
                return _replace(lines, node.test, shorter)
        elif isinstance(node, ast.IfExp):
            value = decide(node.test, settings)
            if value is not UNKNOWN:
                return _replace(lines, node, _segment(lines, node.body if value else node.orelse))
    return None


def _blocks(node) -> list[list]:
    return [getattr(node, f) for f in ("body", "orelse", "finalbody") if isinstance(getattr(node, f, None), list)]


def _first_line(node) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _shortened(test, settings: dict) -> str | None:
    """A BoolOp without the operands the settings decide (they cannot decide it), or None."""
    if not isinstance(test, ast.BoolOp):
        return None
    deciding = isinstance(test.op, ast.Or)
    kept = [v for v in test.values if decide(v, settings) is UNKNOWN]
    if len(kept) == len(test.values):
        return None
    assert kept and all(bool(decide(v, settings)) != deciding for v in test.values if v not in kept)
    return ast.unparse(kept[0] if len(kept) == 1 else ast.BoolOp(test.op, kept))


def _resolve_if(node: ast.If, taken: bool, lines: list[str]) -> str:
    indent = " " * node.col_offset
    if taken:
        block = _block(lines, node.test.end_lineno + 1, node.body[-1].end_lineno)
    elif not node.orelse:
        block = ""
    elif len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and _is_elif(lines, node.orelse[0]):
        elif_lines = lines[node.orelse[0].lineno - 1 : node.end_lineno]
        first = elif_lines[0].replace("elif", "if", 1)
        return _splice(
            lines,
            node.lineno,
            node.end_lineno,
            textwrap.indent(textwrap.dedent(first + "".join(elif_lines[1:])), indent),
        )
    else:
        block = _block(lines, _else_line(lines, node) + 1, node.orelse[-1].end_lineno)
    body = textwrap.indent(textwrap.dedent(block), indent) if block.strip() else ""
    return _splice(lines, node.lineno, node.end_lineno, body or _pass_if_needed(lines, node, indent))


def _resolve_elif(node: ast.If, taken: bool, lines: list[str]) -> str:
    """An `elif` the settings decide: taken, it becomes the chain's `else:`; not taken, it goes
    and what follows it (an `elif` or the `else:`) continues the chain."""
    if taken:
        header = lines[node.lineno - 1]
        indent = header[: len(header) - len(header.lstrip())]
        body = _block(lines, node.test.end_lineno + 1, node.body[-1].end_lineno)
        return _splice(lines, node.lineno, node.end_lineno, f"{indent}else:\n{body}")
    if not node.orelse:
        return _splice(lines, node.lineno, node.end_lineno, "")
    rest = node.orelse[0].lineno if _is_elif(lines, node.orelse[0]) else _else_line(lines, node)
    return _splice(lines, node.lineno, rest - 1, "")


def _is_elif(lines: list[str], node: ast.If) -> bool:
    return lines[node.lineno - 1].lstrip().startswith("elif")


def _else_line(lines: list[str], node: ast.If) -> int:
    """The line of the `else:` of an if statement (ast does not record it)."""
    for number in range(node.body[-1].end_lineno + 1, node.orelse[0].lineno):
        if lines[number - 1].strip().startswith("else"):
            return number
    raise AssertionError(f"no else: between lines {node.body[-1].end_lineno} and {node.orelse[0].lineno}")


def _pass_if_needed(lines: list[str], node: ast.If, indent: str) -> str:
    """`pass` where removing the statement would leave its block empty."""
    trial = "".join(lines[: node.lineno - 1] + lines[node.end_lineno :])
    try:
        ast.parse(trial)
    except SyntaxError:
        return f"{indent}pass\n"
    return ""


def _block(lines: list[str], first: int, last: int) -> str:
    return "".join(lines[first - 1 : last])


def _splice(lines: list[str], first: int, last: int, text: str) -> str:
    return "".join(lines[: first - 1]) + text + "".join(lines[last:])


def _segment(lines: list[str], node) -> str:
    return ast.get_source_segment("".join(lines), node)


def _replace(lines: list[str], node, new: str) -> str:
    """The text with `node`'s source region replaced by `new`."""
    text = "".join(lines)
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno, node.end_col_offset)
    return text[:start] + new + text[end:]


def _offset(lines: list[str], line: int, col: int) -> int:
    """A character offset from ast's line and UTF-8 byte column."""
    before = sum(len(text) for text in lines[: line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))


def drop_unused_keywords(text: str) -> str:
    """Keyword-only parameters no line of their function reads, gone with every argument for them."""
    while True:
        tree = ast.parse(text)
        unused = _unused_keywords(tree)
        if not unused:
            return text
        text = _drop(text, tree, unused)


def _unused_keywords(tree) -> dict[str, set[str]]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.args.kwonlyargs:  # the rest have none
            read = {n.id for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
            names = {a.arg for a in node.args.kwonlyargs if a.arg not in read}
            if names:
                found[node.name] = names
    return found


def _drop(text: str, tree, unused: dict) -> str:
    """One pass: every call and signature that names an unused keyword, rewritten (a call inside
    another one rewritten waits for the next pass)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:  # ast's line and UTF-8 byte column
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))

    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in unused:
            keywords = [k for k in node.keywords if k.arg not in unused[node.func.id]]
            if len(keywords) < len(node.keywords):
                span = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
                edits.append((*span, ast.unparse(ast.Call(node.func, node.args, keywords))))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in unused:
            header = starts[node.lineno - 1], starts[_header_end(lines, node)]
            edits.append((*header, _new_signature(node, unused[node.name])))
    assert edits, "nothing to drop"
    chosen, end = [], -1
    for edit in sorted(edits, key=lambda e: (e[0], -e[1])):  # outermost first, none overlapping
        if edit[0] >= end:
            chosen.append(edit)
            end = edit[1]
    for start, stop, new in reversed(chosen):
        text = text[:start] + new + text[stop:]
    return text


def _new_signature(node: ast.FunctionDef, names: set[str]) -> str:
    args = node.args
    kept = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if a.arg not in names]
    new = ast.arguments(
        posonlyargs=args.posonlyargs,
        args=args.args,
        vararg=args.vararg,
        kwonlyargs=[a for a, _ in kept],
        kw_defaults=[d for _, d in kept],
        kwarg=args.kwarg,
        defaults=args.defaults,
    )
    return f"{' ' * node.col_offset}def {node.name}({ast.unparse(new)}):\n"


def _header_end(lines: list[str], node: ast.FunctionDef) -> int:
    """The last line of a def's header (black may split a long signature over several)."""
    for last in range(node.lineno, node.body[0].lineno):
        header = textwrap.dedent("".join(lines[node.lineno - 1 : last]))
        try:
            ast.parse(header + "    pass\n")
            return last
        except SyntaxError:
            continue
    raise AssertionError(f"no header for {node.name}")
