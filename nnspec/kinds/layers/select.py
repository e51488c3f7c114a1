"""Parts of a tensor: Split and Chunk into several values (`q, k, v = x -> Split(64, dim=2)`), and
indexing (`x[:, 0]`, `x[..., :3]`, `x[:, none]`), dims counted as PyTorch counts them."""

from __future__ import annotations

import math

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.layer import LAYERS, Layer
from nnspec.kinds.layers.layout import BATCH, from_full, full, position
from nnspec.kinds.params import Int, OneOf, Optional, Param, Seq, Str
from nnspec.kinds.pysrc import Code, src

ELLIPSIS = "..."


class _Parts(Layer):
    """Several values along one dim; a statement binds each to a name."""

    transparent = True
    input_dtype = None
    any_layout = True

    def infer(self, args, ins):
        return self.infer_all(args, ins, 1)[0]  # one value: always refused

    def layout(self, args, ins):
        return "strided"  # views of the input; a piece of a batch's rows is not contiguous

    def infer_all(self, args, ins, count):
        x = ins[0]
        dims = full(x)
        i = position(args["dim"], len(dims), self.name)
        sizes = self.sizes(args, dims[i], x)
        if count == 1:
            raise ShapeError(
                "E406", f"{self.name} gives {len(sizes)} values: bind them, `a, b = x -> {self.name}(...)`"
            )
        if count is not None and count != len(sizes):
            raise ShapeError("E406", f"{self.name} gives {len(sizes)} values here, not {count}", arg=self.count_arg)
        if dims[i] is BATCH:
            return tuple(x.with_layout(x.batch, size) for size in sizes)
        return tuple(from_full([*dims[:i], size, *dims[i + 1 :]], x) for size in sizes)

    def _known(self, size, x, what: str) -> int:
        if not isinstance(size, int):
            raise ShapeError("E402", f"{self.name}: cannot split the symbolic size {size} of {x} {what}")
        return size


@LAYERS.register
class Split(_Parts):
    """Pieces of `split_size_or_sections` along `dim` (the last one smaller), or of the listed sizes."""

    name, count_arg = "Split", "split_size_or_sections"
    params = (
        Param("split_size_or_sections", OneOf((Int(1), Seq(Int(1), min_len=1)))),
        Param("dim", Int(), 0),
    )
    examples = (
        Example({"split_size_or_sections": 4, "dim": 1}, ((12, 3),), results=3),
        Example({"split_size_or_sections": [2, 5], "dim": -1}, ((3, 7),), results=2),
        Example({"split_size_or_sections": 3, "dim": 2}, ((2, 7),), results=3),
    )

    def sizes(self, args, size, x):
        given = args["split_size_or_sections"]
        if size is BATCH:
            raise ShapeError(
                "E402", f"Split: the batch of {x} has a size known only when it runs", help="Chunk(2, dim=0) halves it"
            )
        size = self._known(size, x, "into pieces")
        if isinstance(given, list):
            if sum(given) != size:
                raise ShapeError("E402", f"Split: sections {given} add up to {sum(given)}, the dim has {size}")
            return list(given)
        return [min(given, size - start) for start in range(0, size, given)]

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.split({src(args['split_size_or_sections'])}, dim={src(args['dim'])})"


@LAYERS.register
class Chunk(_Parts):
    """`chunks` pieces along `dim` as torch.chunk cuts them: of ceil(size / chunks), so maybe fewer."""

    name, count_arg = "Chunk", "chunks"
    params = (Param("chunks", Int(1)), Param("dim", Int(), 0))
    examples = (
        Example({"chunks": 2, "dim": 1}, ((6, 3),), results=2),
        Example({"chunks": 3, "dim": -1}, ((2, 7),), results=3),
        Example({"chunks": 4, "dim": 1}, ((6,),), results=3),
    )

    def sizes(self, args, size, x):
        chunks = args["chunks"]
        if size is BATCH:  # N samples per part: the batch is a whole number of batches (2N after a Concat)
            if not isinstance(x.scale, int) or x.scale % chunks:
                raise ShapeError(
                    "E402",
                    f"Chunk: the batch of {x} does not split into {chunks} batches of N samples",
                    help="chunk along the batch what was joined along it: Concat(a, b, dim=0)",
                )
            return [x.scale // chunks] * chunks
        size = self._known(size, x, "into chunks")
        piece = math.ceil(size / chunks)
        return [min(piece, size - start) for start in range(0, size, piece)]

    def forward(self, module, inputs, args):
        return f"{inputs[0]}.chunk({src(args['chunks'])}, dim={src(args['dim'])})"


_ITEM = Optional(OneOf((Int(), Seq(Optional(Int()), 3), Str((ELLIPSIS,)))))


@LAYERS.register
class Index(Layer):
    """`x[:, 0]`, `x[..., 1:3]`, `x[:, none]`: an index (int), a slice [start, stop, step], "..." or
    none (a new dim of size 1) per dim. The batch dim takes only `:`."""

    name, operator, transparent, input_dtype, any_layout = "Index", "[]", True, None, True
    params = (Param("index", Seq(_ITEM, min_len=1)),)
    examples = (
        Example({"index": [[None, None, None], 0]}, ((5, 3),)),
        Example({"index": [ELLIPSIS, [1, None, 2]]}, ((4, 7),)),
        Example({"index": [[None, None, None], None, -1]}, ((3, 4),)),
        Example({"index": [[None, None, None], [-3, None, None], [None, 2, None]]}, ((6, 5),)),
    )

    def infer(self, args, ins):
        x = ins[0]
        items = list(args["index"])
        dims = full(x)
        if items.count(ELLIPSIS) > 1:
            raise ShapeError("E402", "Index: only one `...`", arg="index")
        taken = sum(1 for item in items if item is not None and item != ELLIPSIS)
        if taken > len(dims):
            raise ShapeError("E402", f"Index: {taken} indices for the {len(dims)} dims of {x}", arg="index")
        at = items.index(ELLIPSIS) if ELLIPSIS in items else len(items)
        items[at : at + 1] = [[None, None, None]] * (len(dims) - taken)  # `...` stands for the dims left
        out, k = [], 0
        for item in items:
            if item is None:
                out.append(1)
                continue
            out += self._select(item, dims[k], k, x)
            k += 1
        return from_full(out, x)

    def _select(self, item, size, k: int, x) -> list:
        """What one index item leaves of dim k: nothing (an int), or the dim sliced."""
        whole = isinstance(item, list) and item[0] in (None, 0) and item[1] is None and item[2] in (None, 1)
        if size is BATCH:
            if not whole:
                raise ShapeError("E402", f"Index: dim {k} of {x} is the batch, which takes only `:`", arg="index")
            return [BATCH]
        if not isinstance(item, list):
            if isinstance(size, int) and not -size <= item < size:
                raise ShapeError("E402", f"Index: index {item} is out of range for dim {k} of {x} (size {size})")
            return []
        start, stop, step = item
        if step is not None and step < 1:
            raise ShapeError("E304", f"Index: the step {step} must be at least 1 (PyTorch refuses others)", arg="index")
        length = _sliced(size, start, stop, step or 1) if not whole else size
        if length == 0:
            raise ShapeError("E402", f"Index: {_slice_text(item)} takes nothing of dim {k} of {x} (size {size})")
        if length is None:
            raise ShapeError("E402", f"Index: cannot slice the symbolic size {size} with {_slice_text(item)}")
        return [length]

    def layout(self, args, ins):
        return "strided"  # ints, slices and none index a view

    def forward(self, module, inputs, args):
        index = args["index"]
        if isinstance(index, Code):  # differs between a block's uses: built from the list when it runs
            items = f"(slice(*i) if isinstance(i, list) else Ellipsis if i == {ELLIPSIS!r} else i for i in {index})"
            return f"{inputs[0]}[tuple{items}]"
        return f"{inputs[0]}[{', '.join(_item_text(i) for i in index)}]"


def _sliced(size, start, stop, step):
    """The length of size[start:stop:step] as Python and PyTorch count it; None when a symbolic
    size leaves it unknown."""
    if isinstance(size, int):
        return len(range(*slice(start, stop, step).indices(size)))
    if step != 1:
        return None
    if stop is None and start is not None:
        return f"{size}-{start}" if start > 0 else f"min({size}, {-start})"
    if start is None and stop is not None:
        return f"min({size}, {stop})" if stop > 0 else f"{size}{stop:+d}"
    return None


def _item_text(item) -> str:
    if item is None:
        return "None"
    if item == ELLIPSIS:
        return "..."
    if isinstance(item, list):
        return _slice_text(item)
    return src(item)


def _slice_text(item) -> str:
    start, stop, step = ("" if v is None else src(v) for v in item)
    return f"{start}:{stop}" + (f":{step}" if step else "")
