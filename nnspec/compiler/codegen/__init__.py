"""IR -> one standalone Python program: view models, Jinja templates, compile() check, black."""

from __future__ import annotations

import functools

import jinja2

from nnspec.compiler.codegen.modules import ClassBuilder
from nnspec.compiler.codegen.program import Target, program_view, spec_label
from nnspec.compiler.ir import Program, Settings
from nnspec.compiler.settings import pick

LINE_LENGTH = 100


class GenerationBug(RuntimeError):
    """Generated source that does not compile or format: a bug in nnspec, never the user's."""


@functools.lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    loader = jinja2.PackageLoader("nnspec", "templates")
    return jinja2.Environment(
        loader=loader, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False
    )


def generate(program: Program, train: Settings, target: Target, format: bool = True) -> str:
    """The training program for `train`; `format=False` skips black (`nnspec run` executes it)."""
    graph = pick(train, "model", program.models)
    classes = _classes(program, [graph])
    source = _templates().get_template("program.py.j2").render(p=program_view(program, train, target, classes))
    return _finish(source, target.script, format)


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
    return black_format(source) if format else source


def black_format(source: str) -> str:
    import black  # slow to import: only compile pays for it

    mode = black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion.PY310})
    try:
        return black.format_str(source, mode=mode)
    except Exception as e:  # black.InvalidInput and its internal errors
        raise GenerationBug(f"black cannot format the generated code: {e}") from e


__all__ = ["generate", "generate_models", "black_format", "Target", "GenerationBug"]
