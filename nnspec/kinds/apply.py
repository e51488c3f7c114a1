"""One layer applied to input shapes: defaults, inferred sizes, checks, output shapes and counts."""

from __future__ import annotations

from nnspec.kinds.base import Shape, ShapeError
from nnspec.kinds.layer import Layer
from nnspec.kinds.params import REQUIRED
from nnspec.record import record


@record
class Applied:
    """A layer applied to its inputs: full arguments, output shapes, counts."""

    args: dict  # every constructor argument, inferred sizes filled in
    shapes: tuple[Shape, ...]  # one per value the call gives (several: `a, b = x -> Chunk(2, dim=1)`)
    params: int
    macs: int

    @property
    def shape(self) -> Shape:
        return self.shapes[0]


def apply_layer(kind: Layer, written: dict, ins: list[Shape], results: int = 1) -> Applied:
    """`written`: the arguments the spec gives (already type-checked); `results`: how many values
    the statement binds. Raises ShapeError."""
    kind.check_inputs(ins)
    if not kind.mixed_layouts:
        _same_layout(kind, ins)
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
    outs = kind.infer_all(args, ins, results)
    for out in outs:
        if out.too_large():
            raise ShapeError("E304", f"{kind.name} gives {out}: more elements than PyTorch can hold (2**63 - 1)")
    scale = ins[0].scale if ins and isinstance(ins[0].scale, int) else 1  # a batch of 2N runs twice the rows
    return Applied(args, outs, kind.count(args, ins), kind.macs(args, ins, outs[0]) * scale)


def _same_layout(kind: Layer, ins: list[Shape]) -> None:
    """Inputs combined element by element or row by row need their batches at the same place."""
    for other in ins[1:]:
        if other.layout() != ins[0].layout():
            raise ShapeError("E404", f"{kind.name} needs its inputs' batch dims to line up, got {ins[0]} and {other}")


def _inputs(ins: list[Shape]) -> str:
    return f"the input {ins[0]}" if len(ins) == 1 else "the inputs " + " and ".join(map(str, ins))
