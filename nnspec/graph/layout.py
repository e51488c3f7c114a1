"""A checked model as a drawing: boxes, block instances as nested clusters, shape-labelled edges.

The DOT and Mermaid writers read only a `Drawing`. Each box and edge has a `role` that picks its
style in each writer, so a new mark is a role and one style entry per writer: a module called
at several places, for instance, can be drawn once and its later calls marked "shared".
"""

from __future__ import annotations

from nnspec.compiler.ir import Graph, Node, value_ref
from nnspec.graph import labels
from nnspec.kinds.layer import LAYERS
from nnspec.record import record

# Box roles: "input" and "output" (the model's), "layer", "merge" (several inputs), "block" (a
# block instance collapsed by --depth). Edge roles: "data", "residual" (a merge's input that
# skips layers: its source also reaches the merge along another path).


@record(eq=False)
class Box:
    """A drawn node; `lines` are unescaped label lines."""

    id: str  # n0, n1 ...: an identifier in both languages, whatever the spec's names
    name: str  # the layer's name in `summary`, or the model input's or output's name
    lines: tuple[str, ...]
    role: str
    tooltip: str = ""


@record(eq=False)
class Cluster:
    """A block instance drawn with its layers inside; the drawing's root has no title."""

    id: str
    name: str
    lines: tuple[str, ...]
    items: tuple  # Box ids (str) and Clusters, in the order the spec defines them


@record(eq=False)
class Edge:
    source: str  # Box ids
    target: str
    label: str  # the shape of the value it carries: (N, 64, 56, 56)
    role: str = "data"


@record(eq=False)
class Drawing:
    title: str
    boxes: dict  # id -> Box, in topological order
    root: Cluster
    edges: tuple[Edge, ...]


@record(eq=False)
class _End:
    """Where a value is drawn: the box that produces it and its shape."""

    box: str
    shape: object


def draw(graph: Graph, title: str, depth: int | None = None) -> Drawing:
    """`depth`: block instances nested deeper are one box each (0: every top-level one); None: all open."""
    builder = _Builder(depth)
    ends, items = {}, []
    for i in graph.inputs:
        box = builder.box(i.name, (f"input {i.name}", _shape_text(i.shape)), "input")
        ends[i.name] = _End(box, i.shape)
        items.append(box)
    inner, ends = builder.contents(graph, "", 0, ends)
    items += inner
    for name, ref, _ in graph.outputs:
        end = ends[ref]
        box = builder.box(name, (name if name == "output" else f"output {name}", _shape_text(end.shape)), "output")
        builder.edge(end, box)
        items.append(box)
    edges = mark_residuals(builder.edges, builder.boxes)
    return Drawing(labels.printable(title), builder.boxes, Cluster("", graph.name, (), tuple(items)), edges)


class _Builder:
    def __init__(self, depth: int | None):
        self.depth = depth
        self.boxes: dict = {}
        self.edges: list = []
        self.clusters = 0

    def box(self, name: str, lines, role: str, tooltip: str = "") -> str:
        id = f"n{len(self.boxes)}"
        self.boxes[id] = Box(id, name, tuple(lines), role, tooltip or name)
        return id

    def edge(self, end: _End, target: str) -> None:
        self.edges.append(Edge(end.box, target, _shape_text(end.shape)))

    def contents(self, graph: Graph, prefix: str, level: int, ends: dict) -> tuple[list, dict]:
        """The items of one graph's body; `ends` maps its input names to what feeds them."""
        ends, items = dict(ends), []
        for node in graph.nodes:
            sources = [ends[ref] for ref in node.inputs]
            if self._opens(node, level):
                cluster, inner = self.cluster(node, prefix, level, sources)
                items.append(cluster)
                for k, (_, ref, _) in enumerate(node.body.outputs):  # a block gives one value per output
                    ends[value_ref(node.id, k)] = inner[ref]
            else:
                box = self.box(prefix + node.path, _node_lines(node), _role(node), _tooltip(prefix, node))
                for end in sources:
                    self.edge(end, box)
                items.append(box)
                for ref, shape in node.values() or [(node.id, node.shape)]:
                    ends[ref] = _End(box, shape)
        return items, ends

    def cluster(self, node: Node, prefix: str, level: int, sources: list) -> tuple[Cluster, dict]:
        feeds = {i.name: end for i, end in zip(node.body.inputs, sources)}
        items, ends = self.contents(node.body, f"{prefix}{node.path}.", level + 1, feeds)
        self.clusters += 1
        return Cluster(f"c{self.clusters}", prefix + node.path, _node_lines(node), tuple(items)), ends

    def _opens(self, node: Node, level: int) -> bool:
        """Whether a node is drawn as a cluster: a block with layers (an empty one would vanish), not too deep."""
        is_open = self.depth is None or level < self.depth
        return node.is_block and node.body is not None and bool(node.body.nodes and node.body.outputs) and is_open


def _role(node: Node) -> str:
    if node.is_block:
        return "block"
    return "merge" if len(node.inputs) > 1 else "layer"


def _node_lines(node: Node) -> tuple[str, ...]:
    """`x.0: Conv2d 3→64, k7 s2 p3` (a block: `x_1.0: Basic channels=64`), then the parameters if any."""
    if node.is_block:
        args = labels.bindings(node.body.env if node.body is not None else {})
    else:
        args = labels.describe(LAYERS.get(node.kind), node.args or {}, node.shape)
    head = f"{node.path}: {node.kind} {args}".rstrip()
    if node.reused:  # a module called again: its parameters are drawn at its first call
        return (head, "shared")
    return (head, labels.count(node.params)) if node.params else (head,)


def _tooltip(prefix: str, node: Node) -> str:
    if node.is_block or node.args is None:
        return prefix + node.path
    return f"{prefix}{node.path}: {labels.call(LAYERS.get(node.kind), node.args)}"


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    return str(shape) if shape.dtype == "float" else f"{shape} {shape.dtype}"


def mark_residuals(edges: list, boxes: dict) -> tuple[Edge, ...]:
    """Each edge into a merge whose source is an ancestor of another of the merge's sources."""
    order = {id: i for i, id in enumerate(boxes)}  # boxes are made in topological order
    parents: dict = {}
    for e in edges:
        parents.setdefault(e.target, []).append(e.source)
    marked = []
    for e in edges:
        others = [s for s in parents[e.target] if s != e.source]
        skips = any(_reaches(e.source, other, parents, order) for other in others)
        marked.append(Edge(e.source, e.target, e.label, "residual") if skips else e)
    return tuple(marked)


def _reaches(ancestor: str, box: str, parents: dict, order: dict) -> bool:
    """Whether `ancestor` feeds `box`; boxes made before `ancestor` cannot lie between them."""
    seen, todo = set(), [box]
    while todo:
        current = todo.pop()
        for parent in parents.get(current, ()):
            if parent == ancestor:
                return True
            if parent not in seen and order[parent] > order[ancestor]:
                seen.add(parent)
                todo.append(parent)
    return False
