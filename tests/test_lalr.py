"""nnspec's LALR runtime against lark itself; its tables cached so that lint never imports lark."""

from __future__ import annotations

import os
import pathlib
import random
import subprocess
import sys

import lark
import pytest

from nnspec.compiler import lalr, parser, tables

ROOT = pathlib.Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn")) + sorted((ROOT / "examples").glob("*.nn"))
CORPUS = sorted(p for p in ROOT.rglob("*.nn") if ".venv" not in p.parts)
INSERTS = ["(", ")", "->", ",", "=", "[", "]", "{", "}", "output", "input", ":", "..", "@", "'", '"', "\n", "#"]
INSERTS += ["1.", "1e5", "1_0", "$", "-", "*", "//", "none", "x.y", "...", "use"]
MUTATIONS = 2  # of each sort (cut, deletion, insertion) per file of the corpus


class _Oracle(lark.Transformer_NonRecursive):
    """lark's tree handed to the same builder methods, with lark's propagated positions."""

    def __init__(self, builder):
        super().__init__()
        self.builder = builder

    def __default__(self, data, children, meta):
        extent = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
        return getattr(self.builder, data)(extent, children)


@pytest.fixture(scope="module")
def reference():
    return lark.Lark(tables.grammar_text(), **tables.OPTIONS)


def _by_lark(reference, text: str) -> str:
    builder = parser._Builder("t.nn")
    try:
        parts = _Oracle(builder).transform(reference.parse(text))
    except lark.exceptions.UnexpectedCharacters as exc:
        problem = lalr.UnexpectedCharacters(exc.line, exc.column, exc.pos_in_stream)
        return repr(parser._syntax_error(problem, text, "t.nn"))
    except lark.exceptions.UnexpectedToken as exc:
        t = exc.token
        problem = lalr.UnexpectedToken(lalr.Token(t.type, str(t), t.start_pos, t.line, t.column), exc.expected)
        return repr(parser._syntax_error(problem, text, "t.nn"))
    return repr((parts, builder.problems))


def _by_nnspec(text: str, builder=None) -> str:
    builder = builder or parser._Builder("t.nn")
    try:
        parts = tables.parser().parse(text, builder)
    except lalr.UnexpectedInput as exc:
        return repr(parser._syntax_error(exc, text, "t.nn"))
    return repr((parts, builder.problems))


def _mutants(text: str, rng: random.Random) -> list[str]:
    out = [text]
    for _ in range(MUTATIONS):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 8))
        out += [text[:i], text[:i] + text[j:], text[:i] + rng.choice(INSERTS) + text[i:]]
    return out


def test_every_spec_and_its_mutants_parse_as_lark_parses_them(reference):
    """Every .nn file of the repository, cut short, with a few characters deleted or a token
    inserted: the same AST (spans included) and builder problems, or the same syntax error."""
    rng, failed, errors, cases = random.Random(0), [], 0, 0
    for path in CORPUS:
        for text in _mutants(path.read_text(encoding="utf-8", errors="replace"), rng):
            expected, got = _by_lark(reference, text), _by_nnspec(text)
            cases, errors = cases + 1, errors + expected.startswith("Diagnostic(")
            if got != expected:
                failed.append(f"{path.name}: {text[:80]!r}\n  lark:   {expected[:300]}\n  nnspec: {got[:300]}")
    assert not failed, f"{len(failed)} of {cases} differ:\n" + "\n".join(failed[:5])
    assert cases > 1000 and cases / 4 < errors < cases  # both well exercised


def test_every_rule_has_its_builder_method_and_the_corpus_reaches_each():
    called = set()

    class Recording(parser._Builder):
        def __getattribute__(self, name):
            if not name.startswith("_"):
                called.add(name)
            return super().__getattribute__(name)

    methods = {rule[1] for rule in tables.parser().rules if rule[3] == lalr.CALL}
    assert all(callable(getattr(parser._Builder, m, None)) for m in methods), methods
    for path in CORPUS:
        _by_nnspec(path.read_text(encoding="utf-8", errors="replace"), Recording(str(path)))
    assert methods <= called, sorted(methods - called)


def test_tokens_carry_lark_positions(reference):
    text = 'model M {\n  x = "a\\tb" -> f(1.5e3, k=none)  # c\n}\n'
    ours = [
        (t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column) for t in tables.parser().tokens(text)
    ]
    theirs = [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column) for t in reference.lex(text)]
    assert ours == theirs


def _lint(cache: str, *files) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNSPEC_CACHE_DIR": cache}
    code = "import sys; from nnspec.cli import main; rc = main(['lint', '--format', 'concise', *sys.argv[1:]]); print('lark' in sys.modules); sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", code, *map(str, files)], env=env, capture_output=True, text=True)


def test_first_lint_writes_the_tables_and_later_ones_do_not_import_lark(tmp_path):
    cache = tmp_path / "cache"
    first = _lint(str(cache), *SPECS)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "True" and list(cache.glob("grammar_*.marshal"))
    second = _lint(str(cache), *SPECS)
    assert second.returncode == 0 and second.stdout.splitlines()[-1] == "False"
    assert second.stdout == first.stdout.replace("True", "False")


def test_an_unwritable_torn_or_damaged_cache_only_costs_the_computing(tmp_path):
    files = (ROOT / "specs" / "resnet18.nn", ROOT / "tests" / "errors" / "e101_missing_arrow.nn")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable = _lint(str(blocker / "cache"), *files)
    assert unwritable.returncode == 1 and "E101" in unwritable.stdout and unwritable.stderr == ""
    assert unwritable.stdout.splitlines()[-1] == "True"
    cache = tmp_path / "cache"
    _lint(str(cache), *files)
    (saved,) = cache.glob("grammar_*.marshal")
    whole = saved.read_bytes()
    flipped = whole[:5000] + bytes([whole[5000] ^ 1]) + whole[5001:]  # one bit of a state's number
    for damaged in (whole[:1000], flipped):  # torn by a kill; changed on disk
        saved.write_bytes(damaged)
        again = _lint(str(cache), *files)
        assert again.stdout == unwritable.stdout and again.stderr == ""  # computed with lark again
        assert _lint(str(cache), *files).stdout.splitlines()[-1] == "False"  # and written whole again


def test_cache_key_follows_the_grammar():
    grammar = tables.grammar_text()
    assert tables.cached_name(grammar) != tables.cached_name(grammar + "\n// changed")


def test_lint_start_up_skips_modules_it_does_not_need(tmp_path):
    """What lint's start-up no longer loads (design §9: lint must start fast)."""
    cache = str(tmp_path / "cache")
    _lint(cache, SPECS[0])
    env = {**os.environ, "NNSPEC_CACHE_DIR": cache}
    code = "import sys; from nnspec.cli import main; main(['lint', sys.argv[1]]); print(sorted(m for m in ('logging', 'inspect', 'dataclasses', 'shutil', 'lark', 'pickle') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "specs" / "resnet18.nn")], env=env, capture_output=True, text=True
    )
    assert result.stdout.splitlines()[-1] == "[]", result.stderr
