"""Arithmetic with a number (`x * 0.5`, `1 - x`), Abs, Cast, and the reductions Mean and Sum."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.cost import NOTHING, Saved, nbytes
from nnspec.kinds.layer import LAYERS, Layer
from nnspec.kinds.layers.layout import from_full, full, not_batch, position
from nnspec.kinds.params import Bool, Float, Int, OneOf, Param, Seq, Str
from nnspec.kinds.pysrc import Code, call, src

INT64 = 2**63


class _Scalar(Layer):
    """`x <op> other`, or `other <op> x` with reverse=true; written as the operator in a spec."""

    scalar = True
    input_dtype = None
    any_layout = True
    symbol = "+"
    params = (
        Param("other", Float(), doc="the number"),
        Param("reverse", Bool(), False, doc="the number comes first: `1 - x`"),
    )

    def infer(self, args, ins):
        other, x = args["other"], ins[0]
        if x.dtype == "long" and isinstance(other, int) and not -INT64 <= other < INT64:
            raise ShapeError("E304", f"{other} does not fit the long elements of {x}", arg="other")
        return x.with_dims(x.dims, self._dtype(x.dtype, other))

    def _dtype(self, dtype: str, other) -> str:
        return "long" if dtype == "long" and isinstance(other, int) else "float"  # as PyTorch promotes

    def layout(self, args, ins):
        return "like"

    def forward(self, module, inputs, args):
        x, other = inputs[0], src(args["other"])
        if args["reverse"] is True:
            return f"{other} {self.symbol} {x}"
        if args["reverse"] is False:
            return f"{x} {self.symbol} {other}"
        return f"{other} {self.symbol} {x} if {src(args['reverse'])} else {x} {self.symbol} {other}"


_EX = (Example({"other": 0.5}, ((4,),)), Example({"other": 2, "reverse": True}, ((3, 5),), dtype="long"))


@LAYERS.register
class AddScalar(_Scalar):
    """`x + 1`: a number added to every element."""

    name, operator, symbol, examples = "AddScalar", "+", "+", _EX


@LAYERS.register
class SubtractScalar(_Scalar):
    """`x - 1`, or `1 - x` (reverse=true)."""

    name, operator, symbol, examples = "SubtractScalar", "-", "-", _EX


@LAYERS.register
class MultiplyScalar(_Scalar):
    """`x * 0.5`: every element scaled."""

    name, operator, symbol, examples = "MultiplyScalar", "*", "*", _EX


@LAYERS.register
class DivideScalar(_Scalar):
    """`x / 8`, or `1 / x` (reverse=true); true division, so the result is float."""

    name, operator, symbol = "DivideScalar", "/", "/"
    examples = (*_EX, Example({"other": 8}, ((2, 3),), dtype="long"))

    def validate(self, args):
        if args.get("other") == 0 and args.get("reverse") is False:
            return [("E304", "division by zero", "other")]
        return []

    def _dtype(self, dtype, other):
        return "float"

    def saved(self, args, ins, out, flow):
        if flow.grads[0] and args["reverse"] is True:  # other * x.reciprocal(): the reciprocal
            return Saved(own=nbytes(out))
        return NOTHING


@LAYERS.register
class Abs(Layer):
    """The absolute value of every element."""

    name, input_dtype, any_layout = "Abs", None, True
    examples = (Example({}, ((3, 4),)), Example({}, ((5,),), dtype="long"))

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0,)) if flow.grads[0] else NOTHING  # its sign

    def layout(self, args, ins):
        return "like"

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.abs()"


_DTYPES = {"float32": "float", "float": "float", "int64": "long", "long": "long"}  # torch's name -> the IR's


@LAYERS.register
class Cast(Layer):
    """The elements converted to another type: "float32" (or "float") and "int64" (or "long")."""

    name, input_dtype, any_layout = "Cast", None, True
    params = (Param("dtype", Str(tuple(_DTYPES))),)
    examples = (Example({"dtype": "long"}, ((3, 4),)), Example({"dtype": "float32"}, ((6,),), dtype="long"))

    def infer(self, args, ins):
        return ins[0].with_dims(ins[0].dims, _DTYPES[args["dtype"]])

    def layout(self, args, ins):
        return "view" if _DTYPES[args["dtype"]] == ins[0].dtype else "like"  # .to() of its own type: itself

    def forward(self, module, inputs, args):
        dtype = args["dtype"]
        target = f"getattr(torch, {src(dtype)})" if isinstance(dtype, Code) else f"torch.{dtype}"
        return f"{inputs[0]}.to({target})"


class _Reduce(Layer):
    """Reduces the given dims (counted as PyTorch counts them; the batch cannot be one of them)."""

    any_layout = True

    params = (
        Param("dim", OneOf((Int(), Seq(Int(), min_len=1)))),
        Param("keepdim", Bool(), False),
    )
    method = "sum"

    def infer(self, args, ins):
        dims = full(ins[0])
        given = args["dim"] if isinstance(args["dim"], list) else [args["dim"]]
        picked = [position(d, len(dims), self.name) for d in given]
        for i in picked:
            not_batch(dims, i, self.name, "reducing it would mix the samples")
        if len(set(picked)) < len(picked):
            raise ShapeError("E402", f"{self.name}: dim {args['dim']} names a dimension twice", arg="dim")
        if args["keepdim"]:
            return from_full([1 if i in picked else d for i, d in enumerate(dims)], ins[0])
        return from_full([d for i, d in enumerate(dims) if i not in picked], ins[0])

    def forward(self, module, inputs, args):
        keywords = {"dim": args["dim"]}
        if args["keepdim"] is not False:
            keywords["keepdim"] = args["keepdim"]
        return call(f"{inputs[0]}.{self.method}", keywords=keywords)


@LAYERS.register
class Mean(_Reduce):
    name, method = "Mean", "mean"
    examples = (
        Example({"dim": 1}, ((5, 8),)),
        Example({"dim": [2, 3], "keepdim": True}, ((4, 6, 6),)),
        Example({"dim": -1}, ((3, 4, 5),)),
    )


@LAYERS.register
class Sum(_Reduce):
    name, method, input_dtype = "Sum", "sum", None
    examples = (
        Example({"dim": 2}, ((5, 8),)),
        Example({"dim": [-1, 1], "keepdim": True}, ((4, 6, 3),)),
        Example({"dim": 1}, ((7,),), dtype="long"),
    )
