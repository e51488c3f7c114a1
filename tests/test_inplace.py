"""W302 against PyTorch: a model warns exactly where running it in place changes what it computes.

Each model runs twice, as written and with `inplace=true` taken out, from the same weights and
random state: backward failing, or any output, input or gradient differing, is the hazard the
warning must name; where both runs agree there must be no warning.
"""

from __future__ import annotations

import re

import pytest
import torch

from nnspec.compiler.codegen import generate_models
from nnspec.compiler.pipeline import check_source

MODELS = {
    "resnet_basic_block": """
block Basic(c) {
    input x
    h = x -> Conv2d(c, 3, padding=1, bias=false) -> BatchNorm2d() -> ReLU(inplace=true)
    h = h -> Conv2d(c, 3, padding=1, bias=false) -> BatchNorm2d()
    output (h + x) -> ReLU(inplace=true)
}
model M {
    input x: [3, 6, 6]
    h = x -> Conv2d(4, 3, padding=1) -> BatchNorm2d() -> ReLU(inplace=true)
    output h -> Basic(4) -> Basic(4) -> Flatten() -> Linear(2)
}""",
    "after_a_layer_that_keeps_its_output": """
model M {
    input x: [4]
    output x -> Linear(8) -> Sigmoid() -> ReLU(inplace=true) -> Linear(2)
}""",
    "after_relu_in_place": """
model M {
    input x: [4]
    output x -> Linear(8) -> ReLU(inplace=true) -> Dropout(0.5, inplace=true) -> Linear(2)
}""",
    "a_value_read_again": """
model M {
    input x: [4]
    s = x -> Linear(8)
    t = s -> LeakyReLU(inplace=true)
    output (t + s) -> Linear(2)
}""",
    "a_value_read_before": """
model M {
    input x: [4]
    s = x -> Linear(8)
    u = s -> Tanh()
    output (s -> ReLU(inplace=true)) + u
}""",
    "the_models_input": """
model M {
    input x: [4]
    output x -> ReLU(inplace=true) -> Linear(2)
}""",
    "a_value_returned": """
model M {
    input x: [4]
    s = x -> Linear(8)
    output a: s
    output b: s -> ReLU6(inplace=true)
}""",
}


def _module(text: str):
    result = check_source(text, "m.nn")
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    namespace: dict = {"__name__": "m"}
    exec(compile(generate_models(result.program, "m.py", format=False), "m.py", "exec"), namespace)
    return namespace["M"], [d for d in result.diagnostics if d.code == "W302"]


def _outcome(model_class, state: dict, shape) -> tuple | str:
    torch.manual_seed(0)
    model = model_class()
    model.load_state_dict(state)
    x = torch.randn(2, *shape)  # a batch, as training feeds it: no gradient
    given = x.clone()
    outs = model(x)
    outs = outs if isinstance(outs, tuple) else (outs,)
    try:
        sum(o.sum() for o in outs).backward()
    except RuntimeError as e:
        assert "inplace" in str(e)
        return "backward fails"
    return (*outs, x - given, *(p.grad for p in model.parameters()))


@pytest.mark.parametrize("name", MODELS)
def test_w302_warns_where_in_place_changes_the_result(name):
    text = MODELS[name]
    written, warnings = _module(text)
    plain, _ = _module(re.sub(r",? ?inplace=true", "", text).replace("(, ", "("))
    shape = [int(d) for d in re.search(r"input x: \[([\d, ]+)\]", text).group(1).split(",")]
    torch.manual_seed(0)
    state = plain().state_dict()
    a, b = _outcome(written, state, shape), _outcome(plain, state, shape)
    changed = isinstance(a, str) or any(not torch.allclose(u, v) for u, v in zip(a, b))
    assert bool(warnings) == changed, [w.message for w in warnings]
    if changed:
        assert len({w.span for w in warnings}) == len(warnings)  # once per position


def test_a_block_used_many_times_warns_once():
    block = "block B {\n    input x\n    s = x -> Linear(4)\n    output (s -> ReLU(inplace=true)) + s\n}\n"
    text = block + "model M {\n    input x: [4]\n    output x -> B() -> B() -> B()\n}\n"
    _, warnings = _module(text)
    assert len(warnings) == 1
