"""Pass 1 over model and block bodies: every name and kind resolves (E201-E209, W201 unused).

A body binds two sorts of names: tensors (`h = x -> Linear(8)`, `a, b = ...`) and declared
modules (`conv = Conv2d(64, 3)`: a call with no tensor input), which chains call (`x -> conv`).
"""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.compiler.sequence import check_sequential
from nnspec.diagnostics import Sink, Span
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS
from nnspec.suggest import close_matches

DTYPES = ("float", "long")
BATCH_NAME = "N"  # in an input's shape, where the batch is: `input seq: [T, N, 10]`


FREEZE = "freeze"  # the one directive: `freeze "conv1", "fc.bias"`


def is_tensor(expr, params) -> bool:
    """Whether an expression denotes a tensor (else a value such as 16 or a block parameter)."""
    if isinstance(expr, ast.Name):
        return expr.id not in params
    if isinstance(expr, ast.BinOp):
        return is_tensor(expr.left, params) or is_tensor(expr.right, params)
    return isinstance(expr, (ast.Chain, ast.Call, ast.Subscript))


def declares_module(stmt, params, blocks) -> bool:
    """`conv = Conv2d(64, 3)`: a layer or block called with no tensor, bound to one name."""
    if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, ast.Call):
        return False
    call = stmt.value
    known = LAYERS.get(call.name) is not None or call.name in blocks
    return known and not split_args(call, params)[0]


def split_args(call: ast.Call, params) -> tuple[list[ast.Expr], list[ast.Arg]]:
    """A call in head position: positional tensor arguments are its inputs, the rest its arguments."""
    tensors = [a.value for a in call.args if a.name is None and is_tensor(a.value, params)]
    values = [a for a in call.args if not (a.name is None and is_tensor(a.value, params))]
    return tensors, values


def resolve_names(sections: dict, sink: Sink) -> None:
    blocks = sections["block"]
    for kind in ("model", "block"):
        for section in sections[kind].values():
            _Resolver(section, blocks, sink, models=sections["model"]).run()
            if section.kind == ast.SEQUENTIAL:
                check_sequential(section, blocks, sink)


class _Resolver:
    def __init__(self, section: ast.Section, blocks: dict, sink: Sink, models=()):
        self.section, self.blocks, self.sink, self.models = section, blocks, sink, models
        self.params = {p.name for p in section.params or ()}
        self.bound: dict[str, tuple[Span, bool]] = {}  # name -> (where bound, used since)
        self.modules: dict[str, tuple[Span, bool]] = {}  # declared modules, likewise
        self.inputs: dict[str, Span] = {}
        self.later = {t for s in section.body for t in _targets(s)}
        self.later_modules = {s.target for s in section.body if declares_module(s, self.params, blocks)}
        self.is_model = section.kind == "model"

    def run(self) -> None:
        outputs: dict[str, Span] = {}
        for stmt in self.section.body:
            if isinstance(stmt, ast.InputDecl):
                self._inputs(stmt)
            elif declares_module(stmt, self.params, self.blocks):
                self._declare(stmt)
            elif isinstance(stmt, ast.Assign):
                self._tensor(stmt.value)
                self._bind(stmt.target, stmt.target_span)
            elif isinstance(stmt, ast.Unpack):
                self._tensor(stmt.value)
                for name, span in zip(stmt.targets, stmt.target_spans):
                    self._bind(name, span)
            elif isinstance(stmt, ast.Tie):
                self._tie(stmt)
            elif isinstance(stmt, ast.Directive):
                self._directive(stmt)
            else:
                self._tensor(stmt.value)
                self._output(stmt, outputs)
        self._check_ends(len(outputs))
        for name, (span, used) in (*self.bound.items(), *self.modules.items()):
            if not used and not name.startswith("_"):
                self.sink.warn("W201", f"`{name}` is never used", span, help="remove it or feed it into the graph")

    def _declare(self, stmt: ast.Assign) -> None:
        """`conv = Conv2d(64, 3)`: one module, its arguments given here, called by name."""
        call, name = stmt.value, stmt.target
        self._kind(call)
        for arg in call.args:
            self._value(arg.value)
        if LAYERS.get(name) is not None or name in self.blocks:
            self.sink.error("E202", f"module `{name}` has the name of a layer kind or block", stmt.target_span)
        elif name in self.modules or name in self.bound or name in self.params:
            self.sink.error("E202", f"`{name}` is already defined", stmt.target_span)
        self.modules[name] = (stmt.target_span, False)

    def _tie(self, stmt: ast.Tie) -> None:
        for path in (stmt.target, stmt.source):
            if path.module in self.modules:
                self.modules[path.module] = (self.modules[path.module][0], True)
            else:
                self._not_a_module(path.module, path.span, "tie its parameter")

    def _directive(self, stmt: ast.Directive) -> None:
        if stmt.name != FREEZE:
            self.sink.error(
                "E209",
                f'`{stmt.name} "..."` is not a statement',
                stmt.name_span,
                help=f'the statement of a word and strings is `{FREEZE} "layer", "layer.parameter"`',
            )

    def _not_a_module(self, name: str, span, what: str) -> None:
        if name in self.later_modules:
            self.sink.error("E203", f"module `{name}` is used before it is declared", span)
        elif name in self.bound or name in self.inputs:
            self.sink.error(
                "E209",
                f"`{name}` is a tensor, not a module",
                span,
                help=f"declare a module to {what}: `m = {LAYERS.example}`",
            )
        else:
            self._undefined(ast.Name(name, span), self.modules)

    def _output(self, stmt: ast.OutputDecl, outputs: dict) -> None:
        """Outputs are returned and checkpointed by name: two of one name would be one value twice."""
        name = stmt.name or "output"
        if name in outputs:
            message = (
                f"output `{name}` is declared twice"
                if stmt.name
                else "a second unnamed output: both are named `output`"
            )
            help = "give each output its own name: `output logits: ...`"
            labels = [(outputs[name], "first output of that name")]
            self.sink.error("E202", message, stmt.span, labels=labels, help=help)
            return
        outputs[name] = stmt.span

    def _check_ends(self, outputs: int) -> None:
        where, what = self.section.name_span, f"{self.section.kind} `{self.section.name}`"
        if not any(isinstance(s, ast.InputDecl) for s in self.section.body):
            self.sink.error("E207", f"{what} has no `input`", where, help="declare one: `input x: [4]`")
        if outputs == 0:
            self.sink.error("E207", f"{what} has no `output`", where, help="end it with `output <expression>`")

    def _inputs(self, decl: ast.InputDecl) -> None:
        for item in decl.items:
            if item.name in self.inputs:
                self.sink.error(
                    "E202",
                    f"input `{item.name}` is declared twice",
                    item.span,
                    labels=[(self.inputs[item.name], "first declared here")],
                )
                continue
            self.inputs[item.name] = item.span
            if self.is_model and item.shape is None:
                self.sink.error(
                    "E207",
                    f"model input `{item.name}` needs a shape",
                    item.span,
                    help=f"write `input {item.name}: [4]`",
                )
            if not self.is_model and item.shape is not None:
                self.sink.error(
                    "E207",
                    f"block input `{item.name}` takes its shape from the caller",
                    item.span,
                    help=f"write `input {item.name}`",
                )
            if item.dtype is not None and item.dtype not in DTYPES:
                self.sink.error(
                    "E303", f"unknown element type `{item.dtype}`", item.span, help="use `float` (default) or `long`"
                )
            if [d for d in item.shape or () if d == BATCH_NAME][1:]:
                self.sink.error("E207", f"input `{item.name}` names the batch dim {BATCH_NAME} twice", item.span)
            if any(isinstance(d, int) and d < 1 for d in item.shape or ()):
                self.sink.error("E304", "input sizes must be at least 1", item.span)
            elif Shape(item.shape or ()).too_large():
                self.sink.error("E304", "the input has more elements than PyTorch can hold (2**63 - 1)", item.span)
            self._bind(item.name, item.span)

    def _bind(self, name: str, span: Span) -> None:
        if name in self.modules:
            self.sink.error("E202", f"`{name}` is already a module declared in this {self.section.kind}", span)
            return
        if name in self.params:
            self.sink.error("E202", f"`{name}` is already a parameter of block `{self.section.name}`", span)
            self.bound[name] = (span, True)  # its uses refer to this binding: no second error
            return
        previous = self.bound.get(name)
        if previous and not previous[1] and not name.startswith("_"):  # `_`: a value left unused on purpose
            self.sink.warn("W201", f"`{name}` is reassigned before it is used", previous[0])
        self.bound[name] = (span, False)

    def _tensor(self, expr) -> None:
        if isinstance(expr, ast.Name):
            self._use(expr)
        elif isinstance(expr, ast.Subscript):
            self._tensor(expr.value)
            for item in expr.items:
                for part in _parts(item):
                    self._value(part)
        elif isinstance(expr, ast.Chain):
            self._tensor(expr.head)
            for stage in expr.stages:
                if isinstance(stage.call, ast.Name):
                    self._call_module(stage.call.id, stage.call.span)
                    continue
                self._kind(stage.call)
                for arg in stage.call.args:
                    self._value(arg.value)
        elif isinstance(expr, ast.BinOp) and is_tensor(expr, self.params):
            for side in (expr.left, expr.right):  # one side may be a number: `x * 0.5`, `1 - x`
                if is_tensor(side, self.params):
                    self._tensor(side)
                else:
                    self._value(side)
        elif isinstance(expr, ast.Call):
            self._applied(expr)
        else:
            self.sink.error(
                "E209",
                "expected a tensor expression here",
                expr.span,
                help=f"a node name, a chain `x -> {LAYERS.example}` or `a + b`",
            )

    def _call_module(self, name: str, span) -> bool:
        if name in self.modules:
            self.modules[name] = (self.modules[name][0], True)
            return True
        self._not_a_module(name, span, "call it")
        return False

    def _applied(self, call: ast.Call) -> None:
        tensors, values = split_args(call, self.params)
        if call.name in self.modules or call.name in self.later_modules:  # `conv(x)`: a declared module
            self._call_module(call.name, call.name_span)
            for arg in values:
                self.sink.error(
                    "E305",
                    f"`{call.name}` is a declared module: it takes only tensors here",
                    arg.span,
                    help="its arguments belong where it is declared",
                )
            for expr in tensors:
                self._tensor(expr)
            return
        self._kind(call)
        if not tensors:
            self.sink.error(
                "E209",
                f"`{call.name}(...)` has no input here",
                call.span,
                help=f"feed it with a chain: `x -> {call.name}(...)`",
            )
        for expr in tensors:
            self._tensor(expr)
        for arg in values:
            self._value(arg.value)

    def _kind(self, call: ast.Call) -> None:
        if LAYERS.get(call.name) is None and call.name not in self.blocks:
            hint = LAYERS.suggest(call.name, extra=self.blocks)
            help = f"did you mean `{hint}`?" if hint else None
            if call.name in self.models:
                help = f"`{call.name}` is a model; to use it inside another graph, declare it as a `block`"
            self.sink.error("E205", f"unknown layer or block `{call.name}`", call.name_span, help=help)

    def _value(self, expr) -> None:
        if isinstance(expr, ast.Name):
            if expr.id in self.params:
                return
            if expr.id in self.bound or expr.id in self.later:
                self._tensor_as_value(expr)
            else:
                self._undefined(expr, self.params)
        elif isinstance(expr, (ast.BinOp,)):
            self._value(expr.left)
            self._value(expr.right)
        elif isinstance(expr, ast.Neg):
            self._value(expr.operand)
        elif isinstance(expr, (ast.ListExpr,)):
            for item in expr.items:
                self._value(item)
        elif isinstance(expr, (ast.Chain, ast.Call, ast.DictExpr, ast.Subscript, ast.SliceExpr, ast.EllipsisExpr)):
            self.sink.error("E303", "expected a number, string, boolean or list here", expr.span)

    def _tensor_as_value(self, name: ast.Name) -> None:
        if name.id in self.bound:
            self.bound[name.id] = (self.bound[name.id][0], True)
        self.sink.error(
            "E209",
            f'`{name.id}` is a tensor, but this argument takes a value such as 16 or "same"',
            name.span,
            help=f"a chain feeds a layer only the value flowing in; combine tensors with {_merges()}",
        )

    def _use(self, name: ast.Name) -> None:
        if name.id in self.bound:
            span, _ = self.bound[name.id]
            self.bound[name.id] = (span, True)
        elif name.id in self.modules or name.id in self.later_modules:
            self.sink.error(
                "E209",
                f"`{name.id}` is a module, not a tensor",
                name.span,
                help=f"call it on a tensor: `x -> {name.id}` or `{name.id}(x)`",
            )
        elif name.id in self.params:
            self.sink.error("E209", f"`{name.id}` is a block parameter, not a tensor", name.span)
        elif name.id in self.later:
            self.sink.error(
                "E203",
                f"`{name.id}` is used before it is defined",
                name.span,
                help="define it above this line; graphs cannot have cycles",
            )
        else:
            self._undefined(name, self.bound)

    def _undefined(self, name: ast.Name, known) -> None:
        close = close_matches(name.id, [*known, "true", "false", "none"])  # `flase` is a misspelt value
        self.sink.error(
            "E201", f"undefined name `{name.id}`", name.span, help=f"did you mean `{close[0]}`?" if close else None
        )


def _merges() -> str:
    ops = [f"`a {k.operator} b`" for k in LAYERS if k.operator and not k.scalar and k.arity != 1]
    return ", ".join(ops + [f"`{k.name}(a, b)`" for k in LAYERS if k.arity is None])


def _targets(stmt) -> tuple[str, ...]:
    if isinstance(stmt, ast.Assign):
        return (stmt.target,)
    return stmt.targets if isinstance(stmt, ast.Unpack) else ()


def _parts(item) -> list:
    """The value expressions of a subscript item."""
    if isinstance(item, ast.SliceExpr):
        return [p for p in (item.start, item.stop, item.step) if p is not None]
    return [] if isinstance(item, ast.EllipsisExpr) else [item]
