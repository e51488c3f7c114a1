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


# --- the generated program: templates place, the library (nnspec/program/) holds the code ----

TEMPLATES = sorted(ROOT.joinpath("templates").glob("*.j2"))
PROGRAM = sorted(ROOT.joinpath("program").rglob("*.py"))
MODEL_CLASS = {"modules.py.j2": {"{{ cls.name }}", "__init__", "forward"}}  # nn.Module classes
# What a program may import besides the standard library (it runs without nnspec); PIL reads
# image folders.
PROGRAM_IMPORTS = {
    "torch",
    "numpy",
    "torchmetrics",
    "PIL",
    "safetensors",
    "kornia",
}  # the last two: only where a spec uses them


def _template_definitions(path: pathlib.Path) -> list[str]:
    """The names a template defines with `def` or `class`, at any indentation."""
    return re.findall(r"^\s*(?:def|class)\s+(.+?)\s*[(:]", path.read_text(), re.M)


def test_templates_define_only_model_classes_builders_train_and_main():
    from nnspec.compiler.codegen.program import TEMPLATE_NAMES

    assert {p.name for p in TEMPLATES} >= {"program.py.j2", "modules.py.j2", "models.py.j2"}
    extra = {
        f"{p.name}: {name}"
        for p in TEMPLATES
        for name in _template_definitions(p)
        if name not in TEMPLATE_NAMES | MODEL_CLASS.get(p.name, set())
    }
    assert extra == set()
    # Each declared name is the template's, but read_samples: the view writes it (codegen/program.py).
    program = set(_template_definitions(ROOT / "templates" / "program.py.j2"))
    assert TEMPLATE_NAMES - program == {"read_samples"}


def test_template_names_are_not_library_names():
    """A template's function never stands in for (or shadows) one of the library's."""
    from nnspec.compiler.codegen.linker import library
    from nnspec.compiler.codegen.program import TEMPLATE_NAMES

    assert len(library().definitions) > 50
    assert TEMPLATE_NAMES & set(library().definitions) == set()


def _imports(path: pathlib.Path) -> list[tuple[int, str, int]]:
    """(line, module, relative level) of every import in a file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", node.level))
    return found


def test_program_modules_import_only_each_other_torch_numpy_and_the_standard_library():
    import sys

    assert len(PROGRAM) > 15
    offenders = [
        f"{p.relative_to(ROOT)}:{line}: {module}"
        for p in PROGRAM
        for line, module, level in _imports(p)
        if level  # the linker resolves absolute nnspec.program imports only
        or (module.split(".")[0] == "nnspec" and not (module + ".").startswith("nnspec.program."))
        or module.split(".")[0] not in {"nnspec", *PROGRAM_IMPORTS, *sys.stdlib_module_names}
    ]
    assert offenders == []


GOLDEN = sorted(ROOT.parent.joinpath("tests", "golden").glob("*.py"))
# black's split of a line too long for its comment: the comment lands on the closing bracket
COMMENT_ON_BRACKET = re.compile(r"^\s*[])}]+[:,]?\s+#")


def test_no_comment_is_left_on_a_closing_bracket():
    """Library modules and generated programs keep a comment on the code it is about."""
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in [*PROGRAM, *GOLDEN]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COMMENT_ON_BRACKET.match(line)
    ]
    assert not found, "\n".join(found)


def test_library_modules_are_as_plain_black_writes_them():
    """Copied into programs that black formats, a definition reads there as it reads here."""
    import black

    changed = [p.name for p in PROGRAM if black.format_str(p.read_text(), mode=black.Mode()) != p.read_text()]
    assert not changed, changed
