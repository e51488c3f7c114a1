"""Convolutions, 1-d to 3-d, plain and transposed, sharing one N-d rule."""

from __future__ import annotations

from math import prod

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.cost import NOTHING, Saved, nbytes
from nnspec.kinds.layer import LAYERS, Layer, channel_dim
from nnspec.kinds.layers.sizes import transposed_out, window_out
from nnspec.kinds.params import Bool, Int, OneOf, Param, Str, expand, int_or_tuple


def _conv_params(n: int, transposed: bool) -> tuple[Param, ...]:
    head = (
        Param("in_channels", Int(1), inferred=True),
        Param("out_channels", Int(1)),
        Param("kernel_size", int_or_tuple(n)),
        Param("stride", int_or_tuple(n), 1),
    )
    mode = Param("padding_mode", Str(("zeros", "reflect", "replicate", "circular")), "zeros")
    if transposed:
        return head + (
            Param("padding", int_or_tuple(n, 0), 0),
            Param("output_padding", int_or_tuple(n, 0), 0),
            Param("groups", Int(1), 1),
            Param("bias", Bool(), True),
            Param("dilation", int_or_tuple(n), 1),
            Param("padding_mode", Str(("zeros",)), "zeros"),
        )
    padding = Param("padding", OneOf((Str(("same", "valid")), int_or_tuple(n, 0))), 0)
    return head + (
        padding,
        Param("dilation", int_or_tuple(n), 1),
        Param("groups", Int(1), 1),
        Param("bias", Bool(), True),
        mode,
    )


class _ConvNd(Layer):
    n: int = 2
    transposed: bool = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.ranks = (cls.n + 1,)
        cls.params = _conv_params(cls.n, cls.transposed)

    def validate(self, args):
        stride = args.get("stride")
        if args.get("padding") == "same" and stride is not None and any(s != 1 for s in expand(stride, self.n)):
            return [("E307", 'padding="same" needs stride 1 (PyTorch refuses it otherwise)', "padding")]
        if self.transposed and all(args.get(a) is not None for a in ("output_padding", "stride", "dilation")):
            sizes = zip(*(expand(args[a], self.n) for a in ("output_padding", "stride", "dilation")))
            if any(op >= s and op >= d for op, s, d in sizes):
                return [
                    (
                        "E307",
                        "output_padding must be smaller than the stride or the dilation (PyTorch refuses it otherwise)",
                        "output_padding",
                    )
                ]
        return []

    def derive(self, ins):
        return {"in_channels": channel_dim(ins[0], self.name)}

    def infer(self, args, ins):
        c_in, c_out, groups = args["in_channels"], args["out_channels"], args["groups"]
        for what, c in (("in_channels", c_in), ("out_channels", c_out)):
            if c % groups:
                raise ShapeError("E307", f"{what} ({c}) must be divisible by groups ({groups})", arg="groups")
        sizes = [self._out(size, i, args) for i, size in enumerate(ins[0].dims[1:])]
        return ins[0].with_dims((c_out, *sizes))

    def _out(self, size, i, args):
        k, s, d = (expand(args[a], self.n)[i] for a in ("kernel_size", "stride", "dilation"))
        if self.transposed:
            p, op = expand(args["padding"], self.n)[i], expand(args["output_padding"], self.n)[i]
            return transposed_out(size, k, s, p, op, d)
        padding = args["padding"]
        if padding == "same":
            self._check_wrap(size, d * (k - 1) - d * (k - 1) // 2, args)  # the right side gets the odd one
            return size
        p = 0 if padding == "valid" else expand(padding, self.n)[i]
        self._check_wrap(size, p, args)
        return window_out(size, k, s, p, d)

    def _check_wrap(self, size, p: int, args) -> None:
        """Reflect padding must be smaller than the input, circular padding at most its size."""
        mode = args["padding_mode"]
        if isinstance(size, int) and ((mode == "reflect" and p >= size) or (mode == "circular" and p > size)):
            limit = "smaller than" if mode == "reflect" else "at most"
            raise ShapeError(
                "E403", f'padding {p} with padding_mode="{mode}" must be {limit} the input size {size}', arg="padding"
            )

    def parameters(self, args):
        c_in, c_out, groups = args["in_channels"], args["out_channels"], args["groups"]
        kernel = expand(args["kernel_size"], self.n)
        weight = (c_in, c_out // groups, *kernel) if self.transposed else (c_out, c_in // groups, *kernel)
        return {"weight": weight, **({"bias": (c_out,)} if args["bias"] else {})}

    def macs(self, args, ins, out):
        k = prod(expand(args["kernel_size"], self.n))
        if self.transposed:  # every input element scatters into out/groups channels
            return (ins[0].numel() or 0) * args["out_channels"] // args["groups"] * k
        return (out.numel() or 0) * args["in_channels"] // args["groups"] * k

    def saved(self, args, ins, out, flow):
        """The input, for the weights' gradient. Padding other than zeros, and "same" padding that
        cannot be split evenly, makes a padded copy first, which the convolution keeps instead;
        reflection and replication padding keep the input themselves."""
        pads = self._explicit_padding(args)
        if pads is None:
            return Saved(inputs=(0,)) if flow.params else NOTHING
        padded = ins[0].with_dims((ins[0].dims[0], *(_plus(d, p) for d, p in zip(ins[0].dims[1:], pads))))
        kept = Saved(own=nbytes(padded)) if flow.params else NOTHING
        if args["padding_mode"] in ("reflect", "replicate") and flow.grads[0]:
            kept += Saved(inputs=(0,))
        return kept

    def _explicit_padding(self, args) -> list[int] | None:
        """Total padding per spatial dim when it is made by a separate pad, else None."""
        if self.transposed:
            return None
        k, d, padding = expand(args["kernel_size"], self.n), expand(args["dilation"], self.n), args["padding"]
        if padding == "same":
            totals = [di * (ki - 1) for ki, di in zip(k, d)]
        else:
            totals = [2 * p for p in expand(0 if padding == "valid" else padding, self.n)]
        if args["padding_mode"] != "zeros":
            return totals
        if padding == "same" and any(t % 2 for t in totals):  # the odd one padded apart, the rest by the convolution
            return [t % 2 for t in totals]
        return None


def _plus(size, pad: int):
    return size + pad if isinstance(size, int) else size


@LAYERS.register
class Conv1d(_ConvNd):
    name, torch_class, n = "Conv1d", "nn.Conv1d", 1
    examples = (
        Example({"out_channels": 8, "kernel_size": 3}, ((4, 20),)),
        Example(
            {"out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 1, "groups": 2, "bias": False}, ((4, 31),)
        ),
        Example({"out_channels": 4, "kernel_size": 3, "padding": "same", "dilation": 2}, ((2, 9),)),
    )


@LAYERS.register
class Conv2d(_ConvNd):
    name, torch_class, n = "Conv2d", "nn.Conv2d", 2
    examples = (
        Example({"out_channels": 20, "kernel_size": 5}, ((1, 28, 28),)),
        Example({"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False}, ((3, 64, 64),)),
        Example({"out_channels": 8, "kernel_size": [3, 5], "padding": "same"}, ((4, 10, 12),)),
        Example({"out_channels": 8, "kernel_size": 3, "dilation": 2, "groups": 4, "padding": "valid"}, ((4, 15, 15),)),
    )


@LAYERS.register
class Conv3d(_ConvNd):
    name, torch_class, n = "Conv3d", "nn.Conv3d", 3
    examples = (
        Example({"out_channels": 4, "kernel_size": 3}, ((2, 6, 7, 5),)),
        Example(
            {"out_channels": 6, "kernel_size": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]}, ((3, 4, 9, 8),)
        ),
        Example({"out_channels": 4, "kernel_size": 3, "padding": "same", "groups": 2, "bias": False}, ((2, 5, 5, 5),)),
    )


@LAYERS.register
class ConvTranspose1d(_ConvNd):
    name, torch_class, n, transposed = "ConvTranspose1d", "nn.ConvTranspose1d", 1, True
    examples = (
        Example({"out_channels": 8, "kernel_size": 4, "stride": 2, "padding": 1}, ((16, 10),)),
        Example({"out_channels": 6, "kernel_size": 3, "groups": 3, "dilation": 2, "bias": False}, ((3, 7),)),
    )


@LAYERS.register
class ConvTranspose2d(_ConvNd):
    name, torch_class, n, transposed = "ConvTranspose2d", "nn.ConvTranspose2d", 2, True
    examples = (
        Example({"out_channels": 16, "kernel_size": 2, "stride": 2}, ((32, 7, 7),)),
        Example({"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, ((8, 5, 6),)),
    )


@LAYERS.register
class ConvTranspose3d(_ConvNd):
    name, torch_class, n, transposed = "ConvTranspose3d", "nn.ConvTranspose3d", 3, True
    examples = (
        Example({"out_channels": 2, "kernel_size": 2, "stride": 2}, ((4, 3, 4, 2),)),
        Example(
            {"out_channels": 3, "kernel_size": [3, 1, 3], "stride": 2, "output_padding": [1, 0, 0]}, ((2, 2, 3, 3),)
        ),
    )
