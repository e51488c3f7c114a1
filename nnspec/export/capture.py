"""torch.export of a module with the sizes that may vary marked dynamic; torch's noise kept quiet."""

from __future__ import annotations

import contextlib
import logging
import re
import warnings

import torch
from torch.export import Dim

from nnspec.export.recurrent import loop_recurrences


@contextlib.contextmanager
def quiet():
    """No warnings or log lines from torch, onnxscript and onnxruntime while exporting: they
    describe torch's internals (and fill a screen), not the user's spec."""
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(before)


@contextlib.contextmanager
def exporting():
    """Where tracing and ONNX conversion run: quiet, and with recurrent layers traced as loops.

    A loop keeps a symbolic length free, and traces in one step what the unrolled form traces
    in T (a 2-layer bidirectional LSTM over 100 steps: 17 s instead of 75 s here). The ONNX
    exporter still writes ONNX's own LSTM and GRU operators for those layers."""
    with quiet(), loop_recurrences():
        yield


def capture(module: torch.nn.Module, args: tuple, dynamic: tuple, fmt: str, kwargs: dict | None = None):
    """The ExportedProgram of `module(*args, **kwargs)` for `fmt`; `dynamic` gives, per argument,
    the dims that vary ({dim: name} for a tensor, nested like the argument, None for others)."""
    shapes = _dims(dynamic)
    if kwargs:
        shapes = {**dict(zip(_parameters(module), shapes)), **{k: None for k in kwargs}}
    # For ONNX, as torch.onnx traces: size-oblivious, so that no branch assumes a size is not 1
    # (the loop forms of recurrent layers convert only so). In a .pt2 the same setting becomes a
    # runtime guard against batch 1; traced without it, the program runs at batch 1 (verified).
    with torch.fx.experimental._config.patch(backed_size_oblivious=fmt == "onnx"):
        return torch.export.export(module, args, kwargs=kwargs or None, dynamic_shapes=shapes, strict=False)


def _dims(dynamic):
    if isinstance(dynamic, dict):
        return {dim: Dim.DYNAMIC for dim in dynamic} or None
    if isinstance(dynamic, (tuple, list)):
        return type(dynamic)(_dims(d) for d in dynamic)
    return None


def _parameters(module) -> list[str]:
    import inspect

    return list(inspect.signature(module.forward).parameters)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FIXED = re.compile(r"specialized it to be a constant \((\d+)\)")


def fixed_size(error: BaseException) -> int | None:
    """The value a size marked dynamic was fixed to, when that is why torch.export failed."""
    found = _FIXED.search(str(error))
    return int(found.group(1)) if found else None


def reason(error: BaseException) -> str:
    """One line saying why torch.export or the ONNX exporter failed."""
    text = _ANSI.sub("", str(error))
    fixed = fixed_size(error)
    if fixed is not None:
        return f"torch.export fixes a size that should vary to {fixed}"
    if "## Exception summary" in text:  # the ONNX exporter's report: the cause is summarised below it
        text = text.split("## Exception summary", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("(Refer")]
    line = lines[0] if lines else type(error).__name__
    return line if len(line) <= 300 else line[:297] + "..."
