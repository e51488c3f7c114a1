"""The cached standalone parser and lark itself parse alike; lint never needs lark imported."""

from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys

from nnspec.compiler import larkrt

ROOT = pathlib.Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn")) + sorted((ROOT / "examples").glob("*.nn"))


def _lint(cache: str, *files) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNSPEC_CACHE_DIR": cache}
    code = "import sys; from nnspec.cli import main; rc = main(['lint', '--format', 'concise', *sys.argv[1:]]); print('lark' in sys.modules); sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", code, *map(str, files)], env=env, capture_output=True, text=True)


def test_first_lint_writes_the_parser_and_later_ones_do_not_import_lark(tmp_path):
    cache = tmp_path / "cache"
    first = _lint(str(cache), *SPECS)
    assert first.returncode == 0, first.stderr
    assert list(cache.glob("parser_*.py"))
    second = _lint(str(cache), *SPECS)
    assert second.returncode == 0 and second.stdout.splitlines()[-1] == "False"


def test_unwritable_cache_falls_back_to_lark(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = _lint(
        str(blocker / "cache"), ROOT / "specs" / "resnet18.nn", ROOT / "tests" / "errors" / "e101_missing_arrow.nn"
    )
    assert result.returncode == 1 and "E101" in result.stdout
    assert result.stdout.splitlines()[-1] == "True"


def test_standalone_and_lark_give_the_same_diagnostics(tmp_path):
    broken = sorted((ROOT / "tests" / "errors").glob("e1*.nn"))
    _lint(str(tmp_path / "a"), *SPECS)  # writes the cached module; the next run uses it
    cached = _lint(str(tmp_path / "a"), *SPECS, *broken)
    (tmp_path / "b").write_text("")  # a file where the folder should be: lark itself
    plain = _lint(str(tmp_path / "b" / "x"), *SPECS, *broken)
    assert cached.stdout.splitlines()[:-1] == plain.stdout.splitlines()[:-1]
    assert cached.stdout.splitlines()[-1] == "False" and plain.stdout.splitlines()[-1] == "True"


def test_cache_key_follows_the_grammar():
    grammar = larkrt.grammar_text()
    assert larkrt.cached_path(grammar) != larkrt.cached_path(grammar + "\n// changed")


def test_the_cached_parser_is_lightened_for_this_lark():
    """Every _LIGHTER edit applies to the installed lark; otherwise lint loads lark's full runtime."""
    import lark
    from lark.tools.standalone import gen_standalone

    buffer = io.StringIO()
    gen_standalone(lark.Lark(larkrt.grammar_text(), **larkrt.OPTIONS), out=buffer)
    source = buffer.getvalue()
    assert all(source.count(old) == 1 for old, _ in larkrt._LIGHTER), f"lark {lark.__version__}: update larkrt._LIGHTER"
    assert larkrt._lighter(source) != source
    assert larkrt._lighter("changed by a future lark") == "changed by a future lark"


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


# Prints how many record __init__ sources the process compiled (the cache file lacked them).
COMPILED = "import sys; from nnspec.cli import main; rc = main(['lint', sys.argv[1]]); from nnspec import record; print(len(record._COMPILED)); sys.exit(rc)"


def _compiled_records(cache: str) -> tuple[int, str]:
    env = {**os.environ, "NNSPEC_CACHE_DIR": cache}
    spec = str(ROOT / "specs" / "resnet18.nn")
    done = subprocess.run([sys.executable, "-c", COMPILED, spec], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return int(done.stdout.splitlines()[-1]), "".join(done.stdout.splitlines(True)[:-1])


def test_records_compile_once_and_a_torn_or_unwritable_cache_only_costs_time(tmp_path):
    cache = tmp_path / "cache"
    first, report = _compiled_records(str(cache))
    assert first > 50 and list(cache.glob("records_*.marshal"))  # every record of a lint, written at exit
    assert _compiled_records(str(cache)) == (0, report)  # all read back: the same lint
    for path in cache.glob("records_*.marshal"):
        path.write_bytes(path.read_bytes()[:100])  # torn by a kill
    again, torn_report = _compiled_records(str(cache))
    assert again > 50 and torn_report == report  # compiled anew
    assert _compiled_records(str(cache))[0] == 0  # and written whole again
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable, unwritable_report = _compiled_records(str(blocker / "cache"))
    assert unwritable > 50 and unwritable_report == report
