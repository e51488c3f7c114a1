"""Python source for spec values: every literal in generated code goes through `src`."""

from __future__ import annotations

import math


class Code(str):
    """Source text that is already Python (a parameter name, `self.dim`): emitted as is."""


def call(callee: str, positional=(), keywords=None, lead=()) -> str:
    """`callee(*lead, *positional, **keywords)` as source; `lead` is already source."""
    parts = [*lead, *(src(v) for v in positional), *(f"{k}={src(v)}" for k, v in (keywords or {}).items())]
    return f"{callee}({', '.join(parts)})"


def src(value) -> str:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else '-float("inf")'
        return repr(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(src(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(src(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{src(k)}: {src(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {value!r}")  # a bug: bind accepts only literals
