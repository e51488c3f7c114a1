"""Names from a spec never break or hijack generated code (keywords, builtins, nn.Module's own)."""

from __future__ import annotations

import torch
from torch import nn

from nnspec.compiler.codegen import Target, generate, generate_models
from nnspec.compiler.names import MODULE_ATTRIBUTES
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.summary import summarize
from tests.support import train_in


def test_module_attribute_list_is_current():
    public = {a for a in dir(nn.Module) if not a.startswith("_")} | {"training"}
    assert public <= MODULE_ATTRIBUTES


SPEC = """
block Batches(def, self=2) {
    input lambda
    len = lambda -> Linear(def) -> ReLU()
    training = len -> Linear(def * self)
    output training + training
}
model main {
    input class: [4], print: [4]
    forward = class -> Batches(8, self=1)
    _modules = print -> Linear(8)
    self = Concat(forward, _modules, dim=1)
    h_0 = self -> Reshape([2, 8]) -> Flatten()
    h = Concat(h_0, h_0, dim=1) -> Linear(16)
    output h + h_0 -> Linear(3)
}
"""


def _namespace(source: str) -> dict:
    namespace: dict = {"__name__": "generated", "__file__": "generated.py"}
    exec(compile(source, "generated.py", "exec"), namespace)
    return namespace


def test_keywords_builtins_and_module_attributes_are_renamed(tmp_path):
    result = check_source(SPEC, str(tmp_path / "names.nn"))
    assert result.ok, result.diagnostics
    graph = result.program.models["main"]
    source = generate_models(result.program, "names.py")
    model = _namespace(source)["main_"]()
    assert isinstance(model.training, bool)  # the node called `training` did not replace it
    out = model(torch.randn(2, 4), torch.randn(2, 4))
    assert tuple(out.shape) == (2, 3)
    summary = summarize(graph)
    assert sum(p.numel() for p in model.parameters()) == summary.total
    names = {row.name for row in summary.rows}
    assert all(key.rsplit(".", 1)[0] in names for key in model.state_dict())


TRAINED = """
data fit {
    source = synthetic(samples=64, features=4, classes=3)
    batch_size = 16
}
model Metrics {
    input DATA: [4]
    TRAIN = DATA -> Linear(8) -> ReLU()
    output main: TRAIN -> Linear(3)
}
train main {
    data = fit
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    metrics = [Accuracy()]
    epochs = 1
}
"""


def test_training_program_with_names_of_its_own_functions_trains(tmp_path):
    result = check_source(TRAINED, str(tmp_path / "names.nn"))
    assert result.ok, result.diagnostics
    source = generate(
        result.program, result.program.trains["main"], Target("names.py", str(tmp_path), "run"), format=False
    )
    namespace = _namespace(source)
    rows = train_in(namespace, str(tmp_path), str(tmp_path / "run"))
    assert len(rows) == 1 and rows[0]["train_loss"] > 0
