"""The command line as other tools rely on it (design §5): exit codes, output formats, no torch."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys

import pytest

from nnspec import cli
from nnspec.compiler import pipeline
from tests.support import run_cli

CLEAN = """\
model Small {
    input x: [4]
    h = x -> Linear(16) -> ReLU()
    output h -> Linear(3)
}
model Big {
    input x: [4]
    output x -> Linear(64) -> ReLU() -> Linear(3)
}
data blobs {
    source = synthetic(features=4, classes=3)
}
train {
    model = Small
    data = blobs
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
}
"""

WARNS = """\
model M {
    input x: [4]
    output x -> Linear(8) -> Linear(3)
}
"""

BROKEN = """\
model M {
    input x: [4]
    h = x -> Linear(16) -> ReLU()
    output h -> Linear(8, 3)
}
"""
BROKEN_AT = (4, 24)  # the written in_features: 8, where h gives 16

JSON_KEYS = {"file", "line", "col", "end_line", "end_col", "severity", "code", "message", "notes", "help", "labels"}
LABEL_KEYS = {"file", "line", "col", "end_line", "end_col", "message"}

CONCISE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>[EW]\d{3}) \S.*$")


@pytest.fixture
def spec(write):
    return write


run = run_cli


# --- exit codes ---------------------------------------------------------------------------


def test_clean_spec_exits_0(spec, capsys):
    assert run(capsys, "lint", spec(CLEAN))[0] == 0


def test_warnings_alone_exit_0(spec, capsys):
    code, out, _ = run(capsys, "lint", spec(WARNS))
    assert code == 0
    assert "warning[W504]" in out


def test_errors_exit_1(spec, capsys):
    assert run(capsys, "lint", spec(BROKEN))[0] == 1


def test_one_bad_file_among_several_exits_1(spec, capsys):
    code, out, _ = run(capsys, "lint", "--format", "concise", spec(CLEAN, "a.nn"), spec(BROKEN, "b.nn"))
    assert code == 1
    assert [CONCISE.match(line)["code"] for line in out.splitlines()] == ["E401"]


def test_unreadable_file_is_a_spec_error_not_a_crash(tmp_path, capsys):
    code, out, err = run(capsys, "lint", "--format", "json", str(tmp_path / "missing.nn"))
    assert code == 1
    assert [d["code"] for d in json.loads(out)] == ["E100"]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["lint", "--bogus", "x.nn"],  # unknown flag
        ["lint"],  # missing FILE
        ["lint", "--format", "xml", "x.nn"],  # not one of the formats
        ["summary"],  # missing FILE
        ["summary", "x.nn", "--format", "yaml"],
        ["frobnicate", "x.nn"],  # unknown command
        [],  # no command
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err


def test_help_and_version_exit_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "lint" in out and "summary" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and re.search(r"\d+\.\d+", out)


def test_internal_error_exits_123(spec, capsys, monkeypatch):
    def broken_pass(*args, **kwargs):
        raise RuntimeError("simulated bug in a pass")

    monkeypatch.setattr(pipeline, "resolve_names", broken_pass)
    code, out, err = run(capsys, "lint", spec(CLEAN))
    assert code == 123
    assert out == ""
    assert "RuntimeError" in err and "simulated bug in a pass" in err


def test_internal_error_in_summary_exits_123(spec, capsys, monkeypatch):
    monkeypatch.setattr(pipeline, "infer_shapes", lambda *a, **k: 1 / 0)
    assert run(capsys, "summary", spec(CLEAN))[0] == 123


# --- lint formats -------------------------------------------------------------------------


def test_full_format(spec, capsys):
    path = spec(BROKEN)
    code, out, _ = run(capsys, "lint", path)
    line, col = BROKEN_AT
    assert code == 1
    assert "error[E401]: " in out
    assert f" --> {path}:{line}:{col}" in out
    source_line = BROKEN.splitlines()[line - 1]
    lines = out.splitlines()
    excerpt = next(i for i, text in enumerate(lines) if text.endswith("| " + source_line))
    carets = lines[excerpt + 1]
    assert carets.index("^") - carets.index("|") - 2 == col - 1  # under the offending argument
    assert set(carets.split("|", 1)[1].strip()) == {"^"}
    assert lines[excerpt].index(source_line) == carets.index("^") - (col - 1)


def test_full_format_notes_and_help(spec, capsys):
    out = run(capsys, "lint", spec(BROKEN))[1]
    assert re.search(r"^ += note: ", out, re.M)
    assert re.search(r"^ += help: ", out, re.M)


def test_concise_format(spec, capsys):
    path = spec(BROKEN)
    code, out, _ = run(capsys, "lint", "--format", "concise", path)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 1
    m = CONCISE.match(lines[0])
    assert m, lines[0]
    assert (m["file"], int(m["line"]), int(m["col"]), m["code"]) == (path, *BROKEN_AT, "E401")


def test_concise_format_is_one_line_per_diagnostic(spec, capsys):
    text = "model M {\n    input x: [4]\n    a = x -> Relu()\n    b = x -> Lineer(3)\n    output a + b\n}\n"
    out = run(capsys, "lint", "--format", "concise", spec(text))[1]
    assert [CONCISE.match(line)["code"] for line in out.splitlines()] == ["E205", "E205"]


def test_concise_format_is_empty_for_a_clean_spec(spec, capsys):
    assert run(capsys, "lint", "--format", "concise", spec(CLEAN)) == (0, "", "")


def test_json_format(spec, capsys):
    path = spec(BROKEN)
    code, out, _ = run(capsys, "lint", "--format", "json", path)
    assert code == 1
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert set(row) == JSON_KEYS
    assert (row["file"], row["line"], row["col"], row["code"], row["severity"]) == (path, *BROKEN_AT, "E401", "error")
    assert (row["end_line"], row["end_col"]) >= (row["line"], row["col"])
    assert isinstance(row["message"], str) and row["message"]
    assert isinstance(row["notes"], list) and all(isinstance(n, str) for n in row["notes"])
    assert row["help"] is None or isinstance(row["help"], str)
    assert isinstance(row["labels"], list) and all(set(x) == LABEL_KEYS for x in row["labels"])


def test_json_format_warnings_and_clean(spec, capsys):
    code, out, _ = run(capsys, "lint", "--format", "json", spec(WARNS))
    assert code == 0
    assert [(r["code"], r["severity"]) for r in json.loads(out)] == [("W504", "warning")]
    assert all(set(r) == JSON_KEYS for r in json.loads(out))
    assert json.loads(run(capsys, "lint", "--format", "json", spec(CLEAN))[1]) == []


def test_json_format_several_files(spec, capsys):
    a, b = spec(BROKEN, "a.nn"), spec(WARNS, "b.nn")
    rows = json.loads(run(capsys, "lint", "--format", "json", a, b)[1])
    assert [(r["file"], r["code"]) for r in rows] == [(a, "E401"), (b, "W504")]


# --- summary ------------------------------------------------------------------------------


def test_summary_json(spec, capsys):
    code, out, _ = run(capsys, "summary", spec(CLEAN), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {"model", "inputs", "layers", "total_params", "trainable_params"} <= set(data)
    assert data["model"] == "Small"  # the train section's model
    assert data["inputs"] == {"x": ["N", 4]}
    assert data["layers"], "no layers"
    for layer in data["layers"]:
        assert {"name", "kind", "output_shape", "params", "trainable"} <= set(layer)
        assert isinstance(layer["name"], str) and isinstance(layer["kind"], str)
        assert layer["output_shape"][0] == "N"
        assert isinstance(layer["params"], int) and isinstance(layer["trainable"], bool)
    assert [layer["kind"] for layer in data["layers"]] == ["Linear", "ReLU", "Linear"]
    assert [layer["output_shape"] for layer in data["layers"]] == [["N", 16], ["N", 16], ["N", 3]]
    assert data["total_params"] == 4 * 16 + 16 + 16 * 3 + 3 == sum(layer["params"] for layer in data["layers"])
    assert data["trainable_params"] == data["total_params"]


def test_summary_model_option(spec, capsys):
    code, out, _ = run(capsys, "summary", spec(CLEAN), "--model", "Big", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "Big"
    assert data["total_params"] == 4 * 64 + 64 + 64 * 3 + 3


def test_summary_text(spec, capsys):
    code, out, _ = run(capsys, "summary", spec(CLEAN))
    assert code == 0
    assert "(N, 16)" in out and "(N, 3)" in out and "131" in out


def test_summary_unknown_model_exits_2(spec, capsys):
    code, out, err = run(capsys, "summary", spec(CLEAN), "--model", "Nope")
    assert code == 2
    assert out == ""
    assert "Nope" in err


def test_summary_of_a_broken_spec_exits_1(spec, capsys):
    code, out, err = run(capsys, "summary", spec(BROKEN), "--format", "json")
    assert code == 1
    assert out == ""
    assert "error[E401]" in err


def test_summary_of_a_spec_without_models_exits_1(spec, capsys):
    code, out, _ = run(capsys, "summary", spec("# nothing here\n"))
    assert code == 1
    assert out == ""


# --- lint stays light: no torch, torchmetrics or black -------------------------------------

HEAVY = ("torch", "torchmetrics", "black")
PROBE = """\
import json, sys
from nnspec.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
catalogue = "nnspec.catalogue" in sys.modules
sys.stderr.write(json.dumps({{"code": code, "heavy": heavy, "catalogue": catalogue}}) + "\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["lint", "{spec}"],
        ["lint", "--format", "json", "{spec}"],
        ["summary", "{spec}", "--format", "json"],
        ["--help"],
        ["lint", "--help"],
        ["explain", "E401"],
        ["explain"],
    ],
    ids=["lint", "lint-json", "summary", "help", "lint-help", "explain", "explain-all"],
)
def test_lint_summary_and_help_do_not_import_heavy_modules(argv, spec, tmp_path):
    path = spec(CLEAN)
    probe = PROBE.format(heavy=HEAVY)
    argv = [a.format(spec=path) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert report["heavy"] == []
    assert report["catalogue"] == (argv[0] == "explain")  # lint keeps its literal codes, never the catalogue


def test_exit_status_reaches_the_shell(spec, tmp_path):
    for text, argv, want in ((BROKEN, ["lint"], 1), (CLEAN, ["lint", "--bogus"], 2), (WARNS, ["lint"], 0)):
        proc = subprocess.run(
            [sys.executable, "-m", "nnspec", *argv, spec(text)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert proc.returncode == want, proc.stderr


def test_summary_symbolic_sizes(spec, capsys):
    text = "model M {\n    input x: [3, H, W]\n    output x -> Conv2d(8, 3) -> Conv2d(4, 3, stride=2, padding=1) -> Flatten()\n}\n"
    code, out, _ = run(capsys, "summary", spec(text), "--format", "json")
    assert code == 0
    shapes = [layer["output_shape"] for layer in json.loads(out)["layers"]]
    # PyTorch: out = (L + 2p - k) // s + 1, so H -> H-2 -> (H-2+2-3)//2+1
    assert shapes[0] == ["N", 8, "H-2", "W-2"]
    assert shapes[1] == ["N", 4, "(H-2-1)//2+1", "(W-2-1)//2+1"]
    assert shapes[2] == ["N", "4*((H-2-1)//2+1)*((W-2-1)//2+1)"]


def test_a_csv_with_another_delimiter_says_which(capsys):
    code, out, _ = run_cli(capsys, "lint", "tests/errors/e502_another_delimiter.nn")
    assert code == 1 and 'delimiter=";"' in out


@pytest.mark.parametrize("command,paused", [("lint", True), ("graph", True), ("summary", True), ("compile", False)])
def test_read_only_commands_pause_the_collector_and_restore_it(command, paused, monkeypatch):
    seen = []
    monkeypatch.setitem(cli.COMMANDS, command, lambda args: seen.append(gc.isenabled()) or 0)
    assert cli.main([command, "examples/iris.nn"]) == 0
    assert seen == [not paused]
    assert gc.isenabled()


def test_a_block_named_as_the_model_says_it_is_a_block(capsys):
    code, out, _ = run_cli(capsys, "lint", "--format", "json", "tests/errors/e208_a_block_as_the_model.nn")
    [found] = json.loads(out)
    assert code == 1 and found["code"] == "E208"
    assert found["message"] == "`Head` is a block, not a model" and "output x -> Head()" in found["help"]


SECTION_MODULES = ["nnspec.compiler.schema", "nnspec.kinds.losses", "nnspec.kinds.optim", "nnspec.kinds.sources"]
IMPORTED = "import sys; from nnspec.cli import main; main(['lint', sys.argv[1]]); print([m for m in sys.argv[2:] if m in sys.modules])"


@pytest.mark.parametrize("spec, imported", [("specs/resnet18.nn", []), ("examples/iris.nn", SECTION_MODULES)])
def test_only_a_spec_with_data_or_train_sections_loads_their_schema_and_registries(spec, imported):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    argv = [sys.executable, "-c", IMPORTED, os.path.join(root, spec), *SECTION_MODULES]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == repr(imported)
