"""The kinds reference (every registered layer, loss, optimizer ...) as Markdown, from the registries."""

from __future__ import annotations

from nnspec.compiler.bind import signature
from nnspec.kinds import REGISTRIES
from nnspec.kinds.sources import GOALS

START, END = "<!-- kinds:start -->", "<!-- kinds:end -->"


def kinds_markdown() -> str:
    parts = []
    for registry in (*REGISTRIES, GOALS):
        family = registry.family.capitalize()
        parts.append(f"**{family}{'es' if family.endswith('s') else 's'}** ({len(registry.kinds)}):\n")
        for kind in registry:
            doc = type(kind).__dict__.get("__doc__") or ""
            summary = f" — {doc.strip().splitlines()[0]}" if doc.strip() else ""
            parts.append(f"- `{signature(kind.name, kind.params)}`{summary}")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def update_readme(text: str) -> str:
    """README text with the block between the markers replaced by the current reference."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{kinds_markdown()}{END}{tail}"


if __name__ == "__main__":  # python -m nnspec.reference README.md: the kinds reference and the codes table
    import pathlib
    import sys

    path = pathlib.Path(sys.argv[1])
    text = path.read_text(encoding="utf-8")
    from nnspec import catalogue

    path.write_text(catalogue.update_readme(update_readme(text)), encoding="utf-8")
