"""Design rules that keep nnspec extensible: kinds live only in their registry classes."""

from __future__ import annotations

import ast
import pathlib
import re

import nnspec.kinds
from nnspec.kinds import REGISTRIES
from nnspec.kinds.sources import GOALS

ROOT = pathlib.Path(nnspec.kinds.__file__).parent.parent
KIND_NAMES = sorted({k.name for r in (*REGISTRIES, GOALS) for k in r})
# Everything outside the registries: passes, code generation, templates, runtime, CLI.
GUARDED = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".lark") and "kinds" not in p.parts]


def _code_words(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, text) of identifiers and string literals, docstrings and comments excluded."""
    text = path.read_text()
    if path.suffix != ".py":
        return [
            (i + 1, line) for i, line in enumerate(text.splitlines()) if not line.lstrip().startswith(("#", "//", "{#"))
        ]
    tree = ast.parse(text)
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body and isinstance(n.body[0], ast.Expr)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            out.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            out.append((node.lineno, node.attr))
    return out


def test_guarded_files_exist():
    names = {p.name for p in GUARDED}
    assert {"grammar.lark", "pipeline.py", "cli.py"} <= names


def test_no_kind_names_outside_registries():
    # PyTorch-style names anywhere; lower-case ones (csv, uniform) only where called: `csv(`.
    classes = [re.escape(n) for n in KIND_NAMES if n[0].isupper()]
    functions = [re.escape(n) + r"\(" for n in KIND_NAMES if n[0].islower()]
    pattern = re.compile(r"(?<![.\w])(" + "|".join(classes + functions) + r")(?![\w])")  # not rng.choice(, Summary
    found = [
        f"{p.relative_to(ROOT)}:{line}: {m.group(1)}"
        for p in GUARDED
        for line, text in _code_words(p)
        for m in [pattern.search(text)]
        if m
    ]
    assert len(classes) > 40 and len(functions) > 10
    assert found == []


def test_compiler_does_not_import_torch():
    offenders = []
    kinds = [
        p for p in ROOT.joinpath("kinds").rglob("*.py") if "loaders" not in p.parts
    ]  # loaders: code for generated programs
    drawing = ROOT.joinpath("graph").rglob("*.py")  # `nnspec graph` draws DOT and Mermaid at lint's speed
    for path in [*ROOT.joinpath("compiler").rglob("*.py"), *kinds, *drawing, ROOT / "cli.py", ROOT / "diagnostics.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in ("torch", "torchmetrics")]
    assert offenders == []
