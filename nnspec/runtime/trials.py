"""Search trials: the values each trial tries, and the spec (AST) with those values written in."""

from __future__ import annotations

import itertools
import random

from nnspec.compiler import ast
from nnspec.compiler.ir import Settings
from nnspec.compiler.schema import SEARCH
from nnspec.record import replace


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


def with_values(spec: ast.SpecFile, owners: dict, sections: dict, values: dict, span) -> ast.SpecFile:
    """The spec with each value written where its owner keeps it.

    `owners`: name -> (owner, position) where owner is "model", "train", "data", "optimizer",
    "scheduler" or "loss" and position the argument's positional index in that call;
    `sections`: "model" | "train" | "data" -> the name of the section concerned.
    """
    new = list(spec.sections)
    for name, value in values.items():
        owner, position = owners[name]
        key = "train" if owner in ("optimizer", "scheduler", "loss") else owner
        i = next(k for k, s in enumerate(new) if (s.name or s.kind) == sections[key] and s.kind == key)
        new[i] = _set(new[i], owner, name, position, ast.Const(value, span), span)
    return replace(spec, sections=tuple(new))


def _set(section: ast.Section, owner: str, name: str, position, const: ast.Const, span) -> ast.Section:
    if owner == "model":
        params = tuple(replace(p, default=const) if p.name == name else p for p in section.params)
        return replace(section, params=params)
    if owner in ("train", "data"):
        body = [s for s in section.body if not (isinstance(s, ast.Assign) and s.target == name)]
        return replace(section, body=(*body, ast.Assign(name, span, const, span)))
    body = tuple(
        _set_arg(s, name, position, const, span) if isinstance(s, ast.Assign) and s.target == owner else s
        for s in section.body
    )
    return replace(section, body=body)


def _set_arg(assign: ast.Assign, name: str, position, const: ast.Const, span) -> ast.Assign:
    """optimizer = SGD(0.1) with `name` replaced: written by keyword, the old one dropped."""
    call = assign.value
    args = tuple(a for k, a in enumerate(call.args) if a.name != name and not (a.name is None and k == position))
    return replace(assign, value=replace(call, args=(*args, ast.Arg(name, const, span))))
