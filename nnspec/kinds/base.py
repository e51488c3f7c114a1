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
    """A per-sample shape: the batch dimension is implicit and shown as N."""

    dims: tuple[Dim, ...]
    dtype: str = "float"  # "float" | "long"

    def __str__(self) -> str:
        return "(" + ", ".join(["N", *map(str, self.dims)]) + ")"

    def json(self) -> list:
        return ["N", *self.dims]

    @property
    def rank(self) -> int:
        return len(self.dims)

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
        return Shape(tuple(dims), dtype or self.dtype)


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
