"""Hostile and broken input: nnspec answers with diagnostics, never a crash, a hang or exit 123.

Every input is checked the same way (`checked` for text, `linted` for files through
`nnspec lint --format json`): the call returns within a time bound, never raises, exits 0 or 1
(1 exactly when there is an error), and every diagnostic has a valid position (1 <= line <=
number of lines + 1, col >= 1). Generated inputs: random bytes written to files (non-UTF-8
included), the shipped specs truncated, with a character deleted or doubled, a token replaced
by a hostile value, and token soups. Fixed inputs: deep nesting, enormous numbers, absurd
sizes, 1 MB lines, NUL bytes, a comment only, devices named as data files.

The generated code is safe against hostile names and strings: keywords, builtins and dunders
as names, and code-like payloads in every string position of a spec (data paths, column names,
init/freeze/layer_lr patterns, `from`) give a program whose AST calls no eval/exec/os.system/
__import__/subprocess, that imports without running the payload, and where the payload appears
only inside string literals.

NNSPEC_FUZZ_EXAMPLES scales the number of generated inputs (default 500 in all); runs are
derandomized.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
import os
import pathlib
import re
import sys
import tokenize

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnspec.cli import main
from nnspec.compiler.codegen import Target, generate, generate_models
from nnspec.compiler.names import safe_variable
from nnspec.compiler.parser import MAX_NESTING
from nnspec.compiler.pipeline import check_file, check_source
from tests import timeouts
from tests.support import train_in

ROOT = pathlib.Path(__file__).parent.parent
SPECS = sorted([*ROOT.glob("specs/*.nn"), *ROOT.glob("examples/*.nn")])
TEXTS = {path: path.read_text(encoding="utf-8") for path in SPECS}
SECONDS = 10  # per input; each takes milliseconds, the 1 MB ones about a second
EXAMPLES = int(os.environ.get("NNSPEC_FUZZ_EXAMPLES", "500"))

settings.register_profile(
    "nnspec-hostile",
    deadline=None,  # the time bound below stops a hang; a deadline would only report it afterwards
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


SHARES = {"bytes": 0.25, "mutated": 0.55, "soup": 0.2}  # of NNSPEC_FUZZ_EXAMPLES, per generating test


def fuzz(test: str):
    """This test's part of NNSPEC_FUZZ_EXAMPLES."""
    return settings(settings.get_profile("nnspec-hostile"), max_examples=max(10, round(EXAMPLES * SHARES[test])))


# ---------------------------------------------------------------------------------------------
# The checks every input goes through


def time_limit(seconds: float = SECONDS):
    return timeouts.time_limit(seconds)


def line_count(text: str) -> int:
    """Lines as a parser or an editor may count them (`\\n`, or any of str.splitlines' breaks)."""
    return max(text.count("\n") + 1, len(text.splitlines()))


def assert_position(line: int, col: int, end_line: int, end_col: int, lines: int, what) -> None:
    assert 1 <= line <= lines + 1 and col >= 1, f"bad position {line}:{col} in {what}"
    assert (end_line, end_col) >= (line, col), (
        f"span ends before it starts: {line}:{col}-{end_line}:{end_col} in {what}"
    )


def checked(text: str, path: str = "hostile.nn", seconds: float = SECONDS):
    """check_source on text: returns the Result after checking its diagnostics."""
    with time_limit(seconds):
        result = check_source(text, path)
    lines = line_count(text)
    for d in result.diagnostics:
        assert_position(d.span.line, d.span.col, d.span.end_line, d.span.end_col, lines, d)
        assert d.code and d.message
    return result


def linted(path: pathlib.Path, *options: str) -> tuple[int, list[dict]]:
    """`nnspec lint --format json` on a file: (exit code, diagnostics) after checking both."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with time_limit(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["lint", "--format", "json", *options, str(path)])
    assert code != 123, stderr.getvalue()
    assert code in (0, 1), (code, stderr.getvalue())
    diagnostics = json.loads(stdout.getvalue())
    lines = line_count(path.read_bytes().decode("utf-8", errors="replace"))
    for d in diagnostics:
        assert_position(d["line"], d["col"], d["end_line"], d["end_col"], lines, d)
    errors = [d for d in diagnostics if d["severity"] == "error"]
    assert code == (1 if errors else 0), (code, diagnostics)
    return code, diagnostics


def rejected(result, *codes: str) -> None:
    """At least one error, and among the errors each of `codes`."""
    errors = {d.code for d in result.diagnostics if d.is_error}
    assert errors, "accepted a hostile spec"
    assert set(codes) <= errors, f"expected {codes}, got {sorted(errors)}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("hostile")


# ---------------------------------------------------------------------------------------------
# Generated inputs


@fuzz("bytes")
@given(
    data=st.binary(max_size=300)
    | st.builds(lambda b, t: t.encode() + b, st.binary(max_size=40), st.sampled_from(list(TEXTS.values())))
)
def test_random_bytes(folder, data):
    path = folder / "bytes.nn"
    path.write_bytes(data)
    linted(path)


def mutations(text: str):
    """The spec truncated, with a character deleted or doubled, or a token replaced."""
    n = len(text)
    return st.one_of(
        st.integers(0, n).map(lambda i: text[:i]),
        st.integers(0, n - 1).map(lambda i: text[:i] + text[i + 1 :]),
        st.integers(0, n - 1).map(lambda i: text[:i] + text[i] + text[i:]),
        st.tuples(st.integers(0, len(_tokens(text)) - 1), st.sampled_from(HOSTILE_TOKENS)).map(
            lambda c: _replace_token(text, *c)
        ),
    )


HOSTILE_TOKENS = [
    "0", "-1", "1e400", "1e-400", "9" * 40, "9" * 120, "1_000_000_000", "-0.0", ".5e-3", "none", "true", '"x"', '""', '"\\0"',
    '"a\\"b"', "[]", "[1, [2]]", "{}", "{a: {b: 1}}", "x", "__init__", "class", "Linear(3)", "1 / 0", "7 // 0", "2.5",
    "10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10",
    "1e308 * 10", '"/dev/zero"', '"."', '"*"', "(", ")", "[", "]", "{", "}", "->", "* 99999999999", ",", ":", "=", "#", "\\", "\0",
    "model", "block", "input", "output", "data", "train", "search", "uniform(0, 1)", "choice([])", "SGD()",
]  # fmt: skip
_TOKEN = re.compile(r'[A-Za-z_]\w*|\d[\w.]*|"(?:[^"\\\n]|\\.)*"|\S')


def _tokens(text: str) -> list:
    return list(_TOKEN.finditer(text)) or [re.match(r"", text)]


def _replace_token(text: str, i: int, new: str) -> str:
    token = _tokens(text)[i]
    return text[: token.start()] + new + text[token.end() :]


@st.composite
def mutated_specs(draw):
    path = draw(st.sampled_from(SPECS))
    text = TEXTS[path]
    for _ in range(draw(st.integers(1, 3))):
        text = draw(mutations(text)) if text else text
    return path, text


@fuzz("mutated")
@given(case=mutated_specs())
def test_mutated_specs(case):
    """A broken shipped spec, checked where it lives (its data files are found)."""
    path, text = case
    result = checked(text, str(path))  # may still be valid: then ok, else errors with positions
    if result.ok:  # still valid: its models and training programs are generated and compile
        with time_limit():
            generate_models(result.program, "models.py", format=False)
            for train in result.program.trains.values():
                generate(result.program, train, Target("train.py", str(path.parent), "runs/fuzz"), format=False)


@fuzz("soup")
@given(
    soup=st.lists(
        st.sampled_from(HOSTILE_TOKENS + ["->", "x", "Linear(4)", "\n", "model M {", "input x: [4]", "output", "}"]),
        max_size=40,
    )
)
def test_token_soup(soup):
    checked(" ".join(soup))


def test_generated_inputs_add_up():
    assert sum(SHARES.values()) == 1  # 500 generated inputs in all by default


# ---------------------------------------------------------------------------------------------
# Fixed inputs

MODEL = "model M {{\n    input x: [4]\n    output {}\n}}\n"  # a model whose output is the case's expression
DEPTH = 10_000


@pytest.mark.parametrize(
    "text",
    [
        "(" * DEPTH,
        "[" * DEPTH,
        "([{" * DEPTH,
        MODEL.format("x -> Linear(" + "(" * DEPTH + ")"),
        MODEL.format("x -> Reshape(" + "[" * DEPTH + "4" + "]" * DEPTH + ")"),
        MODEL.format("x -> Linear(" + "-" * DEPTH + "1)"),
        MODEL.format("x -> Linear(" + "(" * DEPTH + "1" + ")" * (DEPTH - 1) + ")"),
        MODEL.format(" + ".join(["x"] * DEPTH)),
        MODEL.format("ReLU(" * DEPTH + "x" + ")" * DEPTH),
        "data d {\n    split = " + "{a: " * DEPTH + "1" + "}" * DEPTH + "\n}\n",
        "block B(p=" + "[" * DEPTH + "]" * DEPTH + ") {\n    input x\n    output x\n}\n",
        "model M {\n    input x: [" + "[" * DEPTH + "4]\n    output x\n}\n",
    ],
    ids=["parens", "brackets", "mixed-open", "parens-unclosed", "nested-lists", "minus-signs", "parens-one-short", "long-sum",
         "nested-calls", "nested-dicts", "nested-default", "nested-shape"],
)  # fmt: skip
def test_deep_nesting_is_an_error(text):
    rejected(checked(text))


def test_nesting_at_the_limit_is_fine():
    depth = MAX_NESTING - 3  # the chain, the call and the innermost number count too
    result = checked(MODEL.format("x -> Reshape(" + "[" * depth + "4" + "]" * depth + ")"))
    assert not any(d.code == "E107" for d in result.diagnostics)


@pytest.mark.parametrize(
    "argument,code",
    [
        ("1e400", "E106"),
        ("-1e400", "E106"),
        ("1" + "0" * 400, "E106"),
        ("9" * 1_000_000, "E106"),
        ("99999999999999999999999999999999", "E304"),
        ("1_000_000_000_000_000_000_000", "E304"),
        ("10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10 * 10", "E106"),
        ("1e308 * 10", "E106"),
        ("10**400", "E101"),
        ("10 ** 400", "E101"),
        ("1e-400", "E303"),
        ("-99999999999999999999", "E304"),
        ("0.5", "E303"),
        ("0x10", "E101"),
        ("1e", "E101"),
        ("1__0", "E101"),
    ],
)  # fmt: skip
def test_enormous_and_malformed_numbers(argument, code):
    rejected(checked(MODEL.format(f"x -> Linear({argument})")), code)


ABSURD = """
model Huge {
    input x: [1000000000], t: long[1000000000]
    h = x -> Linear(1000000000) -> ReLU() -> Linear(1000000000) -> ReLU() -> Linear(1000000000)
    c = x -> Reshape([1, 1000000000]) -> Conv1d(1000000000, 3, padding=1) -> Flatten(end_dim=1)
    r = x -> Reshape([1000000000, 1]) -> LSTM(1000000000, num_layers=1000000000)
    e = t -> Embedding(1000000000, 1000000000)
    output h
}
"""


BUDGET = (
    MODEL.format("x -> Linear(1000000000)")
    + """
data d {
    source = synthetic(features=4, classes=3)
}
train {
    data = d
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    max_params = 1000
}
"""
)


def test_absurd_sizes_are_counted_not_allocated(folder):
    """10**18 parameters and more: lint counts them and warns (W510), summary prints them."""
    result = checked(ABSURD)
    assert result.ok and "W510" in {d.code for d in result.diagnostics}
    path = folder / "huge.nn"
    path.write_text(ABSURD, encoding="utf-8")
    assert linted(path)[0] == 0
    stdout = io.StringIO()
    with time_limit(), contextlib.redirect_stdout(stdout):
        assert main(["summary", "--format", "json", str(path)]) == 0
    assert json.loads(stdout.getvalue())["total_params"] > 10**18


@pytest.mark.parametrize(
    "text,code",
    [
        (
            "model M {\n    input x: ["
            + ", ".join(["9" * 100] * 50)
            + "]\n    output x -> Flatten() -> Linear(2)\n}\n",
            "E304",
        ),
        (
            "model M {\n    input x: [1000000000, 1000000000, 1000000000]\n    output x -> Flatten() -> Linear(10)\n}\n",
            "E304",
        ),
        (MODEL.format("x -> Linear(8) * 99999999999999999999"), "E304"),
        (MODEL.format("x -> Linear(4) * 0"), "E304"),
        (
            "model M {\n    input x: [3, 5, 5]\n"
            + "    x = x -> ConvTranspose2d(1, 1, stride=99999999999)\n" * 3
            + "    output x\n}\n",
            "E304",
        ),
        (
            "block B(n) {\n    input x\n    output x -> Linear(n * n * n * n * n)\n}\n"
            + MODEL.format("x -> B(1000000000)"),
            "E106",
        ),
        (BUDGET, "E510"),
    ],
    ids=["huge-dims", "huge-numel", "huge-repeat", "zero-repeat", "growing-dims", "block-arithmetic", "budget"],
)
def test_absurd_sizes_are_errors(text, code):
    result = checked(text)
    rejected(result, *([code] if code else []))


def _chain(n: int) -> str:
    return MODEL.format("x" + " -> ReLU()" * n)


MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    "text,code",
    [
        (MODEL.format("a" * MEGABYTE), "E201"),
        (MODEL.format('x -> Linear("' + "a" * MEGABYTE + '")'), "E303"),
        (MODEL.format("x -> Linear(" + "9" * MEGABYTE + ")"), "E106"),
        (MODEL.format("x -> Dropout(0." + "9" * MEGABYTE + ") -> Linear(3)"), None),
        (MODEL.format("x") + "# " + "#" * MEGABYTE, None),
        (MODEL.format("x" + " " * MEGABYTE), None),
        (MODEL.format("x\t" * (MEGABYTE // 2)), "E101"),
        (_chain(10_001), "E304"),
        (
            "model M {\n    input x: [4]\n"
            + "".join(f"    h{i} = x -> ReLU()\n" for i in range(5_000))
            + "    output x\n}\n",
            None,
        ),
    ],
    ids=["name", "string", "integer", "float", "comment", "spaces", "names", "10001-layers", "5000-statements"],
)
def test_huge_lines(text, code):
    result = checked(text)
    if code:
        rejected(result, code)
    else:
        assert result.ok, [(d.code, d.message[:80]) for d in result.diagnostics if d.is_error]


@pytest.mark.parametrize(
    "data,code",
    [
        (b"\0", "E102"),
        (b"model M {\0\n    input x: [4]\n    output x\n}\n", "E102"),
        (b"model M {\n    input x: [4]\n    output x -> Linear(3\0)\n}\n", "E102"),
        (b'data d {\n    source = csv("a\0b.csv")\n}\n', None),
        (b'data d {\n    source = csv("a\\0b.csv")\n}\n', None),
        (b"# a comment \0 with a NUL\nmodel M {\n    input x: [4]\n    output x\n}\n", None),
        (b"\xff\xfe\x00m\x00o\x00d", "E105"),
        (b"model M\xc0\xaf {}", "E105"),
        (b"model M {\n    input x: [4]\n    output x\n}\n# \xed\xa0\x80 surrogate\n", "E105"),
        ("model Modèl {}".encode("latin-1"), "E105"),
        ("model Modèl {}".encode(), "E102"),
        ("model M\u200b {}".encode(), "E102"),
        ("model M {\n    input x: [４]\n    output x\n}\n".encode(), "E102"),
        ("model M {\u2028    input x: [4]\u2029    output x\u0085}".encode(), "E102"),
        (b"model M {\r    input x: [4]\r    output x -> Linear(3)\r}\r", None),
        (b"model M {\x0b\x0c}", "E102"),
        (b"\xef\xbb\xbf", None),
        (b"\xef\xbb\xbf\xef\xbb\xbfmodel M {}", "E102"),
        (b"# only a comment\n", None),
        (b"# only a comment without a newline", None),
        (b"", None),
        (b"\n\n\n", None),
        (b"model", "E103"),
        (b"}", "E101"),
        (b'"', "E102"),
        (b"model M { input x: [4] output x -> Linear(3) } " * 2, "E202"),
    ],
    ids=["nul", "nul-after-brace", "nul-in-call", "nul-in-path", "escaped-nul-in-path", "nul-in-comment", "utf16",
         "overlong", "surrogate", "latin1", "non-ascii-name", "zero-width", "fullwidth-digit", "unicode-breaks", "cr-only",
         "vertical-tab", "bom-only", "two-boms", "comment", "comment-no-newline", "empty", "blank", "keyword-only",
         "closing-brace", "quote", "twice"],
)  # fmt: skip
def test_odd_bytes(folder, data, code):
    """NUL bytes, encodings, Unicode line breaks, a comment only: exit 1 with `code`, or no crash."""
    path = folder / "odd.nn"
    path.write_bytes(data)
    exit_code, diagnostics = linted(path)
    if code:
        assert exit_code == 1 and code in {d["code"] for d in diagnostics}, diagnostics
    # A comment only (or nothing) is an empty spec: lint has nothing to report.


def _train_on(source: str) -> str:
    return (
        f'data d {{\n    source = {source}\n    target = "y"\n}}\n'
        "model M {\n    input x: [4]\n    output x -> Linear(3)\n}\n"
        "train {\n    data = d\n    loss = CrossEntropyLoss()\n    optimizer = SGD(lr=0.1)\n}\n"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and pipes")
@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "fifo", "/", "/dev/null", "missing.csv"])
def test_devices_and_pipes_as_data_are_not_read(folder, target):
    """A spec naming /dev/zero or a pipe as its CSV made lint read forever."""
    if target == "fifo":
        target = str(folder / "pipe.csv")
        if not os.path.exists(target):
            os.mkfifo(target)
    if target.startswith("/dev/") and not os.path.exists(target):
        pytest.skip(f"no {target} here")
    path = folder / "device.nn"
    path.write_text(_train_on(f'csv("{target}")'), encoding="utf-8")
    exit_code, diagnostics = linted(path)
    assert exit_code == 1 and "E501" in {d["code"] for d in diagnostics}, diagnostics


def test_blocks_nested_too_deep_and_recursive():
    nested = "".join(f"block B{i} {{\n    input x\n    output x -> B{i + 1}()\n}}\n" for i in range(60))
    nested += "block B60 {\n    input x\n    output x -> ReLU()\n}\n" + MODEL.format("x -> B0()")
    rejected(checked(nested), "E206")
    mutual = (
        "block A {\n    input x\n    output x -> B()\n}\nblock B {\n    input x\n    output x -> A()\n}\n"
        + MODEL.format("x -> A()")
    )
    rejected(checked(mutual), "E206")


def test_many_sections_and_errors():
    text = "".join(f"model M{i} {{\n    input x: [4]\n    output x -> Nope{i}()\n}}\n" for i in range(3000))
    result = checked(text, seconds=3 * SECONDS)  # 3000 "did you mean" searches: seconds, not milliseconds
    assert sum(d.code == "E205" for d in result.diagnostics) == 3000


def test_unreadable_and_odd_paths(folder):
    missing = folder / "missing.nn"
    assert linted_missing(missing) == 1
    directory = folder / "a-folder.nn"
    directory.mkdir(exist_ok=True)
    assert linted_missing(directory) == 1


def linted_missing(path: pathlib.Path) -> int:
    stdout = io.StringIO()
    with time_limit(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main(["lint", "--format", "json", str(path)])
    diagnostics = json.loads(stdout.getvalue())
    assert [d["code"] for d in diagnostics] == ["E100"] and diagnostics[0]["line"] == 1
    return code


# ---------------------------------------------------------------------------------------------
# Generated code against hostile names and strings

NAMES_SPEC = """
data os {
    source = synthetic(samples=32, features=4, classes=3)
    batch_size = 8
}
block exec(self, __init__=2, len=1) {
    input __import__
    print = __import__ -> Linear(self * __init__ + len) -> ReLU()
    training = print -> Linear(self)
    output training
}
model __class__ {
    input class: [4]
    eval = class -> exec(8)
    __dict__ = eval -> Linear(8)
    super = Concat(eval, __dict__, dim=1)
    forward = super -> exec(4, len=2)
    torch = forward -> Linear(8) -> ReLU()
    nn = torch -> Linear(8)
    _modules = Concat(nn, torch, dim=1)
    output self: _modules -> Linear(3)
}
train eval {
    model = __class__
    data = os
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    epochs = 1
    device = "cpu"
    freeze = ["eval*"]
    init = { "nn*": kaiming_normal() }
}
"""

BUILTIN_RUNNERS = {"eval", "exec", "compile", "__import__", "breakpoint"}
OS_RUNNERS = re.compile(r"system|popen|exec\w*|spawn\w*|fork\w*|posix_spawn\w*|startfile")


def forbidden_calls(tree: ast.AST) -> list[str]:
    """Calls of eval/exec/__import__/os.system ..., and any mention of subprocess."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in BUILTIN_RUNNERS:
                found.append(ast.unparse(node)[:80])
            if (
                isinstance(f, ast.Attribute)
                and OS_RUNNERS.fullmatch(f.attr)
                and ast.unparse(f.value) in ("os", "builtins")
            ):
                found.append(ast.unparse(node)[:80])
            if (
                isinstance(f, ast.Attribute)
                and f.attr in BUILTIN_RUNNERS
                and ast.unparse(f.value) in ("builtins", "__builtins__")
            ):
                found.append(ast.unparse(node)[:80])
        if isinstance(node, (ast.Name, ast.alias)) and "subprocess" in (getattr(node, "id", None) or node.name):
            found.append("subprocess")
    return found


def compiled_program(spec: pathlib.Path, out: pathlib.Path) -> str:
    with time_limit(60), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["compile", str(spec), "-o", str(out), "--force", "--one-file"])  # executed here as one module
    assert code == 0, err.getvalue()
    return out.read_text(encoding="utf-8")


def imported(source: str, path: pathlib.Path) -> dict:
    """The generated file executed as a module that is not __main__ (main() does not run)."""
    namespace = {"__name__": "generated_hostile", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace


def test_hostile_names_compile_and_train(folder, monkeypatch):
    import torch

    monkeypatch.chdir(folder)
    spec = folder / "names.nn"
    spec.write_text(NAMES_SPEC, encoding="utf-8")
    result = check_file(str(spec))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    source = compiled_program(spec, folder / "names_program.py")
    assert forbidden_calls(ast.parse(source)) == []
    namespace = imported(source, folder / "names_program.py")
    model = namespace[safe_variable("__class__")]()
    assert isinstance(model.training, bool) and callable(model.forward)
    assert tuple(model(torch.randn(2, 4)).shape) == (2, 3)
    rows = train_in(namespace, str(folder), str(folder / "names_run"))
    assert len(rows) == 1


PAYLOADS = [
    "\"); import os; os.system('touch PWNED'); (\"",
    "'''; import os; os.system(\"touch PWNED\"); '''",
    "\n__import__('os').system('touch PWNED')\n#",
    '\\"; __import__("os").system("touch PWNED") #',
    "{__import__('os').system('touch PWNED')}",
    '""" + __import__("os").system("touch PWNED") + """',
    "\r\n\tPWNED\x0b\x0c\\x41\\u0041%s{0}",
    'a"b\\c',  # csv("a\"b\\c.csv")
    "x\ny",
]
MARKER = "PWNED"


def spec_string(value: str) -> str:
    """A spec string literal: escapes for the characters a spec string cannot hold as they are."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + "".join(escapes.get(c, c) for c in value) + '"'


def glob_safe(payload: str) -> str:
    return payload.replace("]", "").replace("[", "").replace("!", "")


def payload_spec(folder: pathlib.Path, payload: str) -> pathlib.Path:
    """A spec with `payload` in every string position lint accepts, and its CSV file."""
    csv_name = payload + ".csv"  # no payload holds a `/`: each is a file name too
    with open(folder / csv_name, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([payload, payload + "2", "f"])
        writer.writerows([[i % 3, i / 10, 1 - i / 10] for i in range(24)])
    pattern = "h[" + glob_safe(payload) + ".]*"  # a glob character class: matches h.0
    spec = f"""
data d {{
    source = csv({spec_string(csv_name)})
    target = {spec_string(payload)}
    features = [{spec_string(payload + "2")}, "f"]
    batch_size = 8
}}
model Net {{
    input x: [2]
    h = x -> Linear(4) -> ReLU()
    output h -> Linear(3)
}}
train {{
    data = d
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    epochs = 1
    device = "cpu"
    init = {{ {spec_string(pattern)}: kaiming_normal() }}
    freeze = [{spec_string(pattern)}]
    layer_lr = {{ {spec_string(pattern)}: 0.01 }}
    from = {spec_string(payload + ".pt")}
    skip_mismatched = true
}}
"""
    path = folder / "payload.nn"
    path.write_text(spec, encoding="utf-8")
    return path


def constant_spans(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    return [
        ((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset), n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def marker_positions(source: str) -> list[tuple[int, int]]:
    """(line, UTF-8 byte column) of each occurrence of MARKER, as ast counts columns."""
    found = []
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        for m in re.finditer(MARKER, line):
            found.append((number, len(line[: m.start()].encode("utf-8"))))
    return found


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_payloads_stay_string_literals(folder, monkeypatch, payload):
    import torch

    work = folder / f"payload{PAYLOADS.index(payload)}"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    spec = payload_spec(work, payload)
    result = check_file(str(spec))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    out = work / "program.py"
    source = compiled_program(spec, out)
    tree = ast.parse(source)
    assert forbidden_calls(tree) == []
    # every occurrence of the marker lies inside a string constant holding the whole payload
    # (a payload that broke out would leave `'touch PWNED'` in a literal of its own)
    spans = constant_spans(tree)
    for pos in marker_positions(source):
        holders = [value for start, end, value in spans if start <= pos < end]
        assert any(payload in v or glob_safe(payload) in v for v in holders), (
            f"{MARKER} outside the payload's literal at {pos}:\n{source}"
        )
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert any(payload in s for s in strings), "the payload did not reach the program intact"
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]
    assert not any(MARKER in c for c in comments)
    namespace = imported(source, out)
    assert not pwned(folder)
    # the strings reach the data pipeline as written: the payload columns are read back
    model = namespace["build_model"]()
    assert tuple(model(torch.randn(2, 2)).shape) == (2, 3)
    torch.save({"model": model.state_dict()}, work / (payload + ".pt"))  # for `from`
    rows = train_in(namespace, str(work), str(work / "run"))
    assert len(rows) == 1
    assert not pwned(folder)


def pwned(folder: pathlib.Path) -> bool:
    """Whether a payload ran: `touch PWNED` made a file of that name (here or in the cwd)."""
    return any(p.name == MARKER for p in folder.rglob("*")) or (pathlib.Path.cwd() / MARKER).exists()


def test_monitor_payload_is_rejected_before_code(folder):
    """`monitor` names a metrics.csv column: a payload there is a lint error (E509), never code."""
    spec = payload_spec(folder, "x")
    text = spec.read_text(encoding="utf-8").replace(
        "    epochs = 1\n", f"    epochs = 1\n    monitor = {spec_string(PAYLOADS[0])}\n"
    )
    result = checked(text, str(spec))
    rejected(result, "E509")


@pytest.mark.parametrize("payload", PAYLOADS[:3], ids=range(3))
def test_payloads_in_source_arguments(folder, monkeypatch, payload):
    """The same for a source's own string arguments: numpy_arrays(path, features=..., targets=...)."""
    import numpy as np

    work = folder / f"arrays{PAYLOADS.index(payload)}"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    np.savez(
        work / (payload + ".npz"),
        **{payload: np.random.rand(24, 2).astype("float32"), payload + "y": np.arange(24) % 3},
    )
    spec = work / "arrays.nn"
    spec.write_text(
        "data d {\n"
        f"    source = numpy_arrays({spec_string(payload + '.npz')}, features={spec_string(payload)}, targets={spec_string(payload + 'y')})\n"
        "    batch_size = 8\n}\n"
        "model Net {\n    input x: [2]\n    output x -> Linear(3)\n}\n"
        'train {\n    data = d\n    loss = CrossEntropyLoss()\n    optimizer = SGD(lr=0.1)\n    epochs = 1\n    device = "cpu"\n}\n',
        encoding="utf-8",
    )
    result = check_file(str(spec))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    source = compiled_program(spec, work / "program.py")
    tree = ast.parse(source)
    assert forbidden_calls(tree) == []
    spans = constant_spans(tree)
    for pos in marker_positions(source):
        assert any(payload in v for start, end, v in spans if start <= pos < end), (
            f"{MARKER} outside the payload's literal at {pos}"
        )
    namespace = imported(source, work / "program.py")
    assert len(train_in(namespace, str(work), str(work / "run"))) == 1
    assert not pwned(folder)
