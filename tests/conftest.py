"""Shared pytest options and fixtures."""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/*.py from the current code generator instead of comparing with them",
    )


@pytest.fixture
def write(tmp_path):
    """write(text, name="spec.nn") -> the path of a file with `text` in the test's folder."""

    def write(text: str, name: str = "spec.nn") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def one_thread():
    """torch on one thread for the test: faster for tiny tensors, fair to the other test workers,
    and as torchrun's workers run (OMP_NUM_THREADS=1)."""
    import torch  # here, not at the top: tests of lint never import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
