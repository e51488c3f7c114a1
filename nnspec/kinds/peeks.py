"""What lint reads of a data source's files, with the rules programs apply when they load them
(nnspec/program/sources): CSV cells, NumPy array headers, image folders. Never imports torch."""

from __future__ import annotations

import os
import zipfile

from nnspec.kinds.sources import MAX_SCAN_BYTES, Peek
from nnspec.program.contract import Facts, text_facts
from nnspec.program.errors import DataError
from nnspec.program.sources.folders import class_images
from nnspec.program.sources.table import label_column, numeric_column, read_header, read_table
from nnspec.program.sources.text import decoded, windows

MAX_TARGETS = 10_000_000  # targets lint reads whole to know their values (more: shapes only)


def peek_csv(path: str, delimiter: str, target: str | None, features: list | None) -> Peek:
    if os.path.getsize(path) > MAX_SCAN_BYTES:
        return Peek(read_header(path, delimiter))
    table = read_table(path, delimiter)
    names = [n for n in features or [c for c in table.header if c != target] if n in table.header]
    problems, integral = [], True
    for name in names:
        try:
            column = numeric_column(table, name)
        except DataError as e:
            problems.append((e.code, e.message))
            continue
        integral = integral and all(v.is_integer() for v in column)
    targets = None
    if target in table.header:
        try:
            targets = text_facts(label_column(table, target))
        except DataError as e:
            problems.append((e.code, e.message))
    values = "integers" if integral else "reals"
    return Peek(table.header, len(table.rows), (len(names),), values, targets, tuple(problems))


def peek_images(path: str, args: dict) -> Peek:
    found = class_images(path)
    channels = 1 if args["grayscale"] else 3
    samples = sum(len(files) for files in found.values())
    targets = text_facts(list(found))
    size = args["crop"] or args["size"]
    return Peek(samples=samples, features=(channels, *size), values="reals", targets=targets)


def peek_text(path: str, args: dict) -> Peek:
    """The windows a text gives and its characters, as the program's load_text reads them."""
    if os.path.getsize(path) > MAX_SCAN_BYTES:
        return Peek(features=(args["block_size"],), values="integers")
    with open(path, "rb") as f:
        text = decoded(f.read(), path)
    size = args["block_size"]
    count = len(windows(len(text), size, args["stride"] or size, path))
    vocabulary = len(set(text))
    targets = Facts("integers", list(range(vocabulary)), vocabulary, (size,))
    return Peek(samples=count, features=(size,), values="integers", targets=targets)


def peek_arrays(path: str, args: dict) -> Peek:
    import numpy as np  # only specs with NumPy data pay for it

    from nnspec.program.sources.array_shapes import check_features, check_targets

    x_shape, x_dtype, y_shape, y_dtype, read_targets = _array_headers(path, args, np)
    check_features(path, x_shape, x_dtype)
    check_targets(path, x_shape[0], y_shape, y_dtype)
    values = "integers" if x_dtype.kind in "biu" else None  # floats may hold integers: unknown
    targets = None
    if np.prod(y_shape) <= MAX_TARGETS:
        targets = _array_facts(read_targets(), np)
    return Peek(samples=x_shape[0], features=tuple(x_shape[1:]), values=values, targets=targets)


def _array_headers(path: str, args: dict, np):
    """(features shape, dtype, targets shape, dtype, a function reading the targets)."""
    if path.endswith(".npz"):
        try:
            with zipfile.ZipFile(path) as archive:
                x = _header(archive, args["features"], path, np)
                y = _header(archive, args["targets"], path, np)
        except (OSError, zipfile.BadZipFile) as e:
            raise DataError("E501", f"{path}: not a NumPy .npz file ({e})") from None
        return (*x, *y, lambda: _np_member(path, args["targets"], np))
    x = _npy_header(path, np)
    targets = os.path.join(os.path.dirname(path), args["targets_path"] or "")
    if not args["targets_path"] or not os.path.isfile(targets):
        raise DataError("E501", f"{path}: an .npy source needs targets_path, a second .npy of targets")
    return (*x, *_npy_header(targets, np), lambda: np.load(targets, allow_pickle=False))


def _header(archive, key: str, path: str, np):
    if f"{key}.npy" not in archive.namelist():
        arrays = ", ".join(n.removesuffix(".npy") for n in archive.namelist())
        raise DataError("E502", f"{path}: no array {key!r}; the arrays are {arrays}")
    with archive.open(f"{key}.npy") as f:
        return _read_header(f, f"{path}[{key}]", np)


def _npy_header(path: str, np):
    try:
        with open(path, "rb") as f:
            return _read_header(f, path, np)
    except OSError as e:
        raise DataError("E501", f"{path}: cannot read it ({e.strerror or e})") from None


def _read_header(f, where: str, np):
    """(shape, dtype) from an .npy header, without reading the data."""
    try:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    except ValueError as e:
        raise DataError("E501", f"{where}: not a NumPy array ({e})") from None
    if dtype.hasobject:
        raise DataError("E511", f"{where}: an array of Python objects (nnspec never unpickles data)")
    return shape, dtype


def _np_member(path: str, key: str, np):
    with np.load(path, allow_pickle=False) as arrays:
        return arrays[key]


def _array_facts(y, np) -> Facts:
    if y.dtype.kind in "US":
        return text_facts([str(v) for v in y])
    values = np.unique(y)
    if y.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise DataError("E511", "the targets hold NaN or infinite values")
    integral = y.dtype.kind in "biu" or bool(np.all(values == np.round(values)))
    return Facts("integers" if integral else "reals", values.tolist(), len(values), y.shape[1:])
