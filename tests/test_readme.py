"""The README stays true: its kinds reference is the registries' current one."""

import pathlib

from nnspec.reference import kinds_markdown, update_readme

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_kinds_reference_is_current():
    text = README.read_text()
    assert update_readme(text) == text, "run: python -c 'from nnspec.reference import ...' (see tests/test_readme.py)"


def test_reference_lists_every_layer():
    assert kinds_markdown().count("`Linear(") == 1
