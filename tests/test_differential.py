"""Differential fuzzing: random valid specs, checked by nnspec, compiled, and run in PyTorch.

A hypothesis strategy writes random models from the layer registry alone: an input of a rank
and element type some kind accepts, then chains of registered kinds whose `ranks` and
`input_dtype` accept the current shape, with argument values drawn from each Param's type;
merges (`a + b`, `Concat(a, b, dim=1)`, any kind of two or more inputs), layers repeated
`L() * 2`, and blocks with a parameter used twice with different values (`B(4) -> B(6)`) or
repeated (`B(8) * 2`), some inside later blocks (`B(p)` in a block with parameter `p`). Names are
often ones generated Python must escape (`class`, `len`, `__init__`, `train`, `self`). Some input
sizes are symbolic (`[T, 6]`) and get a concrete value for the forward pass. The strategy keeps
a spec only if nnspec's own per-layer rules accept each layer both for the concrete sizes and
for the symbolic ones; so `check_source` must accept the whole spec, and PyTorch is the oracle
for everything else:

- the generated model source compiles, executes and the model class instantiates;
- its parameter count equals nnspec's summary total;
- a forward pass on a batch of 2 gives exactly nnspec's static output shapes (symbolic sizes
  evaluated) and element types;
- a backward pass of `out.float().sum()` works.

`inplace=true` is never drawn: it changes no shape or count, and PyTorch's autograd refuses some
in-place uses that no static rule covers (after an LSTM or a Sigmoid, which keep their output for
backward; ELU with a negative alpha).

Each failure hypothesis found and that was fixed is kept in tests/regressions/*.nn (a header
comment `# symbols: T=5` gives the symbolic sizes' values) and checked the same way.

NNSPEC_FUZZ_EXAMPLES sets the number of examples (default 500); runs are derandomized.
"""

from __future__ import annotations

import builtins
import keyword
import math
import os
import pathlib
import re
import warnings
from dataclasses import dataclass, field

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnspec
import nnspec.kinds.layers  # noqa: F401  (registers the kinds)
from nnspec.compiler.codegen import generate_models
from nnspec.compiler.names import MODULE_ATTRIBUTES, program_names, safe_variable
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.summary import summarize
from nnspec.compiler.walk import output_shapes
from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import Shape, ShapeError
from nnspec.kinds.layer import LAYERS, Layer
from nnspec.kinds.params import Anything, Bool, Float, Int, OneOf, Optional, Seq, Str
from tests.fuzz_constructs import Constructs
from tests.ir_eval import evaluate_graph
from tests.timeouts import time_limit

EXAMPLES = int(os.environ.get("NNSPEC_FUZZ_EXAMPLES", "500"))
settings.register_profile(
    "nnspec-differential",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
FUZZ = settings(settings.get_profile("nnspec-differential"))

ACTIONS = ("shared", "tied", "unpack", "subscript")  # tests/fuzz_constructs.py
REGRESSIONS = sorted((pathlib.Path(__file__).parent / "regressions").glob("*.nn"))
SYMBOLS = ("T", "L", "H", "W")  # names a symbolic input size may have
BATCH = 2
MAX_SIZE = 8  # every drawn size stays small: each example runs in milliseconds

# What the registry accepts: (per-sample rank, element type) of a model input.
SINGLE = [k for k in LAYERS if k.takes(1)]
MERGES = [k for k in LAYERS if k.takes(2) or k.takes(3)]
STARTS = sorted({(rank, k.input_dtype or "float") for k in SINGLE for rank in (k.ranks or (1, 2, 3)) if rank >= 1})
DTYPES = sorted({d for _, d in STARTS})

# Names that generated Python must not take as they are: keywords, builtins, the program's own
# names, nn.Module's attributes, dunders, and what escaping them gives (`class` and `class_`).
# The grammar's own words and kind names are not names.
_WORDS = set(
    re.findall(r'"([a-z]+)"', (pathlib.Path(nnspec.__file__).parent / "grammar.lark").read_text(encoding="utf-8"))
)
_RISKY = {
    *keyword.kwlist,
    *keyword.softkwlist,
    *sorted(program_names()),
    *MODULE_ATTRIBUTES,
    *(b for b in dir(builtins) if b.islower()),
}
_RISKY |= {"__x", "_x", "n__x", "h_0", "s1_0"}
HOSTILE_NAMES = sorted(
    n
    for base in _RISKY
    for n in (base, base + "_")
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) and n not in _WORDS and LAYERS.get(n) is None
)


# ---------------------------------------------------------------------------------------------
# Checking one spec against PyTorch (used by the fuzz test and the regression specs)


def concrete(dim, env: dict) -> int:
    """A static dim with the symbolic sizes given values: "(T-2)//2+1" -> 2 for T=5."""
    if isinstance(dim, int):
        return dim
    assert re.fullmatch(r"[A-Za-z_0-9+\-*/(), .]+", dim), dim
    return eval(dim, {"__builtins__": {}, "min": min, "floor": math.floor}, dict(env))  # arithmetic on known names


def full_size(shape: Shape, env: dict) -> tuple:
    """The tensor's whole size for a batch of BATCH samples, the batch where the Shape puts it."""
    dims = [concrete(d, env) for d in shape.dims]
    return (*dims[: shape.batch], BATCH * concrete(shape.scale, env), *dims[shape.batch :])


def sample(shape: Shape, env: dict) -> torch.Tensor:
    dims = full_size(shape, env)
    if shape.dtype == "long":
        return torch.zeros(dims, dtype=torch.long)  # index 0 exists in every embedding table
    return torch.randn(dims)


def check_against_torch(text: str, env: dict, path: str = "fuzz.nn") -> None:
    result = check_source(text, path)
    assert result.ok, "nnspec rejects a spec the strategy built as valid:\n" + _show(result, text)
    program = result.program
    source = generate_models(program, "fuzz_models.py", format=False)
    namespace: dict = {"__name__": "fuzz_models"}
    exec(compile(source, "fuzz_models.py", "exec"), namespace)
    for name, graph in program.models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RNN dropout with one layer, implicit softmax dims ...
            model = namespace[safe_variable(name)]()
            total = summarize(graph).total
            assert sum(p.numel() for p in model.parameters()) == total, (
                f"parameter count differs from nnspec's {total}:\n{text}\n{source}"
            )
            inputs = [sample(i.shape, env) for i in graph.inputs]
            model.train()
            out = model(*inputs)
        outs = _tuple(out)
        expected = output_shapes(graph)
        assert len(outs) == len(expected)
        for (oname, shape), tensor in zip(expected.items(), outs):
            want = full_size(shape, env)
            assert tuple(tensor.shape) == want, (
                f"output `{oname}`: PyTorch {tuple(tensor.shape)}, nnspec {shape} = {want}\n{text}"
            )
            dtype = torch.long if shape.dtype == "long" else torch.float32
            assert tensor.dtype == dtype, f"output `{oname}`: PyTorch {tensor.dtype}, nnspec {shape.dtype}\n{text}"
        loss = sum(o.float().sum() for o in outs)
        if loss.requires_grad:
            loss.backward()
        _values_agree(model, graph, inputs, text)


def _values_agree(model, graph, inputs, text: str) -> None:
    """Each output equals an independent evaluation of its node (tests/ir_eval.py)."""
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model(*inputs)
        expected = evaluate_graph(model, graph, inputs)
    outs = out if isinstance(out, tuple) else (out,)
    for (name, want), got in zip(expected.items(), outs):
        same = torch.equal(got, want) or (
            got.is_floating_point()
            and torch.equal(got.isnan(), want.isnan())
            and torch.equal(got.nan_to_num(), want.nan_to_num())
        )
        assert same, f"output `{name}` is not its node's value\n{text}"


def _tuple(out) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def _show(result, text: str) -> str:
    lines = [f"{d.span.line}:{d.span.col} {d.code} {d.message}" for d in result.diagnostics]
    return "\n".join(lines) + "\n--- spec ---\n" + text


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors, a shared machine


# ---------------------------------------------------------------------------------------------
# The strategy


@dataclass
class Tensor:
    name: str  # the spec expression naming it
    conc: Shape  # every dim an int
    sym: Shape  # what nnspec sees: some dims symbolic
    input: bool = False  # a model input (never reassigned)
    indices: bool = False  # long elements that are all 0, the sample's, so any embedding can look them up


@dataclass
class BlockParam:
    """A block parameter standing in an argument: written `p`, `p + 1` or `p * 2`."""

    name: str
    offset: int = 0
    factor: int = 1

    def value(self, p: int) -> int:
        return p * self.factor + self.offset

    def text(self) -> str:
        if self.factor != 1:
            return f"{self.name} * {self.factor}"
        return f"{self.name} + {self.offset}" if self.offset else self.name


@dataclass
class Step:
    kind: object
    written: dict  # argument name -> value (a BlockParam inside a block)
    style: str = "keywords"  # "keywords" | "short" | "full": how the call is written
    cut: int = 99  # at most this many positional arguments
    repeat: int = 1
    inferred: dict = field(default_factory=dict)  # inferred sizes nnspec derived (full style)


@dataclass
class NestedBlock:
    """An earlier block used inside a new block's body."""

    name: str
    steps: list
    residual: object
    arg: object  # an int, or the new block's BlockParam


def render(value) -> str:
    if isinstance(value, BlockParam):
        return value.text()
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_call(step, inputs: tuple[str, ...] = ()) -> str:
    """`Kind(inputs..., args)`: keywords, or positionals in PyTorch's order (full, inferred sizes
    included, or short, without them) for the first `step.cut` arguments and keywords after."""
    if isinstance(step, NestedBlock):
        return f"{step.name}({render(step.arg)})"
    kind, written = step.kind, dict(step.written)
    names: list = []
    if step.style == "full" and all(p.name in {**step.inferred, **written} for p in kind.params if p.required):
        written = {**step.inferred, **written}
        names = _leading([p for p in kind.params if not p.forward], written)[: step.cut]
    elif step.style != "keywords":
        names = _leading([p for p in kind.params if not p.inferred and not p.forward], written)[: step.cut]
        while names and any(p.inferred for p in kind.params) and _binds_in_full(kind, names, written):
            names.pop()  # PyTorch's reading would win: fewer positionals
    positional = [written.pop(n) for n in names]
    parts = [*inputs, *(render(v) for v in positional), *(f"{k}={render(v)}" for k, v in written.items())]
    call = f"{kind.name}({', '.join(parts)})"
    return f"{call} * {step.repeat}" if step.repeat > 1 else call


def render_operator(step, tensor: str) -> str:
    """`x * 0.5` or `0.5 * x` (reverse=true) for a kind with a number on one side of its operator."""
    number = render(step.written["other"])
    sides = (number, tensor) if step.written.get("reverse") else (tensor, number)
    return f" {step.kind.operator} ".join(sides)


def _leading(params, written: dict) -> list[str]:
    """The names of the params written, up to the first one that is not."""
    names = []
    for p in params:
        if p.name not in written:
            break
        names.append(p.name)
    return names


def _binds_in_full(kind, names: list[str], written: dict) -> bool:
    """Whether `len(names)` positionals and the rest of `written` as keywords bind to the full
    signature by Python's rules (then nnspec reads them so)."""
    full = [p.name for p in kind.params if not p.forward][: len(names)]
    keywords = set(written) - set(names)
    return not set(full) & keywords and all(p.name in set(full) | keywords for p in kind.params if p.required)


def values(t, shape: Shape):
    """A strategy for legal values of Param type `t`, for a layer fed `shape` (concrete)."""
    if isinstance(t, Optional):
        return st.one_of(st.none(), values(t.inner, shape))
    if isinstance(t, OneOf):
        return st.one_of(*(values(o, shape) for o in t.options))
    if isinstance(t, Bool):
        return st.booleans()
    if isinstance(t, Str):
        return st.sampled_from(t.choices) if t.choices else st.text("abcxyz", min_size=1, max_size=4)
    if isinstance(t, Int):
        if t.lo is None and t.hi is None:  # a dim or an index: around the tensor's rank
            return st.integers(-shape.rank - 1, shape.rank)
        lo = t.lo if t.lo is not None else t.hi - 4
        return st.integers(lo, min(t.hi if t.hi is not None else lo + 4, max(lo, 1) + MAX_SIZE // 2))
    if isinstance(t, Float):
        lo, hi = t.lo, t.hi
        picks = [-1.5, -0.5, 0.0, 1e-05, 0.001, 0.1, 0.25, 0.5, 1, 1.0, 2.0]
        ok = [v for v in picks if t.check(v) is None]
        return st.sampled_from(ok or [lo if lo is not None else hi])
    if isinstance(t, Seq):
        plain = st.lists(values(t.item, shape), min_size=t.n or t.min_len, max_size=t.n or max(t.min_len, 3))
        if isinstance(t.item, Int) and t.item.lo is not None and t.item.lo < 0 and not t.n:
            # sizes with -1 allowed (Reshape, Unflatten): factors of the input's sizes
            return st.one_of(plain, factorization(shape))
        return plain
    if isinstance(t, Anything):
        return st.just(None)
    raise AssertionError(f"no strategy for {t!r}")  # a new Param type: teach the strategy


@st.composite
def factorization(draw, shape: Shape):
    n = draw(st.sampled_from([shape.numel(), *shape.dims]))
    factors = []
    while n > 1 and len(factors) < 3 and draw(st.booleans()):
        d = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
        factors.append(d)
        n //= d
    factors.append(n)
    if draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return factors


def try_apply(kind, written: dict, ins: list[Tensor]):
    """(concrete shape, symbolic shape, derived args) if nnspec's rule accepts it, else None."""
    for name, value in written.items():
        problem = kind.param(name).type.check(value)
        assert problem is None, f"strategy drew an illegal {kind.name}.{name}={value!r}: {problem}"
    if kind.validate({p.name: written.get(p.name, p.default) for p in kind.params}):
        return None
    try:
        c = apply_layer(kind, written, [t.conc for t in ins])
        s = apply_layer(kind, written, [t.sym for t in ins])
    except ShapeError:
        return None
    if not _agrees(c.shape, s.shape):
        return None  # the symbolic result does not hold for these values: nnspec cannot know
    return c.shape, s.shape, s.args


def _agrees(c: Shape, s: Shape) -> bool:
    return c.rank == s.rank and all(isinstance(x, int) and x == y for x, y in zip(c.dims, s.dims) if isinstance(y, int))


class Builder(Constructs):
    ATTEMPTS = 16  # candidate layers tried per stage

    def __init__(self, draw):
        self.draw = draw
        self.env: dict[str, int] = {}
        self.lines: list[str] = []
        self.blocks: list[str] = []
        self.tensors: list[Tensor] = []
        self.names = 0
        self.used: set[str] = set()  # names given in the model
        self.block_defs: list = []  # (name, body steps, residual kind) of each block so far

    def fresh(self, used: set[str]) -> str:
        """A new name: often a hostile one (`class`, `len`, `__init__`, `training`, `self` ...)."""
        if self.draw(st.integers(0, 2)) == 0:
            name = self.draw(st.sampled_from(HOSTILE_NAMES))
            if name not in used:
                used.add(name)
                return name
        self.names += 1
        used.add(f"s{self.names}")
        return f"s{self.names}"

    # -- inputs --------------------------------------------------------------------------------

    def inputs(self) -> str:
        draw = self.draw
        items = []
        symbolic = draw(st.integers(0, 2)) == 0  # a third of the models have symbolic sizes
        for _ in range(draw(st.integers(1, 2))):
            name = self.fresh(self.used)
            # the usual element type three times in four: the others feed only a few kinds
            dtype = Layer.input_dtype if draw(st.integers(0, 3)) else draw(st.sampled_from(DTYPES))
            rank = draw(st.sampled_from([r for r, d in STARTS if d == dtype]))
            conc, sym = [], []
            for _ in range(rank):
                size = draw(
                    st.integers(1, MAX_SIZE) if rank == 1 else st.integers(3, MAX_SIZE) | st.integers(1, MAX_SIZE)
                )
                if symbolic and draw(st.integers(0, 2)) == 0:
                    symbol = draw(st.sampled_from(SYMBOLS))
                    size = self.env.setdefault(symbol, max(size, 3))
                    sym.append(symbol)
                else:
                    sym.append(size)
                conc.append(size)
            batch = 1 if rank > 1 and draw(st.integers(0, 5)) == 0 else 0  # `[T, N, F]`: sequence-major
            shapes = (Shape(tuple(dims), dtype, batch) for dims in (conc, sym))
            self.tensors.append(Tensor(name, *shapes, input=True, indices=True))
            prefix = "long" if dtype == "long" else ""
            written = [*sym[:batch], "N", *sym[batch:]] if batch else sym
            items.append(f"{name}: {prefix}[{', '.join(map(str, written))}]")
        return "input " + ", ".join(items)

    # -- layers --------------------------------------------------------------------------------

    def draw_step(self, t: Tensor, kinds=None):
        """A layer valid on `t`: (Step, output Tensor without a name) or None."""
        draw = self.draw
        kinds = kinds or SINGLE
        fits = [
            k
            for k in kinds
            if (k.ranks is None or t.sym.rank in k.ranks)
            and (k.input_dtype in (None, t.sym.dtype))
            and (k.input_dtype != "long" or t.indices)
        ]
        for attempt in range(self.ATTEMPTS):
            if not fits:
                return None
            if attempt % 4 == 0:  # a few argument draws per kind: some fit only part of their range
                specific = [k for k in fits if k.ranks]  # half the time a kind made for this rank
                kind = draw(st.sampled_from(specific if specific and draw(st.booleans()) else fits))
            written = self.draw_args(kind, t.conc)
            applied = try_apply(kind, written, [t])
            if applied is None:
                continue
            style = draw(st.sampled_from(["keywords", "short", "full"]))
            step = Step(kind, written, style, cut=draw(st.integers(0, len(kind.params))))
            step.inferred = {
                p.name: applied[2][p.name] for p in kind.params if p.inferred and _literal(applied[2][p.name])
            }
            if step.inferred and draw(st.integers(0, 3)) == 0:
                step.written = {**written, **step.inferred}  # inferred sizes written out: checked
            out = Tensor("", applied[0], applied[1], indices=t.indices and kind.transparent)
            if draw(st.integers(0, 5)) == 0 and not set(step.inferred) & set(step.written):
                again = try_apply(kind, written, [out])  # the same layer again: `L() * 2`
                if again is not None:
                    step.repeat, out = 2, Tensor("", again[0], again[1], indices=out.indices)
                    step.style = "keywords" if step.style == "full" else step.style
            return step, out
        return None

    def draw_args(self, kind, shape: Shape) -> dict:
        written = {}
        for p in kind.params:
            if p.inferred or p.name == "inplace":
                continue  # in-place: see the module docstring
            big = isinstance(p.default, int) and not isinstance(p.default, bool) and p.default > MAX_SIZE
            if p.required or big or self.draw(st.integers(0, 2)) == 0:
                written[p.name] = self.draw(values(p.type, shape))
        return written

    def chain(self) -> None:
        draw = self.draw
        src = draw(st.sampled_from(self.tensors))
        t, stages = src, []
        for _ in range(draw(st.integers(1, 4))):
            drawn = self.draw_step(t)
            if drawn is None:
                break
            stages.append(drawn[0])
            t = drawn[1]
        if not stages:
            return
        first = stages[0]
        if first.kind.scalar and first.repeat == 1 and "other" in first.written and draw(st.booleans()):
            text = render_operator(first, src.name) + "".join(f" -> {render_call(s)}" for s in stages[1:])
        elif draw(st.integers(0, 4)) == 0 and first.repeat == 1:  # `L(x) -> ...`: a layer applied to a tensor
            text = render_call(first, (src.name,)) + "".join(f" -> {render_call(s)}" for s in stages[1:])
        else:
            text = src.name + "".join(f" -> {render_call(s)}" for s in stages)
        self.bind(text, t, reuse=src)

    def bind(self, text: str, t: Tensor, reuse: Tensor | None = None) -> None:
        """`name = text`: a new name, or the source's own name reassigned (`h = h -> ...`)."""
        if reuse is not None and not reuse.input and self.draw(st.integers(0, 3)) == 0:
            name = reuse.name
            self.tensors.remove(reuse)
        else:
            name = self.fresh(self.used)
        self.lines.append(f"{name} = {text}")
        self.tensors.append(Tensor(name, t.conc, t.sym, indices=t.indices))

    # -- merges --------------------------------------------------------------------------------

    def merge(self) -> None:
        draw = self.draw
        kind = draw(st.sampled_from(MERGES))
        n = draw(st.sampled_from([c for c in (2, 3) if kind.takes(c)]))
        written = self.draw_args(kind, self.tensors[-1].conc)
        groups = [[a, b] for a in self.tensors for b in self.tensors]
        if n == 3:
            groups = [g + [c] for g in groups for c in self.tensors[-2:]]
        fitting = [(g, r) for g in groups if (r := try_apply(kind, written, g)) is not None]
        if not fitting:
            return
        group, (conc, sym, _) = draw(st.sampled_from(fitting))
        names = tuple(t.name for t in group)
        if kind.operator and not written and draw(st.integers(0, 3)):
            text = f" {kind.operator} ".join(names)
        else:
            text = render_call(Step(kind, written, draw(st.sampled_from(["keywords", "short"]))), names)
        t = Tensor("", conc, sym)
        if draw(st.booleans()):  # `a + b -> ReLU()`: the merge heads a chain
            drawn = self.draw_step(t)
            if drawn is not None:
                text, t = f"{text} -> {render_call(drawn[0])}", drawn[1]
        self.bind(text, t)

    # -- blocks --------------------------------------------------------------------------------

    def block(self) -> None:
        """A block with a parameter, used twice: `B(4) -> B(6)`, `B(4) * 2` or in two statements.

        Its body may begin with an earlier block, given a literal or the new block's parameter."""
        draw = self.draw
        src = draw(st.sampled_from(self.tensors))
        scope: set[str] = set()
        inner, out, p = self.fresh(scope), self.fresh(scope), self.fresh(scope)
        steps, t, first = [], src, None
        if self.block_defs and draw(st.booleans()):
            name, body, residual = draw(st.sampled_from(self.block_defs))
            passed = draw(st.booleans())  # the new block's parameter goes on to the inner block
            first = draw(st.integers(1, MAX_SIZE // 2))
            nested = NestedBlock(name, body, residual, BlockParam(p) if passed else first)
            t = self.run_block([nested], first, None, t)
            if t is None:
                return
            steps.append(nested)
            first = first if passed else None
        length = draw(st.integers(1 if not steps else 0, 3))
        for i in range(length + 3):  # up to three more layers until one has a size to stand for
            if i >= length and (first is not None or any(_sized(s) for s in steps)):
                break
            drawn = self.draw_step(t)
            if drawn is None:
                break
            step, t = drawn
            step.written = {k: v for k, v in step.written.items() if not step.kind.param(k).inferred}
            step.style = "keywords" if step.style == "full" else step.style
            steps.append(step)
        if first is None:  # the parameter stands for one of the drawn sizes
            own = [s for s in steps if isinstance(s, Step)]
            sizes = [
                (s, k)
                for s in own
                for k, v in s.written.items()
                if type(v) is int and isinstance(s.kind.param(k).type, Int)
            ]
            counts = [(s, k) for s, k in sizes if (s.kind.param(k).type.lo or 0) >= 1]  # sizes, not dims
            sizes = counts if counts and draw(st.integers(0, 3)) else sizes
            if not sizes:
                return
            step, arg = draw(st.sampled_from(sizes))
            value = step.written[arg]
            param = draw(st.sampled_from([BlockParam(p), BlockParam(p, offset=1), BlockParam(p, factor=2)]))
            if param.factor != 1 and value % param.factor:
                param = BlockParam(p)
            first = (value - param.offset) // param.factor  # the block argument giving the drawn value
            step.written[arg] = param
        residual = draw(st.sampled_from([None, *[k for k in MERGES if k.operator]]))
        uses = draw(st.sampled_from(["chained", "repeated", "apart"]))
        second = draw(st.integers(1, MAX_SIZE // 2)) if uses != "repeated" else first
        out1 = self.run_block(steps, first, residual, src)
        if out1 is None:
            return
        again = out1 if uses != "apart" else src
        out2 = self.run_block(steps, second, residual, again)
        if out2 is None and uses == "chained":
            uses, out2 = "apart", self.run_block(steps, second, residual, src)
        if out2 is None:
            second = first  # the same value twice still makes two uses of one class
            out2 = self.run_block(steps, second, residual, src if uses == "apart" else out1)
        if out2 is None:
            return
        name = f"B{len(self.blocks) + 1}"
        body = " -> ".join([inner, *(render_call(s) for s in steps)])
        ret = f"{out} {residual.operator} {inner}" if residual else out
        self.blocks.append(f"block {name}({p}) {{\n    input {inner}\n    {out} = {body}\n    output {ret}\n}}\n")
        self.block_defs.append((name, steps, residual))
        arg1 = f"{p}={first}" if draw(st.booleans()) else str(first)
        if uses == "repeated":
            self.bind(f"{src.name} -> {name}({arg1}) * 2", out2, reuse=src)
        elif uses == "chained":
            self.bind(f"{src.name} -> {name}({arg1}) -> {name}({second})", out2, reuse=src)
        else:
            self.bind(f"{src.name} -> {name}({arg1})", out1)
            self.bind(f"{src.name} -> {name}({second})", out2)

    def run_block(self, steps: list, p: int, residual, t: Tensor) -> Tensor | None:
        """What the block's body makes of `t` when its parameter is `p` (None: not valid)."""
        x = t
        for step in steps:
            if isinstance(step, NestedBlock):
                arg = step.arg.value(p) if isinstance(step.arg, BlockParam) else step.arg
                t = self.run_block(step.steps, arg, step.residual, t)
                if t is None:
                    return None
                continue
            written = {k: v.value(p) if isinstance(v, BlockParam) else v for k, v in step.written.items()}
            if any(step.kind.param(k).type.check(v) for k, v in written.items()):
                return None  # this use's value is not legal here
            if step.kind.input_dtype == "long" and not t.indices:
                return None
            for _ in range(step.repeat):
                applied = try_apply(step.kind, written, [t])
                if applied is None:
                    return None
                t = Tensor("", applied[0], applied[1], indices=t.indices and step.kind.transparent)
        if residual is not None:
            applied = try_apply(residual, {}, [t, x])
            if applied is None:
                return None
            t = Tensor("", applied[0], applied[1])
        return t

    # -- the spec ------------------------------------------------------------------------------

    def spec(self) -> tuple[str, dict]:
        draw = self.draw
        header = self.inputs()
        for _ in range(draw(st.integers(1, 8))):
            action = draw(st.sampled_from([*["chain"] * 3, *["merge", "block"] * 2, *ACTIONS]))
            getattr(self, action)()
        outputs = [self.tensors[-1]]
        if len(self.tensors) > 2 and draw(st.integers(0, 4)) == 0:
            outputs.insert(0, draw(st.sampled_from(self.tensors[:-1])))
        if len(outputs) == 1:
            ends = [f"output {outputs[0].name}"]
        else:
            ends = [f"output out{i}: {t.name}" for i, t in enumerate(outputs)]
        named = [t for t in self.tensors if not t.input]
        if named and draw(st.integers(0, 3)) == 0:  # an output named like a value another still reads
            t = draw(st.sampled_from(named))
            ends += [f"output raw: {t.name}", f"output {t.name}: {t.name} -> Identity()"]
        body = "\n".join(f"    {line}" for line in [header, *self.lines, *ends])
        return "".join(b + "\n" for b in self.blocks) + f"model Net {{\n{body}\n}}\n", dict(self.env)


def _sized(step) -> bool:
    """Whether a layer has an integer argument a block parameter can stand for."""
    return isinstance(step, Step) and any(
        type(v) is int and isinstance(step.kind.param(k).type, Int) for k, v in step.written.items()
    )


def _literal(value) -> bool:
    return type(value) is int or (isinstance(value, list) and all(type(v) is int for v in value))


@st.composite
def specs(draw):
    return Builder(draw).spec()


# ---------------------------------------------------------------------------------------------
# Tests


@FUZZ
@given(specs())
def test_random_specs_match_pytorch(case):
    text, env = case
    check_against_torch(text, env)


def _symbols(text: str) -> dict:
    match = re.search(r"^# symbols: (.*)$", text, re.M)
    if not match:
        return {}
    return {k.strip(): int(v) for k, v in (pair.split("=") for pair in match.group(1).split(","))}


MARKER = re.compile(r"#\s*E:((?:\s*E\d{3}\b)+)")  # as in tests/errors: the error codes of this line


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_spec(path):
    """A fixed failure: lines marked `# E: E404` (what PyTorch refuses) give exactly those errors;
    the spec without them is checked against PyTorch like a generated one."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    marked = {(n, code) for n, line in enumerate(lines, 1) if (m := MARKER.search(line)) for code in m.group(1).split()}
    if marked:
        with time_limit(REGRESSION_SECONDS):
            result = check_source(text, str(path))
        assert {(d.span.line, d.code) for d in result.diagnostics if d.is_error} == marked, _show(result, text)
        text = "".join(line + "\n" for line in lines if not MARKER.search(line))
    with time_limit(REGRESSION_SECONDS):
        check_against_torch(text, _symbols(text), str(path))


REGRESSION_SECONDS = 20  # some of these specs once made nnspec loop forever


def test_strategy_reaches_every_kind():
    """The registry-driven strategy can place every registered layer kind somewhere."""
    placed = {k.name for k in SINGLE if any(k.input_dtype in (None, d) for _, d in STARTS)}
    assert placed | {k.name for k in MERGES} == {k.name for k in LAYERS}
