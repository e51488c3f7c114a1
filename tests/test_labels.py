"""Secondary locations as labelled spans: rendered in full format, kept off concise, listed in JSON."""

from __future__ import annotations

import json

import pytest

from tests.support import run_cli as run
from tests.test_cli import LABEL_KEYS

# Two secondary labels: the first definition, and (inside a block) the block's use.
TWICE = """\
model Net {
    input x: [4]
    output x -> Linear(3)
}
model Net {
    input x: [4]
    output x -> Linear(2)
}
"""
IN_BLOCK = """\
block Head(n) {
    input x
    output x -> Linear(16, n)
}
model M {
    input x: [4]
    output x -> Head(3)
}
"""


@pytest.fixture
def spec(write):
    return write


def test_full_format_secondary_labels(spec, capsys):
    path = spec(TWICE)
    out = run(capsys, "lint", path)[1]
    assert out.split("\n\n")[0] == (
        f"error[E202]: `Net` is defined twice\n"
        f"  --> {path}:5:7\n"
        "   |\n"
        " 1 | model Net {\n"
        "   |       --- first defined here, as a model\n"
        "...\n"
        " 5 | model Net {\n"
        "   |       ^^^"
    )


def test_full_format_labels_on_several_lines(spec, capsys):
    path = spec(IN_BLOCK)
    out = run(capsys, "lint", path)[1]
    assert out.split("   = note")[0] == (
        f"error[E401]: Linear: in_features is written as 16, but the input (N, 4) gives 4 (in `output`)\n"
        f"  --> {path}:3:24\n"
        "   |\n"
        " 2 |     input x\n"
        "   |           - input `x` gives (N, 4)\n"
        " 3 |     output x -> Linear(16, n)\n"
        "   |                        ^^\n"
        "...\n"
        " 7 |     output x -> Head(3)\n"
        "   |                 ------- in this use of block `Head`\n"
    )


def test_concise_format_stays_one_line_with_labels(spec, capsys):
    path = spec(TWICE)
    assert run(capsys, "lint", "--format", "concise", path)[1] == f"{path}:5:7: E202 `Net` is defined twice\n"


def test_json_format_labels(spec, capsys):
    path = spec(IN_BLOCK)
    (row,) = json.loads(run(capsys, "lint", "--format", "json", path)[1])
    assert all(set(label) == LABEL_KEYS for label in row["labels"])
    where = [(x["file"], x["line"], x["col"], x["end_line"], x["end_col"]) for x in row["labels"]]
    assert where == [(path, 2, 11, 2, 12), (path, 7, 17, 7, 24)]
    assert all(isinstance(x["message"], str) and x["message"] for x in row["labels"])
