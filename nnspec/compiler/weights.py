"""Pass 5 over shape-checked graphs: parameters by name, tied weights (E404, E301), and `freeze`
written in models and blocks (E508).

A layer's parameters are its kind's `parameters(args)`; a tied pair (`lm_head.weight =
wte.weight`) is one tensor, counted at the module the model registers first, as
`named_parameters()` counts it, and not at the other.
"""

from __future__ import annotations

import fnmatch
import math

from nnspec.compiler.ir import Graph, Node
from nnspec.compiler.names import safe_attribute
from nnspec.compiler.walk import covered
from nnspec.diagnostics import Sink
from nnspec.kinds.layer import LAYERS
from nnspec.record import replace
from nnspec.suggest import close_matches


def tie_weights(graph: Graph, sink: Sink) -> Graph:
    """Each tie checked (one shape for both) and the later module's count lowered; in every block
    body too."""
    nodes = [
        replace(n, body=tie_weights(n.body, sink)) if n.is_block and n.body is not None else n for n in graph.nodes
    ]
    seen: dict = {}
    for tie in graph.ties:
        target, source = _first_call(nodes, tie.target), _first_call(nodes, tie.source)
        if target is None or source is None:
            _uncalled(tie, target, sink)
            continue
        shapes = [
            _parameter(n, p, tie.span, sink)
            for n, p in ((target, tie.target_parameter), (source, tie.source_parameter))
        ]
        if None in shapes:
            continue
        if _tied_twice(tie, seen, sink):
            continue
        if shapes[0] != shapes[1]:
            sink.error(
                "E404",
                f"`{tie.target}.{tie.target_parameter}` {shapes[0]} cannot be `{tie.source}.{tie.source_parameter}` {shapes[1]}: a tied weight has one shape",
                tie.span,
                labels=[
                    (target.span, f"`{tie.target}` first called here"),
                    (source.span, f"`{tie.source}` first called here"),
                ],
                help="tie parameters of one shape: an output projection to V classes from width E shares a (V, E) embedding",
            )
            continue
        _share(nodes, target, tie.target_parameter, source, tie.source_parameter, math.prod(shapes[0]))
    return replace(graph, nodes=tuple(nodes))


def _share(nodes: list, target: Node, target_parameter: str, source: Node, source_parameter: str, size: int) -> None:
    """The tensor is counted at the module registered first, as `named_parameters()` lists it
    (nanoGPT's `wte.weight`); the later one holds it as tied and counts it no more."""
    i, j = (next(k for k, n in enumerate(nodes) if n is node) for node in (target, source))
    (first, first_parameter), (k, later, parameter) = (
        ((source, source_parameter), (i, target, target_parameter))
        if j < i
        else ((target, target_parameter), (j, source, source_parameter))
    )
    tied = {**later.tied, parameter: f"{first.module}.{first_parameter}"}
    nodes[k] = replace(later, params=later.params - size, tied=tied)


def _tied_twice(tie, seen: dict, sink: Sink) -> bool:
    """A parameter in two ties (a chain `a.w = b.w`, `b.w = c.w` leaves `a` with b's first
    tensor): E202 at the second; else remembered."""
    keys = ((tie.target, tie.target_parameter), (tie.source, tie.source_parameter))
    if keys[0] == keys[1]:
        sink.error("E202", f"`{tie.target}.{tie.target_parameter}` is tied to itself", tie.span)
        return True
    for module, parameter in keys:
        if (module, parameter) in seen:
            labels = [(seen[(module, parameter)], "first tied here")]
            sink.error("E202", f"`{module}.{parameter}` is tied twice", tie.span, labels=labels)
            return True
    seen.update(dict.fromkeys(keys, tie.span))
    return False


def _first_call(nodes: list, name: str) -> Node | None:
    attr = safe_attribute(name)
    return next((n for n in nodes if n.module == attr and not n.reused and not n.failed), None)


def _uncalled(tie, target, sink: Sink) -> None:
    name = tie.source if target is not None else tie.target
    sink.error("E209", f"module `{name}` is never called, so its parameters have no shape to tie", tie.span)


def _parameter(node: Node, name: str, span, sink: Sink) -> tuple | None:
    """The shape of `node`'s parameter `name`; E209 for a block, E301 for a name it lacks."""
    if node.is_block:
        sink.error("E209", f"`{node.module}` is a block: ties join parameters of layers", span)
        return None
    found = LAYERS.get(node.kind).parameters(node.args)
    if name not in found:
        close = close_matches(name, list(found))
        help = f"did you mean `{close[0]}`?" if close else f"its parameters: {', '.join(found) or 'none'}"
        sink.error("E301", f"`{node.module}` ({node.kind}) has no parameter `{name}`", span, help=help)
        return None
    return found[name]


def own_parameters(node: Node) -> dict:
    """A layer's parameters by name and element count, without the ones tied to another's."""
    if node.is_block or node.reused or node.args is None or not node.params:
        return {}
    found = LAYERS.get(node.kind).parameters(node.args)
    return {name: math.prod(shape) for name, shape in found.items() if name not in node.tied}


def frozen_patterns(graph: Graph, prefix: str = "") -> list[str]:
    """The `freeze` patterns of a model and of every block instance in it, over the model's names."""
    found = [prefix + pattern for pattern, _ in graph.frozen]
    for node in graph.nodes:
        if node.is_block and node.body is not None and not node.reused:
            found += frozen_patterns(node.body, f"{prefix}{node.path}.")
    return found


def frozen_count(name: str, node: Node, patterns) -> int:
    """How many of a layer's own parameters the patterns freeze: all when one names the layer or
    a block around it, else those whose `layer.parameter` name one matches."""
    if not node.params or not patterns:
        return 0
    if covered(name, patterns):
        return node.params
    # Listing parameters costs a loop over an RNN's layers: only when a pattern may name one.
    if not any(p.startswith(name + ".") or p[:1] in "*?[" for p in patterns):
        return 0
    return sum(
        n for p, n in own_parameters(node).items() if any(fnmatch.fnmatchcase(f"{name}.{p}", q) for q in patterns)
    )


def check_frozen(graph: Graph, sink: Sink) -> None:
    """Every `freeze` pattern of a model or block names a layer or parameter with parameters."""
    names = None
    for pattern, span in graph.frozen:
        names = names if names is not None else pattern_names(graph)
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
            layers = [n for n in names if n not in set(parameter_paths(graph))]
            shown = ", ".join(layers[:8]) + (" ..." if len(layers) > 8 else "")
            sink.error(
                "E508", f"`freeze` pattern {pattern!r} matches no layer with parameters", span, help=f"layers: {shown}"
            )
    for node in graph.nodes:
        if node.is_block and node.body is not None:
            check_frozen(node.body, sink)


def parameter_paths(graph: Graph, prefix: str = "") -> list[str]:
    """`layer.parameter` for every parameter the graph owns (as `named_parameters()` names them)."""
    paths = []
    for node in graph.nodes:
        if node.reused or not node.params:
            continue
        path = prefix + node.path
        if node.is_block and node.body is not None:
            paths += parameter_paths(node.body, path + ".")
        else:
            paths += [f"{path}.{p}" for p in own_parameters(node)]
    return paths


def pattern_names(graph: Graph) -> list[str]:
    """What a `freeze` or `layer_lr` pattern may name: a parameter or any module holding one
    (`h` for the nn.Sequential of `h.0`, `h.1` ...)."""
    names: dict = {}
    for path in parameter_paths(graph):
        parts = path.split(".")
        for n in range(1, len(parts)):
            names[".".join(parts[:n])] = None
        names[path] = None
    return list(names)


def frozen_paths(graph: Graph) -> list[str]:
    """The fewest module and parameter paths covering what the graph's own `freeze` patterns name."""
    names = pattern_names(graph) if graph.frozen else []
    chosen: list[str] = []
    for name in sorted((n for n in names if any(fnmatch.fnmatchcase(n, p) for p, _ in graph.frozen)), key=len):
        if not any(name.startswith(c + ".") for c in chosen):
            chosen.append(name)
    return [n for n in names if n in chosen]
