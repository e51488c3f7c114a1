"""Recurrent layers over batch-first sequences (T, F): RNN, LSTM, GRU."""

from __future__ import annotations

from nnspec.kinds.base import Example
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.params import Bool, Float, Int, Param, Str


class _Recurrent(Layer):
    gates: int = 1
    ranks = (2,)
    nonlinear = True
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
        dirs = 2 if args["bidirectional"] else 1
        h = args["hidden_size"]
        return [args["input_size"]] + [h * dirs] * (args["num_layers"] - 1), dirs

    def count(self, args, ins):
        h, g = args["hidden_size"], self.gates
        sizes, dirs = self._layer_inputs(args)
        per_dir = sum(g * h * (f + h) + 2 * g * h * args["bias"] for f in sizes)
        return per_dir * dirs

    def macs(self, args, ins, out):
        steps = ins[0].dims[0] if isinstance(ins[0].dims[0], int) else 1
        h, g = args["hidden_size"], self.gates
        sizes, dirs = self._layer_inputs(args)
        return steps * dirs * sum(g * h * (f + h) for f in sizes)

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
