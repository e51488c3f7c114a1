"""A shape's dims in PyTorch's order, the batch among them, for rules that move or fold the batch."""

from __future__ import annotations

from nnspec.kinds.base import Dim, Shape, ShapeError
from nnspec.kinds.layers.sizes import product


class _Batch:
    """The batch dim's place in a list of a tensor's dims."""

    def __repr__(self) -> str:
        return "N"


BATCH = _Batch()


def full(shape: Shape) -> list:
    """Every dim of the tensor in order, BATCH where the batch is."""
    dims = list(shape.dims)
    return [*dims[: shape.batch], BATCH, *dims[shape.batch :]]


def from_full(dims: list, like: Shape, scale: Dim | None = None, dtype: str | None = None) -> Shape:
    """The Shape of a tensor whose dims in order are `dims` (BATCH among them once)."""
    batch = dims.index(BATCH)
    rest = tuple(d for d in dims if d is not BATCH)
    return Shape(rest, dtype or like.dtype, batch, like.scale if scale is None else scale)


def position(dim: int, count: int, what: str) -> int:
    """A PyTorch dim (negative ones from the end) as an index into `count` dims."""
    if not -count <= dim < count:
        raise ShapeError("E402", f"{what}: dim {dim} is out of range for a {count}-d tensor")
    return dim % count


def not_batch(dims: list, index: int, what: str, why: str) -> None:
    if dims[index] is BATCH:
        raise ShapeError("E402", f"{what}: dim {index} is the batch dimension; {why}")


def folded(dims: list, start: int, end: int, like: Shape) -> Shape:
    """dims[start:end + 1] as one dim; folding in the batch (a view of (N, T, F) as (N*T, F))
    makes a batch of N times the others' product."""
    part = dims[start : end + 1]
    if BATCH not in part:
        return from_full([*dims[:start], product(part), *dims[end + 1 :]], like)
    others = [d for d in part if d is not BATCH]
    scale = product([like.scale, *others]) if others else like.scale
    return from_full([*dims[:start], BATCH, *dims[end + 1 :]], like, scale=scale)
