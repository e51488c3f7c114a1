"""Spatial resizing without weights: padding (reflection, replication, zeros), Upsample, PixelShuffle."""

from __future__ import annotations

from nnspec.kinds.base import Dim, Example, ShapeError
from nnspec.kinds.cost import NOTHING, Saved
from nnspec.kinds.layer import LAYERS, Layer, channel_dim
from nnspec.kinds.layers.sizes import product
from nnspec.kinds.params import Bool, Float, Int, OneOf, Optional, Param, Seq, Str, expand
from nnspec.kinds.pysrc import Code


class _PadNd(Layer):
    """Pads the last n dims; `padding` is an int or (left, right[, top, bottom]), last dim first."""

    n: int = 1
    lo: int | None = 0  # the smallest padding allowed; None: negative ones too, which crop
    reflect: bool = False  # each padding must be smaller than the size it reflects
    keeps_input = True  # reflection and replication padding keep it for backward; zeros do not

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.ranks = (cls.n, cls.n + 1)  # (C, L) or (L) per sample, as PyTorch takes (N, C, L) or (C, L)
        cls.params = (Param("padding", OneOf((Int(cls.lo), Seq(Int(cls.lo), 2 * cls.n)))),)

    def infer(self, args, ins):
        pads = expand(args["padding"], 2 * self.n)
        dims = list(ins[0].dims)
        for i in range(self.n):
            j = len(dims) - 1 - i
            dims[j] = self._padded(dims[j], pads[2 * i], pads[2 * i + 1])
        return ins[0].with_dims(dims)

    def _padded(self, size: Dim, before: int, after: int) -> Dim:
        if not isinstance(size, int):
            total = before + after
            return f"{size}{total:+d}" if total else size
        if self.reflect and max(before, after) >= size:
            raise ShapeError(
                "E403", f"{self.name}: padding {max(before, after)} must be smaller than the input size {size}"
            )
        if size + min(before, 0) + min(after, 0) < 0 or size + before + after < 1:  # negative ones crop first
            raise ShapeError("E403", f"{self.name}: padding {before}, {after} crops more than the size {size}")
        return size + before + after

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0,)) if self.keeps_input and flow.grads[0] else NOTHING


@LAYERS.register
class ReflectionPad1d(_PadNd):
    name, torch_class, n, reflect = "ReflectionPad1d", "nn.ReflectionPad1d", 1, True
    examples = (Example({"padding": 2}, ((3, 7),)), Example({"padding": [1, 3]}, ((2, 4),)))


@LAYERS.register
class ReflectionPad2d(_PadNd):
    name, torch_class, n, reflect = "ReflectionPad2d", "nn.ReflectionPad2d", 2, True
    examples = (Example({"padding": 1}, ((3, 5, 5),)), Example({"padding": [1, 0, 2, 3]}, ((2, 4, 6),)))


@LAYERS.register
class ReplicationPad1d(_PadNd):
    name, torch_class, n = "ReplicationPad1d", "nn.ReplicationPad1d", 1
    examples = (Example({"padding": 3}, ((3, 2),)), Example({"padding": [0, 2]}, ((4,),)))


@LAYERS.register
class ReplicationPad2d(_PadNd):
    name, torch_class, n = "ReplicationPad2d", "nn.ReplicationPad2d", 2
    examples = (Example({"padding": 2}, ((3, 4, 4),)), Example({"padding": [1, 2, 0, 1]}, ((2, 3, 5),)))


@LAYERS.register
class ZeroPad2d(_PadNd):
    name, torch_class, n, lo = "ZeroPad2d", "nn.ZeroPad2d", 2, None
    keeps_input = False
    examples = (Example({"padding": 2}, ((3, 4, 4),)), Example({"padding": [-1, 1, 0, -2]}, ((2, 5, 5),)))


_SCALE = Float(0, lo_open=True)
_INTERPOLATING = {"linear": 2, "bilinear": 3, "bicubic": 3, "trilinear": 4}  # mode -> the rank it needs


@LAYERS.register
class Upsample(Layer):
    """Resizes the spatial dims to `size` or by `scale_factor` (exactly one of them)."""

    name, torch_class, ranks = "Upsample", "nn.Upsample", (2, 3, 4)
    params = (
        Param("size", Optional(OneOf((Int(1), Seq(Int(1), min_len=1)))), None),
        Param("scale_factor", Optional(OneOf((_SCALE, Seq(_SCALE, min_len=1)))), None),
        Param("mode", Str(("nearest", "nearest-exact", *_INTERPOLATING)), "nearest"),
        Param("align_corners", Optional(Bool()), None),
        Param("recompute_scale_factor", Optional(Bool()), None),
    )
    examples = (
        Example({"scale_factor": 2}, ((3, 5, 4),)),
        Example({"size": [7, 9], "mode": "bilinear", "align_corners": True}, ((2, 4, 5),)),
        Example({"scale_factor": 1.5, "mode": "linear"}, ((3, 5),)),
        Example({"scale_factor": [1, 2, 0.5], "mode": "trilinear", "recompute_scale_factor": True}, ((2, 3, 3, 4),)),
        Example({"size": 6, "mode": "nearest-exact"}, ((2, 3, 3),)),
    )

    def constructor(self, args):
        positional, keywords = super().constructor(args)
        scale = keywords.get("scale_factor")
        if isinstance(scale, list):  # PyTorch takes factors per dim only as a tuple
            keywords["scale_factor"] = tuple(scale)
        elif isinstance(scale, Code):  # a block's parameter: a number or a list
            keywords["scale_factor"] = Code(f"tuple({scale}) if isinstance({scale}, list) else {scale}")
        return positional, keywords

    def validate(self, args):
        size, scale = args.get("size"), args.get("scale_factor")
        if (size is None) == (scale is None):
            return [("E307", "Upsample needs exactly one of size and scale_factor", "size")]
        if args.get("align_corners") is not None and args.get("mode") not in _INTERPOLATING:
            return [("E307", f"align_corners works only with the modes {', '.join(_INTERPOLATING)}", "align_corners")]
        if args.get("recompute_scale_factor") and size is not None:
            return [("E307", "recompute_scale_factor is only for scale_factor, not size", "recompute_scale_factor")]
        return []

    def infer(self, args, ins):
        spatial = ins[0].dims[1:]
        need = _INTERPOLATING.get(args["mode"])
        if need is not None and ins[0].rank != need:
            raise ShapeError("E402", f'Upsample mode="{args["mode"]}" expects {need + 1}-d input, got {ins[0]}')
        given = args["size"] if args["size"] is not None else args["scale_factor"]
        if isinstance(given, list) and len(given) != len(spatial):
            raise ShapeError(
                "E402", f"Upsample: {len(given)} sizes or factors for the {len(spatial)} spatial dims of {ins[0]}"
            )
        values = expand(given, len(spatial))
        if args["size"] is not None:
            return ins[0].with_dims((ins[0].dims[0], *values))
        return ins[0].with_dims((ins[0].dims[0], *(_scaled(d, s) for d, s in zip(spatial, values))))


def _scaled(size: Dim, scale) -> Dim:
    """PyTorch's floor(size * scale), computed in floating point as it does."""
    if not isinstance(size, int):
        if float(scale).is_integer():
            return product((size, int(scale)))
        return f"floor({size if size.isidentifier() else f'({size})'}*{float(scale)!r})"
    out = int(size * float(scale))
    if out < 1:
        raise ShapeError("E403", f"Upsample: size {size} scaled by {scale} gives {out}")
    return out


@LAYERS.register
class PixelShuffle(Layer):
    """(C*r*r, H, W) -> (C, H*r, W*r) with r = upscale_factor."""

    name, torch_class, ranks = "PixelShuffle", "nn.PixelShuffle", (3,)
    input_dtype = None
    params = (Param("upscale_factor", Int(1)),)
    examples = (Example({"upscale_factor": 2}, ((8, 3, 4),)), Example({"upscale_factor": 3}, ((9, 2, 2),)))

    def infer(self, args, ins):
        r, (h, w) = args["upscale_factor"], ins[0].dims[1:]
        channels = channel_dim(ins[0], self.name)
        if channels % (r * r):
            raise ShapeError(
                "E402", f"PixelShuffle: {channels} channels are not divisible by upscale_factor² = {r * r}"
            )
        return ins[0].with_dims((channels // (r * r), product((h, r)), product((w, r))))
