"""Layers that only move values around: Flatten, Unflatten, Reshape, LastStep."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.layer import LAYERS, Layer, torch_dim
from nnspec.kinds.layers.sizes import product
from nnspec.kinds.params import Int, Param, Seq
from nnspec.kinds.pysrc import src


class _Reshaping(Layer):
    transparent = True
    input_dtype = None


@LAYERS.register
class Flatten(_Reshaping):
    name, torch_class = "Flatten", "nn.Flatten"
    params = (Param("start_dim", Int(), 1), Param("end_dim", Int(), -1))
    examples = (
        Example({}, ((16, 5, 5),)),
        Example({"start_dim": 2}, ((3, 4, 5),)),
        Example({"end_dim": 2}, ((3, 4, 5),)),
    )

    def infer(self, args, ins):
        dims = ins[0].dims
        start = torch_dim(args["start_dim"], len(dims), self.name)
        end = torch_dim(args["end_dim"], len(dims), self.name)
        if start > end:
            raise ShapeError("E402", f"Flatten: start_dim {args['start_dim']} comes after end_dim {args['end_dim']}")
        return ins[0].with_dims(dims[:start] + (product(dims[start : end + 1]),) + dims[end + 1 :])


@LAYERS.register
class Unflatten(_Reshaping):
    name, torch_class = "Unflatten", "nn.Unflatten"
    params = (Param("dim", Int()), Param("unflattened_size", Seq(Int(-1), min_len=1)))
    examples = (
        Example({"dim": 1, "unflattened_size": [4, 4]}, ((16,),)),
        Example({"dim": -1, "unflattened_size": [2, -1]}, ((3, 8),)),
    )

    def infer(self, args, ins):
        dims = ins[0].dims
        i = torch_dim(args["dim"], len(dims), self.name)
        sizes = resolve_sizes(dims[i], args["unflattened_size"], f"Unflatten of dim {args['dim']}")
        return ins[0].with_dims(dims[:i] + tuple(sizes) + dims[i + 1 :])


@LAYERS.register
class Reshape(_Reshaping):
    """Reshape each sample: `Reshape([16, 4, 4])`; one size may be -1."""

    name = "Reshape"
    params = (Param("shape", Seq(Int(-1), min_len=1)),)
    examples = (Example({"shape": [4, 4]}, ((16,),)), Example({"shape": [-1, 3]}, ((2, 6),)))

    def infer(self, args, ins):
        total = product(ins[0].dims)
        return ins[0].with_dims(resolve_sizes(total, args["shape"], "Reshape"))

    def forward(self, module, inputs, args):
        shape = args["shape"]
        sizes = ", ".join(map(src, shape)) if isinstance(shape, list) else f"*{src(shape)}"
        # shape[0], not len(): len() is an int, which torch.export would fix the batch size to
        return f"{inputs[0]}.reshape({inputs[0]}.shape[0], {sizes})"


@LAYERS.register
class LastStep(_Reshaping):
    """The last time step of a batch-first sequence: (N, T, F) -> (N, F)."""

    name, ranks = "LastStep", (2,)
    examples = (Example({}, ((7, 5),)),)

    def infer(self, args, ins):
        return ins[0].with_dims(ins[0].dims[1:])

    def forward(self, module, inputs, args):
        return f"{inputs[0]}[:, -1]"


def resolve_sizes(total, sizes: list, what: str) -> list:
    """Fill the one -1 in `sizes` so that their product is `total`."""
    if sizes.count(-1) > 1:
        raise ShapeError("E402", f"{what}: only one size may be -1")
    known = product(s for s in sizes if s != -1)
    if not isinstance(total, int) or not isinstance(known, int):
        if -1 in sizes:
            raise ShapeError("E402", f"{what}: cannot infer -1 from the symbolic size {total}")
        return list(sizes)
    if -1 in sizes:
        if known == 0 or total % known:
            raise ShapeError("E402", f"{what}: {total} elements do not divide into sizes {sizes}")
        return [total // known if s == -1 else s for s in sizes]
    if known != total:
        raise ShapeError(
            "E402", f"{what}: sizes {sizes} hold {known} elements, the input has {total}", expected=f"{total} elements"
        )
    return list(sizes)
