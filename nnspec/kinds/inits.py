"""Weight initialisation kinds (`init = {"h.*": xavier_uniform(bias=0.0)}`): torch.nn.init functions."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Float, Optional, Param, Str, pytorch_value
from nnspec.kinds.pysrc import call

INITS = Registry("initialiser", "xavier_uniform()")

_BIAS = Param("bias", Optional(Float()), None, doc="a constant for the layer's biases; none leaves them")
_GAIN = Param("gain", Float(0), 1.0)
_KAIMING = (
    Param("a", Float(0), 0.0),
    Param("mode", Str(("fan_in", "fan_out")), "fan_in"),
    Param("nonlinearity", Str(("relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu")), "leaky_relu"),
    _BIAS,
)


class Init(Kind):
    """Fills weight matrices and kernels (2 or more dims) of the matching layers."""

    family = "initialiser"
    function: ClassVar[str]
    own = {"bias": "nn.init functions fill one tensor; nnspec fills the layer's biases with a constant_ call"}

    def weight_call(self, args: dict, tensor: str) -> str:
        keywords = {p.name: pytorch_value(p.type, args[p.name]) for p in self.params if p.name not in self.own}
        return call(f"nn.init.{self.function}", keywords=keywords, lead=(tensor,))

    def bias_call(self, args: dict, tensor: str) -> str | None:
        return call("nn.init.constant_", (args["bias"],), lead=(tensor,)) if args["bias"] is not None else None


@INITS.register
class Uniform(Init):
    name, function = "uniform", "uniform_"
    params = (Param("a", Float(), 0.0), Param("b", Float(), 1.0), _BIAS)

    def validate(self, args):
        return [] if args["a"] <= args["b"] else [("E304", "uniform needs a <= b", "b")]


@INITS.register
class Normal(Init):
    name, function = "normal", "normal_"
    params = (Param("mean", Float(), 0.0), Param("std", Float(0), 1.0), _BIAS)


@INITS.register
class XavierUniform(Init):
    name, function, params = "xavier_uniform", "xavier_uniform_", (_GAIN, _BIAS)


@INITS.register
class XavierNormal(Init):
    name, function, params = "xavier_normal", "xavier_normal_", (_GAIN, _BIAS)


@INITS.register
class KaimingUniform(Init):
    name, function, params = "kaiming_uniform", "kaiming_uniform_", _KAIMING


@INITS.register
class KaimingNormal(Init):
    name, function, params = "kaiming_normal", "kaiming_normal_", _KAIMING


@INITS.register
class Orthogonal(Init):
    name, function, params = "orthogonal", "orthogonal_", (_GAIN, _BIAS)


@INITS.register
class Constant(Init):
    name, function = "constant", "constant_"
    params = (Param("val", Float()), _BIAS)
