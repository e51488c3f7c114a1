"""The lines a generated __init__ ends with: tied weights, then the parameters `freeze` stops."""

from __future__ import annotations

from nnspec.compiler.ir import Graph
from nnspec.compiler.names import safe_attribute
from nnspec.compiler.weights import frozen_paths, parameter_paths


def init_lines(graph: Graph) -> tuple[str, ...]:
    lines = [
        f"self.{safe_attribute(t.target)}.{t.target_parameter} = self.{safe_attribute(t.source)}.{t.source_parameter}"
        "  # tied: one tensor"
        for t in graph.ties
    ]
    parameters = set(parameter_paths(graph))
    for path in frozen_paths(graph):
        lines.append(f"{_reach(path, path in parameters)}.requires_grad_(False)  # freeze {path}")
    return tuple(lines)


def _reach(path: str, parameter: bool) -> str:
    """`self.fc.bias`, or `self.get_submodule("layer1.0")` where a part is an index."""
    if all(part.isidentifier() for part in path.split(".")):
        return f"self.{path}"
    return f"self.{'get_parameter' if parameter else 'get_submodule'}({path!r})"
