"""nn.Module classes as view models: one class per model and per block, every string computed here.

A block used several times becomes one class. Constructor arguments equal in every use are
written as literals; those that differ become the class's parameters, named after the block
parameter they equal in every use, else after the argument (`in_channels`). A declared module
is one attribute, built from its first call, and every call of it calls that attribute. A
`sequential` is an nn.Sequential subclass: its layers are the children 0, 1 ..., with no forward.
"""

from __future__ import annotations

import functools
import os

from nnspec.compiler.codegen.inits import init_lines
from nnspec.compiler.codegen.program import spec_label
from nnspec.compiler.imports import ZOO
from nnspec.compiler.ir import Graph, split_ref, value_ref
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
    inits: tuple[str, ...]  # after the attributes: tied weights, frozen parameters
    base: str  # nn.Module, or nn.Sequential for a sequential
    stores: tuple[tuple[str, str], ...] = ()  # (attribute, parameter): parameters the forward reads from self
    attrs: tuple[Attr, ...] = ()
    inputs: tuple[str, ...] = ()
    lines: tuple[tuple[str, str], ...] = ()  # forward: (code, shape comment)
    returns: str = ""
    layers: tuple[tuple[str, str], ...] | None = None  # a sequential's children: (constructor, comment)


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
            params = [p.name for p in section.params or ()]
            self.classes.append(self._class(name, self._where(section.span), uses[name], params, section.kind))
        for graph in graphs:
            self.classes.append(self._class(graph.name, self._where(graph.span), [Instance(graph, {})], [], "model"))
        return self.classes

    def _where(self, span) -> str:
        """file:line of the spec, or of the zoo or spec file a `use` took the section from."""
        label = spec_label(span.file)
        if os.path.dirname(os.path.abspath(span.file)) == ZOO:
            label = f"zoo/{label}"
        return f"{label}:{span.line}"

    def _class(self, name: str, where: str, uses: list[Instance], declared: list[str], kind: str) -> ClassView:
        """`kind`: the section's, `model`, `block` or `sequential`."""
        params = _Params({safe_variable(p): [u.env[p] for u in uses] for p in declared})
        graphs = [u.graph for u in uses]
        body = self._sequence(graphs, params) if graphs[0].sequential else self._module(graphs, params)
        signature = params.signature()
        for i, use in enumerate(uses):
            self.ctor_args[id(use.graph)] = {p: params.used[p][i] for p in signature}
        doc = f"{kind.capitalize()} `{name}` ({where})."
        return ClassView(safe_variable(name), doc, signature, init_lines(graphs[0]), **body)

    def _module(self, graphs: list[Graph], params: _Params) -> dict:
        """An nn.Module's attributes and forward (the attributes first: they name the parameters first)."""
        stores = set()
        attrs = self._attrs(graphs, params)
        lines = tuple(_forward(graphs, params, stores))
        returns = ", ".join(_var(graphs[0], ref) for _, ref, _ in graphs[0].outputs)
        inputs = tuple(safe_variable(i.name) for i in graphs[0].inputs)
        stored = tuple((stored_attribute(p), p) for p in sorted(stores))
        return dict(base="nn.Module", stores=stored, attrs=attrs, inputs=inputs, lines=lines, returns=returns)

    def _sequence(self, graphs: list[Graph], params: _Params) -> dict:
        """A sequential's layers in chain order, the children nn.Sequential numbers and calls."""
        layers = [(self._ctor(graphs, j, params), self._comment(graphs, j)) for j in range(len(graphs[0].nodes))]
        return dict(base="nn.Sequential", layers=tuple(layers))

    def _attrs(self, graphs: list[Graph], params: _Params) -> tuple[Attr, ...]:
        """Attributes in the order the spec writes them: statements' layers and declared modules."""
        placed = []
        for stmt, nodes in _statements(graphs[0]):
            members = [(j, n) for j, n in nodes if n.module is None and (n.is_block or LAYERS.get(n.kind).torch_class)]
            ctors = [(self._ctor(graphs, j, params), self._comment(graphs, j)) for j, _ in members]
            where = _position(nodes[0][1].span)
            if _is_chain(nodes):
                placed.append((where, Attr(stmt, tuple(ctors))))
            else:
                placed += [(where, Attr(n.id, (c,))) for (_, n), c in zip(members, ctors)]
        for module in graphs[0].modules:
            j = next((j for j, n in enumerate(graphs[0].nodes) if n.module == module.name and not n.reused), None)
            node = graphs[0].nodes[j] if j is not None else None
            if node is not None and (node.is_block or LAYERS.get(node.kind).torch_class):  # an unused one: W201
                placed.append(
                    (
                        _position(module.span),
                        Attr(module.name, ((self._ctor(graphs, j, params), self._comment(graphs, j)),)),
                    )
                )
        return tuple(attr for _, attr in sorted(placed, key=lambda p: p[0]))

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
        where = self._where(node.decl or node.span)
        where += "".join(f", {name} tied to {source}" for name, source in node.tied.items())
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


def _position(span) -> tuple[int, int]:
    return span.line, span.col


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
    bound = {safe_variable(t) for n in graph.nodes for t in (n.targets or (n.target,)) if t} | set(names.values())
    for k, (refs, _) in enumerate(steps):
        taken = set()  # one line's own targets differ from each other too
        for ref in refs:
            name = _wanted(graph, ref, bound)
            while (name in holder and last_read.get(holder[name], -1) > k) or (name in taken and name != "_"):
                name += "_"
            names[ref], holder[name] = name, ref
            taken.add(name)
    return names


def _wanted(graph: Graph, ref: str, bound: set) -> str:
    """The name the spec gives a value, else its node's id kept apart from the bound names."""
    node_id, k = split_ref(ref)
    node = graph.node(node_id)
    if node.targets:
        return "_" if node.targets[k] == "_" else safe_variable(node.targets[k])  # Python's own "unused"
    return safe_variable(node.target) if node.target else _apart(safe_variable(node.id), bound)


def _apart(name: str, bound: set) -> str:
    while name in bound:
        name += "_"
    return name


def _steps(graph: Graph) -> list[tuple[list[str], list[str]]]:
    """(values assigned, values read) per forward line: one line per chain, else per node."""
    steps = []
    for _, nodes in _statements(graph):
        if _is_chain(nodes):
            steps.append(([nodes[-1][1].id], [nodes[0][1].inputs[0]]))
        else:
            steps += [([value_ref(n.id, k) for k in range(n.results)], list(n.inputs)) for _, n in nodes]
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
            yield f"{_targets(graph, node)} = {_expr(graphs, j, params, stores)}", _shape(graphs, j, params)


def _targets(graph: Graph, node) -> str:
    names = [_var(graph, value_ref(node.id, k)) for k in range(node.results)]
    if node.results == 1:
        return names[0]
    return ", ".join(names) if node.is_block else LAYERS.get(node.kind).unpack(names)


def _expr(graphs: list[Graph], j: int, params: _Params, stores: set) -> str:
    graph, node = graphs[0], graphs[0].nodes[j]
    inputs = [_var(graph, i) for i in node.inputs]
    if node.is_block:
        return f"self.{node.path}({', '.join(inputs)})"
    kind = LAYERS.get(node.kind)
    args = {}
    for k in node.args:
        value = params(k, [g.nodes[j].args[k] for g in graphs])
        if isinstance(value, Code):
            stores.add(str(value))
            value = Code(f"self.{stored_attribute(value)}")
        args[k] = value
    forward = kind.forward_all if node.results > 1 else kind.forward
    return forward(f"self.{node.path}", inputs, args)


def _shape(graphs: list[Graph], j: int, params: _Params) -> str:
    """The shape comment of node j: its value's shape (each value's, when it gives several)."""
    node = graphs[0].nodes[j]
    if node.results > 1:
        return ", ".join(_shape_of([g.nodes[j].shapes[k] for g in graphs], params) for k in range(node.results))
    return _shape_of([g.nodes[j].shape for g in graphs], params)


def _shape_of(shapes: list, params: _Params) -> str:
    """One value's shape over every use of a class; a dim that differs between uses is the
    parameter it equals, else `?`."""
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
    first = shapes[0]
    return "(" + ", ".join([*dims[: first.batch], first.batch_label(), *dims[first.batch :]]) + ")"
