"""Errors a user can fix, raised anywhere in nnspec and reported once, by the command line: a
code from the catalogue (nnspec/codes/), a message naming the path or value, and a help."""

from __future__ import annotations

import errno


class UserError(Exception):
    """A failure the user caused or can fix; never a traceback."""

    def __init__(self, message: str, code: str | None = None, help: str | None = None):
        super().__init__(message)
        self.message, self.code, self.help = message, code, help

    def render(self) -> str:
        head = f"error[{self.code}]" if self.code else "error"
        return f"{head}: {self.message}" + (f"\n   = help: {self.help}" if self.help else "")


_OS_HELP = {
    errno.ENOSPC: ("E609", "free some space, or write elsewhere; the last complete checkpoint is kept"),
    errno.EDQUOT: ("E609", "free some space within the quota, or write elsewhere"),
    errno.EROFS: ("E603", "the file system is read-only: write elsewhere (--out, -o)"),
    errno.EACCES: ("E603", "you may not write there: choose a folder of your own"),
    errno.EPERM: ("E603", "you may not write there: choose a folder of your own"),
    errno.ENOENT: ("E603", "a folder on the way does not exist: create it first"),
    errno.ENOTDIR: ("E603", "a file stands where a folder is wanted"),
    errno.EISDIR: ("E603", "a folder stands where a file is wanted"),
}


def from_os_error(e: OSError) -> UserError:
    """An OSError of a file nnspec reads or writes, as the coded error a user acts on."""
    code, help = _OS_HELP.get(e.errno, ("E603", None))
    where = e.filename if e.filename is not None else "a file"
    return UserError(f"{where}: {e.strerror or e}", code, help)
