"""Links a generated program: the spec's own code plus the library definitions it reaches.

The library is nnspec/program/: plain modules whose top-level functions, classes and constants
a program may copy. A name in capitals assigned at a module's top is a setting: the program
writes the spec's value for it in its header, and branches on settings are pruned for that
value (prune.py). Imports between library modules disappear (the definitions are copied); the
other imports move to the program's top, each only if a copied line uses it. A two-file program
(compile's default) keeps the definitions of the SUPPORT modules in a support file beside it,
which it imports by name.
"""

from __future__ import annotations

import ast
import functools
import symtable
import sys
from importlib import resources

from nnspec.compiler.codegen.prune import drop_unused_keywords, prune
from nnspec.kinds.pysrc import src
from nnspec.record import record

PACKAGE = "nnspec.program"
# In the order a program lists their definitions.
MODULES = (
    "errors",
    "contract",
    "samples",
    "sources.table",
    "sources.folders",
    "sources.csv_source",
    "sources.array_shapes",
    "sources.arrays_source",
    "sources.tensors_source",
    "sources.images_source",
    "sources.synthetic_source",
    "sources.text",
    "sources.text_source",
    "targets",
    "data",
    "console",
    "distributed",
    "minibatches",
    "batches",
    "streamed",
    "augment",
    "loop",
    "metrics",
    "checkpoints",
    "finetune",
    "fit",
    "infer",
    "folder",
    "setup",
)
# Modules whose definitions a two-file program keeps in its support file (compile's default):
# the checks, readers and safeguards a reader of the training program need not read first.
# A definition that reads one of the spec's settings, or calls one kept in the program, stays
# in the program whatever its module.
SUPPORT = (
    "errors",
    "contract",
    "samples",
    "sources.table",
    "sources.folders",
    "sources.csv_source",
    "sources.array_shapes",
    "sources.arrays_source",
    "sources.tensors_source",
    "sources.images_source",
    "sources.synthetic_source",
    "sources.text",
    "sources.text_source",
    "targets",
    "console",
    "distributed",
    "minibatches",
    "metrics",
    "checkpoints",
    "folder",
)


@record
class Definition:
    """One top-level definition of a library module, as source text."""

    name: str
    module: str
    text: str


@record
class Library:
    """Every library definition by name, the settings' defaults and the import of each name."""

    definitions: dict  # name -> Definition, in MODULES order
    defaults: dict  # setting -> its default value
    imports: dict  # bound name -> (module, name or None, as-name): `import m` / `from m import n`


def is_setting(name: str) -> bool:
    """A capitalised module-level name: a setting when a program gives it a value, otherwise a
    constant copied with the library."""
    return name.isupper() and not name.startswith("_")


@functools.lru_cache(maxsize=1)
def library() -> Library:
    definitions, defaults, imports = {}, {}, {}
    for module in MODULES:
        text = resources.files(PACKAGE).joinpath(*module.split(".")).with_suffix(".py").read_text(encoding="utf-8")
        _read_module(module, text, definitions, defaults, imports)
    return Library(definitions, defaults, imports)


def _read_module(module: str, text: str, definitions: dict, defaults: dict, imports: dict) -> None:
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _read_import(node, imports)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if is_setting(name):  # each module that reads a setting assigns its default
                defaults.setdefault(name, ast.literal_eval(node.value))
            if not (is_setting(name) and name in definitions):
                _add(definitions, Definition(name, module, _source(lines, node)))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            _add(definitions, Definition(node.name, module, _source(lines, node)))


def _add(definitions: dict, definition: Definition) -> None:
    if definition.name in definitions:  # a program holds one definition per name
        raise RuntimeError(f"{PACKAGE}: {definition.name} is defined in two modules")
    definitions[definition.name] = definition


def _read_import(node, imports: dict) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None, alias.asname)
    elif not (node.module or "").startswith(PACKAGE):
        for alias in node.names:
            imports[alias.asname or alias.name] = (node.module, alias.name, alias.asname)


def _source(lines: list[str], node) -> str:
    """The definition's lines, with its decorators and the comment lines right above it."""
    return "".join(lines[_first_line(lines, node) - 1 : node.end_lineno])


@record
class Linked:
    """A program's parts once linked: its imports, settings and library definitions, as text."""

    imports: tuple[str, ...]
    settings: tuple[str, ...]  # `NAME = value  # comment` lines
    definitions: str
    spec_code: str  # the spec's own code, with arguments for dropped parameters removed
    support_imports: tuple[str, ...] = ()  # the support file's (a two-file program)
    support_definitions: str = ""


def link(spec_code: str, settings: dict, comments: dict, extra_imports: dict, roots=(), support=None) -> Linked:
    """Link `spec_code` (model classes, builders, main) against the library.

    `settings`: setting -> value for this spec (library defaults fill the rest); `comments`:
    setting -> a comment for its line; `extra_imports`: name -> import line spec_code needs
    beyond the library's (torchmetrics); `roots`: library names needed besides those spec_code
    uses (what a runtime calls); `support`: the module name of a support file beside the
    program that takes the definitions of the SUPPORT modules (None: one file)."""
    lib = library()
    pruned = _Pruned(lib, {**lib.defaults, **settings}, exclude=settings)
    separator = "\n# --nnspec-spec-code--\n"
    while True:
        linked = "\n\n".join(pruned[n] for n in _reachable(spec_code, pruned, roots))
        body, spec_code = drop_unused_keywords(linked + separator + spec_code).split(separator)
        if body == linked:
            break
        pruned.update(_split_definitions(body))
    used = _names(body + spec_code)
    lines = tuple(_setting_line(name, value, comments.get(name)) for name, value in settings.items() if name in used)
    if support is None:
        return Linked(_import_lines(used, lib.imports, extra_imports), lines, body, spec_code)
    return _two_files(Linked((), lines, body, spec_code), lib, settings, extra_imports, support)


def _two_files(linked: Linked, lib: Library, settings: dict, extra_imports: dict, support: str) -> Linked:
    """`linked` with the definitions _kept does not keep moved to the support file."""
    definitions = _split_definitions(linked.definitions) if linked.definitions.strip() else {}
    kept = _kept(definitions, lib, settings)
    program = "\n\n".join(text for name, text in definitions.items() if name in kept)
    moved = "\n\n".join(text for name, text in definitions.items() if name not in kept)
    used = _names(program + linked.spec_code)
    imported = sorted(name for name in definitions if name not in kept and name in used)
    imports = _import_lines(used | {"sys"}, lib.imports, extra_imports) + _support_import(support, imported)
    support_imports = _import_lines(_names(moved), lib.imports, {}) if moved else ()
    return Linked(imports, linked.settings, program, linked.spec_code, support_imports, moved)


def _support_import(support: str, names: list[str]) -> tuple[str, ...]:
    """The import of the support file's names; a program copied without it says so (no traceback)."""
    if not names:
        return ()
    return (
        "",
        f"# {support}.py is written beside this file by the same compile: the library it uses",
        "try:",
        f"    from {support} import {', '.join(names)}",
        "except ModuleNotFoundError as e:",
        f"    if e.name != {support!r}:  # not the file itself but a package it imports",
        "        raise",
        f'    sys.exit("error[E501]: {support}.py: no such file beside this program")',
    )


def _kept(definitions: dict, lib: Library, settings: dict) -> set[str]:
    """The definitions a two-file program keeps: those of modules outside SUPPORT, and any that
    reads one of the spec's settings or uses a kept one (the support file imports nothing back)."""
    kept = {name for name in definitions if lib.definitions[name].module not in SUPPORT}
    kept |= {name for name, text in definitions.items() if _globals(text) & settings.keys()}
    grown = True
    while grown:
        more = {name for name, text in definitions.items() if name not in kept and _globals(text) & kept}
        kept |= more
        grown = bool(more)
    return kept


def _setting_line(name: str, value, comment: str | None) -> str:
    return f"{name} = {src(value)}" + (f"  # {comment}" if comment else "")


class _Pruned(dict):
    """Library definitions by name, each pruned for the settings when first read: a program
    reaches a fraction of the library, and pruning is the linker's slowest step."""

    def __init__(self, lib: Library, values: dict, exclude: dict):
        super().__init__()
        self.order = [name for name in lib.definitions if name not in exclude]  # library order
        self.names, self.lib, self.values = set(self.order), lib, values

    def __contains__(self, name) -> bool:
        return name in self.names

    def __missing__(self, name: str) -> str:
        text = self.lib.definitions[name].text
        read = {n: self.values[n] for n in _names(text) if n in self.values}
        key = text, repr(sorted(read.items()))
        if key not in _PRUNED:  # the same for every program whose spec gives these settings these values
            if len(_PRUNED) > 4096:  # a long search: bounded memory
                _PRUNED.clear()
            _PRUNED[key] = prune(text, read)
        self[name] = _PRUNED[key]
        return self[name]


_PRUNED: dict = {}  # (definition text, repr of the settings it reads) -> pruned text


def _reachable(spec_code: str, pruned: _Pruned, roots=()) -> list[str]:
    """Library names `spec_code` needs, directly or through other definitions, in library order."""
    needed, todo = set(), [*_names(spec_code), *roots]
    while todo:
        name = todo.pop()
        if name in pruned and name not in needed:
            needed.add(name)
            todo += _names(pruned[name])
    return [name for name in pruned.order if name in needed]


def _split_definitions(body: str) -> dict:
    """Definitions by name from linked text (after keyword arguments were dropped)."""
    lines = body.splitlines(keepends=True)
    nodes = ast.parse(body).body
    starts = [_first_line(lines, node) for node in nodes] + [len(lines) + 1]
    found = {}
    for node, start, after in zip(nodes, starts, starts[1:]):
        name = node.targets[0].id if isinstance(node, ast.Assign) else node.name
        found[name] = "".join(lines[start - 1 : after - 1]).strip("\n") + "\n"
    return found


def _first_line(lines: list[str], node) -> int:
    """A definition's first line: its decorators, and the comment lines right above it."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].lstrip().startswith("#") and not lines[first - 2].startswith("# Settings"):
        first -= 1
    return first


@functools.lru_cache(maxsize=4096)
def _names(text: str) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name))


@functools.lru_cache(maxsize=4096)
def _globals(text: str) -> frozenset[str]:
    """The module-level names a definition reads (a parameter or local of the same name is not one)."""
    found, tables = set(), [symtable.symtable(text, "<definition>", "exec")]
    while tables:
        table = tables.pop()
        module = table.get_type() == "module"
        found |= {s.get_name() for s in table.get_symbols() if s.is_referenced() and (module or s.is_global())}
        tables += table.get_children()
    return frozenset(found)


def _import_lines(used: set[str], imports: dict, extra: dict) -> tuple[str, ...]:
    """`import m` and `from m import a, b` lines for the names used, stdlib first (sorted), then
    third-party, with a blank line between."""
    plain, grouped = set(), {}
    for name in sorted(used):
        if name in extra:
            plain.add(extra[name])
        elif name in imports:
            module, member, alias = imports[name]
            suffix = f" as {alias}" if alias else ""
            if member is None:
                plain.add(f"import {module}{suffix}")
            else:
                grouped.setdefault(module, []).append(member + suffix)
    lines = plain | {f"from {m} import {', '.join(sorted(names))}" for m, names in grouped.items()}
    return _sorted_imports(lines)


def _sorted_imports(lines: set[str]) -> tuple[str, ...]:
    def module(line: str) -> str:
        return line.split()[1].split(".")[0]

    def key(line: str) -> tuple:
        return line.startswith("from"), line.split()[1], line

    std = sorted((line for line in lines if module(line) in sys.stdlib_module_names), key=key)
    third = sorted((line for line in lines if module(line) not in sys.stdlib_module_names), key=key)
    return (*std, "", *third) if std and third else (*std, *third)


def defined_names() -> frozenset[str]:
    """Every name a program may define or import at its top: spec names must stay clear of them."""
    lib = library()
    return frozenset(lib.definitions) | frozenset(lib.defaults) | frozenset(lib.imports)
