"""`nnspec predict` and `nnspec evaluate`: a saved checkpoint used through a generated program.

The program is the spec's inference program (entry "infer"): its builders and the library
definitions nnspec.program.INFERENCE names, nothing of training.
"""

from __future__ import annotations

import csv
import io
import os

from nnspec.compiler.codegen import Target, generate
from nnspec.compiler.ir import Program, Settings
from nnspec.files import write_atomic
from nnspec.runtime.execute import load_program
from nnspec.runtime.run import RunError


def _program(program: Program, train: Settings) -> dict:
    spec = program.file.path
    target = Target(os.path.basename(spec) + ".py", os.path.dirname(os.path.abspath(spec)), "runs")
    return load_program(generate(program, train, target, format=False, entry="infer"), spec)


def _checkpoint(ns: dict, path: str) -> dict:
    try:
        return ns["load_checkpoint"](os.path.abspath(path))
    except ns["DataError"] as e:
        raise RunError.of(e) from None


def evaluate(program: Program, train: Settings, checkpoint: str, device: str) -> tuple[str, dict]:
    ns = _program(program, train)
    saved = _checkpoint(ns, checkpoint)
    root = os.path.dirname(os.path.abspath(program.file.path))
    try:
        samples = ns["read_data"](root)
        device = ns["pick_device"](device)
        metrics = {"metrics": ns["Metrics"](ns["build_metrics"](), device)} if "build_metrics" in ns else {}
        model, loss = ns["build_model"](), ns["build_loss"]()
        found = ns["evaluate_checkpoint"](model, samples, saved, checkpoint, loss, device, **metrics)
    except ns["DataError"] as e:
        raise RunError.of(e) from None
    return found


def predict(program: Program, train: Settings, checkpoint: str, source: str, output: str, device: str, say) -> int:
    """Write one row per sample of `source` to `output`; returns the number of rows."""
    ns = _program(program, train)
    saved = _checkpoint(ns, checkpoint)
    columns = saved["data"]["columns"]
    try:
        samples = ns["read_samples"](ns["data_file"](os.getcwd(), source), *([columns] if columns else []))
        values = ns["predict"](ns["build_model"](), samples, saved, checkpoint, ns["pick_device"](device))
    except ns["DataError"] as e:
        raise RunError.of(e) from None
    if samples.unused:
        say(f"note: {source}: columns the model was not trained on are ignored: {', '.join(samples.unused)}")
    header, rows = _table(saved["classes"], ns["probabilities"](values))
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
