"""Lines of each example's generated program (the two files `nnspec compile -o` writes, and the
one file of `--one-file`) and of the templates, and where a program's lines come from (the spec's
code, the header, or which nnspec/program/ module).
Run: python benchmarks/program_lines.py [examples/iris.nn]
"""

from __future__ import annotations

import ast
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from nnspec.compiler.codegen import Target, generate, generate_split  # noqa: E402
from nnspec.compiler.codegen.linker import library  # noqa: E402
from nnspec.compiler.pipeline import check_file  # noqa: E402


def programs(spec: str) -> tuple[str, str, str]:
    """(program, support file, one file) as `nnspec compile SPEC -o` writes them for its first train section."""
    checked = check_file(spec)
    train = next(iter(checked.program.trains.values()))
    stem = os.path.splitext(os.path.basename(spec))[0]
    target = Target(f"{stem}.py", ".", f"runs/{stem}")
    return (*generate_split(checked.program, train, target), generate(checked.program, train, target))


def origins(source: str) -> collections.Counter:
    """Lines by origin; each top-level statement counts from its first comment or decorator
    line to the line before the next statement, so blank lines go with what they follow."""
    lines, nodes, lib = source.splitlines(), ast.parse(source).body, library()
    starts = [_first_line(lines, node) for node in nodes]
    header = "header: docstring, imports, settings"
    counts = collections.Counter({header: starts[0] - 1})
    for node, start, after in zip(nodes, starts, [*starts[1:], len(lines) + 1]):
        name = getattr(node, "name", None) or (node.targets[0].id if isinstance(node, ast.Assign) else None)
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Try, ast.Expr)) or name in lib.defaults:
            origin = header
        elif name in lib.definitions:
            origin = "nnspec/program/" + lib.definitions[name].module.replace(".", "/") + ".py"
        else:
            origin = "the spec's code: models, builders, train, main"
        counts[origin] += after - start
    return counts


def _first_line(lines: list[str], node) -> int:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].startswith("#") and not lines[first - 2].startswith("# Settings"):
        first -= 1
    return first


def main() -> None:
    specs = sys.argv[1:] or sorted(
        os.path.join(ROOT, "examples", n) for n in os.listdir(os.path.join(ROOT, "examples"))
    )
    sources = {os.path.basename(s): programs(s) for s in specs if s.endswith(".nn")}
    print(f"{'':24}{'program':>8}{'support':>9}{'one file':>10}")
    for name, texts in sources.items():
        print(f"{name:24}" + "".join(f"{len(text.splitlines()):>{w}}" for text, w in zip(texts, (8, 9, 10))))
    templates = os.path.join(ROOT, "nnspec", "templates")
    for name in sorted(os.listdir(templates)):
        with open(os.path.join(templates, name)) as f:
            print(f"{'templates/' + name:24}{len(f.read().splitlines()):6} lines")
    if len(sources) == 1:
        program, support, _ = next(iter(sources.values()))
        for title, text in (("program", program), ("support file", support)):
            print(f"{title}:")
            for origin, count in origins(text).most_common():
                print(f"{count:6}  {origin}")


if __name__ == "__main__":
    main()
