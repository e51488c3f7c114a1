"""Pooling, 1-d to 3-d: MaxPool, AvgPool, AdaptiveAvgPool and AdaptiveMaxPool."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.cost import INDEX, NOTHING, Saved, elements
from nnspec.kinds.layer import LAYERS, Layer
from nnspec.kinds.layers.sizes import window_out
from nnspec.kinds.params import Bool, Int, OneOf, Optional, Param, Seq, expand, int_or_tuple


class _PoolNd(Layer):
    n: int = 2
    with_dilation = False
    whole_kernel = False  # the input itself, padding aside, must be as large as the kernel
    argmax = False  # max pooling: backward also keeps the index of each window's maximum

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.ranks = (cls.n + 1,)

    def validate(self, args):
        k, p = args.get("kernel_size"), args.get("padding")
        if k is None or p is None:
            return []
        if any(pi > ki // 2 for ki, pi in zip(expand(k, self.n), expand(p, self.n))):
            return [("E307", "padding must be at most half the kernel size (PyTorch refuses more)", "padding")]
        return []

    def infer(self, args, ins):
        return ins[0].with_dims((ins[0].dims[0], *(self._out(d, i, args) for i, d in enumerate(ins[0].dims[1:]))))

    def _out(self, size, i, args):
        k = expand(args["kernel_size"], self.n)[i]
        stride = args["stride"] if args["stride"] is not None else args["kernel_size"]
        s, p = expand(stride, self.n)[i], expand(args["padding"], self.n)[i]
        d = expand(args["dilation"], self.n)[i] if self.with_dilation else 1
        if self.whole_kernel and isinstance(size, int) and size < k:
            raise ShapeError("E403", f"{self.name}: input size {size} is smaller than the kernel {k} (padding aside)")
        return window_out(size, k, s, p, d, args["ceil_mode"])

    def saved(self, args, ins, out, flow):
        if not flow.grads[0]:
            return NOTHING
        return Saved(inputs=(0,), own=elements(out) * INDEX * self.argmax)


def _max_params(n):
    return (
        Param("kernel_size", int_or_tuple(n)),
        Param("stride", Optional(int_or_tuple(n)), None),
        Param("padding", int_or_tuple(n, 0), 0),
        Param("dilation", int_or_tuple(n), 1),
        Param("ceil_mode", Bool(), False),
    )


def _avg_params(n):
    common = (
        Param("kernel_size", int_or_tuple(n)),
        Param("stride", Optional(int_or_tuple(n)), None),
        Param("padding", int_or_tuple(n, 0), 0),
        Param("ceil_mode", Bool(), False),
        Param("count_include_pad", Bool(), True),
    )
    return common + ((Param("divisor_override", Optional(Int(1)), None),) if n >= 2 else ())


@LAYERS.register
class MaxPool1d(_PoolNd):
    name, torch_class, n, with_dilation, params = "MaxPool1d", "nn.MaxPool1d", 1, True, _max_params(1)
    argmax = True
    examples = (
        Example({"kernel_size": 2}, ((3, 11),)),
        Example({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, ((2, 10),)),
    )


@LAYERS.register
class MaxPool2d(_PoolNd):
    name, torch_class, n, with_dilation, params = "MaxPool2d", "nn.MaxPool2d", 2, True, _max_params(2)
    argmax = True
    examples = (
        Example({"kernel_size": 2}, ((3, 24, 24),)),
        Example({"kernel_size": 3, "stride": 2, "padding": 1}, ((64, 112, 112),)),
        Example({"kernel_size": 3, "stride": 2, "ceil_mode": True, "dilation": 1}, ((2, 14, 13),)),
    )


@LAYERS.register
class MaxPool3d(_PoolNd):
    name, torch_class, n, with_dilation, params = "MaxPool3d", "nn.MaxPool3d", 3, True, _max_params(3)
    argmax = True
    examples = (
        Example({"kernel_size": 2}, ((3, 8, 6, 7),)),
        Example(
            {"kernel_size": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1], "ceil_mode": True}, ((2, 4, 9, 8),)
        ),
        Example({"kernel_size": 2, "dilation": 2}, ((1, 5, 5, 6),)),
    )


@LAYERS.register
class AvgPool1d(_PoolNd):
    name, torch_class, n, params = "AvgPool1d", "nn.AvgPool1d", 1, _avg_params(1)
    examples = (Example({"kernel_size": 3, "stride": 2}, ((3, 11),)),)


@LAYERS.register
class AvgPool2d(_PoolNd):
    name, torch_class, n, params = "AvgPool2d", "nn.AvgPool2d", 2, _avg_params(2)
    examples = (
        Example({"kernel_size": 2}, ((3, 9, 8),)),
        Example({"kernel_size": 3, "padding": 1, "ceil_mode": True, "stride": 2}, ((1, 10, 7),)),
    )


@LAYERS.register
class AvgPool3d(_PoolNd):
    name, torch_class, n, params = "AvgPool3d", "nn.AvgPool3d", 3, _avg_params(3)
    whole_kernel = True
    examples = (
        Example({"kernel_size": 2}, ((3, 4, 6, 5),)),
        Example({"kernel_size": 3, "stride": [1, 2, 2], "padding": 1, "count_include_pad": False}, ((2, 5, 7, 7),)),
    )


class _AdaptiveNd(Layer):
    n: int = 2
    argmax = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.ranks = (cls.n + 1,)
        item = Optional(Int(1)) if cls.n > 1 else Int(1)  # none (keep the size) only from 2-d on, as in PyTorch
        size = OneOf((Int(1), Seq(item, cls.n)))
        cls.params = (Param("output_size", size),)

    def infer(self, args, ins):
        wanted = expand(args["output_size"], self.n)
        sizes = [old if new is None else new for old, new in zip(ins[0].dims[1:], wanted)]
        return ins[0].with_dims((ins[0].dims[0], *sizes))

    def saved(self, args, ins, out, flow):
        if not flow.grads[0]:
            return NOTHING
        if self.argmax:
            return Saved(inputs=(0,), own=elements(out) * INDEX)
        if all(d == 1 for d in out.dims[1:]):  # a mean over the positions, which keeps nothing
            return NOTHING
        return Saved(inputs=(0,))


@LAYERS.register
class AdaptiveAvgPool1d(_AdaptiveNd):
    name, torch_class, n = "AdaptiveAvgPool1d", "nn.AdaptiveAvgPool1d", 1
    examples = (Example({"output_size": 4}, ((3, 17),)),)


@LAYERS.register
class AdaptiveAvgPool2d(_AdaptiveNd):
    name, torch_class, n = "AdaptiveAvgPool2d", "nn.AdaptiveAvgPool2d", 2
    examples = (Example({"output_size": 1}, ((512, 7, 7),)), Example({"output_size": [6, None]}, ((4, 13, 9),)))


@LAYERS.register
class AdaptiveAvgPool3d(_AdaptiveNd):
    name, torch_class, n = "AdaptiveAvgPool3d", "nn.AdaptiveAvgPool3d", 3
    examples = (Example({"output_size": 1}, ((8, 4, 5, 5),)), Example({"output_size": [2, None, 3]}, ((2, 5, 4, 7),)))


@LAYERS.register
class AdaptiveMaxPool1d(_AdaptiveNd):
    name, torch_class, n = "AdaptiveMaxPool1d", "nn.AdaptiveMaxPool1d", 1
    argmax = True
    examples = (Example({"output_size": 3}, ((4, 10),)),)


@LAYERS.register
class AdaptiveMaxPool2d(_AdaptiveNd):
    name, torch_class, n = "AdaptiveMaxPool2d", "nn.AdaptiveMaxPool2d", 2
    argmax = True
    examples = (Example({"output_size": [2, 3]}, ((4, 7, 9),)), Example({"output_size": [None, 1]}, ((3, 5, 6),)))
