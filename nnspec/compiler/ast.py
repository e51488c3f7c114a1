"""Frozen AST dataclasses with spans: what the parser returns, before any name is resolved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from nnspec.diagnostics import Span


@dataclass(frozen=True)
class Const:
    value: object  # int | float | str | bool | None
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple
    span: Span


@dataclass(frozen=True)
class DictExpr:
    items: tuple  # ((key, Expr), ...)
    span: Span


@dataclass(frozen=True)
class Arg:
    name: str | None
    value: "Expr"
    span: Span


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Arg, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Stage:
    call: Call
    repeat: int
    span: Span


@dataclass(frozen=True)
class Chain:
    head: "Expr"
    stages: tuple[Stage, ...]
    span: Span


Expr = Union[Const, Name, ListExpr, DictExpr, Call, BinOp, Neg, Chain]


@dataclass(frozen=True)
class Assign:
    target: str
    target_span: Span
    value: Expr
    span: Span


@dataclass(frozen=True)
class InputItem:
    name: str
    dtype: str | None
    shape: tuple | None  # dims: int | str (symbolic)
    span: Span


@dataclass(frozen=True)
class InputDecl:
    items: tuple[InputItem, ...]
    span: Span


@dataclass(frozen=True)
class OutputDecl:
    name: str | None
    value: Expr
    span: Span


Stmt = Union[Assign, InputDecl, OutputDecl]


@dataclass(frozen=True)
class Param:
    name: str
    default: Expr | None
    span: Span


@dataclass(frozen=True)
class Section:
    kind: str
    kind_span: Span
    name: str | None
    name_span: Span
    params: tuple[Param, ...] | None
    body: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class SpecFile:
    path: str
    source: str
    sections: tuple[Section, ...]
