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
from nnspec import catalogue, cli
from nnspec.compiler.pipeline import check_file
from tests import test_export  # noqa: F401 (COVERED_IN_PYTHON names it: nnspec export's codes)
from tests.test_run_errors import COVERED as RUN_COVERED

ROOT = pathlib.Path(__file__).parent.parent
ERRORS = ROOT / "tests" / "errors"
CASES = sorted(ERRORS.glob("*.nn"))

# The documented diagnostic codes: the catalogue in nnspec/codes/ (design §5 ranges: E1xx syntax,
# E2xx names and graph, E3xx arguments, E4xx shapes, E5xx data and training, W for warnings).
CODES = {entry.code: entry for entry in catalogue.load()}

# Codes that cannot come from a spec file's text; the tests named here cover them.
COVERED_IN_PYTHON = {
    "E100": "test_unreadable_path",
    "E105": "test_not_utf8",
    "E601": "test_graphviz_missing",
    "E602": "test_graphviz_failing",
    # In tests/test_export.py: test_without_the_export_extra (E621), test_a_layer_that_fixes_a_symbolic_size
    # (E622), test_a_layer_onnx_computes_differently (E623), test_an_existing_file_is_replaced_only_if_nnspec_wrote_it
    # (E612), test_a_missing_folder (E603), test_a_symbolic_size_the_model_takes_at_one_value (E626).
    **dict.fromkeys(("E621", "E622", "E623", "E626"), "test_export"),
}
# The run half's codes, covered by the table of tests/test_run_errors.py.
COVERED_IN_PYTHON |= {code: "test_run_errors.test_run_error_case" for code in RUN_COVERED}
COVERED_IN_PYTHON |= {
    "E609": "test_run_errors.test_a_full_disk_keeps_the_last_checkpoint",
    "E610": "test_run.test_a_nan_loss_in_the_first_epoch_stops_cleanly",
    "E611": "test_workflow.test_streamed_workers_without_fork_are_an_error_not_a_traceback",
    "E520": "test_zoo.test_safetensors_without_the_package_is_a_coded_error",
}
# Training under torchrun, precision and compile: tests/test_distributed.py, tests/test_precision.py.
COVERED_IN_PYTHON |= {
    "E630": "test_distributed.test_a_port_in_use_is_refused_before_starting",
    "E631": "test_distributed.test_more_processes_than_samples_in_a_batch_is_refused",
    "E632": "test_precision.test_fp16_on_the_cpu_is_refused_pointing_to_bf16",
    "E633": "test_distributed.test_kill_9_of_the_launcher_then_resume_equals_the_uninterrupted_run",
    "E634": "test_distributed.test_launch_options_out_of_range_are_usage_errors",
    "E635": "test_distributed.test_a_worker_that_dies_without_a_message_is_e635",
    "E636": "test_precision.test_compile_without_a_cpp_compiler_is_a_coded_error",
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
        for s in (d.span, *(span for span, _ in d.labels)):
            where = f"{d.code} at {s.line}:{s.col}-{s.end_line}:{s.end_col}"
            assert s.file == path, where
            assert 1 <= s.line <= len(lines_), where
            assert 1 <= s.col <= len(lines_[s.line - 1]) + 1, where
            assert s.line <= s.end_line <= len(lines_), where
            assert (s.end_line, s.end_col) >= (s.line, s.col), where
        assert d.severity == CODES[d.code].severity, d.code  # as the catalogue documents it


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
    assert all(name in globals() for name in COVERED_IN_PYTHON.values() if "." not in name)


def test_every_code_nnspec_can_emit_is_documented():
    """A new code has its catalogue entry (and so needs an error case) before it ships."""
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
    for path in root.rglob("*.j2"):  # the generated program's own checks: DataError("E511", ...)
        emitted |= set(re.findall(r"[\"']([EW]\d{3})[\"']", path.read_text(encoding="utf-8")))
    assert emitted, "no codes found: has the source layout changed?"
    assert sorted(emitted - set(CODES)) == []


def test_unreadable_path(tmp_path):
    for path in (tmp_path / "missing.nn", tmp_path):  # no such file; a directory
        result = check_file(str(path))
        assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("E100", 1, 1)]
        assert not result.ok and result.source is None
        assert result.diagnostics[0].severity == CODES["E100"].severity


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.nn"
    line3 = "    output x -> Linear(3)  # café".encode("latin-1")
    path.write_bytes(b"model M {\n    input x: [4]\n" + line3 + b"\n}\n")
    result = check_file(str(path))
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("E105", 3, line3.index(b"\xe9") + 1)]
    assert not result.ok
    assert result.diagnostics[0].severity == CODES["E105"].severity


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
