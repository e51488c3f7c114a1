"""`python -m nnspec` runs the command-line interface."""

from nnspec.cli import entry

entry()
