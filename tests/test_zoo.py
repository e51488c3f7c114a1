"""The zoo (nnspec/zoo/*.nn): torchvision's counts, state_dict keys and outputs, weights files
loaded through `from`, and `use ... from zoo` seen exactly as the model written inline."""

from __future__ import annotations

import functools
import json
import os
import re
import sys

import pytest
import torch
from safetensors.torch import save_file

from nnspec.compiler.codegen import generate_models
from nnspec.compiler.imports import zoo_files
from nnspec.compiler.pipeline import check_file, check_source
from nnspec.compiler.summary import summarize
from nnspec.program import finetune
from nnspec.program.errors import DataError
from tests.reference_zoo import NETWORKS
from tests.support import run_cli

SIZE = 64  # the smallest input every zoo network takes is far below 224: tests stay fast
SMALL_FILES = ("ResNet18", "ResNet34", "ResNet50", "AlexNet", "SqueezeNet1_1", "MobileNetV2")  # VGG's: 0.5 GB each


@functools.cache
def zoo_programs() -> dict:
    """{model name: (zoo file, checked program)}."""
    found = {}
    for path in zoo_files():
        program = check_file(path).program
        found.update({name: (path, program) for name in program.models})
    return found


def test_the_zoo_is_the_tested_networks():
    assert set(zoo_programs()) == set(NETWORKS)


@functools.cache
def model_class(name: str, num_classes: int = 1000):
    """The class `nnspec compile` writes for `use <name>(num_classes=..) from zoo`."""
    result = check_source(f"use {name}(num_classes={num_classes}, size={SIZE}) from zoo\n", "spec.nn")
    assert result.ok, result.diagnostics
    namespace: dict = {}
    exec(compile(generate_models(result.program, "spec.py", format=False), "spec.py", "exec"), namespace)
    return namespace[name]


def reference(name: str) -> torch.nn.Module:
    """The hand-built torchvision network, in eval mode, with batch norm statistics not at their start."""
    torch.manual_seed(0)
    net = NETWORKS[name][0]().eval()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    return net


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_counts_equal_torchvisions(name, capsys):
    path, program = zoo_programs()[name]
    code, out, _ = run_cli(capsys, "summary", path, "--model", name, "--format", "json")
    assert code == 0
    assert json.loads(out)["total_params"] == NETWORKS[name][1] == summarize(program.models[name]).total
    with torch.device("meta"):
        assert sum(p.numel() for p in NETWORKS[name][0]().parameters()) == NETWORKS[name][1]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_torchvision_state_dict_loads_strictly_and_outputs_equal(name):
    theirs = reference(name)
    with torch.device("meta"):
        ours = model_class(name)()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True, assign=True)
    x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs(x), atol=1e-5, rtol=1e-5)


class Messages:
    def __init__(self):
        self.lines = []

    def message(self, text):
        self.lines.append(text)


def _save(state: dict, folder, fmt: str) -> str:
    path = str(folder / f"weights.{fmt}")
    if fmt == "pth":
        torch.save(state, path)
    else:
        save_file({k: t.contiguous() for k, t in state.items()}, path)
    return path


@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
@pytest.mark.parametrize("name", SMALL_FILES)
def test_weights_files_load_through_from(name, fmt, tmp_path, monkeypatch):
    """torchvision's files are plain state_dicts; a .safetensors copy loads the same."""
    theirs = reference(name)
    path = _save(theirs.state_dict(), tmp_path, fmt)
    monkeypatch.setattr(finetune, "SAFETENSORS", fmt == "safetensors")
    ours, report = model_class(name)(), Messages()
    finetune.load_pretrained(ours, path, report)
    total = len(theirs.state_dict())
    assert report.lines == [f"from {path}: {total} tensors loaded, 0 missing, 0 of another shape"]
    x = torch.rand(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
def test_a_new_head_is_excluded_not_mismatched(fmt, tmp_path, monkeypatch):
    theirs = reference("ResNet18")
    path = _save(theirs.state_dict(), tmp_path, fmt)
    monkeypatch.setattr(finetune, "SAFETENSORS", fmt == "safetensors")
    with pytest.raises(DataError) as refused:  # 1000 classes into 10: fc is of another shape
        finetune.load_pretrained(model_class("ResNet18", 10)(), path, Messages())
    assert refused.value.code == "E608"
    monkeypatch.setattr(finetune, "EXCLUDE", ["fc.*"])
    ours, report = model_class("ResNet18", 10)(), Messages()
    finetune.load_pretrained(ours, path, report)
    total = len(theirs.state_dict())
    assert report.lines == [f"from {path}: {total - 2} tensors loaded, 2 excluded, 0 missing, 0 of another shape"]
    assert torch.equal(ours.layer4[1].conv2.weight, theirs.layer4[1].conv2.weight)


def test_a_damaged_safetensors_file_is_a_coded_error(tmp_path, monkeypatch):
    monkeypatch.setattr(finetune, "SAFETENSORS", True)
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(DataError) as refused:
        finetune.load_pretrained(model_class("SqueezeNet1_1")(), str(path), Messages())
    assert refused.value.code == "E608"


INLINE = """
block Fire(squeeze_planes, expand1x1_planes, expand3x3_planes) {{
{fire}
}}
model Net {{
    input image: [3, 32, 32]
    output image -> Fire(8, 16, 16) -> Flatten() -> Linear(4)
}}
"""


def test_a_used_block_is_the_block_written_inline(capsys, tmp_path):
    source = open(zoo_programs()["SqueezeNet1_1"][0]).read()
    body = source.split("block Fire(squeeze_planes, expand1x1_planes, expand3x3_planes) {\n")[1].split("\n}")[0]
    inline = INLINE.format(fire=body)
    used = "use Fire from zoo\n" + inline.split("}\n", 1)[1]
    outputs = []
    for i, text in enumerate((inline, used)):
        spec = tmp_path / f"spec{i}.nn"
        spec.write_text(text)
        code, out, _ = run_cli(capsys, "summary", str(spec), "--format", "json")
        assert code == 0
        outputs.append(out)
        program = check_file(str(spec)).program  # unformatted: the zoo's longer file name wraps no line
        outputs.append(generate_models(program, "spec.py", format=False).replace(f"spec{i}.nn", "spec.nn"))
    assert outputs[0] == outputs[2]
    assert "(zoo/squeezenet.nn:" in outputs[3]  # provenance: the block's lines in the zoo
    assert _unplaced(outputs[1]) == _unplaced(outputs[3])


def _unplaced(program: str) -> str:
    return re.sub(r"[\w/]+\.nn:\d+", "<where>", program)


def test_use_from_another_spec_file(capsys, tmp_path):
    (tmp_path / "lib.nn").write_text("block Head(classes) {\n    input x\n    output x -> Linear(classes)\n}\n")
    (tmp_path / "net.nn").write_text(
        'use Head from "lib.nn"\nmodel Net {\n    input x: [4]\n    output x -> Head(3)\n}\n'
    )
    code, out, _ = run_cli(capsys, "summary", str(tmp_path / "net.nn"), "--format", "json")
    assert code == 0 and json.loads(out)["total_params"] == 15


def test_safetensors_without_the_package_is_a_coded_error(tmp_path, monkeypatch):
    path = _save(reference("SqueezeNet1_1").state_dict(), tmp_path, "safetensors")
    monkeypatch.setattr(finetune, "SAFETENSORS", True)
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)  # import fails as if not installed
    with pytest.raises(DataError) as refused:
        finetune.load_pretrained(model_class("SqueezeNet1_1")(), path, Messages())
    assert refused.value.code == "E520"


def test_a_search_changes_only_the_model_arguments_the_spec_writes():
    """A trial writes its value where the spec has it: `num_classes` in the `use`, not `size` in the zoo."""
    from nnspec.compiler.searchable import searchable

    text = "use SqueezeNet1_1(num_classes=3) from zoo\n" + _TRAIN
    result = check_source(text, "spec.nn")  # its synthetic data does not fit the model (E503): not trained here
    found = searchable(result.program.trains["train"], result.program)
    assert found["num_classes"][0] == "model" and "size" not in found


_TRAIN = """
data d {
    source = synthetic(features=4)
}
train {
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
}
"""


@pytest.mark.parametrize("origin", ["missing.nn", "folder", "fifo"])
def test_a_used_file_that_cannot_be_read_is_e210(origin, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")  # reading it would wait forever
    (tmp_path / "spec.nn").write_text(f'use Head from "{origin}"\n')
    code, out, _ = run_cli(capsys, "lint", str(tmp_path / "spec.nn"), "--format", "concise")
    assert code == 1 and out.split()[1] == "E210"


def test_two_uses_of_one_network_take_it_once():
    result = check_source("use ResNet18 from zoo\nuse ResNet18, BasicBlock from zoo\n", "spec.nn")
    assert result.ok and list(result.program.models) == ["ResNet18"]


def test_mobilenet_v2_is_torchvisions_to_the_parameter_and_the_key():
    """Its Conv2dNormActivation layers are a `sequential`'s, numbered as nn.Sequential numbers them."""
    path, program = zoo_programs()["MobileNetV2"]
    assert summarize(program.models["MobileNetV2"]).total == 3_504_872
    with torch.device("meta"):
        keys = list(model_class("MobileNetV2")().state_dict())
    assert keys[:2] == ["features.0.0.weight", "features.0.1.weight"]
    some = ["features.1.conv.0.0.weight", "features.1.conv.1.weight", "features.1.conv.2.running_var"]
    some += ["features.2.conv.1.0.weight", "features.2.conv.3.bias", "features.18.1.num_batches_tracked"]
    assert set(some) <= set(keys) and keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]
