"""Merges of several tensors: `a + b` (Add), `a * b` (Multiply), Concat(a, b, dim=1)."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.layer import LAYERS, Layer, torch_dim
from nnspec.kinds.layers.sizes import add_dims
from nnspec.kinds.params import Int, Param
from nnspec.kinds.pysrc import src


class _Elementwise(Layer):
    arity = 2
    symbol = "+"

    def infer(self, args, ins):
        first = ins[0]
        for other in ins[1:]:
            if other.dims != first.dims:
                raise ShapeError(
                    "E404", f"`{self.symbol}` needs equal shapes, got {first} and {other}", expected=str(first)
                )
        return first

    def forward(self, module, inputs, args):
        return f" {self.symbol} ".join(inputs)


@LAYERS.register
class Add(_Elementwise):
    """Element-wise sum, written `a + b` (a residual connection)."""

    name, operator, symbol = "Add", "+", "+"
    examples = (Example({}, ((4, 3), (4, 3))),)


@LAYERS.register
class Multiply(_Elementwise):
    """Element-wise product, written `a * b` (gating)."""

    name, operator, symbol = "Multiply", "*", "*"
    examples = (Example({}, ((6,), (6,))),)


@LAYERS.register
class Concat(Layer):
    """torch.cat along `dim` (counted with the batch dim first, as in PyTorch)."""

    name, arity = "Concat", None
    input_dtype = None
    params = (Param("dim", Int(), 1),)
    examples = (
        Example({}, ((3,), (5,))),
        Example({"dim": 1}, ((2, 4, 4), (6, 4, 4))),
        Example({"dim": -1}, ((2, 3), (2, 1), (2, 2))),
    )

    def infer(self, args, ins):
        i = torch_dim(args["dim"], ins[0].rank, self.name)
        first = ins[0]
        total = first.dims[i]
        for other in ins[1:]:
            same_rank = other.rank == first.rank
            if not same_rank or other.dims[:i] + other.dims[i + 1 :] != first.dims[:i] + first.dims[i + 1 :]:
                raise ShapeError(
                    "E404", f"Concat along dim {args['dim']} needs the other dims equal, got {first} and {other}"
                )
            total = add_dims(total, other.dims[i])
        dtype = "float" if any(s.dtype == "float" for s in ins) else first.dtype  # torch.cat promotes
        return first.with_dims(first.dims[:i] + (total,) + first.dims[i + 1 :], dtype)

    def forward(self, module, inputs, args):
        return f"torch.cat([{', '.join(inputs)}], dim={src(args['dim'])})"
