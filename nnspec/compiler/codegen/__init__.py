"""IR -> one standalone Python program: view model, Jinja template, linked library, compile() check, black."""

from __future__ import annotations

import functools
import os
import re

import jinja2

from nnspec.compiler.codegen.comments import comments_above
from nnspec.compiler.codegen.linker import link
from nnspec.compiler.codegen.modules import ClassBuilder
from nnspec.compiler.codegen.program import EXTRA_IMPORTS, Target, program_view, settings, spec_label
from nnspec.compiler.ir import Program, Settings
from nnspec.compiler.settings import pick
from nnspec.program import INFERENCE

MARKS = ("# --nnspec-imports--", "# --nnspec-settings--", "# --nnspec-library--")


class GenerationBug(RuntimeError):
    """Generated source that does not compile or format: a bug in nnspec, never the user's."""


@functools.lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    loader = jinja2.PackageLoader("nnspec", "templates")
    return jinja2.Environment(
        loader=loader, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False
    )


def generate(program: Program, train: Settings, target: Target, format: bool = True, entry: str = "train") -> str:
    """The program for `train`, in one file: entry "train" trains (`main()`), "infer" holds what
    predict and evaluate call (program.INFERENCE). `format=False` skips black (`nnspec run`
    executes it)."""
    return _generate(program, train, target, format, entry, None)[0]


def generate_split(program: Program, train: Settings, target: Target) -> tuple[str, str]:
    """The training program for `train` and its support file (`support_module(target.script)`):
    the program holds the spec's code, its data recipe and the training loop; the support file
    the readers, checks and safeguards it imports."""
    return _generate(program, train, target, True, "train", support_module(target.script))


def support_module(script: str) -> str:
    """The module name of a program's support file: `iris.py` imports `iris_support`."""
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(script))[0])
    return ("_" if stem[:1].isdigit() else "") + stem + "_support"


def _generate(program, train, target, format, entry, support) -> tuple[str, str | None]:
    graph = pick(train, "model", program.models)
    view = program_view(program, train, target)
    spec_code = (
        _templates().get_template("program.py.j2").render(p=view, classes=_classes(program, [graph]), entry=entry)
    )
    values, comments = settings(program, train, target)
    linked = link(spec_code, values, comments, EXTRA_IMPORTS, INFERENCE if entry == "infer" else (), support)
    parts = ("\n".join(linked.imports), "\n".join(linked.settings), linked.definitions)
    source = linked.spec_code
    for mark, text in zip(MARKS, parts):
        source = source.replace(mark, text)
    if support is None:
        return _finish(source, target.script, format), None
    header = _templates().get_template("support.py.j2").render(p=view, imports=linked.support_imports)
    library = _finish(header + linked.support_definitions, f"{support}.py", format)
    return _finish(source, target.script, format), library


def generate_models(program: Program, script: str, format: bool = True) -> str:
    """Only the nn.Module classes of every model (a spec without a train section)."""
    spec = spec_label(program.file.path)
    classes = _classes(program, list(program.models.values()))
    names = ", ".join(program.models)
    source = (
        _templates()
        .get_template("models.py.j2")
        .render(spec=spec, names=names, classes=classes, uses_torch="torch." in classes)
    )
    return _finish(source, script, format)


def _classes(program: Program, graphs: list) -> str:
    classes = ClassBuilder(spec_label(program.file.path)).build(graphs, program.blocks)
    return _templates().get_template("modules.py.j2").render(classes=classes)


def _finish(source: str, script: str, format: bool) -> str:
    try:
        compile(source, script, "exec")
    except SyntaxError as e:
        raise GenerationBug(f"generated code does not compile: {e}") from e
    return black_format(comments_above(source)) if format else source


def black_format(source: str) -> str:
    """black with its default settings: a user's own black leaves the program as it is."""
    import black  # slow to import: only compile pays for it

    try:
        return black.format_str(source, mode=black.Mode())
    except Exception as e:  # black.InvalidInput and its internal errors
        raise GenerationBug(f"black cannot format the generated code: {e}") from e


__all__ = ["generate", "generate_split", "support_module", "generate_models", "black_format", "Target", "GenerationBug"]
