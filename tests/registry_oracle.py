"""Compare a registered kind with the callable it stands for, and build it as codegen writes it (tests only).

`signature_problems` holds a kind's parameters against the callable's signature; `cases` gives
the argument sets a kind is built with: its defaults, then each parameter at each legal value.
"""

from __future__ import annotations

import inspect
import re

import torch
import torchmetrics
from torch import nn

from nnspec.kinds.params import Optional, Str
from nnspec.kinds.pysrc import call
from tests.kind_values import legal_values

ENV = {"torch": torch, "nn": nn, "torchmetrics": torchmetrics}  # what a generated program imports


def resolve(dotted: str):
    """`torch.optim.SGD` -> the object, looked up from the names a generated program has."""
    head, *rest = dotted.split(".")
    obj = ENV[head]
    for part in rest:
        obj = getattr(obj, part)
    return obj


def build(kind, args: dict, lead: tuple[str, ...] = (), env: dict | None = None):
    """The object the generated program builds: `kind.constructor(args)` called on `torch_class`."""
    positional, keywords = kind.constructor(args)
    return eval(call(kind.torch_class, positional, keywords, lead), {**ENV, **(env or {})})


def signature_problems(kind, sig: inspect.Signature, lead: int = 0) -> list[str]:
    """Every way the kind's parameters differ from the signature (after `lead` arguments codegen supplies)."""
    params = dict(list(sig.parameters.items())[lead:])
    problems = _own_problems(kind, params)
    for p in kind.params:
        if p.name not in kind.own:
            problems += [f"{kind.name}.{p.name}: {m}" for m in _param_problems(p, params.get(p.name))]
    problems += _order_problems(kind, params)
    return problems


def _own_problems(kind, params: dict) -> list[str]:
    problems = []
    for name, reason in kind.own.items():
        if kind.param(name) is None:
            problems.append(f"{kind.name}.{name}: declared nnspec's own but not a parameter")
        if name in params:
            problems.append(f"{kind.name}.{name}: declared nnspec's own but PyTorch takes it")
        if not reason.strip():
            problems.append(f"{kind.name}.{name}: nnspec's own without a reason")
    return problems


def _param_problems(p, q: inspect.Parameter | None) -> list[str]:
    if q is None or q.kind in (q.VAR_POSITIONAL, q.VAR_KEYWORD):
        return ["not an argument of the PyTorch callable"]
    if p.required != (q.default is q.empty):
        return [f"required in {'nnspec' if p.required else 'PyTorch'} only"]
    if not p.required and not _same(p.default, q.default):
        return [f"default {p.default!r}, PyTorch's {q.default!r}"]
    extra = set(_choices(p.type)) - set(_literal(q.annotation) or _choices(p.type))
    return [f"choices {sorted(extra)} are not in PyTorch's"] if extra else []


def _order_problems(kind, params: dict) -> list[str]:
    """Required parameters go positionally: they must sit in PyTorch's order, first."""
    positional = [n for n, q in params.items() if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in kind.params if p.required and p.name not in kind.own]
    if positional[: len(required)] != required and not _all_keywords(kind):
        return [f"{kind.name}: required {required} are not PyTorch's first positional {positional[: len(required)]}"]
    return []


def _all_keywords(kind) -> bool:
    """Whether the constructor names every argument (then order does not matter)."""
    args = {p.name: legal_values(p.type)[0] if p.required else p.default for p in kind.params}
    return not kind.constructor(args)[0]


def _same(ours, theirs) -> bool:
    if isinstance(ours, bool) != isinstance(theirs, bool):
        return False
    return ours == theirs or (isinstance(ours, (list, tuple)) and tuple(ours) == tuple(theirs))


def _choices(t) -> tuple[str, ...]:
    t = t.inner if isinstance(t, Optional) else t
    return t.choices or () if isinstance(t, Str) else ()


def _literal(annotation) -> tuple[str, ...]:
    """The strings of a `Literal[...]` annotation (a typing object or, postponed, a string)."""
    found = re.search(r"Literal\[([^\]]*)\]", str(annotation))
    return tuple(re.findall(r"'([^']*)'", found.group(1))) if found else ()


def cases(kind, inferred: dict | None = None) -> list[dict]:
    """The kind's defaults (required ones at a legal value), then each parameter at each legal value."""
    inferred = inferred or {}
    base = {p.name: inferred.get(p.name, legal_values(p.type)[0] if p.required else p.default) for p in kind.params}
    out = [base]
    for p in kind.params:
        if p.inferred:
            continue
        for value in legal_values(p.type):
            if not (value == base[p.name] and type(value) is type(base[p.name])):
                out.append({**base, p.name: value})
    return [args for args in out if not kind.validate(args)]


def changed(kind, args: dict) -> str:
    """The arguments that differ from the defaults, for a failure message."""
    diff = {p.name: args[p.name] for p in kind.params if p.required or args[p.name] != p.default}
    return f"{kind.name}({', '.join(f'{k}={v!r}' for k, v in diff.items())})"


def failures(kind, builder, all_args: list[dict]) -> list[str]:
    """Each argument set the builder (which builds and uses the object) raises on, with the error."""
    out = []
    for args in all_args:
        try:
            builder(kind, args)
        except Exception as e:  # the oracle reports every failure, whatever PyTorch raised
            out.append(f"{changed(kind, args)}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return out
