"""The registry pattern: `Kind` (one class per layer, loss, optimizer ...), `Shape` and `Registry`."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.params import Param, pytorch_value
from nnspec.record import record
from nnspec.suggest import close_matches

Dim = int | str  # str: a symbolic size such as "T"
MAX_ELEMENTS = 2**63 - 1  # PyTorch's sizes and element counts are int64


@record
class Shape:
    """A tensor's shape: the per-sample `dims`, and where the batch dim N sits among them.

    `batch` is 0 for batch-first tensors, 1 for a sequence-major (T, N, F) one and for a recurrent
    layer's (layers, N, H) state; `scale` is the batch's size in samples: 2 once two batches are
    concatenated along dim 0 (2N), T once a view folds the steps of (N, T, F) into it (N*T).
    """

    dims: tuple[Dim, ...]
    dtype: str = "float"  # "float" | "long"
    batch: int = 0
    scale: Dim = 1

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.labels())) + ")"

    def json(self) -> list:
        return self.labels()

    def labels(self) -> list:
        """Every dim of the tensor, the batch as "N" ("2N", "N*T")."""
        dims = list(self.dims)
        return [*dims[: self.batch], self.batch_label(), *dims[self.batch :]]

    def batch_label(self) -> str:
        if self.scale == 1:
            return "N"
        return f"{self.scale}N" if isinstance(self.scale, int) else f"N*{self.scale}"

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def batch_first(self) -> bool:
        """Batch-first with one sample per row: what most layers, the data and the loss take."""
        return self.batch == 0 and self.scale == 1

    def layout(self) -> tuple:
        return self.batch, self.scale

    def numel(self) -> int | None:
        n = 1
        for d in self.dims:
            if not isinstance(d, int):
                return None
            n *= d
        return n

    def too_large(self) -> bool:
        """More elements per sample than PyTorch can hold, counting the known sizes."""
        n = 1
        for d in self.dims:
            n *= d if isinstance(d, int) else 1
            if n > MAX_ELEMENTS:
                return True
        return False

    def with_dims(self, dims, dtype: str | None = None) -> Shape:
        """Other per-sample dims, the batch where it was."""
        return Shape(tuple(dims), dtype or self.dtype, self.batch, self.scale)

    def with_layout(self, batch: int, scale: Dim | None = None) -> Shape:
        return Shape(self.dims, self.dtype, batch, self.scale if scale is None else scale)


class ShapeError(Exception):
    """A rule's verdict on its inputs; the shape pass adds producer, consumer and position."""

    def __init__(
        self, code: str, message: str, *, expected: str | None = None, help: str | None = None, arg: str | None = None
    ):
        super().__init__(message)
        self.code, self.message, self.expected, self.help, self.arg = code, message, expected, help, arg


@record(eq=False)
class Example:
    """A worked example: arguments and a per-sample input shape, checked against PyTorch by tests."""

    args: dict
    inputs: tuple[tuple, ...]
    dtype: str = "float"
    batches: tuple[int, ...] = ()  # where each input's batch dim is (default: first)
    results: int = 1  # values the call gives: `seq, h_n = x -> GRU(20)` takes 2

    def shapes(self) -> list[Shape]:
        batches = self.batches or (0,) * len(self.inputs)
        return [Shape(tuple(s), self.dtype, b) for s, b in zip(self.inputs, batches)]


class Kind:
    """Base of every registered kind. Subclasses declare `name`, `params` and their rules."""

    family: ClassVar[str] = "kind"
    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    # Parameters nnspec adds that the PyTorch callable does not take, each with the reason:
    # the oracle tests hold every other parameter to PyTorch's signature, and none reaches its call.
    own: ClassVar[dict[str, str]] = {}
    doc: ClassVar[str] = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def constructor(self, args: dict) -> tuple[list, dict]:
        """PyTorch constructor arguments: required ones positionally, the rest by keyword."""
        params = [p for p in self.params if not p.forward and p.name not in self.own]
        positional = [pytorch_value(p.type, args[p.name]) for p in params if p.required]
        keywords = {
            p.name: pytorch_value(p.type, args[p.name]) for p in params if not p.required and args[p.name] != p.default
        }
        return positional, keywords

    def validate(self, args: dict) -> list[tuple[str, str, str]]:
        """Cross-argument checks: a list of (code, message, argument name)."""
        return []


class Registry:
    """The kinds of one family by name."""

    def __init__(self, family: str, example: str = ""):
        self.family = family
        self.example = example  # shown in messages: "a loss such as CrossEntropyLoss()"
        self.kinds: dict = {}

    def register(self, cls):
        kind = cls()
        if kind.name in self.kinds:
            raise RuntimeError(f"{self.family} {kind.name} registered twice")
        self.kinds[kind.name] = kind
        return cls

    def get(self, name: str):
        return self.kinds.get(name)

    def suggest(self, name: str, extra=()) -> str | None:
        names = list(self.kinds) + list(extra)
        lowered = {n.lower(): n for n in names}
        if name.lower() in lowered:
            return lowered[name.lower()]
        close = close_matches(name, names)
        return close[0] if close else None

    def __iter__(self):
        return iter(self.kinds.values())
