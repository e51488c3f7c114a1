"""CSV with a header row, read with the standard library."""

import torch

from nnspec.program.errors import DataError
from nnspec.program.samples import Samples
from nnspec.program.sources.table import label_column, numeric_column, read_table


def load_csv(path, delimiter=",", target=None, features=None):
    """Features from the named columns (all but the target by default), labels from the target."""
    table = read_table(path, delimiter)
    names = features or [c for c in table.header if c != target]
    missing = [name for name in names if name not in table.header]
    if missing:
        shown = ", ".join(map(repr, missing))
        raise DataError(
            "E502",
            f"{path}: no column {shown}; the columns are {', '.join(table.header)}",
        )
    columns = [numeric_column(table, name) for name in names]
    # (N, features), exact for integers
    x = torch.tensor(columns, dtype=torch.float64).T.contiguous()
    labels = label_column(table, target) if target in table.header else None
    unused = [c for c in table.header if c not in names and c != target]
    return Samples(x, labels, path, names, unused)
