"""Every layer kind's worked examples: static FLOPs and bytes kept for backward against PyTorch's.

Each example runs twice: inside a network (its float inputs need gradients) and as a model's
first layer (they do not). Forward and backward FLOPs equal FlopCounterMode's; the bytes equal
what saved_tensors_hooks records, each storage once.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import nnspec.kinds.layers  # noqa: F401  (registers the kinds)
from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import Example, Shape
from nnspec.kinds.cost import Flow, nbytes
from nnspec.kinds.layer import LAYERS
from tests import cost_oracle, torch_oracle

BATCH = 3
# Beyond the worked examples: the other paths PyTorch takes (attention with dropout, transformer
# layers without, padding modes, in place, one-step sequences, dropout of 0 and 1).
MORE = {
    "MultiheadAttention": [
        ({"num_heads": 2, "dropout": 0.2}, ((5, 8),)),
        ({"num_heads": 2, "dropout": 0.3, "add_bias_kv": True}, ((4, 8),)),
        ({"num_heads": 2, "dropout": 0.1}, ((5, 8), (7, 8))),
        ({"num_heads": 2, "dropout": 0.1, "add_zero_attn": True}, ((5, 8), (7, 3))),
        ({"num_heads": 4, "dropout": 0.5}, ((3, 8), (6, 8), (6, 5))),
        ({"num_heads": 2}, ((1, 8),)),
        ({"num_heads": 2, "add_bias_kv": True}, ((3, 8), (4, 8))),
    ],
    "TransformerEncoderLayer": [
        ({"nhead": 2, "dim_feedforward": 8, "dropout": 0.0}, ((4, 6),)),
        ({"nhead": 2, "dim_feedforward": 8, "dropout": 0.0, "activation": "gelu", "norm_first": True}, ((4, 6),)),
    ],
    "TransformerDecoderLayer": [({"nhead": 2, "dim_feedforward": 8, "dropout": 0.0}, ((4, 6), (3, 6)))],
    "Conv2d": [
        ({"out_channels": 3, "kernel_size": 3, "padding": 1, "padding_mode": mode}, ((2, 5, 5),))
        for mode in ("reflect", "replicate", "circular")
    ]
    + [({"out_channels": 3, "kernel_size": 4, "padding": "same"}, ((2, 6, 5),))],
    "Conv1d": [({"out_channels": 2, "kernel_size": 2, "padding": "same", "padding_mode": "reflect"}, ((3, 6),))],
    "ReLU": [({"inplace": True}, ((4,),))],
    "ELU": [({"inplace": True}, ((4,),))],
    "Dropout": [({"p": 0.0}, ((4,),)), ({"p": 1.0}, ((4,),)), ({"p": 0.5, "inplace": True}, ((4,),))],
    "Dropout2d": [({"p": 1.0}, ((2, 3, 3),))],
    "LSTM": [({"hidden_size": 4, "bidirectional": True}, ((1, 3),))],
    "GRU": [({"hidden_size": 4, "num_layers": 2, "dropout": 1.0}, ((3, 2),))],
    "DivideScalar": [({"other": 2.0, "reverse": True}, ((4,),))],
    "AdaptiveAvgPool1d": [({"output_size": 1}, ((3, 5),))],
    "ScaledDotProductAttention": [  # the fused kernel and the reference path, with and without dropout
        ({}, ((2, 5, 4), (2, 7, 4), (2, 7, 4))),
        ({}, ((5, 4), (7, 4), (7, 4))),
        ({"dropout_p": 0.2}, ((2, 5, 4), (2, 7, 4), (2, 7, 3))),
        ({"dropout_p": 0.2, "is_causal": True}, ((3, 6, 8), (3, 6, 8), (3, 6, 8))),
    ],
}
CASES = [(kind, i, ex) for kind in LAYERS for i, ex in enumerate(kind.examples)]
CASES += [
    (LAYERS.get(name), f"more{i}", Example(args, inputs))
    for name, extra in MORE.items()
    for i, (args, inputs) in enumerate(extra)
]
IDS = [f"{k.name}-{i}" for k, i, _ in CASES]


def applied(kind, example):
    """Its inputs (the batch where the example puts it) and nnspec's reading, every value bound."""
    ins = example.shapes()
    return ins, apply_layer(kind, example.args, ins, example.results)


def flow_of(kind, ins, a, inside: bool, layout: str = "contiguous") -> Flow:
    """`layout` is given to the batch-first inputs (a recurrent layer's states, (L, N, H), come
    contiguous from the layer that gives them)."""
    layouts = tuple(layout if s.batch == 0 else "contiguous" for s in ins)
    return Flow(tuple(inside and s.dtype == "float" for s in ins), layouts, a.params > 0)


def runner(kind, args, ins, inside: bool, layout: str = "contiguous", results: int = 1):
    """(run, module): the kind's forward expression on a fresh batch, and the module it calls.
    `layout`: how the inputs are laid out (see _laid_out)."""
    torch.manual_seed(0)
    module = torch_oracle.build(kind, args)
    if module is not None:
        module.train()
    layouts = [layout if s.batch == 0 else "contiguous" for s in ins]  # as flow_of lays them out
    xs = [_storage_for(torch_oracle.sample(s, BATCH), laid) for s, laid in zip(ins, layouts)]
    # a non-leaf, as in a network: in place needs one
    xs = [x.requires_grad_(True) * 1 if inside and x.is_floating_point() else x for x in xs]
    xs = [_laid_out(x, laid) for x, laid in zip(xs, layouts)]
    names = [f"x{i}" for i in range(len(xs))]
    expr = kind.forward_all("m", names, args) if results > 1 else kind.forward("m", names, args)
    env = {"m": module, "torch": torch, "nn": nn, "self": nn.Module(), **dict(zip(names, xs))}
    run = (lambda: eval(expr, env)) if results == 1 else (lambda: _joined(eval(expr, env)))
    return run, module  # the kind's own forward expression, as codegen emits it


def _joined(out) -> torch.Tensor:
    """One tensor backward starts from, every value of a call that gives several feeding it."""
    outs = [o for o in torch_oracle.flat(out) if o.requires_grad]
    return sum(o.sum() for o in outs) if outs else torch_oracle.flat(out)[0]


def _storage_for(x: torch.Tensor, layout: str) -> torch.Tensor:
    """The storage `_laid_out` views x in: strided, one more column (for matrices with the last two
    dims swapped); time-major, batch and time swapped."""
    if layout == "time-major":
        return x.transpose(0, 1).contiguous()
    if layout == "contiguous":
        return x
    if x.dim() == 2:
        return torch.cat([x, x[:, :1]], dim=1)
    swapped = x.transpose(-1, -2)
    return torch.cat([swapped, swapped[..., :1]], dim=-1)


def _laid_out(x: torch.Tensor, layout: str) -> torch.Tensor:
    """As nnspec's layouts are: "strided", per-sample vectors a slice of something larger
    (LastStep) and matrices transposed (Transpose); "time-major", a recurrent layer's output."""
    if layout == "time-major":
        return x.transpose(0, 1)
    if layout == "contiguous":
        return x
    return x[:, :-1] if x.dim() == 2 else x[..., :-1].transpose(-1, -2)


def _storage(shape: Shape, layout: str) -> int:
    """Bytes of the storage an input lives in (see _storage_for)."""
    if layout != "strided":
        return nbytes(shape)
    dims = shape.dims
    return nbytes(shape) // dims[-2] * (dims[-2] + 1) if shape.rank > 1 else nbytes(shape) // dims[-1] * (dims[-1] + 1)


def static_bytes(kind, args, ins, out, flow: Flow) -> int:
    """The bytes a layer alone keeps: its inputs and output are tensors of their own."""
    if not flow.any:
        return 0
    saved = kind.saved(args, ins, out, flow)
    refs = set(saved.inputs)
    if saved.output:  # in place or a view: the output is input 0
        refs.add(0 if kind.layout(args, ins) in ("view", "strided") else "out")
    total = sum(nbytes(out) if r == "out" else _storage(ins[r], flow.layouts[r]) for r in refs)
    return (total + saved.own) * BATCH + saved.fixed


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors, a shared machine


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "first"])
@pytest.mark.parametrize("kind,i,example", CASES, ids=IDS)
def test_flops_equal_flop_counter(kind, i, example, inside):
    ins, a = applied(kind, example)
    flow = flow_of(kind, ins, a, inside)
    forward = kind.flops(a.args, ins, a.shape)
    backward = kind.backward_flops(a.args, ins, a.shape, flow) if flow.any else 0
    run, module = runner(kind, a.args, ins, inside, results=example.results)
    measured = cost_oracle.flops(run, module)
    if kind.name in cost_oracle.UNCOUNTED:
        assert measured == (0, 0)
        assert forward == 2 * a.macs and backward == forward * (flow.params + sum(flow.grads))
        return
    # FlopCounterMode counts a grouped convolution's weight gradient as if it were not grouped
    overcount = (a.args.get("groups", 1) - 1) * forward * flow.params
    assert (forward * BATCH, (backward + overcount) * BATCH) == measured


TIME_MAJOR = [c for c in CASES if c[0].ranks == (2,) and c[0].input_dtype == "float"]  # sequences


@pytest.mark.parametrize("layout", ["inside", "first", "strided"])
@pytest.mark.parametrize("kind,i,example", CASES, ids=IDS)
def test_saved_bytes_equal_autograd(kind, i, example, layout):
    check_saved(kind, example, layout != "first", "strided" if layout == "strided" else "contiguous")


@pytest.mark.parametrize("kind,i,example", TIME_MAJOR, ids=[f"{k.name}-{i}" for k, i, _ in TIME_MAJOR])
def test_saved_bytes_of_time_major_sequences(kind, i, example):
    """A recurrent layer's output fed on: the layers that transpose to time-major copy nothing."""
    check_saved(kind, example, True, "time-major")


def check_saved(kind, example, inside: bool, layout: str) -> None:
    ins, a = applied(kind, example)
    flow = flow_of(kind, ins, a, inside, layout)
    run, module = runner(kind, a.args, ins, inside, layout, example.results)
    assert static_bytes(kind, a.args, ins, a.shape, flow) == cost_oracle.saved_bytes(run, module)


def test_flops_are_twice_the_multiply_adds_but_where_attention_appends_keys():
    """The default rule, FLOPs = 2 x MACs, holds for every example but attention with extra keys."""
    odd = []
    for kind, i, example in CASES:
        ins, a = applied(kind, example)
        if kind.flops(a.args, ins, a.shape) != 2 * a.macs:
            odd.append((kind.name, i))
    extra_keys = [(k.name, i) for k, i, ex in CASES if ex.args.get("add_bias_kv") or ex.args.get("add_zero_attn")]
    assert odd == extra_keys


def test_element_wise_kinds_count_no_flops():
    """The convention for work FlopCounterMode does not count: activations, normalisation, pooling,
    merges and reshapes have no FLOPs, forward or backward."""
    for kind, _, example in CASES:
        ins, a = applied(kind, example)
        if a.macs == 0:
            flow = Flow((True,) * len(ins), ("contiguous",) * len(ins), True)
            assert (kind.flops(a.args, ins, a.shape), kind.backward_flops(a.args, ins, a.shape, flow)) == (0, 0)
