"""`sequential` sections: a block that is an nn.Sequential, its layers numbered 0, 1 ... where it is
used. Summary's names, the compiled state_dict and a hand-built PyTorch network agree on them."""

from __future__ import annotations

import io
import json

import pyflakes.api
import pyflakes.reporter
import torch
from torch import nn

from nnspec.compiler.codegen import black_format, generate_models
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.summary import summarize
from tests.support import run_cli
from tests.test_differential import check_against_torch

SPEC = """
sequential CBR(out, k=3, stride=1) {
    input x
    output x -> Conv2d(out, k, stride=stride, padding=(k - 1) // 2, bias=false) -> BatchNorm2d() -> ReLU6()
}
sequential Head(classes) {
    input x
    output x -> Linear(classes)
}
block Res(c) {
    input x
    conv = x -> CBR(c) -> Conv2d(c, 1)
    output x + conv
}
model Net {
    input image: [3, 16, 16]
    stem = CBR(8, stride=2)
    x = image -> stem
    features = x -> CBR(8) -> Res(8) * 2
    output features -> Flatten() -> Head(4)
}
"""

# Summary's names of the layers with parameters, as torchvision-style code writes the same network.
PATHS = [
    "stem.0", "stem.1", "features.0.0", "features.0.1",
    "features.1.conv.0.0", "features.1.conv.0.1", "features.1.conv.1",
    "features.2.conv.0.0", "features.2.conv.0.1", "features.2.conv.1", "output.1.0",
]  # fmt: skip


class Reference(nn.Module):
    """SPEC written by hand: each sequential an nn.Sequential, each block a module with `conv`."""

    def __init__(self):
        super().__init__()
        self.stem = cbr(3, 8, stride=2)
        self.features = nn.Sequential(cbr(8, 8), Res(8), Res(8))
        self.output = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(8 * 8 * 8, 4)))

    def forward(self, image):
        return self.output(self.features(self.stem(image)))


def cbr(inp: int, out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU6())


class Res(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Sequential(cbr(c, c), nn.Conv2d(c, c, 1))

    def forward(self, x):
        return x + self.conv(x)


def _compiled(text: str, name: str):
    result = check_source(text, "spec.nn")
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    namespace: dict = {}
    source = generate_models(result.program, "m.py", format=False)
    exec(compile(source, "m.py", "exec"), namespace)
    return result.program, namespace[name](), source


def test_summary_names_are_the_state_dict_keys():
    program, model, _ = _compiled(SPEC, "Net")
    rows = [r for r in summarize(program.models["Net"]).rows if r.params and not r.is_block]
    assert [r.name for r in rows] == PATHS
    keys = dict.fromkeys(k.rsplit(".", 1)[0] for k, _ in model.named_parameters())
    assert list(keys) == PATHS


def test_the_cli_summary_shows_the_same_names(capsys, write):
    code, out, _ = run_cli(capsys, "summary", write(SPEC), "--format", "json")
    assert code == 0
    names = [layer["name"] for layer in json.loads(out)["layers"]]
    assert {"stem.2", "features.0.2", "features.1.conv.0.2", "output.1.0"} <= set(names)
    assert not [n for n in names if ".output." in n]  # a block's chain would be `output.0` ...


def test_a_torchvision_style_network_loads_strictly_and_computes_the_same():
    _, ours, source = _compiled(SPEC, "Net")
    assert "class CBR(nn.Sequential):" in source and "class Head(nn.Sequential):" in source
    torch.manual_seed(0)
    theirs = Reference().eval()
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs(x))


def test_counts_shapes_and_values_against_pytorch():
    check_against_torch(SPEC, {})


def test_a_block_of_the_same_body_keeps_its_output_names():
    """Only `sequential` numbers the layers: a block's chain is still `output.0` (checkpoints rely on it)."""
    block = SPEC.replace("sequential CBR", "block CBR")
    program, model, _ = _compiled(block, "Net")
    assert "features.0.output.0.weight" in model.state_dict()
    names = [r.name for r in summarize(program.models["Net"]).rows]
    assert "features.0.output.1" in names and "features.0.1" not in names


def test_freeze_names_a_sequentials_numbered_layers():
    text = SPEC.replace("-> BatchNorm2d() -> ReLU6()\n", '-> BatchNorm2d() -> ReLU6()\n    freeze "1"\n', 1)
    program, model, source = _compiled(text, "Net")
    s = summarize(program.models["Net"])
    frozen = [r.name for r in s.rows if not r.is_block and r.params and not r.trainable]
    assert frozen == ["stem.1", "features.0.1", "features.1.conv.0.1", "features.2.conv.0.1"]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == s.trainable
    assert "get_submodule('1').requires_grad_(False)" in source.replace('"', "'")


def test_a_sequential_is_taken_from_the_zoo_with_use():
    text = "use ConvBNReLU from zoo\nmodel M {\n    input x: [3, 8, 8]\n    output x -> ConvBNReLU(4)\n}\n"
    _, model, _ = _compiled(text, "M")
    assert list(model.state_dict())[:2] == ["output.0.weight", "output.1.weight"]
    assert isinstance(model.output, nn.Sequential) and len(model.output) == 3


def test_the_generated_classes_are_black_stable_and_pyflakes_clean():
    """The nn.Sequential class has no forward and no attributes of its own: nothing left unused."""
    source = generate_models(check_source(SPEC, "spec.nn").program, "m.py")
    assert black_format(source) == source
    out = io.StringIO()
    assert pyflakes.api.check(source, "m.py", pyflakes.reporter.Reporter(out, out)) == 0, out.getvalue()
