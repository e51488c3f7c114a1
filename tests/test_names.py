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


# Every name a training program defines or imports at its top, used as a model's or a block's
# name and as a name in forward (the input's, or a layer's): the program still has one
# definition per top-level name, and it runs. Eight names share a program: the first names the
# model and its input, each other one a block and the layer that calls it.
GROUP = 8
EVERY_NAME = """
data d {{
    source = synthetic(samples=20, features=4, classes=3)
    split = {{ train: 0.5, val: 0.5 }}
    batch_size = 10
}}
{blocks}
model {model} {{
    input {model}: [4]
{uses}
    output Concat({last}, {model}, dim=1) -> Linear(3)
}}
train fit_it {{
    model = {model}
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    metrics = [Accuracy()]
    epochs = 1
    device = "cpu"
}}
"""
BLOCK = """block {name} {{
    input x
    output x -> Linear(4) -> ReLU()
}}"""


def every_name_spec(names: list[str]) -> str:
    model, blocks = names[0], names[1:]
    uses = [f"    {name} = {before} -> {name}()" for before, name in zip(names, blocks)]
    return EVERY_NAME.format(
        blocks="\n".join(BLOCK.format(name=b) for b in blocks), model=model, uses="\n".join(uses), last=names[-1]
    )


def _top_level_names(source: str) -> list[str]:
    import ast

    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name.split(".")[0] for a in node.names]
    return names


def test_every_name_a_program_defines_is_safe_as_a_spec_name(tmp_path):
    from nnspec.compiler.names import program_names

    names = sorted(n for n in program_names() if n.isidentifier())
    assert {"Rows", "make_batches", "OVERFIT_EPOCHS", "torchmetrics", "ImageFolder", "train", "main"} <= set(names)
    for start in range(0, len(names), GROUP):
        group = names[start : start + GROUP]
        if len(group) < 2:  # a model and at least one block
            group = [*group, "Trunk"]
        result = check_source(every_name_spec(group), str(tmp_path / "names.nn"))
        assert result.ok, (group, [d.message for d in result.diagnostics])
        train = next(iter(result.program.trains.values()))
        source = generate(result.program, train, Target("names.py", str(tmp_path), "run"), format=False)
        top = _top_level_names(source)
        assert len(top) == len(set(top)), (group, sorted({n for n in top if top.count(n) > 1}))
        out = _namespace(source)["build_model"]()(torch.randn(2, 4))
        assert out.shape == (2, 3), group
    assert len(train_in(_namespace(source), str(tmp_path), str(tmp_path / "run"))) == 1  # the last trains
