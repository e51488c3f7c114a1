"""The records' compiled __init__ code, kept in nnspec's cache folder between processes."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


# Prints how many record __init__ sources the process compiled (the cache file lacked them).
COMPILED = "import sys; from nnspec.cli import main; rc = main(['lint', sys.argv[1]]); from nnspec import record; print(len(record._COMPILED)); sys.exit(rc)"


def _compiled_records(cache: str) -> tuple[int, str]:
    env = {**os.environ, "NNSPEC_CACHE_DIR": cache}
    spec = str(ROOT / "specs" / "resnet18.nn")
    done = subprocess.run([sys.executable, "-c", COMPILED, spec], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return int(done.stdout.splitlines()[-1]), "".join(done.stdout.splitlines(True)[:-1])


def test_records_compile_once_and_a_torn_damaged_or_unwritable_cache_only_costs_time(tmp_path):
    cache = tmp_path / "cache"
    first, report = _compiled_records(str(cache))
    assert first > 50 and list(cache.glob("records_*.marshal"))  # every record of a lint, written at exit
    assert _compiled_records(str(cache)) == (0, report)  # all read back: the same lint
    (path,) = cache.glob("records_*.marshal")
    whole = path.read_bytes()
    flipped = whole[:2000] + bytes([whole[2000] ^ 1]) + whole[2001:]  # could be a byte of bytecode
    for damaged in (whole[:100], flipped):  # torn by a kill; changed on disk
        path.write_bytes(damaged)
        again, damaged_report = _compiled_records(str(cache))
        assert again > 50 and damaged_report == report  # compiled anew
        assert _compiled_records(str(cache))[0] == 0  # and written whole again
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable, unwritable_report = _compiled_records(str(blocker / "cache"))
    assert unwritable > 50 and unwritable_report == report
