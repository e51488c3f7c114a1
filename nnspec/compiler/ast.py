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
class SliceExpr:
    """start:stop:step inside a subscript; each part may be left out (None)."""

    start: Expr | None
    stop: Expr | None
    step: Expr | None
    span: Span


@record(eq=False)
class EllipsisExpr:
    """`...` inside a subscript: every dim not indexed otherwise."""

    span: Span


@record(eq=False)
class Subscript:
    """x[:, 0]: a tensor indexed or sliced; items are value expressions, SliceExpr or EllipsisExpr."""

    value: Expr
    items: tuple
    span: Span


@record(eq=False)
class Stage:
    """One `-> Call(...) * repeat` of a chain, or `-> name` calling a module declared as `name = Kind(...)`."""

    call: Call | Name
    repeat: int
    span: Span


@record(eq=False)
class Chain:
    """head -> stage -> stage ..."""

    head: Expr
    stages: tuple[Stage, ...]
    span: Span


Expr = Const | Name | ListExpr | DictExpr | Call | BinOp | Neg | Chain | Subscript


@record(eq=False)
class Assign:
    """target = value"""

    target: str
    target_span: Span
    value: Expr
    span: Span


@record(eq=False)
class Unpack:
    """a, b = value: the several values of a layer, block or split bound to names in order."""

    targets: tuple[str, ...]
    target_spans: tuple[Span, ...]
    value: Expr
    span: Span


@record(eq=False)
class Path:
    """module.parameter: `lm_head.weight`, `attn.out_proj.weight`."""

    module: str
    parameter: str
    span: Span


@record(eq=False)
class Tie:
    """target = source between parameters of declared modules: one tensor, used by both."""

    target: Path
    source: Path
    span: Span


@record(eq=False)
class Directive:
    """A statement of a word and strings: `freeze "conv1", "fc.bias"`."""

    name: str
    name_span: Span
    values: tuple[Const, ...]
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


Stmt = Assign | Unpack | Tie | Directive | InputDecl | OutputDecl


@record(eq=False)
class Param:
    """A parameter of a block or model header, with its default."""

    name: str
    default: Expr | None
    span: Span


SEQUENTIAL = "sequential"  # a block whose layers are its own children 0, 1 ... (an nn.Sequential)
BLOCK_KINDS = ("block", SEQUENTIAL)  # sections instantiated where a graph calls them


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
class Use:
    """use ResNet50(num_classes=10), Bottleneck from zoo: sections taken from another spec file."""

    items: tuple  # Name, or Call whose arguments replace a model's defaults
    word: str  # `from`, checked by the imports pass
    word_span: Span
    origin: str  # `zoo`, or a path relative to the spec
    is_path: bool  # written as a string
    origin_span: Span
    span: Span


@record(eq=False)
class SpecFile:
    """A parsed spec file."""

    path: str
    source: str
    sections: tuple[Section, ...]
    uses: tuple[Use, ...] = ()
