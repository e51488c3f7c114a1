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
