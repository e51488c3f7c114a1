"""Execute a generated program in memory, its source registered so tracebacks show its lines."""

from __future__ import annotations

import linecache
import os


def load_program(source: str, spec_path: str) -> dict:
    """The namespace of the generated program for `spec_path` (its main() is not run)."""
    filename = os.path.abspath(spec_path) + ".py"  # shown in tracebacks; never written
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"__name__": "nnspec_program", "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    return namespace
