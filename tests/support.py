"""Helpers shared by the CLI-level tests."""

from __future__ import annotations

from nnspec import cli


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `nnspec *argv`, run in this process."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
