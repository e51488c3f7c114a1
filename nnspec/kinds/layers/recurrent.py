"""Recurrent layers over batch-first sequences (T, F): RNN, LSTM, GRU."""

from __future__ import annotations

from nnspec.kinds.base import Example
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.params import Bool, Float, Int, Param, Str


class _Recurrent(Layer):
    gates: int = 1
    ranks = (2,)
    fixed = {"batch_first": True}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        extra = (Param("nonlinearity", Str(("tanh", "relu")), "tanh"),) if cls.gates == 1 else ()
        cls.params = (
            Param("input_size", Int(1), inferred=True),
            Param("hidden_size", Int(1)),
            Param("num_layers", Int(1), 1),
            *extra,
            Param("bias", Bool(), True),
            Param("dropout", Float(0, 1), 0.0),
            Param("bidirectional", Bool(), False),
        )
        cls.examples = (
            Example({"hidden_size": 20, "num_layers": 2}, ((5, 10),)),
            Example({"hidden_size": 8, "bidirectional": True, "bias": False}, ((4, 3),)),
            Example({"hidden_size": 6, "num_layers": 3, "bidirectional": True, "dropout": 0.1}, ((2, 5),)),
        )

    def derive(self, ins):
        return {"input_size": feature_dim(ins[0], self.name)}

    def infer(self, args, ins):
        width = args["hidden_size"] * (2 if args["bidirectional"] else 1)
        return ins[0].with_dims((ins[0].dims[0], width))

    def _layer_inputs(self, args):
        """(input width of the first layer, of each later layer, number of later layers, directions);
        in closed form: num_layers may be absurdly large in a hostile spec."""
        dirs = 2 if args["bidirectional"] else 1
        return args["input_size"], args["hidden_size"] * dirs, args["num_layers"] - 1, dirs

    def count(self, args, ins):
        first, later, n, dirs = self._layer_inputs(args)
        return (self._layer_count(args, first) + n * self._layer_count(args, later)) * dirs

    def _layer_count(self, args, width: int) -> int:
        h, g = args["hidden_size"], self.gates
        return g * h * (width + h) + 2 * g * h * args["bias"]

    def macs(self, args, ins, out):
        steps = ins[0].dims[0] if isinstance(ins[0].dims[0], int) else 1
        h, g = args["hidden_size"], self.gates
        first, later, n, dirs = self._layer_inputs(args)
        return steps * dirs * (g * h * (first + h) + n * g * h * (later + h))

    def forward(self, module, inputs, args):
        return f"{module}({inputs[0]})[0]"  # the output sequence; the final states are dropped


@LAYERS.register
class RNN(_Recurrent):
    name, torch_class, gates = "RNN", "nn.RNN", 1


@LAYERS.register
class LSTM(_Recurrent):
    name, torch_class, gates = "LSTM", "nn.LSTM", 4


@LAYERS.register
class GRU(_Recurrent):
    name, torch_class, gates = "GRU", "nn.GRU", 3
