"""Execute a generated program in memory, its source registered so tracebacks show its lines."""

from __future__ import annotations

import itertools
import linecache
import os
import sys
import types

_LOADED = itertools.count()


def load_program(source: str, spec_path: str) -> dict:
    """The namespace of the generated program for `spec_path` (its main() is not run).

    The program is a module in sys.modules, as an imported one would be: what a DataLoader
    worker sends back (a batch, a DataError) is pickled by reference to its classes.
    """
    filename = os.path.abspath(spec_path) + ".py"  # shown in tracebacks; never written
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(f"nnspec_program_{next(_LOADED)}")
    module.__file__ = filename
    sys.modules[module.__name__] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module.__dict__
