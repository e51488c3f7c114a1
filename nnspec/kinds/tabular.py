"""What lint learns from a CSV file without torch: columns, classes, rows and bad cells."""

from __future__ import annotations

import math
import os

MAX_SCAN_BYTES = 20_000_000  # larger files: header only (the generated loader still checks all)


def scan(path: str, delimiter: str, target: str | None, features: list | None):
    """(header, row count or None, classes or None, problems [(code, message)])."""
    import csv  # only specs with CSV data pay for it

    from nnspec.kinds.sources import DataError

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: spreadsheets write a BOM
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError("E504", "the file is empty")
            if os.path.getsize(path) > MAX_SCAN_BYTES:
                return header, None, None, []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError("E501", f"cannot read it: {e}") from None
    if not rows:
        raise DataError("E504", "the file has a header but no rows")
    names = [c for c in (features or [c for c in header if c != target]) if c in header]
    problems = [p for name in names for p in _bad_cells(rows, header.index(name), name)][:1]
    classes = None
    if target in header:
        i = header.index(target)
        classes = len({row[i] for row in rows if len(row) > i})
        if any(len(row) <= i or row[i].strip() == "" for row in rows):
            line = next(n for n, row in enumerate(rows, 2) if len(row) <= i or row[i].strip() == "")
            problems.append(("E511", f"line {line}: missing value in column {target!r}"))
    return header, len(rows), classes, problems


def _bad_cells(rows: list, i: int, name: str):
    """The first cell of column `i` that is not a finite float32, as a problem."""
    for line, row in enumerate(rows, 2):  # line 1 is the header
        text = row[i].strip() if i < len(row) else ""
        if text == "":
            yield "E511", f"line {line}: missing value in column {name!r}"
            return
        try:
            value = float(text)
        except ValueError:
            yield "E511", f"line {line}: column {name!r} is not numeric ({text!r})"
            return
        if not math.isfinite(value) or abs(value) > 3.0e38:
            yield "E511", f"line {line}: column {name!r} holds {text!r}, not a finite float32"
            return
