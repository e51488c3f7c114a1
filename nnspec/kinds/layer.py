"""`Layer`: the base of every layer kind, with the defaults most kinds share."""

from __future__ import annotations

import math
from typing import ClassVar

from nnspec.kinds.base import Example, Kind, Registry, Shape, ShapeError
from nnspec.kinds.cost import NOTHING, Flow, Saved

LAYERS = Registry("layer", "Linear(16)")


class Layer(Kind):
    family = "layer"
    torch_class: ClassVar[str | None] = None  # e.g. "nn.Linear"; None for a functional kind
    arity: ClassVar[int | tuple[int, ...] | None] = 1  # None: two or more inputs; a tuple: any of these counts
    operator: ClassVar[str | None] = None  # "+", "*" ... between two tensors, or with `scalar` a tensor and a number
    scalar: ClassVar[bool] = False  # the operator's other side is a number: arguments `other` and `reverse`
    ranks: ClassVar[tuple[int, ...] | None] = None  # accepted per-sample ranks; None: any
    input_dtype: ClassVar[str | None] = "float"  # None: any
    fixed: ClassVar[dict] = {}  # constructor keywords nnspec always sets
    # Whether it takes a tensor whose batch is not its first dim, (T, N, F): it acts on the last
    # dims or element by element, or reads the layout itself (batch_first, dims counted as PyTorch does).
    any_layout: ClassVar[bool] = False
    mixed_layouts: ClassVar[bool] = False  # its inputs may differ in layout (an RNN's (N, T, F) and (L, N, H) state)
    examples: ClassVar[tuple[Example, ...]] = ()
    # Roles the ML lints read; they never name a kind.
    transparent: ClassVar[bool] = False  # changes neither values' meaning nor linearity (Flatten)
    collapsible: ClassVar[bool] = False  # two in a row with nothing non-linear between are one
    regularizer: ClassVar[bool] = False
    collapse_help: ClassVar[str] = ""  # W504's advice when two collapsible layers meet
    produces: ClassVar[str] = "values"  # "probabilities" | "log_probabilities"

    @property
    def sequential(self) -> bool:
        """Whether it can sit in an nn.Sequential: a module called on one input, output as is."""
        return self.torch_class is not None and self.arity == 1 and type(self).forward is Layer.forward

    def takes(self, count: int) -> bool:
        """Whether it accepts `count` inputs."""
        if self.arity is None:
            return count >= 2
        return count in self.arity if isinstance(self.arity, tuple) else count == self.arity

    def arity_words(self) -> str:
        if self.arity is None:
            return "two or more inputs"
        counts = self.arity if isinstance(self.arity, tuple) else (self.arity,)
        head = ", ".join(map(str, counts[:-1]))
        return f"{head + ' or ' if head else ''}{counts[-1]} input{'s' * (counts[-1] > 1)}"

    def derive(self, ins: list[Shape]) -> dict:
        """Arguments inferred from the input shapes (in_features, in_channels ...)."""
        return {}

    def matches(self, name: str, written, derived, ins: list[Shape]) -> bool:
        """Whether an inferred argument the user wrote agrees with the input."""
        return written == derived

    def check_inputs(self, ins: list[Shape]) -> None:
        for shape in ins:
            if not self.any_layout and shape.batch != 0:
                raise ShapeError(
                    "E402",
                    f"{self.name} takes the batch as its first dim, got {shape}",
                    help="`Transpose(0, 1)` puts a (T, N, F) sequence's batch first",
                )
            if self.ranks is not None and shape.rank not in self.ranks:
                want = " or ".join(_rank_words(r) for r in self.ranks)
                raise ShapeError("E402", f"{self.name} expects {want}, got {shape}", expected=want)
            if self.input_dtype and shape.dtype != self.input_dtype:
                raise ShapeError("E405", f"{self.name} expects {self.input_dtype} input, got {shape.dtype}")

    def batch_only(self, args: dict, ins: list[Shape]) -> bool:
        """Whether training takes statistics over the batch alone (a batch of one cannot train it)."""
        return False

    def infer(self, args: dict, ins: list[Shape]) -> Shape:
        return ins[0]

    def infer_all(self, args: dict, ins: list[Shape], count: int) -> tuple[Shape, ...]:
        """The values of one call whose statement binds `count` names: `a, b = x -> Chunk(2, dim=1)`."""
        if count == 1:
            return (self.infer(args, ins),)
        raise ShapeError("E406", f"{self.name} gives one value, not {count}", help="bind it to one name")

    def parameters(self, args: dict) -> dict[str, tuple[int, ...]]:
        """The module's parameters by name (as `named_parameters()` gives them) and shape."""
        return {}

    def count(self, args: dict, ins: list[Shape]) -> int:
        return sum(math.prod(shape) for shape in self.parameters(args).values())

    def macs(self, args: dict, ins: list[Shape], out: Shape) -> int:
        return 0

    # The cost model, per sample (nnspec/compiler/cost.py adds it up over a graph).

    def flops(self, args: dict, ins: list[Shape], out: Shape) -> int:
        """Forward FLOPs as torch.utils.flop_counter counts them: 2 per multiply-add of a matrix
        product or convolution; element-wise work (activations, normalisation, pooling) is 0."""
        return 2 * self.macs(args, ins, out)

    def backward_flops(self, args: dict, ins: list[Shape], out: Shape, flow: Flow) -> int:
        """Each gradient autograd computes, the weights' if they train and each input's that needs
        one, is a product as large as the forward."""
        return self.flops(args, ins, out) * (flow.params + sum(flow.grads))

    def saved(self, args: dict, ins: list[Shape], out: Shape, flow: Flow) -> Saved:
        """What autograd keeps for backward when it records the layer (flow.any)."""
        return NOTHING

    def layout(self, args: dict, ins: list[Shape]) -> str:
        """Where the output lives: "new" (a tensor of its own, contiguous), "like" (its own, laid
        out as input 0), "time-major" (its own, computed time-major and viewed batch-first), "view"
        (input 0's storage, as laid out), "strided" (input 0's storage, not contiguous), "reshape"
        (a view of input 0 if that is contiguous, else a copy)."""
        return "new"

    def buffers(self, args: dict, ins: list[Shape]) -> int:
        """Bytes of state that is not a parameter (running statistics)."""
        return 0

    def largest(self, args: dict, ins: list[Shape]) -> int:
        """Elements of its largest parameter tensor (an optimizer's scratch space is one's size)."""
        return self.count(args, ins)

    def constructor(self, args: dict) -> tuple[list, dict]:
        positional, keywords = super().constructor(args)
        return positional, {**keywords, **self.fixed}

    def forward(self, module: str, inputs: list[str], args: dict) -> str:
        """The forward expression; `module` is the attribute holding the constructed layer."""
        return f"{module}({', '.join(inputs)})"

    def forward_all(self, module: str, inputs: list[str], args: dict) -> str:
        """The expression giving every value of `infer_all` (unpacked by `unpack`)."""
        return self.forward(module, inputs, args)

    def unpack(self, names: list[str]) -> str:
        """The assignment targets that take `forward_all`'s values: `a, b`, or `seq, (h, c)`."""
        return ", ".join(names)


def _rank_words(rank: int) -> str:
    return {0: "a scalar", 1: "(N, C)", 2: "(N, C, L)", 3: "(N, C, H, W)"}.get(rank, f"{rank + 1}-d input")


def feature_dim(shape: Shape, what: str) -> int:
    """The last dim, which must be known to size weights."""
    last = shape.dims[-1] if shape.dims else None
    if not isinstance(last, int):
        raise ShapeError("E402", f"{what} needs a known last dimension, got {shape}")
    return last


def channel_dim(shape: Shape, what: str) -> int:
    c = shape.dims[0] if shape.dims else None
    if not isinstance(c, int):
        raise ShapeError("E402", f"{what} needs a known channel dimension, got {shape}")
    return c


def torch_dim(dim: int, rank: int, what: str, batch: int = 0) -> int:
    """A PyTorch dim over the whole tensor (the batch at `batch`) -> an index into the per-sample dims."""
    full = rank + 1
    if not -full <= dim < full:
        raise ShapeError("E402", f"{what}: dim {dim} is out of range for a {full}-d tensor")
    index = dim % full
    if index == batch:
        where = "0 is the batch" if batch == 0 else f"the batch is dim {batch}"
        raise ShapeError("E402", f"{what}: dim {dim} is the batch dimension", help=f"count dims from 0 ({where})")
    return index - (index > batch)
