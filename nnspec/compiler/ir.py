"""The IR: graphs of layer nodes (block instances hold their own graph), and settings sections.

Nodes are compared by identity, never by value (eq=False), which also makes defining these
classes, part of every lint's start-up, cheaper.
"""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.diagnostics import Span
from nnspec.kinds.base import Shape
from nnspec.record import factory, record


@record(eq=False)
class CallValue:
    """A call in value position: csv("x.csv"), SGD(lr=0.1), uniform(0, 1)."""

    name: str
    args: tuple[ArgValue, ...]
    span: Span
    name_span: Span


@record(eq=False)
class Ref:
    """A bare name in a settings section, naming another section (model = IrisNet)."""

    name: str
    span: Span


@record(eq=False)
class ArgValue:
    """An evaluated argument with where it was written."""

    name: str | None
    value: object
    span: Span


@record(eq=False)
class Input:
    """A graph input: its name and per-sample shape (None in a block)."""

    name: str
    shape: Shape | None
    span: Span


def value_ref(node_id: str, k: int) -> str:
    """The reference to a node's k-th value: its id for the first, `id:k` for the others."""
    return node_id if k == 0 else f"{node_id}:{k}"


def split_ref(ref: str) -> tuple[str, int]:
    """(node id or input name, which of its values)."""
    head, _, k = ref.partition(":")
    return head, int(k) if k else 0


@record(eq=False)
class Module:
    """A layer or block instance declared once (`conv = Conv2d(64, 3)`), applied wherever its
    name is called: one set of parameters."""

    name: str  # as written; the attribute is its safe form
    kind: str
    raw_args: tuple[ArgValue, ...]
    span: Span  # the declaration
    is_block: bool = False


@record(eq=False)
class Tied:
    """`target.parameter = source.parameter` between declared modules: one tensor for both."""

    target: str
    target_parameter: str
    source: str
    source_parameter: str
    span: Span


@record(eq=False)
class Node:
    """One layer or block instance in a graph, or one call of a declared module."""

    id: str  # unique in its graph: "<statement>.<index>"
    kind: str  # a layer kind or a block name
    inputs: tuple[str, ...]  # node ids or input names
    raw_args: tuple[ArgValue, ...]
    span: Span
    stmt: str  # the statement (chain) the node belongs to
    is_block: bool = False
    body: Graph | None = None  # a block instance's elaborated graph
    failed: bool = False  # an earlier pass reported it; later passes skip it
    target: str | None = None  # the name its statement binds it to (`h` in `h = x -> ...`)
    written: dict = factory(dict)  # bound, checked arguments as written
    arg_spans: dict = factory(dict)  # argument name -> where it is written
    args: dict | None = None  # every constructor argument, inferred sizes included
    shape: Shape | None = None
    params: int = 0
    macs: int = 0
    module: str | None = None  # the declared module it calls (its parameters are the module's)
    decl: Span | None = None  # where that module is declared
    results: int = 1  # the values its statement binds: 3 for `seq, h, c = x -> LSTM(8)`
    shapes: tuple = ()  # one Shape per value; `shape` is the first
    targets: tuple[str, ...] = ()  # the names its values are bound to, in order
    reused: bool = False  # a later call of a module: its parameters are counted at the first call
    tied: dict = factory(dict)  # parameter -> the `module.parameter` it is tied to (not counted here)

    @property
    def path(self) -> str:
        """Its module path: the declared module's name, else its id."""
        return self.module or self.id

    def values(self) -> list[tuple[str, Shape]]:
        """(ref, shape) of each value it gives."""
        shapes = self.shapes or ((self.shape,) if self.shape is not None else ())
        return [(value_ref(self.id, k), s) for k, s in enumerate(shapes)]


@record(eq=False)
class Graph:
    """A model or a block instance: inputs, nodes in order, outputs."""

    name: str
    inputs: tuple[Input, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[tuple[str, str, Span], ...]  # (output name, node id or input, span)
    span: Span
    trail: tuple[tuple[Span, str], ...] = ()  # labels at the block uses this instance comes from
    env: dict = factory(dict)  # a block instance's arguments, defaults included
    modules: tuple[Module, ...] = ()  # declared modules, in order
    ties: tuple[Tied, ...] = ()
    frozen: tuple[tuple[str, Span], ...] = ()  # `freeze "pattern"`: (pattern, where), over this graph's names
    sequential: bool = False  # a `sequential` block's: its nodes are one chain, ids 0, 1 ... (an nn.Sequential)

    def node(self, ref: str) -> Node | None:
        """The node with this id, or the node giving the value `ref` (`id:1`)."""
        index = self.__dict__.get("_by_id")
        if index is None:  # built on first use (a scan per lookup made lints quadratic in the layers)
            index = {}
            for n in self.nodes:
                index.setdefault(n.id, n)
            object.__setattr__(self, "_by_id", index)  # not a field: no effect on eq, hash, repr, replace
        return index.get(ref.partition(":")[0])

    def shapes(self) -> dict:
        """ref -> Shape of every value: the inputs' and each node's."""
        found = {i.name: i.shape for i in self.inputs}
        for n in self.nodes:
            found.update(n.values())
        return found

    def total_params(self) -> int:
        return sum(n.params for n in self.nodes)


@record(eq=False)
class Settings:
    """A data, train or search section: checked key = value pairs."""

    kind: str
    name: str
    values: dict  # key -> value (CallValue / Ref / literal), defaults filled
    spans: dict  # key -> Span of the written value
    span: Span
    item_spans: dict = factory(dict)  # key -> Spans of a written list's items
    name_span: Span | None = None  # the section's name (or kind, when unnamed)


@record(eq=False)
class Program:
    """A checked spec: its graphs and settings sections."""

    file: ast.SpecFile
    models: dict  # name -> Graph
    blocks: dict  # name -> ast.Section
    data: dict  # name -> Settings
    trains: dict
    searches: dict
    model_sections: dict = factory(dict)  # name -> ast.Section


@record(eq=False)
class BoundCall:
    """A checked call in a settings section: SGD(lr=0.1) with its kind and written arguments."""

    kind: object
    written: dict
    span: Span

    def args(self) -> dict:
        return {p.name: self.written.get(p.name, p.default) for p in self.kind.params}
