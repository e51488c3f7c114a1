"""Merges of several tensors: `a + b`, `a - b`, `a * b`, `a / b` (broadcasting), `a @ b`, Concat(a, b, dim=1)."""

from __future__ import annotations

from nnspec.kinds.base import Example, Shape, ShapeError
from nnspec.kinds.cost import NOTHING, Saved, backward, nbytes
from nnspec.kinds.layer import LAYERS, Layer, torch_dim
from nnspec.kinds.layers.layout import position
from nnspec.kinds.layers.sizes import add_dims
from nnspec.kinds.params import Int, Param
from nnspec.kinds.pysrc import src


def broadcast(symbol: str, a: Shape, b: Shape, keep: int = 0) -> tuple:
    """PyTorch's broadcasting of two per-sample shapes, but for their last `keep` dims: the same
    rank, so that the batch dims line up, and each size equal or 1. A symbolic size broadcasts
    only with itself or 1."""
    if a.rank != b.rank:
        raise ShapeError("E404", f"`{symbol}` needs inputs of the same rank (the batch dims line up), got {a} and {b}")
    dims = []
    for x, y in zip(a.dims[: a.rank - keep], b.dims[: b.rank - keep]):
        if x != y and 1 not in (x, y):
            which = "each dim" if not keep else f"each dim before the last {keep}"
            raise ShapeError("E404", f"`{symbol}` needs sizes that are equal or 1 in {which}, got {a} and {b}")
        dims.append(y if x == 1 else x)
    return tuple(dims)


class _Elementwise(Layer):
    arity = 2
    any_layout = True  # both batches at one place (apply_layer checks that)
    symbol = "+"

    def infer(self, args, ins):
        dims = ins[0].dims
        for other in ins[1:]:
            dims = broadcast(self.symbol, ins[0].with_dims(dims), other)
        return ins[0].with_dims(dims)

    def layout(self, args, ins):
        return "like"

    def forward(self, module, inputs, args):
        return f" {self.symbol} ".join(inputs)


@LAYERS.register
class Add(_Elementwise):
    """Element-wise sum, written `a + b` (a residual connection); sizes of 1 broadcast."""

    name, operator, symbol = "Add", "+", "+"
    examples = (Example({}, ((4, 3), (4, 3))), Example({}, ((4, 1), (1, 5))))


@LAYERS.register
class Subtract(_Elementwise):
    """Element-wise difference, written `a - b`; sizes of 1 broadcast."""

    name, operator, symbol = "Subtract", "-", "-"
    examples = (Example({}, ((5,), (5,))), Example({}, ((3, 4, 4), (3, 1, 1))))


@LAYERS.register
class Multiply(_Elementwise):
    """Element-wise product, written `a * b` (gating); sizes of 1 broadcast."""

    name, operator, symbol = "Multiply", "*", "*"
    examples = (Example({}, ((6,), (6,))), Example({}, ((8, 5, 5), (8, 1, 1))))

    def saved(self, args, ins, out, flow):
        return Saved(inputs=tuple(k for k, other in ((0, 1), (1, 0)) if flow.grads[other]))  # d(ab)/da = b


@LAYERS.register
class Divide(_Elementwise):
    """Element-wise quotient, written `a / b`; sizes of 1 broadcast."""

    name, operator, symbol = "Divide", "/", "/"
    examples = (Example({}, ((3, 4), (3, 4))), Example({}, ((2, 6), (1, 6))))

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0, 1) if flow.grads[1] else (1,))  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²


@LAYERS.register
class MatMul(Layer):
    """Matrix product of the last two dims, written `a @ b`: (..., n, m) @ (..., m, p) -> (..., n, p)."""

    name, operator, arity = "MatMul", "@", 2
    any_layout = True  # the batch among the dims before the last two
    examples = (
        Example({}, ((5, 8), (8, 5))),
        Example({}, ((2, 3, 4), (2, 4, 6))),
        Example({}, ((1, 3, 4), (5, 4, 2))),
    )

    def infer(self, args, ins):
        a, b = ins
        if a.rank < 2 or b.rank < 2 or a.batch > a.rank - 2:  # else it would multiply across the batch
            raise ShapeError("E402", f"`@` needs a matrix per sample on both sides, (N, n, m) or more, got {a} and {b}")
        if a.dims[-1] != b.dims[-2]:
            raise ShapeError(
                "E404",
                f"`@` needs the last size of {a} to equal the one before last of {b}",
                expected=f"(N, ..., {a.dims[-1]}, p)",
            )
        lead = broadcast("@", a, b, keep=2)
        return a.with_dims((*lead, a.dims[-2], b.dims[-1]))

    def macs(self, args, ins, out):
        inner = ins[0].dims[-1]
        return (out.numel() or 0) * inner if isinstance(inner, int) else 0

    def backward_flops(self, args, ins, out, flow):
        return backward((self.flops(args, ins, out), flow.grads))

    def saved(self, args, ins, out, flow):
        """Each side keeps the other: as it is, or, broadcast into a batch of matrices, a copy of
        that size."""
        kept = NOTHING
        for k, other in ((0, 1), (1, 0)):
            if flow.grads[other]:
                kept += self._operand(k, ins, out, flow)
        return kept

    def _operand(self, k, ins, out, flow) -> Saved:
        shape, lead = ins[k], out.dims[:-2]
        if shape.dims[:-2] != lead:
            return Saved(own=nbytes(shape.with_dims((*lead, *shape.dims[-2:]))))
        return Saved(inputs=(k,))

    def forward(self, module, inputs, args):
        return " @ ".join(inputs)


@LAYERS.register
class Concat(Layer):
    """torch.cat along `dim` (counted with the batch dim first, as in PyTorch)."""

    name, arity = "Concat", None
    input_dtype = None
    any_layout = mixed_layouts = True  # along dim 0, batches of any size join: (N, F) and (N, F) give (2N, F)
    params = (Param("dim", Int(), 1),)
    examples = (
        Example({}, ((3,), (5,))),
        Example({"dim": 1}, ((2, 4, 4), (6, 4, 4))),
        Example({"dim": -1}, ((2, 3), (2, 1), (2, 2))),
        Example({"dim": 0}, ((3,), (3,))),
        Example({"dim": 2}, ((4, 3), (4, 5)), batches=(1, 1)),
    )

    def infer(self, args, ins):
        first = ins[0]
        if any(s.batch != first.batch for s in ins):
            raise ShapeError("E404", f"Concat needs the batch at one place in every input, got {first} and {ins[1]}")
        if position(args["dim"], first.rank + 1, self.name) == first.batch:
            return self._batches(ins)
        if any(s.scale != first.scale for s in ins):
            raise ShapeError(
                "E404", f"Concat along dim {args['dim']} needs batches of one size, got {first} and {ins[1]}"
            )
        i = torch_dim(args["dim"], ins[0].rank, self.name, first.batch)
        total = first.dims[i]
        for other in ins[1:]:
            same_rank = other.rank == first.rank
            if not same_rank or other.dims[:i] + other.dims[i + 1 :] != first.dims[:i] + first.dims[i + 1 :]:
                raise ShapeError(
                    "E404", f"Concat along dim {args['dim']} needs the other dims equal, got {first} and {other}"
                )
            total = add_dims(total, other.dims[i])
        return first.with_dims(first.dims[:i] + (total,) + first.dims[i + 1 :], _promoted(ins))

    def _batches(self, ins):
        """Along the batch dim: samples after samples, each input's sample shape the same."""
        if any(s.dims != ins[0].dims for s in ins):
            raise ShapeError("E404", f"Concat along the batch needs equal sample shapes, got {ins[0]} and {ins[1]}")
        scale = ins[0].scale
        for other in ins[1:]:
            scale = add_dims(scale, other.scale)
        return ins[0].with_layout(ins[0].batch, scale).with_dims(ins[0].dims, _promoted(ins))

    def forward(self, module, inputs, args):
        return f"torch.cat([{', '.join(inputs)}], dim={src(args['dim'])})"


def _promoted(ins) -> str:
    return "float" if any(s.dtype == "float" for s in ins) else ins[0].dtype  # torch.cat promotes
