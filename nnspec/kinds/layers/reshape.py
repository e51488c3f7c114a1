"""Layers that only move values around: Flatten, Unflatten, Reshape, Transpose, Permute, Squeeze, Unsqueeze, LastStep."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.layer import LAYERS, Layer, torch_dim
from nnspec.kinds.layers.layout import folded, from_full, full, position
from nnspec.kinds.layers.sizes import product
from nnspec.kinds.params import Int, OneOf, Param, Seq
from nnspec.kinds.pysrc import src


class _Reshaping(Layer):
    transparent = True
    input_dtype = None
    any_layout = True  # dims are counted as PyTorch counts them, the batch where it is
    moves = "view"  # its `layout`: a view as laid out as its input; or "strided", "reshape"

    def layout(self, args, ins):
        return self.moves


@LAYERS.register
class Flatten(_Reshaping):
    name, torch_class = "Flatten", "nn.Flatten"
    moves = "reshape"
    params = (Param("start_dim", Int(), 1), Param("end_dim", Int(), -1))
    examples = (
        Example({}, ((16, 5, 5),)),
        Example({"start_dim": 2}, ((3, 4, 5),)),
        Example({"end_dim": 2}, ((3, 4, 5),)),
        Example({"start_dim": 0, "end_dim": 1}, ((3, 4),)),  # folds the batch: (N*3, 4)
    )

    def infer(self, args, ins):
        dims = full(ins[0])
        start, end = (position(args[a], len(dims), self.name) for a in ("start_dim", "end_dim"))
        if start > end:
            raise ShapeError("E402", f"Flatten: start_dim {args['start_dim']} comes after end_dim {args['end_dim']}")
        return folded(dims, start, end, ins[0])


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
        i = torch_dim(args["dim"], len(dims), self.name, ins[0].batch)
        sizes = resolve_sizes(dims[i], args["unflattened_size"], f"Unflatten of dim {args['dim']}")
        return ins[0].with_dims(dims[:i] + tuple(sizes) + dims[i + 1 :])


@LAYERS.register
class Reshape(_Reshaping):
    """Reshape each sample: `Reshape([16, 4, 4])`; one size may be -1."""

    name, any_layout = "Reshape", False  # its forward keeps len(x) rows
    moves = "reshape"
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
class Transpose(_Reshaping):
    """Swaps two dims, counted as PyTorch counts them: `Transpose(1, 2)`; `Transpose(0, 1)` makes (N, T, F) a (T, N, F)."""

    name = "Transpose"
    moves = "strided"
    params = (Param("dim0", Int()), Param("dim1", Int()))
    examples = (
        Example({"dim0": 1, "dim1": 2}, ((3, 5),)),
        Example({"dim0": -1, "dim1": 1}, ((2, 3, 4),)),
        Example({"dim0": 0, "dim1": 1}, ((3, 5),)),
        Example({"dim0": 1, "dim1": 0}, ((3, 5),), batches=(1,)),
    )

    def infer(self, args, ins):
        dims = full(ins[0])  # the batch may move: Transpose(0, 1) makes (N, T, F) a (T, N, F)
        i, j = (position(args[a], len(dims), self.name) for a in ("dim0", "dim1"))
        dims[i], dims[j] = dims[j], dims[i]
        return from_full(dims, ins[0])

    def layout(self, args, ins):
        n = ins[0].rank + 1
        same = position(args["dim0"], n, self.name) == position(args["dim1"], n, self.name)
        return "view" if same else "strided"

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.transpose({src(args['dim0'])}, {src(args['dim1'])})"


@LAYERS.register
class Permute(_Reshaping):
    """Reorders all dims, the batch among them: `Permute([0, 2, 1])`."""

    name = "Permute"
    moves = "strided"
    params = (Param("dims", Seq(Int(), min_len=1)),)
    examples = (
        Example({"dims": [0, 2, 1]}, ((3, 5),)),
        Example({"dims": [0, -1, 1, 2]}, ((2, 3, 4),)),
        Example({"dims": [1, 2, 0]}, ((3, 5),)),
    )

    def infer(self, args, ins):
        dims, order = full(ins[0]), args["dims"]
        n = len(dims)
        if len(order) != n or sorted(d % n for d in order if -n <= d < n) != list(range(n)):
            raise ShapeError("E402", f"Permute: {order} is not an order of the {n} dims of {ins[0]}", arg="dims")
        return from_full([dims[d % n] for d in order], ins[0])  # the batch goes where the order puts it

    def layout(self, args, ins):
        n = ins[0].rank + 1
        return "view" if [d % n for d in args["dims"]] == list(range(n)) else "strided"

    def forward(self, module, inputs, args):
        order = args["dims"]
        return f"{inputs[0]}.permute({', '.join(map(src, order)) if isinstance(order, list) else f'*{src(order)}'})"


@LAYERS.register
class Squeeze(_Reshaping):
    """Removes dims of size 1 (counted with the batch dim first): `Squeeze(2)`, `Squeeze([1, 3])`."""

    name = "Squeeze"
    params = (Param("dim", OneOf((Int(), Seq(Int(), min_len=1)))),)
    examples = (Example({"dim": 2}, ((5, 1),)), Example({"dim": [1, -1]}, ((1, 4, 1),)))

    def infer(self, args, ins):
        dims = ins[0].dims
        given = args["dim"] if isinstance(args["dim"], list) else [args["dim"]]
        picked = {torch_dim(d, len(dims), self.name, ins[0].batch) for d in given}
        if len(picked) < len(given):  # PyTorch refuses a dim named twice (-1 and its positive twin)
            raise ShapeError("E402", f"Squeeze: dims {given} name one dim of {ins[0]} twice", arg="dim")
        for i in sorted(picked):
            if dims[i] != 1:  # PyTorch would leave it: a squeeze that does nothing is a mistake
                raise ShapeError("E402", f"Squeeze: dim {i + 1} of {ins[0]} has size {dims[i]}, not 1", arg="dim")
        return ins[0].with_dims(d for i, d in enumerate(dims) if i not in picked)

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.squeeze({src(args['dim'])})"


@LAYERS.register
class Unsqueeze(_Reshaping):
    """Inserts a dim of size 1 at `dim` of the result (counted with the batch dim first)."""

    name = "Unsqueeze"
    params = (Param("dim", Int()),)
    examples = (
        Example({"dim": 1}, ((5,),)),
        Example({"dim": -1}, ((3, 4),)),
        Example({"dim": 2}, ((3, 4),)),
        Example({"dim": 0}, ((3,),)),  # (1, N, 3)
    )

    def infer(self, args, ins):
        dims = full(ins[0])
        i = position(args["dim"], len(dims) + 1, self.name)  # a dim of the result: Unsqueeze(0) puts 1 before N
        return from_full([*dims[:i], 1, *dims[i:]], ins[0])

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.unsqueeze({src(args['dim'])})"


@LAYERS.register
class LastStep(_Reshaping):
    """The last time step of a batch-first sequence: (N, T, F) -> (N, F)."""

    name, ranks, any_layout = "LastStep", (2,), False
    moves = "strided"
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
