"""`sequential` sections: a block that is one chain of layers, numbered as nn.Sequential numbers them.

    sequential ConvBNReLU(out) {
        input x
        output x -> Conv2d(out, 3, padding=1, bias=false) -> BatchNorm2d() -> ReLU6()
    }

A use `features = image -> ConvBNReLU(32) -> ...` has the layers `features.0.0`, `features.0.1`,
`features.0.2` (a block's would be `features.0.output.0` ...): torchvision's Conv2dNormActivation.
The body is checked here once (E211), so that expansion may number the layers of any use.
"""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.compiler.ir import Graph, split_ref, value_ref
from nnspec.diagnostics import Sink
from nnspec.kinds.layer import LAYERS
from nnspec.record import replace

CODE = "E211"


def check_sequential(section: ast.Section, blocks: dict, sink: Sink) -> None:
    """One input, one output, and that output a chain from the input of one-tensor layers."""
    what = f"sequential `{section.name}`"
    help = f"write its layers as one chain, `output x -> A() -> B()`, or make `{section.name}` a block"
    items = [item for s in section.body if isinstance(s, ast.InputDecl) for item in s.items]
    outputs = [s for s in section.body if isinstance(s, ast.OutputDecl)]
    for item in items[1:]:
        sink.error(CODE, f"{what} takes one input, as nn.Sequential does", item.span, help=help)
    first = outputs[0].name if outputs else None
    for stmt in outputs[1:]:
        if stmt.name != first:  # a second output of the same name is E202 already
            sink.error(CODE, f"{what} gives one output, as nn.Sequential does", stmt.span, help=help)
    for stmt in section.body:
        if not isinstance(stmt, (ast.InputDecl, ast.OutputDecl, ast.Directive)):
            message = f"{what} is one chain, `input x` and `output x -> ...`: its layers are numbered, not named"
            sink.error(CODE, message, stmt.span, help=help)
    if items and outputs:
        _check_chain(outputs[0].value, items[0].name, what, blocks, sink)


def _check_chain(expr, source: str, what: str, blocks: dict, sink: Sink) -> None:
    head, stages = (expr.head, expr.stages) if isinstance(expr, ast.Chain) else (expr, ())
    if not (isinstance(head, ast.Name) and head.id == source):
        help = f"start it with `{source} -> ...`"
        sink.error(CODE, f"the chain of {what} starts at its input `{source}`", head.span, help=help)
    for stage in stages:
        if isinstance(stage.call, ast.Call):  # `-> name` calls a declared module: refused above (Assign)
            reason = _not_one_to_one(stage.call.name, blocks)
            if reason:
                help = "an nn.Sequential passes one tensor from layer to layer; a block may combine tensors"
                sink.error(CODE, f"`{stage.call.name}` {reason}: it cannot be a layer of {what}", stage.span, help=help)


def _not_one_to_one(name: str, blocks: dict) -> str | None:
    """Why a called kind or block cannot be a child of an nn.Sequential (None: it can, or is unknown)."""
    if name in blocks:
        body = blocks[name].body
        ins = sum(len(s.items) for s in body if isinstance(s, ast.InputDecl))
        outs = sum(isinstance(s, ast.OutputDecl) for s in body)
        return None if (ins, outs) == (1, 1) else f"takes {_count(ins, 'input')} and gives {_count(outs, 'output')}"
    kind = LAYERS.get(name)
    if kind is None or kind.sequential:  # an unknown name is E205, reported by the names pass
        return None
    return "is a function, not a module" if kind.torch_class is None else "does not take one tensor and give one"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def numbered(graph: Graph) -> Graph:
    """A checked sequential's graph with its layers named 0, 1 ... in chain order: their module paths."""
    ids = {n.id: str(i) for i, n in enumerate(graph.nodes)}

    def renamed(ref: str) -> str:
        head, k = split_ref(ref)
        return value_ref(ids.get(head, head), k)

    nodes = tuple(replace(n, id=ids[n.id], inputs=tuple(map(renamed, n.inputs))) for n in graph.nodes)
    outputs = tuple((name, renamed(ref), span) for name, ref, span in graph.outputs)
    return replace(graph, nodes=nodes, outputs=outputs, sequential=True)
