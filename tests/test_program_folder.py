"""nnspec/program/folder.py directly: a run folder is owned, locked while used, resumed with
the options the run started with."""

from __future__ import annotations

import argparse
import fcntl
import os

import pytest

torch = pytest.importorskip("torch")

from nnspec.program.errors import DataError  # noqa: E402
from nnspec.program.folder import LOCK, MARK, RunFolder  # noqa: E402

SPEC = {"epochs": 10, "lr": 0.001, "seed": 0}  # the spec's values, as arguments() gives them


def options(out, resume=False, **given) -> argparse.Namespace:
    values = {"epochs": None, "lr": None, "seed": None, **given}
    return argparse.Namespace(out=str(out), resume=resume, defaults=SPEC, **values)


def refused(args) -> str:
    with pytest.raises(DataError) as raised:
        with RunFolder(args):
            pass
    return raised.value.code


def test_a_new_folder_is_made_marked_and_gets_the_spec_options(tmp_path):
    out = tmp_path / "run"
    with RunFolder(options(out)) as args:
        assert (out / MARK).is_file()
        assert (args.epochs, args.lr, args.seed) == (10, 0.001, 0)
    with RunFolder(options(tmp_path / "given", epochs=3)) as args:
        assert args.epochs == 3


def test_folders_that_are_not_a_new_run_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    assert refused(options(tmp_path / "file")) == "E603"  # a file where the folder should be
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    assert refused(options(tmp_path / "mine")) == "E604"  # someone else's files
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]  # left as it was
    with RunFolder(options(tmp_path / "run")):
        (tmp_path / "run" / "metrics.csv").write_text("epoch\n")
    assert refused(options(tmp_path / "run")) == "E604"  # a run: --resume or another --out
    assert refused(options(tmp_path / "new", resume=True)) == "E606"  # nothing to resume


def test_a_folder_in_use_is_refused_and_free_again_once_released(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / MARK).touch()
    with open(out / LOCK, "a+") as held:  # another holder: a lock on another open file
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        with pytest.raises(DataError) as raised:
            RunFolder(options(out)).__enter__()
        assert raised.value.code == "E605" and "4242" in raised.value.message
    with RunFolder(options(out)):
        with RunFolder(options(out)):  # the same process may enter it again
            pass
        assert (out / LOCK).read_text() == str(os.getpid())
    with open(out / LOCK, "a+") as probe:  # released on the way out
        fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_resume_takes_the_started_options_and_refuses_another_seed(tmp_path):
    out = tmp_path / "run"
    with RunFolder(options(out)):
        started = {"epochs": 7, "lr": 0.5, "seed": 3}
        torch.save({"state": {"options": started}}, out / "last.pt")
        (out / "best.pt.tmp").write_bytes(b"torn")  # left by a kill during a write
    with RunFolder(options(out, resume=True, epochs=9)) as args:
        assert (args.epochs, args.lr, args.seed) == (9, 0.5, 3)  # more epochs may be asked for
    assert not (out / "best.pt.tmp").exists()
    assert refused(options(out, resume=True, seed=4)) == "E606"
