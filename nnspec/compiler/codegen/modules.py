"""nn.Module classes as view models: one class per model and per block, every string computed here.

A block used several times becomes one class. Constructor arguments equal in every use are
written as literals; those that differ become the class's parameters, named after the block
parameter they equal in every use, else after the argument (`in_channels`).
"""

from __future__ import annotations

import functools

from nnspec.compiler.ir import Graph
from nnspec.compiler.names import safe_variable, stored_attribute
from nnspec.kinds.layer import LAYERS
from nnspec.kinds.pysrc import Code, src
from nnspec.record import record


@record
class Attr:
    """One module attribute of a generated class."""

    name: str
    lines: tuple[tuple[str, str], ...]  # (constructor, comment); several: an nn.Sequential


@record
class ClassView:
    """One generated nn.Module class, every string computed."""

    name: str
    doc: str
    params: tuple[str, ...]
    stores: tuple[tuple[str, str], ...]  # (attribute, parameter): parameters the forward reads from self
    attrs: tuple[Attr, ...]
    inputs: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]  # forward: (code, shape comment)
    returns: str


@record
class Instance:
    """One use of a block: its elaborated graph and arguments."""

    graph: Graph
    env: dict  # the block arguments of this use


class _Params:
    """Values that differ between the instances of a class become its parameters."""

    def __init__(self, declared: dict[str, list]):
        self.declared = declared  # block parameter -> its value in each instance
        self.used: dict[str, list] = {}

    def __call__(self, hint: str, values: list):
        if all(v == values[0] for v in values):
            return values[0]
        for name, vector in (*self.declared.items(), *self.used.items()):
            if vector == values:
                self.used.setdefault(name, vector)
                return Code(name)
        name, n = hint, 1
        while name in self.declared or name in self.used:
            n += 1
            name = f"{hint}{n}"
        self.used[name] = values
        return Code(name)

    def signature(self) -> tuple[str, ...]:
        ordered = [p for p in self.declared if p in self.used]
        return tuple(ordered + [p for p in self.used if p not in self.declared])


class ClassBuilder:
    """Builds the classes of one model: blocks first (inner before outer), then the model."""

    def __init__(self, spec: str):
        self.spec = spec
        self.ctor_args: dict[int, dict] = {}  # id(block body) -> keyword arguments of that use
        self.classes: list[ClassView] = []

    def build(self, graphs: list[Graph], blocks: dict) -> list[ClassView]:
        uses: dict[str, list[Instance]] = {}
        for graph in graphs:
            _collect(graph, uses)
        for name in _inner_first(uses):
            section = blocks[name]
            self.classes.append(
                self._class(name, section.span.line, uses[name], [p.name for p in section.params or ()])
            )
        for graph in graphs:
            self.classes.append(self._class(graph.name, graph.span.line, [Instance(graph, {})], [], model=True))
        return self.classes

    def _class(self, name: str, line: int, uses: list[Instance], declared: list[str], model=False) -> ClassView:
        params = _Params({safe_variable(p): [u.env[p] for u in uses] for p in declared})
        graphs, stores = [u.graph for u in uses], set()
        attrs = self._attrs(graphs, params)
        lines = tuple(_forward(graphs, params, stores))
        signature = params.signature()
        for i, use in enumerate(uses):
            self.ctor_args[id(use.graph)] = {p: params.used[p][i] for p in signature}
        kind = "model" if model else "block"
        doc = f"{kind.capitalize()} `{name}` ({self.spec}:{line})."
        outputs = [_var(graphs[0], ref) for _, ref, _ in graphs[0].outputs]
        inputs = tuple(safe_variable(i.name) for i in graphs[0].inputs)
        stored = tuple((stored_attribute(p), p) for p in sorted(stores))
        return ClassView(safe_variable(name), doc, signature, stored, attrs, inputs, lines, ", ".join(outputs))

    def _attrs(self, graphs: list[Graph], params: _Params) -> tuple[Attr, ...]:
        attrs = []
        for stmt, nodes in _statements(graphs[0]):
            members = [(j, n) for j, n in nodes if n.is_block or LAYERS.get(n.kind).torch_class]
            ctors = [(self._ctor(graphs, j, params), self._comment(graphs, j)) for j, _ in members]
            if _is_chain(nodes):
                attrs.append(Attr(stmt, tuple(ctors)))
            else:
                attrs += [Attr(n.id, (c,)) for (_, n), c in zip(members, ctors)]
        return tuple(attrs)

    def _ctor(self, graphs: list[Graph], j: int, params: _Params) -> str:
        node = graphs[0].nodes[j]
        if node.is_block:
            uses = [self.ctor_args[id(g.nodes[j].body)] for g in graphs]
            args = {k: params(k, [u[k] for u in uses]) for k in uses[0]}
            return f"{safe_variable(node.kind)}({', '.join(f'{k}={src(v)}' for k, v in args.items())})"
        kind = LAYERS.get(node.kind)
        args = {k: params(k, [g.nodes[j].args[k] for g in graphs]) for k in node.args}
        positional, keywords = kind.constructor(args)
        parts = [src(v) for v in positional] + [f"{k}={src(v)}" for k, v in keywords.items()]
        return f"{kind.torch_class}({', '.join(parts)})"

    def _comment(self, graphs: list[Graph], j: int) -> str:
        node = graphs[0].nodes[j]
        counts = {g.nodes[j].params for g in graphs}
        where = f"{self.spec}:{node.span.line}"
        return f"{where}, {counts.pop():,} params" if len(counts) == 1 and node.params else where


def _collect(graph: Graph, uses: dict) -> None:
    for node in graph.nodes:
        if node.is_block and node.body is not None:
            uses.setdefault(node.kind, []).append(Instance(node.body, node.body.env))
            _collect(node.body, uses)


def _inner_first(uses: dict) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for use in uses[name]:
            for node in use.graph.nodes:
                if node.is_block:
                    visit(node.kind)
        order.append(name)

    for name in uses:
        visit(name)
    return order


def _statements(graph: Graph):
    """(statement name, [(index, node)]) in order."""
    groups: dict[str, list] = {}
    for j, node in enumerate(graph.nodes):
        groups.setdefault(node.stmt, []).append((j, node))
    return groups.items()


def _is_chain(nodes) -> bool:
    """Named `h` or `h.0`, `h.1` ...: one module or an nn.Sequential (see expand._name_nodes)."""
    return all(n.id == n.stmt or n.id.startswith(n.stmt + ".") for _, n in nodes)


def _var(graph: Graph, ref: str) -> str:
    return _variables(graph)[ref]


@functools.lru_cache(maxsize=256)
def _variables(graph: Graph) -> dict:
    """The forward variable holding each value: the name the spec binds it to, else the node id
    (kept apart from every bound name); never a variable whose value a later line still reads
    (`output y: y -> ReLU()` beside `output raw: y` keeps `raw`'s value in its own variable)."""
    steps = _steps(graph)
    last_read = {ref: k for k, (_, reads) in enumerate(steps) for ref in reads}
    last_read.update({ref: len(steps) for _, ref, _ in graph.outputs})
    names = {i.name: safe_variable(i.name) for i in graph.inputs}
    holder = {var: ref for ref, var in names.items()}
    bound = {safe_variable(n.target) for n in graph.nodes if n.target} | set(names.values())
    for k, (ref, _) in enumerate(steps):
        node = graph.node(ref)
        name = safe_variable(node.target) if node.target else _apart(safe_variable(node.id), bound)
        while name in holder and last_read.get(holder[name], -1) > k:
            name += "_"
        names[ref], holder[name] = name, ref
    return names


def _apart(name: str, bound: set) -> str:
    while name in bound:
        name += "_"
    return name


def _steps(graph: Graph) -> list[tuple[str, list[str]]]:
    """(value assigned, values read) per forward line: one line per chain, else per node."""
    steps = []
    for _, nodes in _statements(graph):
        if _is_chain(nodes):
            steps.append((nodes[-1][1].id, [nodes[0][1].inputs[0]]))
        else:
            steps += [(n.id, list(n.inputs)) for _, n in nodes]
    return steps


def _forward(graphs: list[Graph], params: _Params, stores: set):
    graph = graphs[0]
    for stmt, nodes in _statements(graph):
        if _is_chain(nodes):
            last = nodes[-1][1]
            first = nodes[0][1]
            yield (
                f"{_var(graph, last.id)} = self.{stmt}({_var(graph, first.inputs[0])})",
                _shape(graphs, nodes[-1][0], params),
            )
            continue
        for j, node in nodes:
            yield f"{_var(graph, node.id)} = {_expr(graphs, j, params, stores)}", _shape(graphs, j, params)


def _expr(graphs: list[Graph], j: int, params: _Params, stores: set) -> str:
    graph, node = graphs[0], graphs[0].nodes[j]
    inputs = [_var(graph, i) for i in node.inputs]
    if node.is_block:
        return f"self.{node.id}({', '.join(inputs)})"
    kind = LAYERS.get(node.kind)
    args = {}
    for k in node.args:
        value = params(k, [g.nodes[j].args[k] for g in graphs])
        if isinstance(value, Code):
            stores.add(str(value))
            value = Code(f"self.{stored_attribute(value)}")
        args[k] = value
    return kind.forward(f"self.{node.id}", inputs, args)


def _shape(graphs: list[Graph], j: int, params: _Params) -> str:
    shapes = [g.nodes[j].shape for g in graphs]
    if len({s.rank for s in shapes}) > 1:  # a block whose uses differ in rank (Flatten(start_dim=p))
        return " or ".join(dict.fromkeys(str(s) for s in shapes))
    dims = []
    for k, d in enumerate(shapes[0].dims):
        values = [s.dims[k] for s in shapes]
        if all(v == d for v in values):
            dims.append(str(d))
            continue
        match = [p for p, vec in (*params.declared.items(), *params.used.items()) if vec == values]
        dims.append(match[0] if match else "?")
    return "(" + ", ".join(["N", *dims]) + ")"
