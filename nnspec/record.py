"""`record`: immutable value classes, like `dataclass(frozen=True)`, at a seventh of its cost.

Every lint defines some fifty of these at start-up. `dataclasses` generates and compiles five
methods per class and imports `inspect`; together that was a fifth of a ResNet-18 lint. A record
compiles only its `__init__` and shares the other methods.

    @record                 # fields compare by value: __eq__ and __hash__ over the fields
    @record(eq=False)       # compared by identity (AST and IR nodes)

Fields are the class's annotations, in order (`ClassVar[...]` ones excluded); a class attribute
of the same name is the field's default; a mutable one is written `factory(dict)`, which makes a
new one per instance. `__post_init__` runs last.
"""

from __future__ import annotations

import sys

_FIELDS = "__record_fields__"


class factory:
    """A default made anew for each instance: `kinds: dict = factory(dict)`."""

    def __init__(self, make):
        self.make = make


def record(cls=None, /, *, eq: bool = True):
    if cls is None:
        return lambda c: _build(c, eq)
    return _build(cls, eq)


def fields(obj) -> tuple[str, ...]:
    """The field names of a record class or instance, in order."""
    return getattr(obj, _FIELDS)


def replace(obj, **changes):
    """A copy of `obj` with some fields changed, like `dataclasses.replace`."""
    names = fields(obj)
    unknown = [n for n in changes if n not in names]
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {unknown[0]!r}")
    # copied from the instance's dict, not through __init__: expansion replaces every node of a lint
    copy = object.__new__(type(obj))
    values = copy.__dict__
    old = obj.__dict__
    for n in names:
        values[n] = old[n]
    values.update(changes)
    if hasattr(copy, "__post_init__"):
        copy.__post_init__()
    return copy


def _build(cls, eq: bool):
    annotations = cls.__dict__.get("__annotations__", {})
    names = tuple(n for n, t in annotations.items() if not str(t).startswith(("ClassVar", "typing.ClassVar")))
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    setattr(cls, _FIELDS, names)
    cls.__init__ = _init(cls, names, defaults)
    cls.__setattr__ = _frozen
    cls.__delattr__ = _frozen
    cls.__repr__ = _repr
    if eq:
        cls.__eq__ = _eq
        cls.__hash__ = _hash
    return cls


def _init(cls, names: tuple[str, ...], defaults: dict):
    # def __init__(self, a, b=_d_b): d = self.__dict__; d["a"] = a; d["b"] = b
    params = ", ".join(f"{n}=_d_{n}" if n in defaults else n for n in names)
    made = {n for n, v in defaults.items() if isinstance(v, factory)}
    values = {n: f"_d_{n}.make() if {n} is _d_{n} else {n}" if n in made else n for n in names}
    body = "".join(f"    d[{n!r}] = {value}\n" for n, value in values.items())
    if hasattr(cls, "__post_init__"):
        body += "    self.__post_init__()\n"
    source = f"def __init__(self, {params}):\n    d = self.__dict__\n{body}"
    namespace = {f"_d_{n}": v for n, v in defaults.items()}
    exec(_compiled(source), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _frozen(self, name, *args):
    raise AttributeError(f"cannot change {type(self).__name__}.{name}: records are immutable (use replace())")


def _repr(self) -> str:
    inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields(self))
    return f"{type(self).__qualname__}({inner})"


def _values(self) -> tuple:
    return tuple(getattr(self, n) for n in fields(self))


def _eq(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self) -> int:
    return hash(_values(self))


# The __init__ sources compiled, kept in nnspec's cache folder between processes (as the parser's
# tables are): compiling them is most of what defining a record costs, and a lint
# defines about sixty. A source is its own key, so an entry never goes stale.
_CODES: dict | None = None  # source -> code object, read from the cache file on first use
_USED: dict = {}  # the entries this process used: written back at exit if it compiled any
_COMPILED: list = []  # the sources the cache file did not have


def _compiled(source: str):
    global _CODES
    if _CODES is None:
        _CODES = _read_codes()
    code = _CODES.get(source)
    if code is None:
        if not _COMPILED:
            import atexit

            atexit.register(_write_codes)
        _COMPILED.append(source)
        code = _CODES[source] = compile(source, "<record>", "exec")
    _USED[source] = code
    return code


def _codes_name() -> str:
    """Named for the interpreter's bytecode, as a .pyc file is checked against it."""
    from importlib.util import MAGIC_NUMBER

    return f"records_{sys.implementation.cache_tag}_{MAGIC_NUMBER.hex()}.marshal"


def _read_codes() -> dict:
    from nnspec import cache

    codes = cache.load(_codes_name())
    return codes if isinstance(codes, dict) else {}  # none yet, torn or damaged: compile anew


def _write_codes() -> None:
    from nnspec import cache

    cache.keep(_codes_name(), _USED)
