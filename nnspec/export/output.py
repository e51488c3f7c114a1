"""Where an export is written: never over a file nnspec did not write, never a torn or unverified file.

A binary model file has no text header to carry nnspec's mark, so the mark is inside it: ONNX
metadata (`nnspec`) or an extra file of the `.pt2` archive (`nnspec.json`). An existing file is
replaced only when it carries that mark, or with --force. The file is written and verified in a
temporary folder beside its target, then renamed into place, its `.data` file (if any) first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

from nnspec.export import ExportError


def refusal(path: str, fmt: str, force: bool) -> ExportError | None:
    """Why `path` cannot be written, or None."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return ExportError("E603", f"cannot write {path}: the folder {folder} does not exist", "create it first")
    if os.path.isdir(path):
        return ExportError("E603", f"cannot write {path}: it is a folder", "give a file name with -o")
    if force:
        return None
    ours = os.path.lexists(path) and written_by_nnspec(path, fmt)
    # A large ONNX model's weights go to <path>.data: only one beside a model nnspec wrote is replaced.
    for taken in (path, path + ".data") if fmt == "onnx" else (path,):
        if os.path.lexists(taken) and not ours:
            return ExportError(
                "E612",
                f"{taken} exists and was not written by nnspec",
                "pass --force to overwrite it, or choose another name with -o",
            )
    return None


def written_by_nnspec(path: str, fmt: str) -> bool:
    if fmt == "onnx":
        from nnspec.export.onnx_file import written_by_nnspec as marked
    else:
        from nnspec.export.program_file import written_by_nnspec as marked
    return os.path.isfile(path) and marked(path)


@contextlib.contextmanager
def staged(path: str):
    """Yields a path with the target's name in a temporary folder beside it; on a normal exit,
    what was written there is moved into place, else it is all removed."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        scratch = tempfile.mkdtemp(dir=folder, prefix=".nnspec-export-")
    except OSError as e:
        raise ExportError("E603", f"cannot write in {folder}: {e.strerror or e}") from None
    try:
        staged_path = os.path.join(scratch, os.path.basename(path))
        yield staged_path
        _publish(scratch, os.path.basename(path), folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _publish(scratch: str, name: str, folder: str) -> None:
    """fsync each file, rename the main one last (so it never refers to a missing `.data`), fsync the folder."""
    names = sorted(os.listdir(scratch), key=lambda n: n == name)
    for n in names:
        with open(os.path.join(scratch, n), "rb+") as f:
            os.fsync(f.fileno())
    for n in names:
        os.replace(os.path.join(scratch, n), os.path.join(folder, n))
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
