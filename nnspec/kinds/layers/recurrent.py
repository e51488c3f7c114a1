"""Recurrent layers over sequences (T, F), batch first or (T, N, F): RNN, LSTM, GRU, with their states.

A chain continues with the output sequence; `seq, h_n = x -> GRU(20)` (`seq, h_n, c_n` for an
LSTM) binds the final states too, shaped as PyTorch gives them whatever the input's layout:
(layers * directions, N, hidden). `GRU(x, h_0)` and `LSTM(x, h_0, c_0)` start from given states.
"""

from __future__ import annotations

from nnspec.kinds.base import Example, Shape, ShapeError
from nnspec.kinds.cost import BYTES, Saved, size
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.params import Bool, Float, Int, Param, Str


class _Recurrent(Layer):
    """PyTorch's own CPU loop (oneDNN's LSTM kernel keeps a workspace of its own layout instead):
    per step and direction a product of the input with each layer's input weights (precomputed over
    the sequence), one of the previous hidden state with its hidden weights, and the gates."""

    gates: int = 1
    states: int = 1  # h (RNN, GRU), or h and c (LSTM)
    kept_per_step = 7  # hidden-size tensors a step keeps: gates, states and their products
    initial_kept = False  # the initial hidden state kept apart (RNN: its step keeps one tensor)
    ranks = (2,)
    any_layout = True  # batch_first is read from the input
    mixed_layouts = True  # (N, T, F) with (L, N, H) states

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        extra = (Param("nonlinearity", Str(("tanh", "relu")), "tanh"),) if cls.gates == 1 else ()
        cls.arity = (1, 1 + cls.states)
        cls.params = (
            Param("input_size", Int(1), inferred=True),
            Param("hidden_size", Int(1)),
            Param("num_layers", Int(1), 1),
            *extra,
            Param("bias", Bool(), True),
            Param("batch_first", Bool(), False, inferred=True, doc="from the input: (N, T, F) or (T, N, F)"),
            Param("dropout", Float(0, 1), 0.0),
            Param("bidirectional", Bool(), False),
        )
        state = ((2, 20),)  # (layers * directions, N, hidden): the batch second
        cls.examples = (
            Example({"hidden_size": 20, "num_layers": 2}, ((5, 10),)),
            Example({"hidden_size": 8, "bidirectional": True, "bias": False}, ((4, 3),)),
            Example({"hidden_size": 6, "num_layers": 3, "bidirectional": True, "dropout": 0.1}, ((2, 5),)),
            Example({"hidden_size": 20, "num_layers": 2}, ((5, 10),), results=1 + cls.states),
            Example({"hidden_size": 20}, ((7, 3),), batches=(1,), results=1 + cls.states),
            Example(
                {"hidden_size": 20, "num_layers": 2}, ((5, 10), *state * cls.states), batches=(0, *(1,) * cls.states)
            ),
        )

    def check_inputs(self, ins):
        super().check_inputs(ins[:1])
        if ins[0].batch not in (0, 1):
            raise ShapeError("E402", f"{self.name} takes (N, T, F) or (T, N, F), got {ins[0]}")

    def derive(self, ins):
        return {"input_size": feature_dim(ins[0], self.name), "batch_first": ins[0].batch == 0}

    def state(self, args, x: Shape) -> Shape:
        """h_n (and c_n): (layers * directions, N, hidden), the batch second in every layout."""
        layers = args["num_layers"] * (2 if args["bidirectional"] else 1)
        return Shape((layers, args["hidden_size"]), "float", batch=1, scale=x.scale)

    def infer(self, args, ins):
        state = self.state(args, ins[0])
        for i, given in enumerate(ins[1:]):
            if given.dims != state.dims or given.layout() != state.layout() or given.dtype != "float":
                what = ("h_0", "c_0")[i]
                raise ShapeError("E402", f"{self.name}: {what} must be {state}, got {given}", expected=str(state))
        width = args["hidden_size"] * (2 if args["bidirectional"] else 1)
        return ins[0].with_dims((ins[0].dims[0], width))

    def infer_all(self, args, ins, count):
        if count not in (1, 1 + self.states):
            names = ", ".join(["output", *("h_n", "c_n")[: self.states]])
            raise ShapeError("E406", f"{self.name} gives {1 + self.states} values ({names}), not {count}")
        seq = self.infer(args, ins)
        return (seq,) if count == 1 else (seq, *(self.state(args, ins[0]),) * self.states)

    def parameters(self, args):
        h, g = args["hidden_size"], self.gates
        dirs = 2 if args["bidirectional"] else 1
        found = {}
        for layer in range(args["num_layers"]):
            width = args["input_size"] if layer == 0 else h * dirs
            for suffix in ("", "_reverse")[:dirs]:
                found[f"weight_ih_l{layer}{suffix}"] = (g * h, width)
                found[f"weight_hh_l{layer}{suffix}"] = (g * h, h)
                if args["bias"]:
                    found[f"bias_ih_l{layer}{suffix}"] = (g * h,)
                    found[f"bias_hh_l{layer}{suffix}"] = (g * h,)
        return found

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

    def backward_flops(self, args, ins, out, flow):
        """The weights' gradient for every product; the data's for each layer's input (the first
        layer's only if the model's input needs one) and each step's previous state but the first."""
        steps = size(ins[0].dims[0])
        first, later, n, dirs = self._layer_inputs(args)
        h, g = args["hidden_size"], self.gates
        ih0, ih, hh = (2 * steps * dirs * g * h * w for w in (first, later, h))
        weights = (ih0 + n * ih + (n + 1) * hh) * flow.params
        first_step = len(flow.grads) > 1 and flow.grads[1]  # a given h_0 that needs a gradient
        return weights + ih0 * flow.grads[0] + n * ih + (n + 1) * hh // steps * (steps - 1 + first_step)

    def saved(self, args, ins, out, flow):
        """Each layer's input (the first's as a time-major copy per direction, unless it is one), its
        gates and states per step, and the layers' outputs in between (with dropout, the noise too)."""
        steps, hidden = size(ins[0].dims[0]), args["hidden_size"]
        first, later, n, dirs = self._layer_inputs(args)
        layers = n + 1
        between = n * later * (1 + (0 < args["dropout"] < 1))
        per_step = layers * dirs * hidden * self.kept_per_step + between
        own = steps * per_step + layers * dirs * hidden * self.initial_kept
        dropped = n * BYTES["float"] * (args["dropout"] == 1)  # dropout 1: a 0-d zero per layer between
        if steps > 1 and not flow.time_major(0):  # another recurrent layer's output needs no copy
            return Saved(own=(own + dirs * steps * first) * BYTES["float"], fixed=dropped)
        return Saved(inputs=(0,), own=own * BYTES["float"], fixed=dropped)

    def layout(self, args, ins):
        return "time-major" if size(ins[0].dims[0]) > 1 else "new"

    def largest(self, args, ins):
        first, later, n, dirs = self._layer_inputs(args)
        return self.gates * args["hidden_size"] * max(first, args["hidden_size"], later if n else 0)

    def forward(self, module, inputs, args):
        return f"{self.forward_all(module, inputs, args)}[0]"  # the output sequence alone

    def forward_all(self, module, inputs, args):
        x, states = inputs[0], inputs[1:]
        if not states:
            return f"{module}({x})"
        given = states[0] if self.states == 1 else f"({', '.join(states)})"
        return f"{module}({x}, {given})"


@LAYERS.register
class RNN(_Recurrent):
    name, torch_class, gates = "RNN", "nn.RNN", 1
    kept_per_step, initial_kept = 1, True


@LAYERS.register
class LSTM(_Recurrent):
    name, torch_class, gates, states = "LSTM", "nn.LSTM", 4, 2

    def unpack(self, names):
        return f"{names[0]}, ({', '.join(names[1:])})" if len(names) == 3 else super().unpack(names)


@LAYERS.register
class GRU(_Recurrent):
    name, torch_class, gates = "GRU", "nn.GRU", 3
