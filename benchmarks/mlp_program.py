"""The MLP the training benchmarks share (32->256->256->10, Adam, synthetic rows), as the
generated program's namespace: what `nnspec run` executes."""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nnspec.compiler.codegen import Target, generate  # noqa: E402
from nnspec.compiler.pipeline import check_source  # noqa: E402

SPEC = """
data blobs {{
    source = synthetic(samples={rows}, features=32, classes=10)
    split = {{ train: 1.0 }}
    batch_size = {batch}
}}
model MLP {{
    input x: [32]
    output x -> Linear(256) -> ReLU() -> Linear(256) -> ReLU() -> Linear(10)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = Adam(lr=0.001)
    metrics = [{metrics}]
    device = "{device}"
}}
"""


def mlp_program(rows: int, batch: int, metrics: str = "", device: str = "cpu") -> dict:
    """The program's namespace; `metrics` as the spec writes them ("Accuracy()")."""
    text = SPEC.format(rows=rows, batch=batch, metrics=metrics, device=device)
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "bench.nn")
    result = check_source(text, path)
    assert result.ok, result.diagnostics
    source = generate(result.program, result.program.trains["train"], Target("bench.py", folder, "runs"), format=False)
    namespace = {"__name__": "bench", "__file__": os.path.join(folder, "bench.py")}
    exec(compile(source, "bench.py", "exec"), namespace)
    return namespace


class Quiet:
    """A report that prints nothing: timings without terminal output."""

    def start(self, epoch, epochs):
        pass

    def batch(self, done, total, samples, loss):
        pass

    def end(self, row):
        pass

    def message(self, text):
        pass
