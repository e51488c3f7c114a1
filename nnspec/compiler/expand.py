"""Pass 2: models become graphs; blocks are instantiated per use and repetition unrolled.

A declared module (`conv = Conv2d(64, 3)`) becomes a Module of its graph, and each call of it a
node that names it; a block module gets its body elaborated per call, for that call's shapes."""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.compiler.bind import bind_call
from nnspec.compiler.ir import Graph, Input, Module, Node, Tied, value_ref
from nnspec.compiler.names import safe_attribute
from nnspec.compiler.resolve import BATCH_NAME, FREEZE, declares_module, is_tensor, split_args
from nnspec.compiler.sequence import numbered
from nnspec.compiler.values import ValueProblem, arg_values, evaluate
from nnspec.diagnostics import Sink
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS
from nnspec.kinds.params import REQUIRED, Anything, Param
from nnspec.record import record, replace

MAX_LAYERS = 10_000  # per model once blocks and repetitions are unrolled: lint stays instant
MAX_BLOCK_DEPTH = 32  # blocks inside blocks


class _TooBig(Exception):
    """Unrolling stops for this model; the diagnostic is reported once."""

    def __init__(self, code: str, message: str, span, notes=(), help=None, labels=()):
        super().__init__(message)
        self.code, self.message, self.span, self.notes, self.help = code, message, span, tuple(notes), help
        self.labels = tuple(labels)


@record
class BlockKind:
    """A block seen as a callable kind, so that its arguments bind like a layer's."""

    name: str
    params: tuple[Param, ...]

    def validate(self, args):
        return []


def expand_models(sections: dict, sink: Sink) -> dict[str, Graph]:
    blocks = sections["block"]
    graphs = {}
    for name, section in sections["model"].items():
        kind = block_kind(section, sink)  # a model's parameters all have defaults
        try:
            graphs[name] = _Expander(blocks, sink).graph(section, {p.name: p.default for p in kind.params}, ())
        except _TooBig as e:
            sink.error(e.code, e.message, e.span, notes=e.notes, help=e.help, labels=e.labels)
    return graphs


def block_kind(section: ast.Section, sink: Sink) -> BlockKind:
    params = []
    for p in section.params or ():
        default = REQUIRED
        if p.default is not None:
            try:
                default = evaluate(p.default, {})
            except ValueProblem as e:
                help = "a default is a constant: a number, string, boolean or list" if e.code == "E201" else e.help
                sink.error(e.code, e.message, e.span, help=help)
                default = None  # reported once here, not again as a missing argument at each use
        params.append(Param(p.name, Anything(), default))
    return BlockKind(section.name, tuple(params))


class _Expander:
    def __init__(self, blocks: dict, sink: Sink):
        self.blocks, self.sink = blocks, sink
        self.layers = 0  # nodes unrolled so far in this model

    def graph(self, section: ast.Section, env: dict, stack: tuple[str, ...], trail=()) -> Graph:
        state = _GraphState(self, env, stack, trail)
        declared = [s for s in section.body if declares_module(s, env, self.blocks)]
        state.taken.update(safe_attribute(s.target) for s in declared)  # module attributes: no node takes them
        inputs, outputs, ties, frozen = [], [], [], []
        for stmt in section.body:
            if isinstance(stmt, ast.InputDecl):
                for item in stmt.items:
                    inputs.append(Input(item.name, _input_shape(item, env, self.sink), item.span))
                    state.bindings[item.name] = item.name
                    state.taken.add(item.name)  # refs name inputs and node ids alike: `x = x -> ...` gets id x_1
            elif any(stmt is d for d in declared):
                state.declare(stmt)
            elif isinstance(stmt, ast.Assign):
                state.bindings[stmt.target] = state.statement(stmt.target, stmt.value)
            elif isinstance(stmt, ast.Unpack):
                state.unpack(stmt)
            elif isinstance(stmt, ast.Tie):
                t, s = stmt.target, stmt.source
                ties.append(Tied(t.module, t.parameter, s.module, s.parameter, stmt.span))
            elif isinstance(stmt, ast.Directive):
                frozen += [(c.value, c.span) for c in stmt.values if stmt.name == FREEZE]
            else:
                name = stmt.name or "output"
                outputs.append((name, state.statement(name, stmt.value), stmt.span))
        modules = tuple(m for m, _ in state.modules.values())
        graph = Graph(
            section.name, tuple(inputs), tuple(state.nodes), tuple(outputs), section.span, trail, env,
            modules, tuple(ties), tuple(frozen),
        )  # fmt: skip
        return numbered(graph) if section.kind == ast.SEQUENTIAL else graph

    def instantiate(self, call: ast.Call, values, stack, trail) -> Graph | None:
        section = self.blocks[call.name]
        if call.name in stack:
            self.sink.error(
                "E206",
                f"block `{call.name}` instantiates itself",
                call.name_span,
                notes=[" -> ".join(stack + (call.name,))],
            )
            return None
        kind = block_kind(section, self.sink)
        bound = bind_call(kind, kind.params, values, call.span, self.sink)
        if bound is None:
            return None
        env = {p.name: bound.get(p.name, p.default) for p in kind.params}
        use = (call.span, f"in this use of block `{call.name}`")
        return self.graph(section, env, stack + (call.name,), trail + (use,))


def _input_shape(item: ast.InputItem, env: dict, sink: Sink) -> Shape | None:
    """`[T, N, 10]`: N marks where the batch is (first when it is left out); a model parameter
    stands for its value (`[3, size, size]`)."""
    if item.shape is None:
        return None
    dims = [env.get(d, d) if isinstance(d, str) else d for d in item.shape]
    for d in dims:
        if not isinstance(d, str) and (not isinstance(d, int) or isinstance(d, bool) or d < 1):
            sink.error(
                "E304", f"input `{item.name}`: a size must be a whole number of at least 1, not {d!r}", item.span
            )
    dims = [d if isinstance(d, str) or (isinstance(d, int) and d >= 1) else 1 for d in dims]
    batch = dims.index(BATCH_NAME) if BATCH_NAME in dims else 0
    return Shape(tuple(d for d in dims if d != BATCH_NAME), item.dtype or "float", batch)


class _GraphState:
    def __init__(self, expander: _Expander, env, stack, trail):
        self.x, self.env, self.stack, self.trail = expander, env, stack, trail
        self.bindings: dict[str, str] = {}
        self.modules: dict[str, tuple[Module, ast.Call]] = {}  # name -> (module, its declaring call)
        self.nodes: list[Node] = []
        self.taken: set[str] = set()  # module attribute names used so far
        self.suffix: dict[str, int] = {}  # target -> its last fresh suffix; `taken` only grows, so search on from it
        self.stmt = ""
        self.counter = 0

    def declare(self, stmt: ast.Assign) -> None:
        call = stmt.value
        values = self.values(call.args)  # None: reported; every call of it is skipped
        module = Module(safe_attribute(stmt.target), call.name, values, call.span, call.name in self.x.blocks)
        self.modules[stmt.target] = (module, call)

    def statement(self, target: str, expr, targets: tuple[str, ...] = ()) -> str:
        """Lower one statement and name its nodes; returns the node id of its value."""
        self.stmt, self.counter = self._fresh(target), 0
        start = len(self.nodes)
        ref = self.lower(expr, self.stmt)
        value = next((k for k in range(start, len(self.nodes)) if self.nodes[k].id == ref), None)
        if value is not None:  # the statement's value gets the name(s) it is bound to
            names = {"targets": targets, "results": len(targets)} if targets else {}
            self.nodes[value] = replace(self.nodes[value], target=target, **names)
        mapping = self._name_nodes(start, target)
        return mapping.get(ref, ref)

    def unpack(self, stmt: ast.Unpack) -> None:
        """`a, b = value`: the several values of the node the statement ends with."""
        start = len(self.nodes)
        named = next((t for t in stmt.targets if not t.startswith("_")), stmt.targets[0])  # `_, h = ...` is h's
        ref = self.statement(named, stmt.value, stmt.targets)
        if not any(n.id == ref for n in self.nodes[start:]):
            self.x.sink.error(
                "E406",
                f"this is one value; {len(stmt.targets)} names take the values of a layer or block that gives several",
                stmt.value.span,
                labels=self.trail,
            )
        for k, name in enumerate(stmt.targets):
            self.bindings[name] = value_ref(ref, k)

    def _fresh(self, target: str) -> str:
        target = safe_attribute(target)  # it becomes self.<name> of an nn.Module
        n = self.suffix.get(target, 0)
        name = f"{target}_{n}" if n else target
        while name in self.taken:
            n += 1
            name = f"{target}_{n}"
        self.suffix[target] = n
        return name

    def _name_nodes(self, start: int, target: str) -> dict:
        """Node ids are module paths: `h` (one module), `h.0` (nn.Sequential), `h_0` (separate).

        A statement's name groups its nodes in codegen, so no later statement gets it again, and
        its ids `h_0` ... are kept apart from every earlier id (`h_0 = ...` before `h = ...`)."""
        new = self.nodes[start:]
        chain = all(self._sequential(n) for n in new) and all(
            n.inputs == (new[i - 1].id,) for i, n in enumerate(new) if i
        )
        ids = self._ids(chain, len(new))
        while any(i.split(".")[0] in self.taken for i in ids):
            self.taken.add(self.stmt)
            self.stmt = self._fresh(target)
            ids = self._ids(chain, len(new))
        mapping = {n.id: new_id for n, new_id in zip(new, ids)}
        self.nodes[start:] = [
            replace(n, id=mapping[n.id], inputs=tuple(mapping.get(i, i) for i in n.inputs), stmt=self.stmt) for n in new
        ]
        self.taken.update(i.split(".")[0] for i in ids)
        self.taken.add(self.stmt)
        return mapping

    def _ids(self, chain: bool, n: int) -> list[str]:
        if chain and n == 1:
            return [self.stmt]
        if chain:
            return [f"{self.stmt}.{i}" for i in range(n)]
        return [f"{self.stmt}_{i}" for i in range(n)]

    def _sequential(self, node: Node) -> bool:
        if node.module is not None or node.results > 1:  # an attribute of its own; a tuple
            return False
        if node.is_block:
            return node.body is not None and len(node.body.inputs) == 1 and len(node.body.outputs) == 1
        return LAYERS.get(node.kind).sequential

    def lower(self, expr, stmt: str) -> str:
        if isinstance(expr, ast.Name):
            return self.bindings[expr.id]
        if isinstance(expr, ast.Chain):
            ref = self.lower(expr.head, stmt)
            for stage in expr.stages:
                for _ in range(stage.repeat):
                    if isinstance(stage.call, ast.Name):
                        ref = self.call_module(stage.call.id, stage.call.span, [ref])
                    else:
                        ref = self.node(stage.call, [ref], stage.call.args)
            return ref
        if isinstance(expr, ast.BinOp):
            return self.operator(expr, stmt)
        if isinstance(expr, ast.Subscript):
            return self.subscript(expr, stmt)
        tensors, values = split_args(expr, self.env)
        if expr.name in self.modules:  # `conv(x)`
            return self.call_module(expr.name, expr.span, [self.lower(t, stmt) for t in tensors])
        return self.node(expr, [self.lower(t, stmt) for t in tensors], values)

    def subscript(self, expr: ast.Subscript, stmt: str) -> str:
        """`x[:, 0]` as the kind whose operator is indexing, its items one list argument."""
        kind = next(k for k in LAYERS if k.operator == "[]")
        items = ast.ListExpr(tuple(_index_item(i) for i in expr.items), expr.span)
        args = (ast.Arg(kind.params[0].name, items, expr.span),)
        return self.node(ast.Call(kind.name, args, expr.span, expr.span), [self.lower(expr.value, stmt)], args)

    def call_module(self, name: str, span, inputs: list[str]) -> str:
        """One call of a declared module: a node of its own, the module's arguments and parameters."""
        module, call = self.modules[name]
        node_id = f"#{self.counter}"
        self.counter += 1
        self._within_limits(call, module.is_block)
        body = None
        if module.is_block and module.raw_args is not None:
            body = self.x.instantiate(call, module.raw_args, self.stack, self.trail)
        failed = module.raw_args is None or (module.is_block and body is None)
        node = Node(
            node_id, module.kind, tuple(inputs), module.raw_args or (), span, self.stmt, module.is_block, body,
            failed=failed, module=module.name, decl=module.span,
        )  # fmt: skip
        self.nodes.append(node)
        return node_id

    def operator(self, expr: ast.BinOp, stmt: str) -> str:
        """`a + b` between tensors; `x * 0.5` or `1 - x` with a number, its kind's `other` argument."""
        tensors = [is_tensor(side, self.env) for side in (expr.left, expr.right)]
        scalar = not all(tensors)
        kind = next((k for k in LAYERS if k.operator == expr.op and k.scalar == scalar), None)
        if kind is None:
            between = "a tensor and a number" if scalar else "tensors"
            self.x.sink.error(
                "E209",
                f"`{expr.op}` is not defined between {between}",
                expr.span,
                help=f"tensors combine with {_combiners()}",
            )
            return self.lower(expr.left if tensors[0] else expr.right, stmt)
        if not scalar:
            left, right = self.lower(expr.left, stmt), self.lower(expr.right, stmt)
            return self.node(ast.Call(kind.name, (), expr.span, expr.span), [left, right], ())
        tensor, number = (expr.left, expr.right) if tensors[0] else (expr.right, expr.left)
        args = (
            ast.Arg("other", number, number.span),
            ast.Arg("reverse", ast.Const(not tensors[0], expr.span), expr.span),
        )
        return self.node(ast.Call(kind.name, args, expr.span, expr.span), [self.lower(tensor, stmt)], args)

    def node(self, call: ast.Call, inputs: list[str], args) -> str:
        node_id = f"#{self.counter}"  # provisional; see _name_nodes
        self.counter += 1
        is_block, body = call.name in self.x.blocks, None
        self._within_limits(call, is_block)
        values = self.values(args)
        if is_block and values is not None:
            body = self.x.instantiate(call, values, self.stack, self.trail)
        failed = values is None or (is_block and body is None)
        node = Node(
            node_id, call.name, tuple(inputs), values or (), call.span, self.stmt, is_block, body, failed=failed
        )
        self.nodes.append(node)
        return node_id

    def _within_limits(self, call: ast.Call, is_block: bool) -> None:
        self.x.layers += 1
        if self.x.layers > MAX_LAYERS:
            raise _TooBig(
                "E304",
                f"the model unrolls to more than {MAX_LAYERS} layers",
                call.span,
                help="lower a repetition count `* n`",
                labels=self.trail,
            )
        if is_block and len(self.stack) >= MAX_BLOCK_DEPTH:
            chain = " -> ".join(self.stack + (call.name,))
            raise _TooBig("E206", f"blocks are nested more than {MAX_BLOCK_DEPTH} deep", call.name_span, [chain])

    def values(self, args):
        try:
            return tuple(arg_values(args, self.env))
        except ValueProblem as e:
            self.x.sink.error(e.code, e.message, e.span, labels=self.trail)
            return None


def _index_item(item):
    """A subscript item as a value expression: a slice as [start, stop, step], `...` as a string."""
    if isinstance(item, ast.SliceExpr):
        parts = (item.start, item.stop, item.step)
        return ast.ListExpr(tuple(p if p is not None else ast.Const(None, item.span) for p in parts), item.span)
    if isinstance(item, ast.EllipsisExpr):
        return ast.Const("...", item.span)
    return item


def _combiners() -> str:
    ops = [f"`{k.operator}`" for k in LAYERS if k.operator and not k.scalar and k.arity != 1]
    merges = [f"{k.name}(...)" for k in LAYERS if k.arity is None]
    return ", ".join(ops + merges)
