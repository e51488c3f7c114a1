"""One layer applied to input shapes: defaults, inferred sizes, checks, output shape and counts."""

from __future__ import annotations

from nnspec.kinds.base import Shape, ShapeError
from nnspec.kinds.layer import Layer
from nnspec.kinds.params import REQUIRED
from nnspec.record import record


@record
class Applied:
    """A layer applied to its inputs: full arguments, output shape, counts."""

    args: dict  # every constructor argument, inferred sizes filled in
    shape: Shape
    params: int
    macs: int


def apply_layer(kind: Layer, written: dict, ins: list[Shape]) -> Applied:
    """`written`: the arguments the spec gives (already type-checked). Raises ShapeError."""
    kind.check_inputs(ins)
    args = {p.name: written.get(p.name, p.default) for p in kind.params}
    derived = kind.derive(ins)
    for name, value in derived.items():
        if name not in written:
            args[name] = value
        elif not kind.matches(name, written[name], value, ins):
            raise ShapeError(
                "E401",
                f"{kind.name}: {name} is written as {written[name]!r}, but {_inputs(ins)} give{'s' * (len(ins) == 1)} {value!r}",
                expected=f"{name}={value!r}",
                arg=name,
            )
    missing = [name for name, value in args.items() if value is REQUIRED]
    if missing:  # an inferred size the input could not provide
        raise ShapeError("E402", f"{kind.name}: cannot infer {', '.join(missing)} from {ins[0]}")
    out = kind.infer(args, ins)
    if out.too_large():
        raise ShapeError("E304", f"{kind.name} gives {out}: more elements than PyTorch can hold (2**63 - 1)")
    return Applied(args, out, kind.count(args, ins), kind.macs(args, ins, out))


def _inputs(ins: list[Shape]) -> str:
    return f"the input {ins[0]}" if len(ins) == 1 else "the inputs " + " and ".join(map(str, ins))
