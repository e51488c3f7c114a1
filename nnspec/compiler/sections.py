"""Sort sections by kind: unknown kinds, duplicate names, missing names (E204, E202).

A `sequential` is filed with the blocks: it is called as one, and differs only in how its layers
are named (see sequence.py)."""

from __future__ import annotations

from nnspec.compiler import ast
from nnspec.diagnostics import Sink
from nnspec.kinds.layer import LAYERS
from nnspec.suggest import close_matches

GRAPH_KINDS = ("model", *ast.BLOCK_KINDS)
SETTINGS_KINDS = ("data", "train", "search")
KINDS = GRAPH_KINDS + SETTINGS_KINDS


def collect_sections(spec: ast.SpecFile, sink: Sink) -> dict[str, dict[str, ast.Section]]:
    """{kind: {name: section}}; unnamed train/search/data sections are named after their kind."""
    found: dict[str, dict[str, ast.Section]] = {k: {} for k in KINDS if k != ast.SEQUENTIAL}
    seen: dict[str, ast.Section] = {}
    for section in spec.sections:
        if section.kind not in KINDS:
            close = close_matches(section.kind, KINDS)
            help = f"did you mean `{close[0]}`?" if close else f"sections are {', '.join(KINDS)}"
            sink.error("E204", f"unknown section kind `{section.kind}`", section.kind_span, help=help)
            continue
        if not _check_header(section, sink):
            continue
        name = section.name or section.kind
        if name in seen:
            first = seen[name]
            sink.error(
                "E202",
                f"`{name}` is defined twice",
                section.name_span,
                labels=[(first.name_span, f"first defined here, as a {first.kind}")],
            )
            continue
        if section.kind in ast.BLOCK_KINDS and LAYERS.get(name) is not None:
            help = f"rename the block: a call `{name}(...)` must mean one thing"
            sink.error("E202", f"{section.kind} `{name}` has the name of a layer kind", section.name_span, help=help)
            continue
        seen[name] = section
        found["block" if section.kind in ast.BLOCK_KINDS else section.kind][name] = section
    return found


def _check_header(section: ast.Section, sink: Sink) -> bool:
    if section.kind in GRAPH_KINDS and section.name is None:
        sink.error(
            "E207", f"a {section.kind} needs a name", section.kind_span, help=f"write `{section.kind} Name {{ ... }}`"
        )
        return False
    if section.params is not None and section.kind not in GRAPH_KINDS:
        sink.error("E207", f"only a model or block takes parameters, not a {section.kind}", section.name_span)
        return False
    for p in section.params or () if section.kind == "model" else ():
        if p.default is None:
            sink.error(
                "E302", f"model parameter `{p.name}` needs a default value", p.span, help=f"write `{p.name}=...`"
            )
            return False
    return True
