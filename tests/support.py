"""Helpers shared by the CLI-level tests."""

from __future__ import annotations

from nnspec import cli


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `nnspec *argv`, run in this process."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train_in(namespace: dict, root, out, epochs=1, lr=0.1, seed=0, device="cpu") -> list[dict]:
    """A generated program's train(), called as its main() would with these options."""
    argv = ["--data-root", str(root), "--out", str(out), "--epochs", str(epochs), "--lr", str(lr)]
    args = namespace["arguments"]([*argv, "--seed", str(seed), "--device", device])
    return namespace["train"](args, namespace["PrintReport"]())
