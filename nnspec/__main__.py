"""`python -m nnspec` runs the command-line interface."""

from nnspec.cli import main

raise SystemExit(main())
