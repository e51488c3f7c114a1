"""`nnspec predict` and `nnspec evaluate`: a saved checkpoint used through the generated program."""

from __future__ import annotations

import csv
import io
import os

from nnspec.compiler.ir import Program, Settings
from nnspec.files import write_atomic
from nnspec.runtime.execute import load_program
from nnspec.runtime.run import RunError, program_source


def _program(program: Program, train: Settings) -> dict:
    return load_program(program_source(program, train, "runs"), program.file.path)


def _user_errors(namespace: dict):
    # load_state_dict reports another architecture's keys as a RuntimeError
    return (namespace["DataError"], RuntimeError, OSError)


def evaluate(program: Program, train: Settings, checkpoint: str, device: str) -> tuple[str, dict]:
    namespace = _program(program, train)
    root = os.path.dirname(os.path.abspath(program.file.path))
    try:
        return namespace["evaluate_checkpoint"](root, os.path.abspath(checkpoint), namespace["TRAIN"]["seed"], device)
    except _user_errors(namespace) as e:
        raise RunError(f"{checkpoint}: {e}") from None


def predict(program: Program, train: Settings, checkpoint: str, source: str, output: str, device: str) -> int:
    """Write one row per sample of `source` to `output`; returns the number of rows."""
    namespace = _program(program, train)
    try:
        classes, values = namespace["predict"](os.path.abspath(source), os.path.abspath(checkpoint), device)
    except _user_errors(namespace) as e:
        raise RunError(str(e)) from None
    header, rows = _table(classes, values)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(output, buffer.getvalue())
    return len(rows)


def _table(classes, values) -> tuple[list, list]:
    """Class names and their probabilities, or the predicted values of a regression."""
    values = values.reshape(len(values), -1)
    if classes is None:
        names = ["prediction"] if values.shape[1] == 1 else [f"prediction_{i}" for i in range(values.shape[1])]
        return names, [[f"{v:.6g}" for v in row.tolist()] for row in values]
    if values.shape[1] == 1:  # binary: the probability of the second class
        values = values.new_tensor(values).repeat(1, 2)
        values[:, 0] = 1 - values[:, 1]
    picked = values.argmax(1).tolist()
    header = ["prediction", *(f"p_{c}" for c in classes)]
    return header, [[classes[i], *(f"{p:.6g}" for p in row.tolist())] for i, row in zip(picked, values)]
