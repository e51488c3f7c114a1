"""Immutable AST records with spans: what the parser returns, before any name is resolved.

Nodes are compared by identity, never by value (eq=False), which also makes defining these
classes, part of every lint's start-up, cheaper.
"""

from __future__ import annotations

from nnspec.diagnostics import Span
from nnspec.record import record


@record(eq=False)
class Const:
    """A literal: int, float, string, boolean or none."""

    value: object  # int | float | str | bool | None
    span: Span


@record(eq=False)
class Name:
    """A bare name: a node, a parameter or a section."""

    id: str
    span: Span


@record(eq=False)
class ListExpr:
    """[a, b, ...]"""

    items: tuple
    span: Span


@record(eq=False)
class DictExpr:
    """{key: value, ...}"""

    items: tuple  # ((key, Expr), ...)
    span: Span


@record(eq=False)
class Arg:
    """A call argument, positional (name None) or by keyword."""

    name: str | None
    value: Expr
    span: Span


@record(eq=False)
class Call:
    """Kind(args): a layer, block, loss, source ..."""

    name: str
    args: tuple[Arg, ...]
    span: Span
    name_span: Span


@record(eq=False)
class BinOp:
    """a + b, a * b ...: arithmetic on values, merges of tensors."""

    op: str
    left: Expr
    right: Expr
    span: Span


@record(eq=False)
class Neg:
    """-x"""

    operand: Expr
    span: Span


@record(eq=False)
class Stage:
    """One `-> Call(...) * repeat` of a chain."""

    call: Call
    repeat: int
    span: Span


@record(eq=False)
class Chain:
    """head -> stage -> stage ..."""

    head: Expr
    stages: tuple[Stage, ...]
    span: Span


Expr = Const | Name | ListExpr | DictExpr | Call | BinOp | Neg | Chain


@record(eq=False)
class Assign:
    """target = value"""

    target: str
    target_span: Span
    value: Expr
    span: Span


@record(eq=False)
class InputItem:
    """name: dtype[dims] of an input declaration."""

    name: str
    dtype: str | None
    shape: tuple | None  # dims: int | str (symbolic)
    span: Span


@record(eq=False)
class InputDecl:
    """input a: [4], b: [8]"""

    items: tuple[InputItem, ...]
    span: Span


@record(eq=False)
class OutputDecl:
    """output [name:] value"""

    name: str | None
    value: Expr
    span: Span


Stmt = Assign | InputDecl | OutputDecl


@record(eq=False)
class Param:
    """A parameter of a block or model header, with its default."""

    name: str
    default: Expr | None
    span: Span


@record(eq=False)
class Section:
    """kind [name] [(params)] { statements }"""

    kind: str
    kind_span: Span
    name: str | None
    name_span: Span
    params: tuple[Param, ...] | None
    body: tuple[Stmt, ...]
    span: Span


@record(eq=False)
class SpecFile:
    """A parsed spec file."""

    path: str
    source: str
    sections: tuple[Section, ...]
