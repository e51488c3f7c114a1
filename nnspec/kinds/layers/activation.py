"""Element-wise activations (PReLU with its learned slopes) and the (log-)softmax over one dim."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.cost import NOTHING, Saved
from nnspec.kinds.layer import LAYERS, Layer, torch_dim
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Str


class Activation(Layer):
    any_layout = True  # element by element (PReLU's channels and the softmax's dim are read as PyTorch does)

    def macs(self, args, ins, out):
        return 0  # element-wise: no multiply-adds in torchinfo's sense

    keeps = "input"  # what its derivative is computed from: its input, or its output (ReLU, Tanh ...)

    def saved(self, args, ins, out, flow):
        if not flow.grads[0]:
            return NOTHING
        if self.keeps == "output" or args.get("inplace") is True:  # in place, the output is the input
            return Saved(output=True)
        return Saved(inputs=(0,))

    def layout(self, args, ins):
        return "view" if args.get("inplace") is True else "like"


_INPLACE = Param("inplace", Bool(), False, in_place=True)
_EX = (Example({}, ((6,),)), Example({}, ((2, 5, 5),)))


@LAYERS.register
class ReLU(Activation):
    name, torch_class, params, examples = "ReLU", "nn.ReLU", (_INPLACE,), _EX
    keeps = "output"


@LAYERS.register
class LeakyReLU(Activation):
    name, torch_class, examples = "LeakyReLU", "nn.LeakyReLU", _EX
    params = (Param("negative_slope", Float(), 0.01), _INPLACE)


@LAYERS.register
class ELU(Activation):
    name, torch_class, examples = "ELU", "nn.ELU", _EX
    params = (Param("alpha", Float(), 1.0), _INPLACE)


@LAYERS.register
class GELU(Activation):
    name, torch_class, examples = "GELU", "nn.GELU", _EX
    params = (Param("approximate", Str(("none", "tanh")), "none"),)


@LAYERS.register
class SiLU(Activation):
    name, torch_class, params, examples = "SiLU", "nn.SiLU", (_INPLACE,), _EX


@LAYERS.register
class Tanh(Activation):
    name, torch_class, examples = "Tanh", "nn.Tanh", _EX
    keeps = "output"


@LAYERS.register
class Sigmoid(Activation):
    name, torch_class, examples = "Sigmoid", "nn.Sigmoid", _EX
    produces = "probabilities"
    keeps = "output"


@LAYERS.register
class ReLU6(Activation):
    name, torch_class, params, examples = "ReLU6", "nn.ReLU6", (_INPLACE,), _EX


@LAYERS.register
class Hardswish(Activation):
    name, torch_class, params, examples = "Hardswish", "nn.Hardswish", (_INPLACE,), _EX


@LAYERS.register
class Mish(Activation):
    name, torch_class, params, examples = "Mish", "nn.Mish", (_INPLACE,), _EX


@LAYERS.register
class Softplus(Activation):
    name, torch_class = "Softplus", "nn.Softplus"
    params = (Param("beta", Float(), 1.0), Param("threshold", Float(), 20.0))
    examples = (*_EX, Example({"beta": 2, "threshold": 5.0}, ((3, 4),)))


@LAYERS.register
class PReLU(Activation):
    """One learned negative slope, or one per channel (dim 1 counting the batch)."""

    name, torch_class = "PReLU", "nn.PReLU"
    any_layout = False  # its channels are dim 1
    params = (Param("num_parameters", Int(1), 1), Param("init", Float(), 0.25))
    examples = (
        *_EX,
        Example({"num_parameters": 3, "init": 0.1}, ((3, 4, 4),)),
        Example({"num_parameters": 5}, ((5,),)),
    )

    def infer(self, args, ins):
        n, dims = args["num_parameters"], ins[0].dims
        channels = dims[0] if dims else 1  # PyTorch's channel dim is 1; a (N,) input has one channel
        if n != 1 and n != channels:
            raise ShapeError(
                "E402",
                f"PReLU: num_parameters {n} must be 1 or the {channels} channels of {ins[0]}",
                arg="num_parameters",
            )
        return ins[0]

    def parameters(self, args):
        return {"weight": (args["num_parameters"],)}

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0,))  # the slopes' gradient needs the input, the input's the slopes


class _DimActivation(Activation):
    params = (Param("dim", Optional(Int()), None),)
    examples = (Example({"dim": -1}, ((6,),)), Example({"dim": 1}, ((3, 4),)))
    keeps = "output"

    def infer(self, args, ins):
        if args["dim"] is not None:
            torch_dim(args["dim"], ins[0].rank, self.name, ins[0].batch)
        return ins[0]

    def layout(self, args, ins):
        return "new"  # computed over a contiguous copy of its input


@LAYERS.register
class Softmax(_DimActivation):
    name, torch_class = "Softmax", "nn.Softmax"
    produces = "probabilities"


@LAYERS.register
class LogSoftmax(_DimActivation):
    name, torch_class = "LogSoftmax", "nn.LogSoftmax"
    produces = "log_probabilities"
