"""The two-file program's split (linker._kept): which definitions stay in the program and which
go to the support file it imports, by the module-level names each reads."""

from __future__ import annotations

import pytest

from nnspec.compiler.codegen.linker import Definition, Library, _kept

SETTINGS = {"BATCH_SIZE": 16}

# case -> ({name: (library module, source)}, the names the program keeps)
CASES = {
    "a support module's definition that reads no setting goes": (
        {"f": ("errors", "def f():\n    return 1\n")},
        set(),
    ),
    "another module's definition stays": (
        {"g": ("data", "def g():\n    return 1\n")},
        {"g"},
    ),
    "reading a setting keeps it": (
        {"f": ("errors", "def f():\n    return BATCH_SIZE\n")},
        {"f"},
    ),
    "a setting read in a default or a class body keeps it": (
        {
            "f": ("errors", "def f(n=BATCH_SIZE):\n    return n\n"),
            "C": ("errors", "class C:\n    size = BATCH_SIZE\n"),
        },
        {"f", "C"},
    ),
    "calling a kept definition keeps it, and what calls it": (
        {
            "g": ("data", "def g():\n    return 1\n"),
            "f": ("errors", "def f():\n    return g()\n"),
            "h": ("contract", "def h():\n    return f()\n"),
            "k": ("contract", "def k():\n    return 2\n"),
        },
        {"g", "f", "h"},
    ),
    "a parameter or local named like a kept definition is not a use": (
        {
            "g": ("data", "def g():\n    return 1\n"),
            "f": ("errors", "def f(g):\n    return g\n"),
            "h": ("errors", "def h():\n    BATCH_SIZE = 2\n    return [BATCH_SIZE for g in ()]\n"),
        },
        {"g"},
    ),
    "a name read in a nested function is a use": (
        {
            "g": ("data", "def g():\n    return 1\n"),
            "f": ("errors", "def f():\n    def inner():\n        return g()\n    return inner\n"),
        },
        {"g", "f"},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_kept(case):
    given, expected = CASES[case]
    definitions = {name: Definition(name, module, text) for name, (module, text) in given.items()}
    lib = Library(definitions, {}, {})
    assert _kept({name: d.text for name, d in definitions.items()}, lib, SETTINGS) == expected
