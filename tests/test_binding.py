"""Positional arguments: a call that fits PyTorch's whole signature means what it means in
PyTorch; otherwise the inferred sizes are left out of the order. Both forms, every worked example."""

from __future__ import annotations

import pytest

import nnspec.kinds.layers  # noqa: F401  (registers the kinds)
from nnspec.compiler.bind import bind_call
from nnspec.compiler.ir import ArgValue
from nnspec.compiler.pipeline import check_source
from nnspec.diagnostics import Sink, Span
from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS

SPAN = Span.point("spec.nn")
CASES = [(kind, i, ex) for kind in LAYERS for i, ex in enumerate(kind.examples)]
IDS = [f"{k.name}-{i}" for k, i, _ in CASES]


def _shapes(example) -> list[Shape]:
    return example.shapes()


def _call(positional: list, keywords: dict) -> list[ArgValue]:
    return [ArgValue(None, v, SPAN) for v in positional] + [ArgValue(k, v, SPAN) for k, v in keywords.items()]


def _bound(kind, args: list[ArgValue], ins: list[Shape], results: int = 1) -> dict:
    sink = Sink()
    written = bind_call(kind, kind.params, args, SPAN, sink)
    assert written is not None, [(d.code, d.message) for d in sink.items]
    return apply_layer(kind, written, ins, results).args


def _positional(params) -> list:
    """The params a positional argument can fill: the arguments of forward() are keywords."""
    return [p for p in params if not p.forward]


def _binds_in_full(kind, positionals: int, keywords: dict) -> bool:
    """Python's rules over PyTorch's signature: positionals fill it in order, keywords the rest."""
    names = [p.name for p in _positional(kind.params)]
    if positionals > len(names) or set(names[:positionals]) & set(keywords):
        return False
    given = set(names[:positionals]) | set(keywords)
    return all(p.name in given for p in kind.params if p.required)


def _full_forms(kind, args: dict, example_args: dict):
    """Every inferred size positional in PyTorch's order; after them positionals, then keywords."""
    names = [p.name for p in _positional(kind.params)]
    start = max((i + 1 for i, p in enumerate(kind.params) if p.inferred), default=0)
    for k in range(start, len(names) + 1):
        yield [args[n] for n in names[:k]], {n: v for n, v in example_args.items() if n not in names[:k]}
    inferred = {p.name: args[p.name] for p in kind.params if p.inferred}
    yield [], {**inferred, **example_args}  # all by keyword


def _short_forms(kind, args: dict, example_args: dict, derived: dict):
    """The inferred sizes left out (unless written as something else, LayerNorm([4, 6])):
    positionals in the remaining order, then keywords."""
    order = [p.name for p in _positional(kind.params) if not p.inferred]
    kept = {n: v for n, v in example_args.items() if not (kind.param(n).inferred and derived.get(n) == v)}
    for k in range(len(order) + 1):
        keywords = {n: v for n, v in kept.items() if n not in order[:k]}
        if not _binds_in_full(kind, k, keywords):  # else PyTorch's meaning wins, by design
            yield [args[n] for n in order[:k]], keywords


@pytest.mark.parametrize("kind,i,example", CASES, ids=IDS)
def test_both_forms_bind_alike(kind, i, example):
    ins = _shapes(example)
    want = apply_layer(kind, example.args, ins, example.results).args
    forms = [*_full_forms(kind, want, example.args), *_short_forms(kind, want, example.args, kind.derive(ins))]
    assert forms
    for positional, keywords in forms:
        assert _bound(kind, _call(positional, keywords), ins, example.results) == want, (positional, keywords)


def test_every_kind_with_inferred_sizes_has_a_short_form():
    for kind, _, example in CASES:
        if any(p.inferred for p in kind.params):
            ins = _shapes(example)
            want = apply_layer(kind, example.args, ins, example.results).args
            assert list(_short_forms(kind, want, example.args, kind.derive(ins))), kind.name


PYTORCH_CALLS = {
    "Conv2d(1, 10, kernel_size=5)": "Conv2d(10, 5)",
    "Conv2d(1, 10, 5, 2, padding=1)": "Conv2d(10, 5, stride=2, padding=1)",
    "Conv2d(in_channels=1, out_channels=10, kernel_size=5)": "Conv2d(10, kernel_size=5)",
}
SEQUENCE_CALLS = {
    "LSTM(300, hidden_size=512)": "LSTM(512)",
    "LSTM(300, 64, 2, bidirectional=true)": "LSTM(64, num_layers=2, bidirectional=true)",
    "Linear(300, out_features=10)": "Linear(10)",
}


@pytest.mark.parametrize(
    "shape,full,short",
    [("[1, 28, 28]", f, s) for f, s in PYTORCH_CALLS.items()] + [("[7, 300]", f, s) for f, s in SEQUENCE_CALLS.items()],
)
def test_pytorch_calls_in_a_spec(shape, full, short):
    def args(call: str) -> dict:
        result = check_source(f"model M {{\n    input x: {shape}\n    output x -> {call}\n}}\n", "spec.nn")
        assert result.ok, [d.message for d in result.diagnostics]
        return result.program.models["M"].nodes[0].args

    assert args(full) == args(short)
