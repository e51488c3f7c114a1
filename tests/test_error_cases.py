"""Error cases: each bad spec in tests/errors marks the diagnostics it must give, line by line.

A trailing comment `# E: E401` (errors) or `# W: W504` (warnings), with several codes separated
by spaces, says which codes are reported on that line. The checker must report exactly those
(line, code) pairs: nothing missing, nothing extra. Codes and lines are asserted, never English.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

import nnspec
from nnspec import cli
from nnspec.compiler.pipeline import check_file

ROOT = pathlib.Path(__file__).parent.parent
ERRORS = ROOT / "tests" / "errors"
CASES = sorted(ERRORS.glob("*.nn"))

# The single table of documented diagnostic codes (design §5 ranges: E1xx syntax, E2xx names and
# graph, E3xx arguments, E4xx shapes, E5xx data and training, W for warnings).
CODES = {
    "E100": "cannot read file",
    "E101": "unexpected token",
    "E102": "unexpected character",
    "E103": "unexpected end of file",
    "E104": "bad string escape",
    "E105": "not UTF-8",
    "E106": "number too large",
    "E107": "expression nested too deeply",
    "E201": "undefined name",
    "E202": "defined twice",
    "E203": "used before defined (cycle)",
    "E204": "unknown section kind",
    "E205": "unknown layer, loss, optimizer, scheduler, metric, source or goal",
    "E206": "block instantiates itself",
    "E207": "malformed section",
    "E208": "bad reference in train or search",
    "E209": "wrong kind of expression",
    "E301": "unknown argument",
    "E302": "missing argument",
    "E303": "wrong type",
    "E304": "out of range",
    "E305": "too many positional arguments, or positional after keyword",
    "E306": "argument given twice",
    "E307": "invalid combination of arguments",
    "E401": "a written inferred size disagrees with the input",
    "E402": "wrong rank or dimension",
    "E403": "input smaller than the kernel",
    "E404": "merge of different shapes",
    "E405": "wrong dtype",
    "E406": "wrong number of inputs",
    "E501": "data file missing",
    "E502": "unknown CSV column",
    "E503": "data feature count differs from the model input",
    "E504": "empty data, or samples and targets that do not fit together",
    "E505": "metric does not fit the loss",
    "E506": "train section without data",
    "E507": "trained model without exactly one input and one output",
    "E508": "init pattern matches no layer with parameters",
    "E509": "monitor or search goal names no metrics.csv column",
    "E510": "model over the parameter budget (max_params)",
    "E511": "missing, non-numeric or non-finite value in a CSV column",
    "E512": "more distinct labels than num_classes",
    "E513": "training split smaller than one batch with drop_last",
    "E514": "in_memory = false for a source that is always loaded whole",
    "E601": "Graphviz's dot not found (graph --format svg or png)",
    "E602": "Graphviz's dot failed or timed out",
    "W201": "unused node, or reassigned before use",
    "W301": "lr or momentum outside the usual range",
    "W302": "inplace=true (overwrites its input)",
    "W501": "final activation does not fit the loss",
    "W504": "two linear layers with nothing non-linear between",
    "W505": "dropout as the last layer",
    "W506": "output width differs from the number of classes",
    "W510": "model over a billion parameters",
    "W511": "num_workers for in-memory data",
}

# Codes that cannot come from a spec file's text; the tests named here cover them.
COVERED_IN_PYTHON = {
    "E100": "test_unreadable_path",
    "E105": "test_not_utf8",
    "E601": "test_graphviz_missing",
    "E602": "test_graphviz_failing",
}

MARKER = re.compile(r"#\s*([EW]):((?:\s*[EW]\d{3}\b)+)")


def markers(path: pathlib.Path) -> set[tuple[int, str]]:
    found = set()
    for number, line in enumerate(lines(path.read_text(encoding="utf-8")), 1):
        for m in MARKER.finditer(line):
            codes = m.group(2).split()
            assert all(c[0] == m.group(1) for c in codes), f"{path.name}:{number}: `# {m.group(1)}:` lists {codes}"
            found |= {(number, c) for c in codes}
    return found


def lines(text: str) -> list[str]:
    """As the parser counts them: only a newline ends a line (not a form feed or U+2028)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def assert_spans_valid(result, path: str) -> None:
    lines_ = lines(result.source) if result.source is not None else [""]
    for d in result.diagnostics:
        s = d.span
        where = f"{d.code} at {s.line}:{s.col}-{s.end_line}:{s.end_col}"
        assert s.file == path, where
        assert 1 <= s.line <= len(lines_), where
        assert 1 <= s.col <= len(lines_[s.line - 1]) + 1, where
        assert s.line <= s.end_line <= len(lines_), where
        assert (s.end_line, s.end_col) >= (s.line, s.col), where
        assert d.severity == ("error" if d.code.startswith("E") else "warning"), where


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_error_case(path: pathlib.Path):
    want = markers(path)
    assert want, f"{path.name} marks no diagnostics"
    result = check_file(str(path))
    got = {(d.span.line, d.code) for d in result.diagnostics}
    assert sorted(got - want) == [], "reported but not marked"
    assert sorted(want - got) == [], "marked but not reported"
    assert_spans_valid(result, str(path))
    assert result.ok == (not any(code.startswith("E") for _, code in want))


def test_enough_cases():
    assert len(CASES) >= 45


def test_every_documented_code_is_covered():
    covered = {code for path in CASES for _, code in markers(path)} | set(COVERED_IN_PYTHON)
    assert sorted(set(CODES) - covered) == [], "documented but never exercised"
    assert sorted(covered - set(CODES)) == [], "exercised but not documented"
    assert all(name in globals() for name in COVERED_IN_PYTHON.values())


def test_every_code_nnspec_can_emit_is_documented():
    """A new code appears in the table above (and so needs an error case) before it ships."""
    root = pathlib.Path(nnspec.__file__).parent
    emitted = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[EW]\d{3}", node.value)
            ):
                emitted.add(node.value)
    assert emitted, "no codes found: has the source layout changed?"
    assert sorted(emitted - set(CODES)) == []


def test_unreadable_path(tmp_path):
    for path in (tmp_path / "missing.nn", tmp_path):  # no such file; a directory
        result = check_file(str(path))
        assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("E100", 1, 1)]
        assert not result.ok and result.source is None


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.nn"
    line3 = "    output x -> Linear(3)  # café".encode("latin-1")
    path.write_bytes(b"model M {\n    input x: [4]\n" + line3 + b"\n}\n")
    result = check_file(str(path))
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("E105", 3, line3.index(b"\xe9") + 1)]
    assert not result.ok


def test_graphviz_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    assert cli.main(["graph", str(ROOT / "specs" / "lenet5.nn"), "--format", "svg"]) == 1
    assert capsys.readouterr().err.startswith("error[E601]")


def test_graphviz_failing(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["graph", str(ROOT / "specs" / "lenet5.nn"), "--format", "svg"]) == 1
    assert capsys.readouterr().err.startswith("error[E602]")


def test_byte_order_mark_is_invisible():
    result = check_file(str(ERRORS / "e204_after_byte_order_mark.nn"))
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("E204", 1, 1)]


def test_cases_do_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = ERRORS / "w506_output_width_vs_classes.nn"
    assert {(d.span.line, d.code) for d in check_file(str(path)).diagnostics} == markers(path)
