"""Frozen AST dataclasses with spans: what the parser returns, before any name is resolved.

Nodes are compared by identity, never by value (eq=False), which also makes defining these
classes, part of every lint's start-up, cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from nnspec.diagnostics import Span


@dataclass(frozen=True, eq=False)
class Const:
    value: object  # int | float | str | bool | None
    span: Span


@dataclass(frozen=True, eq=False)
class Name:
    id: str
    span: Span


@dataclass(frozen=True, eq=False)
class ListExpr:
    items: tuple
    span: Span


@dataclass(frozen=True, eq=False)
class DictExpr:
    items: tuple  # ((key, Expr), ...)
    span: Span


@dataclass(frozen=True, eq=False)
class Arg:
    name: str | None
    value: "Expr"
    span: Span


@dataclass(frozen=True, eq=False)
class Call:
    name: str
    args: tuple[Arg, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, eq=False)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, eq=False)
class Neg:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, eq=False)
class Stage:
    call: Call
    repeat: int
    span: Span


@dataclass(frozen=True, eq=False)
class Chain:
    head: "Expr"
    stages: tuple[Stage, ...]
    span: Span


Expr = Union[Const, Name, ListExpr, DictExpr, Call, BinOp, Neg, Chain]


@dataclass(frozen=True, eq=False)
class Assign:
    target: str
    target_span: Span
    value: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class InputItem:
    name: str
    dtype: str | None
    shape: tuple | None  # dims: int | str (symbolic)
    span: Span


@dataclass(frozen=True, eq=False)
class InputDecl:
    items: tuple[InputItem, ...]
    span: Span


@dataclass(frozen=True, eq=False)
class OutputDecl:
    name: str | None
    value: Expr
    span: Span


Stmt = Union[Assign, InputDecl, OutputDecl]


@dataclass(frozen=True, eq=False)
class Param:
    name: str
    default: Expr | None
    span: Span


@dataclass(frozen=True, eq=False)
class Section:
    kind: str
    kind_span: Span
    name: str | None
    name_span: Span
    params: tuple[Param, ...] | None
    body: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True, eq=False)
class SpecFile:
    path: str
    source: str
    sections: tuple[Section, ...]
