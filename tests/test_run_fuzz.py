"""Run-level fuzz: random small specs paired with data that breaks the data-model-loss contract
in one random way (the model's input width, the label set, a cell's type, a header naming a
column twice, a split left empty, targets misaligned with the samples, a NaN label), written as
CSV, .npz or a torch tensor file. Every one must end in exit 1 with a code before the first
training step: never exit 0 with a wrong result, never exit 123 (a bug in nnspec).

NNSPEC_RUN_FUZZ_EXAMPLES sets the number of examples (default 40); runs are derandomized.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnspec import cli
from tests.timeouts import time_limit

EXAMPLES = int(os.environ.get("NNSPEC_RUN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# (loss, the targets it takes): from the loss registry's own declarations
LOSSES = [("CrossEntropyLoss()", "index"), ("BCEWithLogitsLoss()", "binary"), ("MSELoss()", "real")]
FAULTS = ("width", "labels", "cell", "header", "split", "misaligned", "nan_label")
FORMATS = ("csv", "npz", "pt")


def _targets(kind: str, n: int, classes: int, rng) -> np.ndarray:
    if kind == "index":
        return rng.randint(0, classes, n)
    if kind == "binary":
        return rng.randint(0, 2, (n, 1)).astype("float32")
    return rng.randn(n, 1).astype("float32")


def _break(fault: str, fmt: str, x: np.ndarray, y: np.ndarray, kind: str, classes: int):
    """(features, targets, spec changes) with one contract broken."""
    changes = {}
    if fault == "width":
        changes["input"] = x.shape[1] + 1
    elif fault == "labels":
        y = y.copy()
        if kind == "real":  # class names for a regression loss
            y = np.full(y.shape, "cat")
        else:  # a class the output cannot score, or 2 for a binary loss
            y[0] = classes + 3 if kind == "index" else 2.0
    elif fault == "cell":
        x = x.astype(object)
        x[1, 0] = "abc"
    elif fault == "split":
        changes["split"] = "{ train: 0.9, val: 0.1, test: 0.0 }"
    elif fault == "misaligned" and fmt == "csv":  # one target column: the output cannot hold it
        changes["output"] = 3 if kind != "index" else classes - 1
    elif fault == "misaligned":
        y = y[:-3]
    elif fault == "nan_label":
        y = y.astype("float32")
        y[2] = np.nan
    return x, y, changes


def _files(fmt: str, fault: str, x, y) -> dict:
    if fmt == "csv":
        header = [f"f{i}" for i in range(x.shape[1])] + ["label"]
        if fault == "header":
            header[0] = "label" if x.shape[1] > 1 else header[0]
            header[-2 if x.shape[1] > 1 else 0] = header[0] if x.shape[1] > 1 else "label"
        rows = [",".join(map(str, [*r, *np.atleast_1d(t)[:1]])) for r, t in zip(x.tolist(), y)]
        return {"data.csv": ",".join(header) + "\n" + "\n".join(rows) + "\n"}
    if fault in ("cell", "header"):  # no cells or header: an array of Python objects instead
        x = x.astype(object)
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, features=x, targets=y)
        return {"data.npz": buffer.getvalue()}
    if x.dtype == object or y.dtype.kind in "OU":  # torch holds neither: a list where a tensor belongs
        data = {"features": x.tolist(), "targets": y.tolist()}
    else:
        data = {"features": torch.from_numpy(x), "targets": torch.from_numpy(y)}
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return {"data.pt": buffer.getvalue()}


SOURCES = {
    "csv": 'csv("data.csv")\n    target = "label"',
    "npz": 'numpy_arrays("data.npz")',
    "pt": 'torch_tensors("data.pt")',
}


def _spec(fmt: str, loss: str, kind: str, features: int, classes: int, changes: dict) -> str:
    output = changes.get("output", classes if kind == "index" else 1)
    split = changes.get("split", "{ train: 0.75, val: 0.25 }")
    return f"""
data d {{
    source = {SOURCES[fmt]}
    split = {split}
    batch_size = 8
}}
model M {{
    input x: [{changes.get("input", features)}]
    output x -> Linear(8) -> ReLU() -> Linear({output})
}}
train {{
    loss = {loss}
    optimizer = SGD(lr=0.1)
    epochs = 1
    device = "cpu"
}}
"""


CODE = re.compile(r"^error\[(E\d{3})\]", re.M)


@FUZZ
@given(
    fault=st.sampled_from(FAULTS),
    fmt=st.sampled_from(FORMATS),
    loss=st.sampled_from(LOSSES),
    features=st.integers(1, 4),
    classes=st.integers(2, 4),
    samples=st.integers(24, 48),
    seed=st.integers(0, 2**16),
)
def test_broken_data_is_refused_before_training(
    tmp_path_factory, capsys, fault, fmt, loss, features, classes, samples, seed
):
    rng = np.random.RandomState(seed)
    name, kind = loss
    x = rng.randn(samples, features).astype("float32")
    y = _targets(kind, samples, classes, rng)
    x, y, changes = _break(fault, fmt, x, y, kind, classes)
    folder = tmp_path_factory.mktemp("fuzz")
    for file, content in _files(fmt, fault, x, y).items():
        (folder / file).write_bytes(content if isinstance(content, bytes) else content.encode())
    (folder / "spec.nn").write_text(_spec(fmt, name, kind, features, classes, changes))
    old = os.getcwd()
    os.chdir(folder)
    try:
        with time_limit(60):
            exit = cli.main(["run", "spec.nn", "--out", "run"])
    finally:
        os.chdir(old)
    err = capsys.readouterr().err
    assert exit == 1 and "Traceback" not in err, (fault, fmt, name, err)
    assert CODE.search(err), err
    assert not (folder / "run" / "metrics.csv").exists()


# --- faults around valid specs --------------------------------------------------------------

OVERRIDES = [("--seed", "-1"), ("--seed", "4294967296"), ("--lr", "-0.5"), ("--lr", "1e39"), ("--epochs", "0")]
OVERRIDES += [("--lr", "fast"), ("--device", "tpu")]
FOREIGN = [torch.zeros(3), [1, 2], {"model": 3}, {"weights": torch.ones(2)}, b"not a checkpoint"]
ENVIRONMENT = ("missing_data", "out_under_a_file", "foreign_checkpoint", "malformed_data", "override", "output_taken")


def _environment_fault(fault: str, fmt: str, folder, rng) -> list[str]:
    """Applies `fault` to a folder holding a valid spec and its data; the command that meets it."""
    data = folder / f"data.{fmt}"
    if fault == "missing_data":
        data.unlink()
    elif fault == "out_under_a_file":
        (folder / "notes.txt").write_text("mine\n")
        return ["run", "spec.nn", "--out", "notes.txt/run"]
    elif fault == "malformed_data":
        torn = {"csv": data.read_bytes()[:-9] + b"\xff,\n", "npz": b"just text", "pt": b"\x80\x02garbage"}
        data.write_bytes(torn[fmt])
    elif fault == "override":
        return ["run", "spec.nn", "--out", "run", *OVERRIDES[rng.randint(len(OVERRIDES))]]
    elif fault in ("foreign_checkpoint", "output_taken"):
        value = FOREIGN[rng.randint(len(FOREIGN))]
        (folder / "c.pt").write_bytes(value if isinstance(value, bytes) else torch_bytes(value))
        if fault == "output_taken":
            (folder / "p.csv").write_text("my results\n")
        if rng.randint(2) and fault == "foreign_checkpoint":
            return ["evaluate", "spec.nn", "--checkpoint", "c.pt"]
        return ["predict", "spec.nn", "--checkpoint", "c.pt", "--input", data.name, "--output", "p.csv"]
    return ["run", "spec.nn", "--out", "run"]


def torch_bytes(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _files_in(folder) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@FUZZ
@given(
    fault=st.sampled_from(ENVIRONMENT),
    fmt=st.sampled_from(FORMATS),
    loss=st.sampled_from(LOSSES),
    features=st.integers(1, 4),
    classes=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_a_fault_around_a_valid_spec_is_a_coded_message(
    tmp_path_factory, capsys, fault, fmt, loss, features, classes, seed
):
    rng = np.random.RandomState(seed)
    name, kind = loss
    x = rng.randn(32, features).astype("float32")
    folder = tmp_path_factory.mktemp("fault")
    for file, content in _files(fmt, "", x, _targets(kind, 32, classes, rng)).items():
        (folder / file).write_bytes(content if isinstance(content, bytes) else content.encode())
    (folder / "spec.nn").write_text(_spec(fmt, name, kind, features, classes, {}))
    argv = _environment_fault(fault, fmt, folder, rng)
    before = _files_in(folder)
    old = os.getcwd()
    os.chdir(folder)
    try:
        with time_limit(60):
            try:
                exit = cli.main(argv)
            except SystemExit as e:  # argparse's usage errors
                exit = e.code
    finally:
        os.chdir(old)
    err = capsys.readouterr().err
    assert "Traceback" not in err, (fault, argv, err)
    assert exit == 2 if fault == "override" else exit == 1 and CODE.search(err), (fault, argv, exit, err)
    after = _files_in(folder)
    assert {k: after.get(k) for k in before} == before, (fault, argv)  # nothing of the user's changed
    assert all(k.parts[0] == "run" for k in after.keys() - before.keys()), (fault, argv)  # or written elsewhere
