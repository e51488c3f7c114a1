"""Normalisation and dropout: BatchNorm, InstanceNorm, LayerNorm, GroupNorm, Dropout, Dropout1d/2d."""

from __future__ import annotations

from math import prod

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.cost import BYTES, INDEX, NOTHING, Saved, contiguous, elements, nbytes
from nnspec.kinds.layer import LAYERS, Layer, channel_dim, feature_dim
from nnspec.kinds.params import Bool, Float, Int, OneOf, Param, Seq

_EPS = Param("eps", Float(0, lo_open=True), 1e-05)


class _BatchNorm(Layer):
    statistics: bool = True  # the default of affine and track_running_stats

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.params = (
            Param("num_features", Int(1), inferred=True),
            _EPS,
            Param("momentum", Float(0, 1), 0.1),
            Param("affine", Bool(), cls.statistics),
            Param("track_running_stats", Bool(), cls.statistics),
        )

    def derive(self, ins):
        return {"num_features": channel_dim(ins[0], self.name)}

    def parameters(self, args):
        return _affine(args["num_features"], args["affine"])

    def batch_only(self, args, ins):
        """One value per channel in each sample: (N, C) or (N, C, 1 ...)."""
        return all(d == 1 for d in ins[0].dims[1:])

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0,), fixed=2 * args["num_features"] * BYTES["float"])  # x, mean and 1/std

    def buffers(self, args, ins):
        """The running mean and variance, and the count of batches seen."""
        return (2 * args["num_features"] * BYTES["float"] + INDEX) * bool(args["track_running_stats"])


@LAYERS.register
class BatchNorm1d(_BatchNorm):
    name, torch_class, ranks = "BatchNorm1d", "nn.BatchNorm1d", (1, 2)
    examples = (Example({}, ((16,),)), Example({"affine": False}, ((4, 9),)))


@LAYERS.register
class BatchNorm2d(_BatchNorm):
    name, torch_class, ranks = "BatchNorm2d", "nn.BatchNorm2d", (3,)
    examples = (Example({}, ((8, 5, 5),)), Example({"momentum": 0.01, "eps": 1e-3}, ((3, 4, 4),)))


class _InstanceNorm(_BatchNorm):
    """Normalises each sample's channels over their spatial positions."""

    statistics = False

    def infer(self, args, ins):
        if ins[0].numel() is not None and ins[0].numel() == ins[0].dims[0]:  # PyTorch refuses a single position
            raise ShapeError("E402", f"{self.name} needs more than one spatial position per channel, got {ins[0]}")
        return ins[0]

    def saved(self, args, ins, out, flow):
        """Batch norm over (1, N*C, ...): x, a mean and 1/std per sample and channel, and the
        weights and running statistics it is given, repeated per sample."""
        per_channel = 2 + bool(args["affine"]) + 2 * bool(args["track_running_stats"])
        return contiguous(flow, 0, ins[0]) + Saved(own=per_channel * args["num_features"] * BYTES["float"])


@LAYERS.register
class InstanceNorm1d(_InstanceNorm):
    name, torch_class, ranks = "InstanceNorm1d", "nn.InstanceNorm1d", (2,)
    examples = (Example({}, ((4, 9),)), Example({"affine": True, "track_running_stats": True}, ((3, 5),)))


@LAYERS.register
class InstanceNorm2d(_InstanceNorm):
    name, torch_class, ranks = "InstanceNorm2d", "nn.InstanceNorm2d", (3,)
    examples = (Example({}, ((8, 5, 5),)), Example({"affine": True, "eps": 1e-3}, ((3, 1, 4),)))


@LAYERS.register
class LayerNorm(Layer):
    name, torch_class = "LayerNorm", "nn.LayerNorm"
    any_layout = True  # normalises the last dims
    params = (
        Param("normalized_shape", OneOf((Int(1), Seq(Int(1), min_len=1))), inferred=True),
        _EPS,
        Param("elementwise_affine", Bool(), True),
        Param("bias", Bool(), True),
    )
    examples = (
        Example({}, ((10,),)),
        Example({"normalized_shape": [4, 6]}, ((3, 4, 6),)),
        Example({"bias": False}, ((5, 7),)),
    )

    def derive(self, ins):
        return {"normalized_shape": feature_dim(ins[0], self.name)}

    def matches(self, name, written, derived, ins):
        """A written list names the trailing dims it normalises."""
        if isinstance(written, list):
            return list(ins[0].dims[-len(written) :]) == written
        return written == derived

    def parameters(self, args):
        shape = args["normalized_shape"]
        shape = tuple(shape) if isinstance(shape, list) else (shape,)
        if not args["elementwise_affine"]:
            return {}
        return {"weight": shape, **({"bias": shape} if args["bias"] else {})}

    def saved(self, args, ins, out, flow):
        shape = args["normalized_shape"]
        n = prod(shape) if isinstance(shape, list) else shape
        rows = elements(ins[0]) // n
        return Saved(inputs=(0,), own=2 * rows * BYTES["float"])  # x, and a mean and 1/std per row


@LAYERS.register
class GroupNorm(Layer):
    name, torch_class, ranks = "GroupNorm", "nn.GroupNorm", (1, 2, 3)
    params = (
        Param("num_groups", Int(1)),
        Param("num_channels", Int(1), inferred=True),
        _EPS,
        Param("affine", Bool(), True),
    )
    examples = (Example({"num_groups": 4}, ((16, 5, 5),)), Example({"num_groups": 2, "affine": False}, ((6, 3),)))

    def derive(self, ins):
        return {"num_channels": channel_dim(ins[0], self.name)}

    def infer(self, args, ins):
        if args["num_channels"] % args["num_groups"]:
            raise ShapeError(
                "E307",
                f"num_channels ({args['num_channels']}) must be divisible by num_groups ({args['num_groups']})",
                arg="num_groups",
            )
        return ins[0]

    def parameters(self, args):
        return _affine(args["num_channels"], args["affine"])

    def saved(self, args, ins, out, flow):
        return contiguous(flow, 0, ins[0]) + Saved(
            own=2 * args["num_groups"] * BYTES["float"]
        )  # x, mean and 1/std per group


def _affine(channels: int, affine: bool) -> dict:
    """A learned scale and shift per channel."""
    return {"weight": (channels,), "bias": (channels,)} if affine else {}


class _Dropout(Layer):
    """On CPU, training multiplies by a noise tensor of the input's type, which backward keeps: as
    large as the input, or (feature dropout) one value per channel."""

    transparent = True
    regularizer = True
    params = (Param("p", Float(0, 1), 0.5), Param("inplace", Bool(), False, in_place=True))
    features = False

    def saved(self, args, ins, out, flow):
        p = args["p"]
        if not flow.grads[0] or p == 0:
            return NOTHING
        if p == 1:  # multiplied by a 0-d zero
            return Saved(fixed=BYTES[ins[0].dtype])
        noise = ins[0].with_dims(ins[0].dims[:1]) if self.features else ins[0]
        return Saved(own=nbytes(noise))

    def layout(self, args, ins):
        return "view" if args["p"] == 0 or args["inplace"] is True else "like"  # p=0 returns the input


@LAYERS.register
class Dropout(_Dropout):
    name, torch_class = "Dropout", "nn.Dropout"
    any_layout = True  # element by element
    examples = (Example({"p": 0.2}, ((10,),)),)


@LAYERS.register
class Dropout1d(_Dropout):
    name, torch_class, ranks = "Dropout1d", "nn.Dropout1d", (2,)
    examples = (Example({"p": 0.3}, ((4, 6),)),)
    features = True


@LAYERS.register
class Dropout2d(_Dropout):
    name, torch_class, ranks = "Dropout2d", "nn.Dropout2d", (3,)
    examples = (Example({}, ((4, 6, 6),)),)
    features = True
