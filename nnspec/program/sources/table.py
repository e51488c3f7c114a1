"""CSV files with a header row, read and checked without torch: lint and programs share it."""

import csv
import math

from nnspec.program.errors import DataError

SHOWN = 5  # bad cells listed in one message before "and N more"


class Table:
    """A CSV file's header and rows, each row as long as the header, with its line number."""

    def __init__(self, path, header, rows, lines):
        self.path, self.header, self.rows, self.lines = path, header, rows, lines

    def column(self, name):
        return self.header.index(name)


def read_table(path, delimiter):
    """The whole file as a Table; blank lines are skipped, bad lines named."""
    rows, lines = [], []
    try:
        with open(path, "rb") as f:
            reader = csv.reader(_decoded(f, path), delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError("E504", f"{path}: the file is empty")
            _distinct(header, path)
            for row in reader:
                if row:
                    rows.append(_row(row, header, path, reader.line_num, delimiter))
                    lines.append(reader.line_num)
    except csv.Error as e:  # a field over csv's size limit, a stray quote
        raise DataError("E511", f"{path}:{reader.line_num}: {e}") from None
    except OSError as e:
        raise DataError("E501", f"{path}: cannot read it ({e.strerror or e})") from None
    if not rows:
        raise DataError("E504", f"{path}: the file has a header but no rows")
    return Table(path, header, rows, lines)


def read_header(path, delimiter):
    """The header row alone (lint reads no more of a large file)."""
    try:
        with open(path, "rb") as f:
            header = next(csv.reader(_decoded(f, path), delimiter=delimiter), None)
    except csv.Error as e:
        raise DataError("E511", f"{path}:1: {e}") from None
    except OSError as e:
        raise DataError("E501", f"{path}: cannot read it ({e.strerror or e})") from None
    if header is None:
        raise DataError("E504", f"{path}: the file is empty")
    _distinct(header, path)
    return header


def _decoded(lines, path):
    """Text lines; a byte that is not UTF-8 names its line (a BOM on the first is dropped)."""
    for number, raw in enumerate(lines, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as e:
            message = f"{path}:{number}: byte 0x{raw[e.start]:02x} is not UTF-8 text"
            raise DataError("E511", message) from None


def _distinct(header, path):
    seen = set()
    for name in header:
        if name in seen:
            raise DataError("E515", f"{path}: the header names column {name!r} twice")
        seen.add(name)


def _row(row, header, path, line, delimiter):
    if len(row) != len(header):
        # the header holds another delimiter: the file is likely written with that one
        named = "".join(header)
        hints = [d for d in ";\t|" if d != delimiter and d in named][:1]
        hint = "".join(f" (the header holds {d!r}: delimiter={d!r}?)" for d in hints)
        message = f"{len(row)} fields, the header has {len(header)}{hint}"
        raise DataError("E511", f"{path}:{line}: {message}")
    return row


def numeric_column(table, name):
    """The column's cells as finite float32-range numbers; bad cells are named, up to SHOWN."""
    i, values, bad = table.column(name), [], []
    for line, row in zip(table.lines, table.rows):
        value = number(row[i].strip())
        if isinstance(value, str):
            bad.append(f"line {line}: {value}")
        values.append(value)
    if bad:
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        message = f"{table.path}: column {name!r}: {'; '.join(bad[:SHOWN])}{more}"
        raise DataError("E511", message)
    return values


def label_column(table, name):
    """The column's cells as labels (text); a missing or NaN label is named with its line."""
    i, labels = table.column(name), []
    for line, row in zip(table.lines, table.rows):
        label = row[i].strip()
        if label == "" or label.lower() == "nan":
            message = f"{table.path}:{line}: column {name!r} has no label ({row[i]!r})"
            raise DataError("E511", message)
        labels.append(label)
    return labels


def number(text):
    """A float, or why the cell is not one."""
    if text == "":
        return "missing value"
    try:
        value = float(text)
    except ValueError:
        return f"not numeric ({text!r})"
    if not math.isfinite(value) or abs(value) > 3.0e38:
        return f"{text!r} is not a finite float32"
    return value


def label_order(label):
    """A total order on labels: numbers by value, then text; equal numbers by their text."""
    value = number(label.strip())
    return (0, value, label) if isinstance(value, float) else (1, 0.0, label)
