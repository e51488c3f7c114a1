"""CSV with a header row, read with the standard library."""

import csv
import math

import torch


def load_source(path, options):
    """Features from the chosen columns (all but the target by default) and the target column."""
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: spreadsheets write a BOM
        rows = list(csv.reader(f, delimiter=options["delimiter"]))
    if not rows:
        raise DataError("E504", f"{path}: the file is empty")
    header, rows = rows[0], rows[1:]
    if not rows:
        raise DataError("E504", f"{path}: the file has a header but no rows")
    target = options["target"]
    names = options["features"] or [c for c in header if c != target]
    for name in names:
        if name not in header:
            raise DataError("E502", f"{path}: no column {name!r}; columns: {', '.join(header)}")
    columns = [header.index(name) for name in names]
    features = [[_number(path, row, i, header, n + 2) for i in columns] for n, row in enumerate(rows)]
    labels = [row[header.index(target)] for row in rows] if target in header else None
    return torch.tensor(features, dtype=torch.float32), labels


def _number(path, row, i, header, line):
    text = row[i].strip() if i < len(row) else ""
    if text == "":
        raise DataError("E511", f"{path}:{line}: missing value in column {header[i]!r}")
    try:
        value = float(text)
    except ValueError:
        raise DataError("E511", f"{path}:{line}: column {header[i]!r} is not numeric ({text!r})") from None
    if not math.isfinite(value) or abs(value) > 3.0e38:
        raise DataError("E511", f"{path}:{line}: column {header[i]!r} holds {text!r}, not a finite float32")
    return value
