"""The catalogue of diagnostic codes (nnspec/codes/): complete, consistent, shipped, its examples true; `nnspec explain`."""

from __future__ import annotations

import fnmatch
import pathlib
import re

import pytest

from nnspec import catalogue
from nnspec.compiler.pipeline import check_source
from tests.support import run_cli as run
from tests.test_error_cases import CASES, COVERED_IN_PYTHON, markers

ENTRIES = catalogue.load()
LINTED = [e for e in ENTRIES if e.wrong.linted]
PYPROJECT = pathlib.Path(__file__).parent.parent / "pyproject.toml"


def lint(entry: catalogue.Entry, example: catalogue.Example):
    """An example linted as if it were the file nnspec/codes/<code>.nn (data paths resolve there)."""
    return check_source(example.text, str(catalogue.FOLDER / f"{entry.code}.nn"))


def test_every_entry_is_complete():
    assert len(ENTRIES) >= 50
    for e in ENTRIES:
        assert e.summary.strip() and e.explanation.strip(), e.code
        assert e.wrong.text.strip() and e.fixed.text.strip(), e.code
        assert e.wrong.text != e.fixed.text, e.code
        assert len(re.findall(r"\.\s", e.explanation + " ")) >= 2, f"{e.code}: a few sentences: what, why, how to fix"


def test_codes_are_unique_and_in_order():
    codes = [e.code for e in ENTRIES]
    assert codes == sorted(set(codes))


def test_severity_follows_the_letter():
    assert {e.code for e in ENTRIES if e.severity != ("error" if e.code[0] == "E" else "warning")} == set()


@pytest.mark.parametrize("entry", LINTED, ids=[e.code for e in LINTED])
def test_wrong_example_gives_its_code(entry):
    got = {(d.code, d.severity) for d in lint(entry, entry.wrong).diagnostics}
    assert got == {(entry.code, entry.severity)}


@pytest.mark.parametrize("entry", LINTED, ids=[e.code for e in LINTED])
def test_fixed_example_is_clean(entry):
    assert [(d.code, d.message) for d in lint(entry, entry.fixed).diagnostics] == []


def test_only_codes_no_spec_text_gives_have_command_line_examples():
    """A code that lint reports for some spec has spec examples, both linted."""
    from_specs = {code for path in CASES for _, code in markers(path)}
    unlinted = {e.code for e in ENTRIES if not (e.wrong.linted and e.fixed.linted)}
    assert unlinted & from_specs == set()
    assert unlinted <= set(COVERED_IN_PYTHON), "a code only the runtime gives? cover it like these"


def test_the_catalogue_and_its_data_are_packaged():
    # tomllib is Python 3.11+; the package-data line is one line: nnspec = ["grammar.lark", ...]
    line = re.search(r"^nnspec = \[(.*)\]", PYPROJECT.read_text(), re.M)
    patterns = re.findall(r'"([^"]+)"', line.group(1))
    root = catalogue.FOLDER.parent
    files = [p.relative_to(root).as_posix() for p in catalogue.FOLDER.rglob("*") if p.is_file()]
    assert [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []


def test_a_malformed_entry_is_refused(tmp_path):
    good = (catalogue.FOLDER / "E401.md").read_text()
    broken = {
        "E401.md": good.replace("## Fixed", "## Fix"),
        "E402.md": good,  # the heading names another code
        "E403.md": good.replace("E401", "E403").replace("```nn", "```python", 1),
    }
    for name, text in broken.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=name):
            catalogue.parse(tmp_path / name)


# --- nnspec explain -----------------------------------------------------------------------


def test_explain_prints_the_whole_entry(capsys):
    entry = catalogue.parse(catalogue.FOLDER / "E401.md")
    code, out, err = run(capsys, "explain", "E401")
    assert (code, err) == (0, "")
    assert out.startswith(f"E401 (error): {entry.summary}\n")
    indented = [("\n".join(f"    {line}" for line in x.text.splitlines())) for x in (entry.wrong, entry.fixed)]
    at = 0
    for part in (entry.explanation, "Wrong:", indented[0], "Fixed:", indented[1]):  # all of them, in this order
        at = out.index(part, at) + len(part)


def test_explain_takes_lower_case(capsys):
    assert run(capsys, "explain", "w504")[1] == run(capsys, "explain", "W504")[1]


def test_explain_unknown_code_is_a_usage_error_with_a_suggestion(capsys):
    code, out, err = run(capsys, "explain", "E4O1")
    assert (code, out) == (2, "")
    assert "E401" in err
    code, out, err = run(capsys, "explain", "X1")
    assert (code, out) == (2, "") and "X1" in err


def test_explain_without_a_code_lists_every_code(capsys):
    code, out, _ = run(capsys, "explain")
    assert code == 0
    rows = [line.split(None, 2) for line in out.splitlines()]
    assert [(c, s, summary) for c, s, summary in rows] == [(e.code, e.severity, e.summary) for e in catalogue.load()]
