"""Shared modules, tied weights, several values per statement, layouts and freezing in the model:
each against PyTorch (counts, shapes, values) and as summary and the generated code show it."""

from __future__ import annotations

import json

import pytest
import torch

from nnspec.compiler.codegen import generate_models
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.summary import summarize, to_json, to_text
from tests.test_differential import check_against_torch

SHARED = """
model Shared {
    input x: [4, 6, 6]
    conv = Conv2d(4, 3, padding=1)
    y = x -> conv -> ReLU() -> conv
    z = y -> conv * 2
    output z + conv(x)
}
"""

SIAMESE = """
block Trunk {
    input x
    output x -> Flatten() -> Linear(8) -> ReLU()
}
model Twins {
    input a: [2, 3], b: [2, 3]
    trunk = Trunk()
    u = a -> trunk
    v = b -> trunk
    output (u - v) -> Abs() -> Linear(1)
}
"""

TIED = """
model Tied {
    input tokens: long[5]
    wte = Embedding(11, 6)
    head = Linear(11, bias=false)
    head.weight = wte.weight
    output tokens -> wte -> LayerNorm() -> head
}
"""

STATES = """
model Seq2Seq {
    input src: long[7], tgt: long[4]
    emb = Embedding(20, 8)
    _, h, c = src -> emb -> LSTM(16, num_layers=2)
    out, h2, c2 = LSTM(tgt -> emb, h, c, 16, num_layers=2)
    output logits: out -> Linear(20)
    output h2: h2
    output c2: c2
}
"""

VALUES = """
block Down(c) {
    input x
    skip = x -> Conv2d(c, 3, padding=1) -> ReLU()
    output skip: skip
    output output: skip -> MaxPool2d(2)
}
model Parts {
    input x: [3, 8, 8], s: [T, N, 6]
    skip, down = x -> Down(4)
    a, b = down -> Chunk(2, dim=1)
    q, k, v = s -> Linear(12) -> Split(4, dim=2)
    seq, h = s -> GRU(5, num_layers=2)
    output first: a[:, 0, 1:, ...] + b[:, 1, 1:]
    output skip: skip[..., ::2, none]
    output q: q * k - v
    output seq: seq
    output h: h
}
"""

FROZEN = """
model Frozen {
    input x: [4]
    h = x -> Linear(8) -> BatchNorm1d() -> ReLU()
    out = h -> Linear(2)
    freeze "h.0.bias", "h.1"
    output out
}
"""

CASES = {"shared": SHARED, "siamese": SIAMESE, "tied": TIED, "states": STATES, "values": VALUES, "frozen": FROZEN}


@pytest.mark.parametrize("text", CASES.values(), ids=list(CASES))
def test_against_pytorch(text):
    """Counts, output shapes and dtypes, and output values equal to an independent evaluation."""
    check_against_torch(text, {"T": 5})


def _checked(text: str):
    result = check_source(text, "spec.nn")
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result.program


def _module(text: str, name: str):
    source = generate_models(_checked(text), "m.py", format=False)
    namespace: dict = {}
    exec(compile(source, "m.py", "exec"), namespace)
    return namespace[name](), source


def test_a_shared_module_is_one_attribute_counted_once():
    model, source = _module(SHARED, "Shared")
    assert source.count("nn.Conv2d(") == 1 and source.count("self.conv(") == 5
    assert sum(p.numel() for p in model.parameters()) == 4 * 4 * 9 + 4
    rows = summarize(_checked(SHARED).models["Shared"]).rows
    conv = [r for r in rows if r.name == "conv"]
    assert len(conv) == 5 and [r.recursive for r in conv] == [False, True, True, True, True]
    assert [r.params for r in conv] == [148, 0, 0, 0, 0]


def test_summary_marks_later_calls_recursive_as_torchinfo_does():
    s = summarize(_checked(SIAMESE).models["Twins"])
    text = to_text(s, "spec.nn")
    assert text.count("(recursive)") == 4  # the second trunk call and its three layers
    layers = json.loads(to_json(s))["layers"]
    assert [r["name"] for r in layers if r.get("recursive")] == [
        "trunk",
        "trunk.output.0",
        "trunk.output.1",
        "trunk.output.2",
    ]
    assert s.total == (6 * 8 + 8) + (8 + 1)


def test_tied_weights_are_one_tensor():
    model, source = _module(TIED, "Tied")
    assert "self.head.weight = self.wte.weight" in source
    assert model.head.weight is model.wte.weight
    total = sum(p.numel() for p in model.parameters())
    assert total == summarize(_checked(TIED).models["Tied"]).total == 11 * 6 + 12


def test_states_have_pytorchs_shapes():
    graph = _checked(STATES).models["Seq2Seq"]
    shapes = {name: str(s) for name, s in zip([o[0] for o in graph.outputs], [n for n in _outputs(graph)])}
    assert shapes == {"logits": "(N, 4, 20)", "h2": "(2, N, 16)", "c2": "(2, N, 16)"}
    _, source = _module(STATES, "Seq2Seq")
    assert "_, (h, c) = self.h_1(h_0)" in source and "self.out_1(out_0, (h, c))" in source


def _outputs(graph):
    from nnspec.compiler.walk import output_shapes

    return list(output_shapes(graph).values())


def test_several_values_and_indexing_in_the_generated_forward():
    _, source = _module(VALUES, "Parts")
    assert "skip, down = self.skip_0(x)" in source
    assert "a, b = down.chunk(2, dim=1)" in source
    assert ".split(4, dim=2)" in source
    assert "a[:, 0, 1:, ...]" in source and "skip[..., ::2, None]" in source
    assert "return skip, output" in source  # `output output:` names a block's second value


def test_freezing_in_the_model_is_in_summary_and_the_class():
    program = _checked(FROZEN)
    s = summarize(program.models["Frozen"])
    assert (s.total, s.trainable) == (8 * 4 + 8 + 16 + 18, 8 * 4 + 18)
    rows = {r.name: r for r in s.rows}
    assert rows["h.0"].partial and not rows["h.1"].trainable and rows["out"].trainable
    assert "partial" in to_text(s, "spec.nn")
    model, source = _module(FROZEN, "Frozen")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == s.trainable
    assert 'self.get_parameter("h.0.bias").requires_grad_(False)' in source.replace("'", '"')


def test_train_freeze_patterns_may_name_parameters():
    s = summarize(_checked(FROZEN).models["Frozen"], frozen=("out.bias",))
    assert s.trainable == 8 * 4 + 16


def test_sequence_major_input_is_read_as_pytorch_reads_it():
    graph = _checked(VALUES).models["Parts"]
    rnn = next(n for n in graph.nodes if n.kind == "GRU")
    assert rnn.args["batch_first"] is False
    assert [str(s) for s in rnn.shapes] == ["(T, N, 5)", "(2, N, 5)"]
    lines = [line for line in _module(VALUES, "Parts")[1].splitlines() if "nn.GRU(" in line]
    assert "batch_first" not in lines[0]  # PyTorch's default: sequence first


def test_concat_along_the_batch_and_back():
    text = """
model Twice {
    input a: [4], b: [4]
    both = Concat(a, b, dim=0) -> Linear(3)
    x, y = both -> Chunk(2, dim=0)
    output x - y
    output both: both
}
"""
    shapes = [str(s) for s in _outputs(_checked(text).models["Twice"])]
    assert shapes == ["(N, 3)", "(2N, 3)"]
    check_against_torch(text, {})


def test_a_view_that_folds_the_batch():
    text = """
model Fold {
    input x: [5, 3]
    output x -> Flatten(0, 1) -> Linear(2)
}
"""
    assert [str(s) for s in _outputs(_checked(text).models["Fold"])] == ["(5N, 2)"]
    check_against_torch(text, {})


def test_dropout_of_attention_only_while_training():
    text = """
model A {
    input q: [2, 5, 4], k: [2, 5, 4], v: [2, 5, 4]
    output ScaledDotProductAttention(q, k, v, dropout_p=0.5, is_causal=true)
}
"""
    model, source = _module(text, "A")
    assert "dropout_p=0.5 if self.training else 0.0" in source
    model.eval()
    q = torch.randn(2, 2, 5, 4)
    assert torch.equal(model(q, q, q), model(q, q, q))
