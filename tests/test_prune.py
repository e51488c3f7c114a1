"""The linker's source-level pruning: each case is library text, the spec's settings, and what a
program receives; and the pruned text behaves as the original under those settings."""

from __future__ import annotations

import textwrap

import pytest

from nnspec.compiler.codegen.prune import UNKNOWN, decide, drop_unused_keywords, prune


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = {
    "a decided if keeps its body": (
        """
        def f(x):
            if SHUFFLE:
                x = x[::-1]
            return x
        """,
        {"SHUFFLE": True},
        """
        def f(x):
            x = x[::-1]
            return x
        """,
    ),
    "a decided-false if without else goes": (
        """
        def f(x):
            if ACCUMULATE > 1:
                x = x / ACCUMULATE
            return x
        """,
        {"ACCUMULATE": 1},
        """
        def f(x):
            return x
        """,
    ),
    "else taken": (
        """
        def f(x):
            if METRICS:
                y = 1
            else:
                y = 2
            return y
        """,
        {"METRICS": ()},
        """
        def f(x):
            y = 2
            return y
        """,
    ),
    "an elif becomes the if": (
        """
        def f(x):
            if MODE == "a":
                return 1
            elif x:
                return 2
            return 3
        """,
        {"MODE": "b"},
        """
        def f(x):
            if x:
                return 2
            return 3
        """,
    ),
    "an elif taken becomes the else": (
        """
        def f(x):
            if x:
                y = 1
            elif len(SHAPE) > 1:
                y = 2
            else:
                y = 3
            return y
        """,
        {"SHAPE": (4, 3)},
        """
        def f(x):
            if x:
                y = 1
            else:
                y = 2
            return y
        """,
    ),
    "an elif not taken goes, its else stays": (
        """
        def f(x):
            if x:
                y = 1
            elif len(SHAPE) > 1:
                y = 2
            else:
                y = 3
            return y
        """,
        {"SHAPE": (3,)},
        """
        def f(x):
            if x:
                y = 1
            else:
                y = 3
            return y
        """,
    ),
    "an elif not taken goes, the next elif continues": (
        """
        def f(x):
            if x == 1:
                y = 1
            elif MODE == "a":
                y = 2
            elif x == 2:
                y = 3
            return y
        """,
        {"MODE": "b"},
        """
        def f(x):
            if x == 1:
                y = 1
            elif x == 2:
                y = 3
            return y
        """,
    ),
    "a conditional expression": (
        """
        def f(out):
            return out.movedim(-1, 1) if POSITIONS else out
        """,
        {"POSITIONS": False},
        """
        def f(out):
            return out
        """,
    ),
    "a partly decided condition is shortened": (
        """
        def f(i):
            if ACCUMULATE == 1 or i % ACCUMULATE == 0:
                step()
        """,
        {"ACCUMULATE": 4},
        """
        def f(i):
            if i % ACCUMULATE == 0:
                step()
        """,
    ),
    "len of a setting": (
        """
        def f(y):
            if len(OUTPUT_SHAPE) > 1:
                y = y.long()
            return y
        """,
        {"OUTPUT_SHAPE": (3,)},
        """
        def f(y):
            return y
        """,
    ),
    "what a taken return leaves unreachable goes": (
        """
        def f(x):
            if CHECK:
                return x
            x = x + 1
            return x
        """,
        {"CHECK": True},
        """
        def f(x):
            return x
        """,
    ),
    "an emptied block gets pass": (
        """
        for x in range(3):
            if VERBOSE:
                print(x)
        """,
        {"VERBOSE": False},
        """
        for x in range(3):
            pass
        """,
    ),
    "what the spec does not decide stays": (
        """
        def f(x):
            if x > LIMIT:
                return LIMIT
            return x
        """,
        {},
        """
        def f(x):
            if x > LIMIT:
                return LIMIT
            return x
        """,
    ),
}


@pytest.mark.parametrize("text, settings, expected", CASES.values(), ids=CASES)
def test_prune(text, settings, expected):
    assert prune(dedent(text), settings) == dedent(expected)


@pytest.mark.parametrize(
    "expression, value",
    [
        ("A and B", UNKNOWN),
        ("A or B", True),
        ("not C", UNKNOWN),
        ("len(S) == 2", True),
        ("len(D)", UNKNOWN),
        ("len(N)", UNKNOWN),  # a number has no length: left to run time, never a crash here
        ("S == (1, 2)", True),
        ("'x' in S", False),
    ],
)
def test_decide(expression, value):
    import ast

    decided = decide(ast.parse(expression, mode="eval").body, {"A": True, "S": (1, 2), "N": 3})
    assert decided is UNKNOWN if value is UNKNOWN else decided == value


def test_a_keyword_no_line_reads_is_dropped_with_the_arguments_for_it():
    text = dedent(
        """
        def train_epoch(model, *, metrics=None, report=None):
            return model(report)


        def fit(model):
            return train_epoch(model, metrics={"a": 1}, report=print)
        """
    )
    assert drop_unused_keywords(text) == dedent(
        """
        def train_epoch(model, *, report=None):
            return model(report)


        def fit(model):
            return train_epoch(model, report=print)
        """
    )


@pytest.mark.parametrize("settings", [{"SHUFFLE": s, "ACCUMULATE": a} for s in (True, False) for a in (1, 3)])
def test_pruned_code_computes_what_the_original_does(settings):
    text = dedent(
        """
        def steps(xs):
            done = []
            for i, x in enumerate(xs[::-1] if SHUFFLE else xs):
                if ACCUMULATE == 1 or (i + 1) % ACCUMULATE == 0:
                    done.append(x)
                elif ACCUMULATE > 1 and SHUFFLE:
                    done.append(-x)
            return done
        """
    )
    original, pruned = dict(settings), dict(settings)
    exec(text, original)
    exec(prune(text, settings), pruned)
    assert pruned["steps"](list(range(7))) == original["steps"](list(range(7)))
