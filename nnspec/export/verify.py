"""Outputs of an exported file against PyTorch's: equal to TOLERANCE, element by element."""

from __future__ import annotations

import numpy as np
import torch

# |exported - torch| <= TOLERANCE * (1 + |torch|): absolute near zero, relative for large values.
TOLERANCE = 1e-5


def expected(model: torch.nn.Module, tensors: tuple) -> list[np.ndarray]:
    """The eager model's outputs, the reference."""
    with torch.no_grad():
        out = model(*tensors)
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def difference(names: list[str], want: list[np.ndarray], got: list) -> tuple[float, str | None]:
    """(the largest difference found, what differs beyond the tolerance or None)."""
    if len(got) != len(want):
        return float("inf"), f"{len(got)} outputs instead of {len(want)}"
    largest = 0.0
    for name, w, g in zip(names, want, got):
        g = g.numpy() if isinstance(g, torch.Tensor) else np.asarray(g)
        if g.shape != w.shape:
            return float("inf"), f"output `{name}` has shape {g.shape} instead of {w.shape}"
        if not np.issubdtype(w.dtype, np.floating):
            if not np.array_equal(w, g):
                return float("inf"), f"output `{name}` holds other integers"
            continue
        gap = np.abs(g.astype(np.float64) - w)
        gap = np.where(np.isnan(w) & np.isnan(g), 0.0, gap)  # NaN where torch has NaN is equal
        worst = float(np.nanmax(gap, initial=0.0)) if not np.isnan(gap).any() else float("nan")
        limit = TOLERANCE * (1 + np.abs(w))
        if not (gap <= limit).all():
            return worst, f"output `{name}` differs by up to {worst:.3g} (allowed: {TOLERANCE:g} x (1 + |value|))"
        largest = max(largest, worst)
    return largest, None
