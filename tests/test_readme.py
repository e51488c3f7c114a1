"""The README stays true: its kinds reference and codes table are the registries' current ones."""

import pathlib

from nnspec import catalogue
from nnspec.reference import kinds_markdown, update_readme

README = pathlib.Path(__file__).parent.parent / "README.md"
REGENERATE = "run: python -m nnspec.reference README.md"


def test_kinds_reference_is_current():
    text = README.read_text()
    assert update_readme(text) == text, REGENERATE


def test_reference_lists_every_layer():
    assert kinds_markdown().count("`Linear(") == 1


def test_codes_table_is_current():
    text = README.read_text()
    assert catalogue.update_readme(text) == text, REGENERATE


def test_codes_table_lists_every_code():
    table = catalogue.codes_markdown(catalogue.load())
    assert [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()[2:]] == [e.code for e in catalogue.load()]
