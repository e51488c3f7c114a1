"""`nnspec export`: a checked model with a checkpoint's weights as one verified ONNX or `.pt2` file.

The command line reads this module before anything is exported: it imports neither torch nor
ONNX. The work is in pipeline.py; each step has its own module.
"""

from __future__ import annotations

import os

from nnspec.record import record

FORMATS = ("onnx", "exported-program")
SUFFIXES = {".onnx": "onnx", ".pt2": "exported-program"}
EXTRA = "pip install 'nnspec[export]'"


class ExportError(Exception):
    """What stops an export, with its code (E621-E623, E626, E603 or E612, or the checkpoint's E501/E608) and a hint."""

    def __init__(self, code: str, message: str, help: str | None = None, layer: str | None = None):
        super().__init__(f"{code} {message}")
        self.code, self.message, self.help = code, message, help
        self.layer = layer  # the layer found at fault (E622, E623), as summary names it

    def render(self) -> str:
        text = f"error[{self.code}]: {self.message}"
        return text + (f"\n   = help: {self.help}" if self.help else "")


@record
class ExportOptions:
    """What `nnspec export` was asked for."""

    checkpoint: str
    output: str
    format: str  # one of FORMATS
    force: bool = False
    verify: bool = True


def pick_format(written: str | None, output: str | None) -> str:
    """--format if given, else the suffix of -o (model.pt2), else ONNX."""
    if written:
        return written
    return SUFFIXES.get(os.path.splitext(output or "")[1].lower(), "onnx")


def default_output(spec: str, fmt: str) -> str:
    """`<spec name>.onnx` (or `.pt2`) in the current folder."""
    suffix = next(s for s, f in SUFFIXES.items() if f == fmt)
    return os.path.splitext(os.path.basename(spec))[0] + suffix
