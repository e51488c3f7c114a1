"""Differential-fuzz actions for the language's sharing and multi-value constructs (tests only).

Mixed into tests/test_differential.py's Builder: a module declared once and called twice (on its
own output, `m * 2`, or on one tensor in two statements, once as `m(t)`); two modules of one kind
with a parameter tied; a statement binding every value of a layer that gives several (Split,
Chunk, a recurrent layer's states); an index written as Python writes it; and inputs whose batch
is not first. Every candidate is held to nnspec's own rules first, as the other actions are; the
test then holds nnspec's answer (counts, shapes, values) to PyTorch's.
"""

from __future__ import annotations

from hypothesis import strategies as st

from nnspec.kinds.apply import apply_layer
from nnspec.kinds.base import ShapeError
from nnspec.kinds.layer import LAYERS, Layer

INDEX = next(k for k in LAYERS if k.operator == "[]")
SEVERAL = [k for k in LAYERS if k.takes(1) and type(k).infer_all is not Layer.infer_all]  # Split, Chunk, RNNs


def _d():
    from tests import test_differential  # the Builder's module: loaded before any action runs

    return test_differential


def try_values(kind, written: dict, ins: list, count: int):
    """[(concrete, symbolic) shape per value] when nnspec's rule gives `count` values, else None."""
    if kind.validate({p.name: written.get(p.name, p.default) for p in kind.params}):
        return None
    try:
        c = apply_layer(kind, written, [t.conc for t in ins], count)
        s = apply_layer(kind, written, [t.sym for t in ins], count)
    except ShapeError:
        return None
    if not all(_d()._agrees(a, b) for a, b in zip(c.shapes, s.shapes)) or c.args != _concrete_args(c, s):
        return None
    return list(zip(c.shapes, s.shapes))


def _concrete_args(c, s) -> dict:
    """The symbolic reading's arguments, where they are known, must be the concrete one's."""
    return {k: (c.args[k] if isinstance(v, str) else v) for k, v in s.args.items()}


class Constructs:
    """Builder actions; `self` is the Builder (draw, tensors, lines, fresh, bind ...)."""

    def _module_step(self, t):
        """A kind and arguments valid on `t`, written as a declaration's call: (Step, output) or None."""
        drawn = self.draw_step(t)
        if drawn is None or drawn[0].repeat != 1:
            return None
        step, out = drawn
        step.written = {k: v for k, v in step.written.items() if not step.kind.param(k).inferred}
        step.style = "keywords" if step.style == "full" else step.style
        again = _d().try_apply(step.kind, step.written, [t])
        return (step, out) if again is not None else None

    def shared(self) -> None:
        """`m = Kind(...)` then two calls: `t -> m -> m` / `t -> m * 2` where it fits its own
        output, else `a = t -> m` and `b = m(t)`."""
        d, draw = _d(), self.draw
        t = draw(st.sampled_from(self.tensors))
        picked = self._module_step(t)
        if picked is None:
            return
        step, out = picked
        first = d.try_apply(step.kind, step.written, [t])
        second = d.try_apply(step.kind, step.written, [out])
        name = self.fresh(self.used)
        self.lines.append(f"{name} = {d.render_call(step)}")
        if second is not None and second[2] == first[2] and draw(st.booleans()):
            text = f"{t.name} -> {name} * 2" if draw(st.booleans()) else f"{t.name} -> {name} -> {name}"
            self.bind(text, d.Tensor("", second[0], second[1]), reuse=t)
            return
        self.bind(f"{t.name} -> {name}", out)
        self.bind(f"{name}({t.name})", out)

    def tied(self) -> None:
        """Two modules of one kind and arguments, a parameter of the second tied to the first's."""
        d, draw = _d(), self.draw
        t = draw(st.sampled_from(self.tensors))
        picked = self._module_step(t)
        if picked is None or not picked[0].kind.torch_class:
            return
        step, out = picked
        parameters = step.kind.parameters(d.try_apply(step.kind, step.written, [t])[2])
        if not parameters:
            return
        one, two = self.fresh(self.used), self.fresh(self.used)
        tie = draw(st.sampled_from(sorted(parameters)))
        self.lines += [f"{one} = {d.render_call(step)}", f"{two} = {d.render_call(step)}", f"{two}.{tie} = {one}.{tie}"]
        self.bind(f"{t.name} -> {one}", out)
        self.bind(f"{t.name} -> {two}", out)

    def unpack(self) -> None:
        """`a, b = t -> Kind(...)`: every value of a layer that gives several."""
        d, draw = _d(), self.draw
        t = draw(st.sampled_from(self.tensors))
        for _ in range(d.Builder.ATTEMPTS):
            kind = draw(st.sampled_from(SEVERAL))
            written = self.draw_args(kind, t.conc)
            for count in (2, 3):
                values = try_values(kind, written, [t], count)
                if values is not None:
                    names = [self.fresh(self.used) for _ in values]
                    self.lines.append(f"{', '.join(names)} = {t.name} -> {d.render_call(d.Step(kind, written))}")
                    self.tensors += [d.Tensor(n, c, s) for n, (c, s) in zip(names, values)]
                    return

    def subscript(self) -> None:
        """`s = t[...]`: an int, a slice, `...` or `none` per dim, the batch's always `:`."""
        d, draw = _d(), self.draw
        t = draw(st.sampled_from(self.tensors))
        items, k = [], 0
        for position in range(t.conc.rank + 1):
            if position == t.conc.batch:
                items.append([None, None, None])
                continue
            size = t.conc.dims[k]
            k += 1
            items.append(draw(st.one_of(st.just([None, None, None]), st.integers(-size, size - 1), _slices(size))))
        if draw(st.booleans()):  # the trailing whole dims as `...`
            while items and items[-1] == [None, None, None] and len(items) > 1:
                items.pop()
            items.append("...")
        if draw(st.integers(0, 3)) == 0:
            items.insert(draw(st.integers(0, len(items))), None)
        applied = d.try_apply(INDEX, {"index": items}, [t])
        if applied is not None:
            self.bind(f"{t.name}[{', '.join(_item(i) for i in items)}]", d.Tensor("", applied[0], applied[1]), reuse=t)


@st.composite
def _slices(draw, size: int):
    bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    step = st.one_of(st.none(), st.integers(1, 3))
    return [draw(bound), draw(bound), draw(step)]


def _item(item) -> str:
    if item is None:
        return "none"
    if item == "...":
        return "..."
    if isinstance(item, list):
        start, stop, step = ("" if v is None else str(v) for v in item)
        return f"{start}:{stop}" + (f":{step}" if step else "")
    return str(item)
