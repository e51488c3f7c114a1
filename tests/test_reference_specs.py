"""Reference architectures in specs/: nnspec's static counts, shapes and MACs equal PyTorch's."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from pathlib import Path

import pytest
import torch
from torch import nn

from nnspec.compiler.codegen import generate_models
from nnspec.compiler.pipeline import check_file
from nnspec.compiler.summary import summarize
from nnspec.compiler.walk import flat_nodes, output_shapes
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS
from tests import reference_models as ref
from tests import reference_networks as nets
from tests import torch_oracle

SPECS = Path(__file__).resolve().parent.parent / "specs"
BATCH = 2
SYMBOL_SIZE = 7  # the size every symbolic dim (T) takes in a forward pass
TORCHINFO_RESNET18_MACS = 1_814_083_944  # torchinfo's "Total mult-adds" for resnet18 at 224x224


@dataclass(frozen=True)
class Case:
    file: str
    model: str
    params: int
    build: Callable[[], nn.Module]


CASES = [
    Case("seed_linear.nn", "SeedLinear", 46, ref.seed_linear),
    Case("seed_mlp.nn", "SeedMLP", 2_213, ref.seed_mlp),
    Case("seed_conv.nn", "SeedConv", 80_530, ref.seed_conv),
    Case("seed_linear_stack.nn", "SeedLinearStack", 683, ref.seed_linear_stack),
    Case("seed_rnn.nn", "SeedRNN", 1_480, ref.seed_rnn),
    Case("seed_lstm.nn", "SeedLSTM", 5_920, ref.seed_lstm),
    Case("seed_gru.nn", "SeedGRU", 4_440, ref.seed_gru),
    Case("lenet5.nn", "LeNet5", 61_706, ref.lenet5),
    Case("alexnet.nn", "AlexNet", 61_100_840, ref.AlexNet),
    Case("vgg16.nn", "VGG16", 138_357_544, ref.vgg16),
    Case("resnet18.nn", "ResNet18", 11_689_512, ref.resnet18),
    Case("gru_text.nn", "GRUText", 394_754, ref.gru_text),
    Case("bilstm.nn", "BiLSTM", 914_948, ref.bilstm),
    Case("resnet50.nn", "ResNet50", 25_557_032, nets.ResNet50),
    Case("nanogpt.nn", "GPT", 10_745_088, nets.GPT),
    Case("siamese.nn", "Siamese", 420_481, nets.Siamese),
    Case("seq2seq.nn", "Seq2Seq", 5_177_200, nets.Seq2Seq),
    Case("unet.nn", "UNet", 1_927_042, nets.UNet),
]
IDS = [c.model for c in CASES]
BY_MODEL = {c.model: c for c in CASES}


@functools.cache
def checked(file: str):
    return check_file(str(SPECS / file))


def graph_of(case: Case):
    return checked(case.file).program.models[case.model]


def on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """The module without allocating or initialising its weights."""
    with torch.device("meta"):
        return build()


@dataclass(frozen=True)
class Measured:
    shapes: tuple[tuple, ...]  # per-sample output shapes
    weight_macs: int  # per sample: each weight element times the positions it is applied at
    torchinfo_macs: int  # per sample, by torchinfo's rule (every parameter, biases and norms too)


@functools.cache
def measure(model: str) -> Measured:
    """One forward pass of the hand-written module, batch BATCH, with zeroed weights."""
    case = BY_MODEL[model]
    module = on_meta(case.build).to_empty(device="cpu").eval()
    counts = [0, 0]
    with torch.no_grad():
        for t in (*module.parameters(), *module.buffers()):
            t.zero_()  # shapes only: zeros cost no init time and keep denormals out
        hooks = [m.register_forward_hook(_counter(counts)) for m in module.modules() if not list(m.children())]
        inputs = [torch_oracle.sample(concrete(i.shape), BATCH) for i in graph_of(case).inputs]
        out = module(*inputs)
    for h in hooks:
        h.remove()
    outs = out if isinstance(out, tuple) else (out,)
    return Measured(tuple(tuple(o.shape[1:]) for o in outs), counts[0] // BATCH, counts[1] // BATCH)


def _counter(counts: list):
    def hook(module, inputs, out):
        out = out[0] if isinstance(out, tuple) else out  # recurrent: (sequence, states)
        weights = sum(p.numel() for n, p in module.named_parameters() if n.startswith("weight"))
        counts[0] += weights * _uses(module, inputs[0] if _transposed(module) else out)
        for name, p in module.named_parameters():  # torchinfo's LayerInfo.calculate_macs
            if isinstance(module, nn.modules.conv._ConvNd):
                counts[1] += p.numel() * out.shape[0] * prod(out.shape[2:])
            elif name in ("weight", "bias"):
                counts[1] += p.numel() * out.shape[0]
            else:
                counts[1] += p.numel() * out.shape[0] * out.shape[1]

    return hook


def _transposed(module: nn.Module) -> bool:
    """A transposed convolution scatters each input position through the whole kernel."""
    return isinstance(module, nn.modules.conv._ConvTransposeNd)


def _uses(module: nn.Module, out: torch.Tensor) -> int:
    """How often each weight element multiplies an input (whole batch); `out` is the input of a
    transposed convolution."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return out.shape[0] * prod(out.shape[2:])
    if isinstance(module, nn.Linear):
        return out.numel() // out.shape[-1]
    if isinstance(module, nn.RNNBase):
        return out.shape[0] * out.shape[1]  # batch-first: every step of every sequence
    return 0  # embeddings look up, norms scale per channel: no weight products


def concrete(shape: Shape) -> Shape:
    return shape.with_dims(SYMBOL_SIZE if isinstance(d, str) else d for d in shape.dims)


def has_symbols(case: Case) -> bool:
    return any(isinstance(d, str) for i in graph_of(case).inputs for d in i.shape.dims)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_spec_is_clean(case):
    result = checked(case.file)
    assert result.ok
    assert [d.code for d in result.diagnostics] == []
    assert case.model in result.program.models


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_param_count_equals_pytorch(case):
    total = summarize(graph_of(case)).total
    torch_total = sum(p.numel() for p in on_meta(case.build).parameters())
    assert total == case.params
    assert torch_total == case.params


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_shape_equals_pytorch(case):
    static = [concrete(s).dims for s in output_shapes(graph_of(case)).values()]
    assert tuple(static) == measure(case.model).shapes


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_layer_weight_shapes_equal_pytorch(case):
    """Layer by layer, in order: the module nnspec's arguments build holds the same weights."""
    ours = []
    for _, _, node in flat_nodes(graph_of(case)):
        kind = None if node.is_block or node.reused else LAYERS.get(node.kind)  # a module again: not new weights
        if kind is not None and kind.torch_class:
            ours.append(_weight_shapes(on_meta(lambda kind=kind, node=node: torch_oracle.build(kind, node.args))))
    theirs = [_weight_shapes(m) for m in on_meta(case.build).modules()]
    assert [s for s in ours if s[1]] == [s for s in theirs if s[1]]


def _weight_shapes(module: nn.Module) -> tuple:
    return type(module).__name__, tuple((n, tuple(p.shape)) for n, p in module.named_parameters(recurse=False))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_macs_equal_weight_products(case):
    """nnspec counts one mult-add per weight element per position it is applied at."""
    measured = measure(case.model).weight_macs
    if has_symbols(case):
        measured //= SYMBOL_SIZE  # a sequence of symbolic length T is counted per step
    functional = sum(n.macs for _, _, n in flat_nodes(graph_of(case)) if not n.is_block and not _is_module(n))
    assert summarize(graph_of(case)).macs - functional == measured  # attention's products have no weights


def _is_module(node) -> bool:
    return LAYERS.get(node.kind).torch_class is not None


def test_resnet18_macs_near_torchinfo():
    macs = summarize(graph_of(BY_MODEL["ResNet18"])).macs
    assert abs(macs - TORCHINFO_RESNET18_MACS) <= 0.01 * TORCHINFO_RESNET18_MACS
    # torchinfo's rule, replayed on the same module, gives its published figure; it also counts
    # every bias and BatchNorm parameter once per sample, which is all that separates the two.
    measured = measure("ResNet18")
    assert measured.torchinfo_macs == TORCHINFO_RESNET18_MACS
    extras = sum(p.numel() for m in on_meta(ref.resnet18).modules() for p in _extras(m))
    assert extras == 9_600 + 1_000  # BatchNorm weights and biases, the classifier's bias
    assert macs + extras == TORCHINFO_RESNET18_MACS


def _extras(module: nn.Module):
    """The parameters torchinfo counts as mult-adds but that multiply no input: biases, norms."""
    for name, p in module.named_parameters(recurse=False):
        if name == "bias" or isinstance(module, nn.BatchNorm2d):
            yield p


def compiled(case: Case) -> nn.Module:
    """The spec's model class as `nnspec compile` writes it, built on the meta device."""
    program = checked(case.file).program
    namespace: dict = {}
    exec(compile(generate_models(program, "spec.py", format=False), "spec.py", "exec"), namespace)
    return on_meta(namespace[case.model])


def _tensors(module: nn.Module) -> list:
    return [(name, tuple(t.shape)) for name, t in module.state_dict().items()]


def test_resnet50_module_paths_are_torchvisions_state_dict_keys():
    """Every parameter and buffer by name and shape, in order: torchvision's weights load strictly."""
    ours, theirs = compiled(BY_MODEL["ResNet50"]), on_meta(nets.ResNet50)
    assert _tensors(ours) == _tensors(theirs)
    assert len(ours.state_dict()) == 320 and "layer1.0.downsample.0.weight" in ours.state_dict()
    ours.load_state_dict(theirs.state_dict(), strict=True)


def test_gpt_parameters_are_nanogpts():
    """Parameter for parameter, nanoGPT's names without `transformer.`; the head is the embedding."""
    ours, theirs = compiled(BY_MODEL["GPT"]), on_meta(nets.GPT)
    named = [(n.removeprefix("transformer."), tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == named
    assert ours.wte.weight is ours.lm_head.weight
    assert sum(p.numel() for p in ours.parameters()) == 10_745_088
    assert sum(p.numel() for p in ours.parameters()) - ours.wpe.weight.numel() == 10_646_784  # nanoGPT's 10.65M
