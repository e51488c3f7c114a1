"""Output-size arithmetic shared by convolution and pooling rules, symbolic sizes included."""

from __future__ import annotations

from nnspec.kinds.base import Dim, ShapeError


def window_out(size: Dim, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> Dim:
    """floor((L + 2p - d(k-1) - 1) / s) + 1, PyTorch's Conv/Pool length; ceil for ceil_mode."""
    span = d * (k - 1) + 1
    if not isinstance(size, int):
        if not ceil or s == 1:
            return _symbolic(size, 2 * p - span, s)
        out = _symbolic(size, 2 * p - span + s - 1, s)  # ceil((L + 2p - span) / s) + 1
        if p + s <= span:  # then the last window always starts inside the input or left padding
            return out
        return f"min({out}, ({size}{p + s - 1:+d})//{s})"  # else PyTorch's correction: at most ceil((L + p) / s)
    room = size + 2 * p - span
    if room < 0 and not (ceil and room + s - 1 >= 0):  # ceil_mode: a window may hang over the end
        raise ShapeError(
            "E403",
            f"input size {size} (padded {size + 2 * p}) is smaller than the kernel's reach {span}",
            help="use a smaller kernel, more padding, or a larger input",
        )
    out = (-(-room // s) if ceil else room // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1  # PyTorch: the last window must start inside the input or left padding
    return out


def transposed_out(size: Dim, k: int, s: int, p: int, out_pad: int, d: int) -> Dim:
    if not isinstance(size, int):
        return f"({size}-1)*{s}{d * (k - 1) + out_pad + 1 - 2 * p:+d}"
    out = (size - 1) * s - 2 * p + d * (k - 1) + out_pad + 1
    if out < 1:
        raise ShapeError("E403", f"transposed convolution of size {size} gives size {out}")
    return out


def _symbolic(size: str, offset: int, s: int) -> str:
    """floor((size + offset) / s) + 1 for a symbolic size; with stride 1, size + offset + 1."""
    if s == 1:
        return f"{size}{offset + 1:+d}" if offset + 1 else size
    base = f"{size}{offset:+d}" if offset else size
    return f"({base})//{s}+1"


def add_dims(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return f"{a}+{b}"


def product(dims) -> Dim:
    out: Dim = 1
    for d in dims:
        if isinstance(out, int) and isinstance(d, int):
            out *= d
        else:
            d = d if isinstance(d, int) or d.isidentifier() else f"({d})"  # H-2 -> (H-2)
            out = f"{out}*{d}" if out != 1 else d
    return out
