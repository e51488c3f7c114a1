"""Search trials: the values each trial tries, and the trial's spec as text: the original with
those values written in and its file paths made relative to the trial's folder, so that the
trial folder's spec.nn runs, evaluates and predicts as the trial did."""

from __future__ import annotations

import itertools
import os
import random

from nnspec.compiler import ast
from nnspec.compiler.ir import Settings
from nnspec.compiler.schema import SEARCH


class SearchError(Exception):
    pass


def dimensions(search: Settings) -> dict:
    fixed = {p.name for p in SEARCH.params}
    return {k: v for k, v in search.values.items() if k not in fixed}


def trial_values(search: Settings, seed: int) -> list[dict]:
    """Every combination in order (grid, at most `trials`), or `trials` random draws."""
    dims, count = dimensions(search), search.values["trials"]
    if search.values["method"] == "grid":
        lists = {name: _listed(name, value) for name, value in dims.items()}
        return [dict(zip(lists, combo)) for combo in itertools.islice(itertools.product(*lists.values()), count)]
    rng = random.Random(seed)
    return [{name: _draw(value, rng) for name, value in dims.items()} for _ in range(count)]


def _listed(name: str, value) -> list:
    listed = value if isinstance(value, list) else value.kind.listed(value.args())
    if listed is None:
        raise SearchError(f"grid search needs listed values for `{name}`, not {value.kind.name}(...)")
    return listed


def _draw(value, rng: random.Random):
    if isinstance(value, list):
        return rng.choice(value)
    return value.kind.draw(value.args(), rng)


def literal(value) -> str:
    """A value as a spec writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


class _Edits:
    """Replacements and insertions at spans of one source text, applied last to first."""

    def __init__(self, source: str):
        self.source, self.edits = source, []
        self.starts = [0]  # where each line starts (only "\n" ends a line, as the parser counts)
        for line in source.split("\n")[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    def replace(self, span, text: str) -> None:
        self.edits.append((self.offset(span.line, span.col), self.offset(span.end_line, span.end_col), text))

    def insert(self, at: int, text: str) -> None:
        self.edits.append((at, at, text))

    def text(self) -> str:
        out = self.source
        for start, end, text in sorted(self.edits, reverse=True):
            out = out[:start] + text + out[end:]
        return out


def trial_source(spec: ast.SpecFile, owners: dict, sections: dict, values: dict, folder: str) -> str:
    """The spec's text as trial `values` change it, its paths relative to `folder`.

    `owners`: name -> (owner, position) where owner is "model", "train", "data", "optimizer",
    "scheduler" or "loss" and position the argument's positional index in that call;
    `sections`: "model" | "train" | "data" -> the name of the section concerned.
    """
    edits = _Edits(spec.source)
    for name, value in values.items():
        owner, position = owners[name]
        key = "train" if owner in ("optimizer", "scheduler", "loss") else owner
        section = next(s for s in spec.sections if (s.name or s.kind) == sections[key] and s.kind == key)
        _write(edits, section, owner, name, position, literal(value))
    _relocate_paths(edits, spec, folder)
    return edits.text()


def _write(edits: _Edits, section: ast.Section, owner: str, name: str, position, text: str) -> None:
    if owner == "model":
        param = next(p for p in section.params if p.name == name)
        edits.replace(param.default.span, text)
        return
    assign = next((s for s in section.body if isinstance(s, ast.Assign) and s.target == owner), None)
    if owner in ("train", "data"):
        assign = next((s for s in section.body if isinstance(s, ast.Assign) and s.target == name), None)
        if assign is None:
            close = edits.offset(section.span.end_line, section.span.end_col) - 1  # its `}`
            edits.insert(close, f"    {name} = {text}  # this trial's\n")
        else:
            edits.replace(assign.value.span, text)
        return
    _write_argument(edits, assign.value, name, position, text)


def _write_argument(edits: _Edits, call: ast.Call, name: str, position, text: str) -> None:
    """optimizer = SGD(0.1): the argument replaced where it is written, or added by keyword."""
    positional = [a for a in call.args if a.name is None]
    arg = next((a for a in call.args if a.name == name), None)
    if arg is None and position is not None and position < len(positional):
        arg = positional[position]
    if arg is not None:
        edits.replace(arg.value.span, text)
        return
    close = edits.offset(call.span.end_line, call.span.end_col) - 1  # its `)`
    edits.insert(close, f"{', ' if call.args else ''}{name}={text}")


def _relocate_paths(edits: _Edits, spec: ast.SpecFile, folder: str) -> None:
    """Paths a spec gives relative to itself (a data source's, `from`), relative to `folder`."""
    here = os.path.dirname(os.path.abspath(spec.path))
    for use in spec.uses:  # `use Block from "blocks.nn"`
        if use.is_path:
            _relocate(edits, ast.Const(use.origin, use.origin_span), here, folder)
    for section in spec.sections:
        for stmt in section.body:
            if not isinstance(stmt, ast.Assign):
                continue
            if section.kind == "train" and stmt.target == "from" and isinstance(stmt.value, ast.Const):
                _relocate(edits, stmt.value, here, folder)
            if section.kind == "data" and stmt.target == "source" and isinstance(stmt.value, ast.Call):
                path = next((a.value for a in stmt.value.args if a.name in (None, "path")), None)
                if isinstance(path, ast.Const) and isinstance(path.value, str):
                    _relocate(edits, path, here, folder)


def _relocate(edits: _Edits, const: ast.Const, here: str, folder: str) -> None:
    if isinstance(const.value, str) and not os.path.isabs(const.value):
        moved = os.path.relpath(os.path.join(here, const.value), os.path.abspath(folder))
        edits.replace(const.span, literal(moved))
