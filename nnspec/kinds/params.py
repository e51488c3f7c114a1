"""Argument types and `Param`: what a kind accepts, with PyTorch's defaults and legal ranges.

Types and parameters are compared by identity (eq=False): they are never compared by value.
"""

from __future__ import annotations

from nnspec.record import record


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return _is_int(v) or isinstance(v, float)


@record(eq=False)
class Int:
    """An integer, optionally bounded."""

    lo: int | None = None
    hi: int | None = None

    def describe(self) -> str:
        return "an integer" + _bounds(self.lo, self.hi)

    def check(self, v):
        if not _is_int(v):
            return "type", self.describe()
        return _range(v, self.lo, self.hi)


FLOAT32_MAX = 3.4028234663852886e38


@record(eq=False)
class Float:
    """A number (ints accepted), optionally bounded."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # True: lo itself is not allowed (lr > 0)
    hi_open: bool = False  # True: hi itself is not allowed (Adam's betas < 1)

    def describe(self) -> str:
        if self.hi_open:
            return "a number" + (f" >= {self.lo} and" if self.lo is not None else "") + f" < {self.hi}"
        return "a number" + _bounds(self.lo, self.hi, self.lo_open)

    def check(self, v):
        if not _is_num(v):
            return "type", self.describe()
        if v != v:  # nan: from the command line (the grammar has no nan)
            return "type", self.describe()
        if abs(v) > FLOAT32_MAX:  # PyTorch computes in float32: it would be infinite there
            return "range", "a number that float32 holds (at most 3.4e38 in size)"
        if self.lo_open and self.lo is not None and v <= self.lo:
            return "range", f"greater than {self.lo}"
        if self.hi_open and (v >= self.hi or (self.lo is not None and v < self.lo)):
            return "range", self.describe().removeprefix("a number ")
        return _range(v, self.lo, self.hi)


@record(eq=False)
class Bool:
    """`true` or `false`."""

    def describe(self) -> str:
        return "`true` or `false`"

    def check(self, v):
        return None if isinstance(v, bool) else ("type", self.describe())


@record(eq=False)
class Str:
    """A string, optionally one of fixed choices."""

    choices: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        return "a string"

    def check(self, v):
        if not isinstance(v, str):
            return "type", self.describe()
        if self.choices and v not in self.choices:
            return "range", self.describe()
        return None


@record(eq=False)
class Seq:
    """A list of `item`, of exactly `n` items when n is set (kernel sizes, betas)."""

    item: object
    n: int | None = None
    min_len: int = 0

    def describe(self) -> str:
        count = f"{self.n} " if self.n else ""
        kind = "non-empty list" if self.min_len == 1 and not self.n else "list"
        return f"a {kind} of {count}{_plural(self.item.describe())}"

    def check(self, v):
        if not isinstance(v, (list, tuple)):
            return "type", self.describe()
        if (self.n and len(v) != self.n) or len(v) < self.min_len:
            return "type", self.describe()
        for item in v:
            problem = self.item.check(item)
            if problem:  # described as a whole: the message shows the whole list
                return problem[0], self.describe()
        return None


@record(eq=False)
class OneOf:
    """A value of any of several types (an int or a list of ints)."""

    options: tuple

    def describe(self) -> str:
        return " or ".join(o.describe() for o in self.options)

    def check(self, v):
        problems = [o.check(v) for o in self.options]
        if any(p is None for p in problems):
            return None
        ranged = [p for p in problems if p[0] == "range"]
        return ranged[0] if ranged else ("type", self.describe())


@record(eq=False)
class Optional:
    """A value of `inner`, or `none`."""

    inner: object

    def describe(self) -> str:
        return self.inner.describe() + " or `none`"

    def check(self, v):
        return None if v is None else self.inner.check(v)


@record(eq=False)
class Anything:
    """Any value (block parameters)."""

    def describe(self) -> str:
        return "a value"

    def check(self, v):
        return None


def int_or_tuple(n: int, lo: int = 1) -> OneOf:
    return OneOf((Int(lo), Seq(Int(lo), n)))


@record(eq=False)
class Param:
    """One argument of a kind: name, type, PyTorch's default, whether it is inferred."""

    name: str
    type: object
    default: object = REQUIRED
    inferred: bool = False  # derived from the input shape (or the training setup) when omitted
    advise: tuple | None = None  # (lo, hi): outside it is legal but suspicious -> W301
    in_place: bool = False  # written as true, the layer overwrites its input: W302 where that is unsafe
    forward: bool = False  # an argument of the module's forward call, not of its constructor: keyword only
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def pytorch_value(t, value):
    """A value as PyTorch is given it: a number for a Float is a float (OneCycleLR's pct_start and
    torchmetrics' threshold refuse an int), in lists and optional values too."""
    if isinstance(t, Float) and _is_int(value):
        return float(value)
    if isinstance(t, Optional) and value is not None:
        return pytorch_value(t.inner, value)
    if isinstance(t, Seq) and isinstance(value, (list, tuple)):
        return type(value)(pytorch_value(t.item, v) for v in value)
    return value


def expand(value, n: int) -> tuple:
    """Kernel sizes, strides ...: an int stands for the same value in each of n dims."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * n


def _bounds(lo, hi, lo_open=False) -> str:
    if lo is not None and hi is not None:
        return f" in {lo}..{hi}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def _range(v, lo, hi):
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        return "range", _bounds(lo, hi).strip() or "in range"
    return None


def _plural(text: str) -> str:
    head, sep, tail = text.partition(" such as ")  # "a metric such as Accuracy()": the noun is the head
    if sep:
        return _plural(head) + sep + tail
    for article in ("an ", "a "):
        if text.startswith(article):
            words = text[len(article) :].split(" ")
            noun = 1 if words[0] == "non-empty" and len(words) > 1 else 0  # "numbers in 0..1", not "number in 0..1s"
            words[noun] += "" if words[noun].endswith("s") else "s"
            return " ".join(words)
    return text
