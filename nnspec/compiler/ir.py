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


@record(eq=False)
class Node:
    """One layer or block instance in a graph."""

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

    def node(self, id: str) -> Node | None:
        index = self.__dict__.get("_by_id")
        if index is None:  # built on first use (a scan per lookup made lints quadratic in the layers)
            index = {}
            for n in self.nodes:
                index.setdefault(n.id, n)
            object.__setattr__(self, "_by_id", index)  # not a field: no effect on eq, hash, repr, replace
        return index.get(id)

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
