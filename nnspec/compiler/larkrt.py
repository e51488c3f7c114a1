"""Lark for grammar.lark without importing lark at every start.

The first parse writes lark's standalone parser for the packaged grammar (its parse tables and
lark's runtime classes, one module) into the user's cache folder; later processes import that
module, which costs a fraction of `import lark`. When the folder cannot be written, or the module
cannot be loaded, lark itself is used: same parser, same trees, same exceptions' attributes.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import typing
import zlib

from nnspec import __version__, cache

OPTIONS = {"parser": "lalr", "lexer": "basic", "propagate_positions": True, "maybe_placeholders": True}


class Runtime:
    """The parser and the lark names parser.py uses, from either source."""

    def __init__(self, module, parser):
        self.parser = parser
        self.Transformer_NonRecursive = module.Transformer_NonRecursive
        self.v_args = module.v_args
        self.UnexpectedInput = module.UnexpectedInput
        self.UnexpectedCharacters = module.UnexpectedCharacters


def grammar_text() -> str:
    # Package data beside the package, never the working directory; importlib.resources would
    # cost lint a dozen imports.
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "grammar.lark"), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def runtime() -> Runtime:
    grammar = grammar_text()
    path = cached_path(grammar)
    if path is not None:
        try:
            if not os.path.exists(path):
                _write_standalone(grammar, path)
            module = _import(path)
            return Runtime(module, module.Lark_StandAlone())
        except Exception:  # an unwritable folder, a damaged cache file: lark itself still works
            pass
    import lark

    return Runtime(lark, lark.Lark(grammar, **OPTIONS))


def cached_path(grammar: str) -> str | None:
    key = zlib.crc32(f"{__version__}\n{sorted(OPTIONS.items())}\n{_LIGHTER}\n{grammar}".encode())
    return os.path.join(cache.folder(), f"parser_{key:08x}.py")


def _write_standalone(grammar: str, path: str) -> None:
    import lark
    from lark.tools.standalone import gen_standalone

    from nnspec.files import write_atomic

    buffer = io.StringIO()
    gen_standalone(lark.Lark(grammar, **OPTIONS), out=buffer)
    source = _lighter(buffer.getvalue())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, source)


# Work the standalone module does at load and a parse never needs: uncompressed tables need no
# pickle, zlib or base64; its type annotations need not be evaluated; lark's logger, `inspect`
# (for v_args on a class) and `dataclasses` (one small class) are made lazy or replaced.
# Together they were a fifth of a ResNet-18 lint.
_LIGHTER = (
    (
        "\n__version__ = ",
        "\nfrom __future__ import annotations  # nnspec: annotations are not evaluated\n__version__ = ",
    ),
    ("\nimport pickle, zlib, base64\n", "\n"),
    ("\nimport logging\n", "\n"),
    (
        'logger: logging.Logger = logging.getLogger("lark")\nlogger.addHandler(logging.StreamHandler())\n',
        "class _Logger:\n"
        "    def __getattr__(self, name):  # nnspec: lark's logger, set up on first use\n"
        "        import logging\n"
        "        global logger\n"
        '        logger = logging.getLogger("lark")\n'
        "        logger.addHandler(logging.StreamHandler())\n"
        "        logger.setLevel(logging.CRITICAL)\n"
        "        return getattr(logger, name)\n"
        "logger = _Logger()\n",
    ),
    ("\nlogger.setLevel(logging.CRITICAL)\n", "\n"),
    ("\nfrom dataclasses import dataclass\n", "\nfrom nnspec.record import record as dataclass\n"),
    ("\n@dataclass(frozen=True)\nclass TextSlice(", "\n@dataclass\nclass TextSlice("),
    (
        "\nfrom inspect import getmembers, getmro\n",
        "\ndef getmembers(obj):  # nnspec: inspect imported on first use\n"
        "    import inspect\n"
        "    return inspect.getmembers(obj)\n"
        "def getmro(cls):\n"
        "    return cls.__mro__\n",
    ),
)


def _lighter(source: str) -> str:
    """The standalone source with _LIGHTER applied; unchanged if any of them does not apply exactly once."""
    if any(source.count(old) != 1 for old, _ in _LIGHTER):
        return source  # another lark version: slower to load, but lark's own code
    for old, new in _LIGHTER:
        source = source.replace(old, new)
    return source


def _import(path: str):
    spec = importlib.util.spec_from_file_location("nnspec_lark_standalone", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # lark 1.3's standalone output calls typing.cast in Transformer_NonRecursive without importing it
    vars(module).setdefault("cast", typing.cast)
    return module
