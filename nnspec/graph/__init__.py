"""`nnspec graph`: a checked model drawn as DOT or Mermaid text (no torch), or SVG/PNG via Graphviz."""

from __future__ import annotations

import os

FORMATS = ("dot", "mermaid", "svg", "png")
SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg", ".png": "png"}
HEAD_BYTES = 512  # enough to hold any of the marks below


def pick_format(written: str | None, output: str | None) -> str:
    """--format if given, else the output file's suffix (net.svg), else dot."""
    if written:
        return written
    suffix = os.path.splitext(output or "")[1].lower()
    return SUFFIXES.get(suffix, "dot")


def render(graph, fmt: str, spec: str, depth: int | None = None, timeout: float | None = None) -> str | bytes:
    """The drawing of a checked model in `fmt`; svg and png raise GraphvizError without Graphviz."""
    from nnspec.graph import dot, layout

    title = f"{graph.name} ({spec})"
    header = f"from {spec} (model {graph.name})"
    drawing = layout.draw(graph, title, depth)
    if fmt == "mermaid":
        from nnspec.graph.mermaid import to_mermaid

        return to_mermaid(drawing, header)
    source = dot.to_dot(drawing, header)
    if fmt == "dot":
        return source
    from nnspec.graph.graphviz import TIMEOUT
    from nnspec.graph.graphviz import render as run_dot

    return run_dot(source, fmt, timeout or TIMEOUT)


def written_by_nnspec(path: str) -> bool:
    """Whether `path` starts like a drawing (or a program) nnspec wrote."""
    from nnspec.graph import dot, graphviz, mermaid

    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return False
    marks = (dot.MARK, mermaid.MARK)  # dot.MARK is also the mark of compiled programs
    return head.startswith(tuple(m.encode() for m in marks)) or graphviz.marked(head)


def refusal(path: str, force: bool) -> tuple[str, str] | None:
    """(code, why) `path` cannot be written, or None."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "E603", f"{path} is a folder; give a file name"
    if not os.path.isdir(folder):
        return "E603", f"cannot write {path}: the folder {folder} does not exist"
    if os.path.lexists(path) and not force and not written_by_nnspec(path):
        return "E612", f"{path} exists and was not written by nnspec; pass --force to overwrite it"
    return None
