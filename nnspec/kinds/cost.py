"""The vocabulary of a layer's cost: what autograd knows of its inputs (`Flow`), what it keeps for
backward (`Saved`), matrix products whose gradients cost what they did (`backward`), element sizes.

Sizes are per sample, and a size given by a symbol (T) counts as 1, as for multiply-adds.
"""

from __future__ import annotations

from nnspec.kinds.base import Shape
from nnspec.record import record

BYTES = {"float": 4, "long": 8}  # float32 and int64 elements
INDEX = 8  # the int64 indices pooling and embedding bags keep


@record
class Flow:
    """What autograd knows when a layer runs: which inputs need a gradient, how each is laid out
    ("contiguous"; "strided", as a Transpose leaves it; "time-major", a recurrent layer's or an
    attention's batch-first view of its output), whether the layer's own parameters train, and
    which inputs are one tensor (`same`: for each input, the first input it is; empty: none)."""

    grads: tuple[bool, ...]
    layouts: tuple[str, ...]
    params: bool
    same: tuple[int, ...] = ()

    def contiguous(self, k: int) -> bool:
        return self.layouts[k] == "contiguous"

    def time_major(self, k: int) -> bool:
        """Whether transposing input k to time-major gives a contiguous tensor."""
        return self.layouts[k] == "time-major"

    @property
    def any(self) -> bool:
        """Whether autograd records the layer at all."""
        return self.params or any(self.grads)

    def shared(self, i: int, j: int) -> bool:
        """Whether inputs i and j are the same tensor (`MultiheadAttention(x, x)` attends to itself)."""
        return i == j or (bool(self.same) and self.same[i] == self.same[j])


@record
class Saved:
    """What a layer keeps for backward. `inputs` and `output` are tensors others may keep too: the
    model counts each once. `own` is bytes per sample of tensors only this layer holds (masks,
    statistics, contiguous copies), `fixed` bytes that do not grow with the batch."""

    inputs: tuple[int, ...] = ()
    output: bool = False
    own: int = 0
    fixed: int = 0

    def __add__(self, other: Saved) -> Saved:
        inputs = self.inputs + tuple(i for i in other.inputs if i not in self.inputs)
        return Saved(inputs, self.output or other.output, self.own + other.own, self.fixed + other.fixed)


NOTHING = Saved()


def elements(shape: Shape) -> int:
    n = 1
    for d in shape.dims:
        n *= d if isinstance(d, int) else 1
    return n


def nbytes(shape: Shape) -> int:
    return elements(shape) * BYTES[shape.dtype]


def size(d) -> int:
    """A dim as a number: a symbolic one counts as 1."""
    return d if isinstance(d, int) else 1


def backward(*products: tuple[int, tuple[bool, ...]]) -> int:
    """Backward FLOPs of matrix products, each (forward FLOPs, whether each operand needs a
    gradient): every gradient of an operand is one more product of the same size."""
    return sum(flops * sum(needs) for flops, needs in products)


def as_rows(flow: Flow, k: int, shape: Shape) -> Saved:
    """Input k as a matrix product of its rows keeps it: itself, or, transposed and folded into
    rows, a contiguous copy."""
    return Saved(inputs=(k,)) if flow.contiguous(k) or shape.rank == 1 else Saved(own=nbytes(shape))


def contiguous(flow: Flow, k: int, shape: Shape) -> Saved:
    """Input k as a kernel that first makes it contiguous keeps it: itself, or a copy."""
    return Saved(inputs=(k,)) if flow.contiguous(k) else Saved(own=nbytes(shape))
