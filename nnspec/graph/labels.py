"""Label text for drawn nodes, read from each kind's `Param`s: `Conv2d 3→64, k7 s2 p3, bias=false`.

The rules, for every kind alike:
- sizes: the inferred arguments, then `→` and the next required one when it is the size the
  output carries (its channel or feature dimension): `3→64`;
- window arguments (an int or one int per spatial dim: kernel sizes, strides, paddings) as their
  initial and value, `k7 s2 p3`, when the initial is unambiguous in the node and the kind has
  other arguments too;
- other required arguments bare, in PyTorch's order, and other arguments only where they differ
  from PyTorch's default, as `name=value` in the spec's syntax.
"""

from __future__ import annotations

import json

from nnspec.kinds.params import Int, OneOf, Optional, Seq

MAX_VALUE = 40  # characters of one shown value: a spec's strings can be any length


def describe(kind, args: dict, shape) -> str:
    """The key arguments of a layer with its checked `args`, output `shape` giving the `→` size."""
    required = [p for p in kind.params if p.required]
    changed = [p for p in kind.params if not p.required and _differs(args.get(p.name, p.default), p.default)]
    head, required = _sizes(required, args, shape)
    short = _initialled(kind, required + changed, args)
    parts = [head, *(value(args[p.name]) for p in required if p.name not in short)]
    parts.append(" ".join(p.name[0] + _window_value(args[p.name]) for p in required + changed if p.name in short))
    parts += [f"{p.name}={value(args[p.name])}" for p in changed if p.name not in short]
    return ", ".join(part for part in parts if part)


def _initialled(kind, shown: list, args: dict) -> set:
    """The window arguments shown by their initial: unambiguous in the node, not the kind's only argument."""
    if len(kind.params) == 1:
        return set()
    windows = [p for p in shown if _is_window(p.type) and _window_value(args[p.name])]
    letters = [p.name[0] for p in windows]
    return {p.name for p in windows if letters.count(p.name[0]) == 1}


def call(kind, args: dict) -> str:
    """The PyTorch constructor call the layer stands for: `Conv2d(3, 64, 7, stride=2, bias=False)`."""
    positional, keywords = kind.constructor(args)
    inner = [_python(v) for v in positional] + [f"{k}={_python(v)}" for k, v in keywords.items()]
    return f"{kind.name}({', '.join(inner)})"


def bindings(env: dict) -> str:
    """A block instance's arguments: `channels=64, stride=2`."""
    return ", ".join(f"{name}={value(v)}" for name, v in env.items())


def count(params: int) -> str:
    return f"{params:,} param" + "s" * (params != 1)


def value(v) -> str:
    """A value as a spec writes it (true, none, "text", [1, 2]), long ones cut short."""
    if isinstance(v, bool):
        text = "true" if v else "false"
    elif v is None:
        text = "none"
    elif isinstance(v, str):
        text = printable(json.dumps(v, ensure_ascii=False))  # quotes, line breaks and bidi controls escaped
    elif isinstance(v, (list, tuple)):
        text = "[" + ", ".join(value(item) for item in v) + "]"
    else:
        text = repr(v)
    return _cut(text)


def _python(v) -> str:
    if isinstance(v, (list, tuple)):
        return _cut("[" + ", ".join(_python(item) for item in v) + "]")
    return _cut(repr(v))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def printable(text: str) -> str:
    """`text` with control characters escaped (a path may hold a newline)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def _sizes(required: list, args: dict, shape) -> tuple[str, list]:
    """(`3→64` or "", the required params still to show)."""
    inferred = [p for p in required if p.inferred]
    if not inferred:
        return "", required
    after = required[required.index(inferred[-1]) + 1 :]
    target = next((p for p in after if not _is_window(p.type)), None)
    dims = shape.dims if shape is not None else ()
    if target is None or not dims or not isinstance(target.type, Int) or args[target.name] not in (dims[0], dims[-1]):
        return "", required  # all shown bare, in PyTorch's order: GroupNorm 4, 16
    shown = ", ".join(value(args[p.name]) for p in inferred)
    return f"{shown}→{value(args[target.name])}", [p for p in required if p not in inferred and p is not target]


def _differs(v, default) -> bool:
    if isinstance(v, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(v) != list(default)  # [3, 3] written for the default (3, 3)
    return v != default


def _is_window(t) -> bool:
    """An int, or a list of one int (or none) per spatial dim."""
    if isinstance(t, Seq):
        item = t.item.inner if isinstance(t.item, Optional) else t.item
        return t.n is not None and isinstance(item, Int)
    if isinstance(t, OneOf):
        return any(_is_window(o) for o in t.options)
    if isinstance(t, Optional):
        return _is_window(t.inner)
    return False


def _window_value(v) -> str:
    """`7`, or `3×5` for one size per dim; "" for a value of another kind (padding="same")."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, (list, tuple)) and all(isinstance(i, int) and not isinstance(i, bool) or i is None for i in v):
        return "×".join("none" if i is None else str(i) for i in v)
    return ""
